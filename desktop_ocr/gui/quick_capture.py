"""The screenshot path through the app: paste, clipboard watch, snip, text back to the clipboard.

The window owns one QuickCapture; its actions (Ctrl+V, Snip, Recognise clipboard, the
tray's entries, a second `desktop-ocr --snip`) all end here. Decoding and conversion run
in worker threads; only the overlay and the widgets are touched on the GUI thread.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication

from desktop_ocr.core.imaging import ImageError
from desktop_ocr.core.notifications import Severity
from desktop_ocr.gui import clipboard
from desktop_ocr.gui.clipboard import (
    CHANGED_MESSAGE,
    ClipboardChanged,
    ClipboardContent,
    ClipboardError,
    NoImageOnClipboard,
    decode_content,
    payload_for,
    qimage_to_pil,
)
from desktop_ocr.gui.clipboard.watch import ClipboardWatcher
from desktop_ocr.gui.recognizer import LoadedImage, RunResult, pil_to_qimage
from desktop_ocr.gui.snip import SnipError, SnipResult, SnipSession, grab_screens

if TYPE_CHECKING:
    from desktop_ocr.gui.main_window import MainWindow

log = logging.getLogger(__name__)

# Time for the compositor to take our window off the screen before the grab.
HIDE_BEFORE_GRAB_S = 0.3


class QuickCapture(QObject):
    copied = Signal(int)  # characters put on the clipboard
    imageReady = Signal(str)  # label of an image shown and sent to recognition
    snipFinished = Signal(bool)  # True: a region was recognised; False: cancelled or failed
    refused = Signal(str)  # a message shown instead of a recognition

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.settings = window.settings
        self.notifications = window.notifications
        self.tray = None  # set by the app when a system tray exists
        self.watcher = ClipboardWatcher(self)
        self.watcher.imageFound.connect(self._on_watched)
        self.watcher.set_enabled(self.settings.watch_clipboard)
        self._copy_label = ""
        self._counter = 0
        # Counts clipboard changes, to tell a damaged image from one replaced mid-read.
        self._generation = 0
        QGuiApplication.clipboard().dataChanged.connect(self._bump)
        self._task: asyncio.Task | None = None
        self.session: SnipSession | None = None
        window.recognizer.finished.connect(self._on_finished)

    # ---------------------------------------------------------------- clipboard in

    def _bump(self) -> None:
        self._generation += 1

    def paste(self) -> asyncio.Task:
        """Ctrl+V / Recognise clipboard: the clipboard's image, recognised now."""
        return self._replace_task(self._paste())

    def _replace_task(self, coro) -> asyncio.Task:
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = asyncio.ensure_future(coro)
        return self._task

    async def _paste(self) -> None:
        self.window.state_label.setText("Reading the clipboard…")
        generation = self._generation
        try:
            content = await clipboard.read()
        except NoImageOnClipboard as exc:
            self._refuse(str(exc), Severity.INFO)
            return
        except ClipboardChanged as exc:
            self._refuse(str(exc), Severity.WARNING)
            return
        except ClipboardError as exc:
            self._refuse(f"The clipboard cannot be read: {exc}", Severity.WARNING)
            return
        self.watcher.remember(content)
        await self._recognise_content(content, generation)

    def _on_watched(self, content: ClipboardContent) -> None:
        self._replace_task(self._recognise_content(content, self._generation))

    async def _recognise_content(self, content: ClipboardContent, generation: int) -> None:
        try:
            image = await asyncio.to_thread(decode_content, content)
            qimage = await asyncio.to_thread(pil_to_qimage, image)
        except ImageError as exc:
            await asyncio.sleep(0.05)  # let a pending change notification arrive
            if self._generation != generation and not content.paths:
                # X11 asks the owner of the moment: a new owner may answer with its text.
                self._refuse(CHANGED_MESSAGE, Severity.WARNING)
            else:
                self._refuse(f"The clipboard image cannot be used: {exc}", Severity.ERROR)
            return
        except MemoryError:
            self._refuse("The clipboard image is too large for the memory left.", Severity.ERROR)
            return
        self._counter += 1
        label = f"{content.label()} ({image.width} × {image.height} px)"
        if content.paths:
            label = content.paths[0].name
        self._start(LoadedImage(Path(label), image, qimage), label)

    def _start(self, item: LoadedImage, label: str) -> None:
        self.window.show_image(item)
        self._copy_label = label
        self.imageReady.emit(label)
        self.window.recognizer.recognize(item.image, label)

    def _refuse(self, message: str, severity: Severity) -> None:
        self.window.state_label.setText(message)
        self.notifications.notify(message, severity)
        self.refused.emit(message)

    # ---------------------------------------------------------------- snip

    def snip(self) -> asyncio.Task:
        return self._replace_task(self._snip())

    async def _snip(self) -> None:
        window = self.window
        was_visible = window.isVisible() and not window.isMinimized()
        if was_visible:
            window.hide()
            await asyncio.sleep(HIDE_BEFORE_GRAB_S)
        try:
            grabs = await grab_screens()
        except SnipError as exc:
            self._restore(was_visible or self.tray is None)
            self._refuse(str(exc), Severity.ERROR)
            self.snipFinished.emit(False)
            return
        outcome: asyncio.Future = asyncio.get_running_loop().create_future()
        session = SnipSession(grabs, self)
        session.done.connect(lambda r: outcome.done() or outcome.set_result(r))
        session.cancelled.connect(lambda m: outcome.done() or outcome.set_result(m))
        self.session = session
        session.start()
        try:
            result = await outcome
        except asyncio.CancelledError:
            session.cancel()
            self._restore(was_visible or self.tray is None)
            raise
        finally:
            self.session = None
            session.deleteLater()
        if not isinstance(result, SnipResult):
            self._restore(was_visible or self.tray is None)
            if result:
                self._refuse(result, Severity.INFO)
            else:
                window.state_label.setText("Snip cancelled")
            self.snipFinished.emit(False)
            return
        try:
            image = await asyncio.to_thread(qimage_to_pil, result.image)
        except ImageError as exc:
            self._restore(was_visible or self.tray is None)
            self._refuse(str(exc), Severity.ERROR)
            self.snipFinished.emit(False)
            return
        self._counter += 1
        label = f"Snip {self._counter} ({image.width} × {image.height} px)"
        # The result pane opens with the text: the window comes up even if it was hidden.
        self._restore(True)
        self._start(LoadedImage(Path(label), image, result.image), label)
        self.snipFinished.emit(True)

    def _restore(self, show: bool) -> None:
        # Without a tray a hidden window could not be found again, so it always comes back.
        if show:
            w = self.window
            w.show()
            w.setWindowState(w.windowState() & ~Qt.WindowState.WindowMinimized)
            w.raise_()
            w.activateWindow()

    # ---------------------------------------------------------------- clipboard out

    def _on_finished(self, result: RunResult) -> None:
        if result.label != self._copy_label:
            return
        self._copy_label = ""
        if self.settings.copy_snip_result and result.text.strip():
            asyncio.ensure_future(self.copy_text(result.text))

    async def copy_text(self, text: str) -> int:
        """Put `text` on the clipboard (TSV + HTML for a table) and say so; characters copied."""
        payload = payload_for(text, self.settings.task)
        try:
            await clipboard.write(payload)
        except ClipboardError as exc:
            self.notifications.notify(str(exc), Severity.WARNING)
            return 0
        count = len(payload.text)
        kind = "a table" if payload.html else "text"
        message = f"Copied {count:,} characters of {kind} to the clipboard"
        self.window.state_label.setText(message)
        if self.tray is not None and self.tray.isVisible():
            self.tray.say(message)
        else:
            self.notifications.notify(message + ".", Severity.INFO)
        self.copied.emit(count)
        return count

    # ---------------------------------------------------------------- settings

    def set_watch(self, on: bool) -> None:
        self.settings.watch_clipboard = on
        self.watcher.set_enabled(on)
        self._save()

    def set_auto_copy(self, on: bool) -> None:
        self.settings.copy_snip_result = on
        self._save()

    def _save(self) -> None:
        try:
            self.settings.save()
        except OSError as exc:
            log.warning("settings not saved: %s", exc)

    def shutdown(self) -> None:
        self.watcher.set_enabled(False)
        if self.session is not None:
            self.session.cancel()
        if self._task is not None and not self._task.done():
            self._task.cancel()
