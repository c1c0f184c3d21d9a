"""The screenshot path through the app: paste, clipboard watch, snip, text back to the clipboard.

The window owns one QuickCapture; its actions (Ctrl+V, Snip, Recognise clipboard, the
tray's entries, a second `desktop-ocr --snip`) all end here. It knows neither the window
nor the tray: a captured image leaves as `bus.captured`, status lines as `bus.status`,
and it copies a capture's result when the run controller says that run finished.
Decoding and conversion run in worker threads; only the overlay is touched on the GUI
thread.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QGuiApplication

from desktop_ocr.core.imaging import ImageError
from desktop_ocr.core.notifications import NotificationManager, Severity
from desktop_ocr.core.settings import Settings
from desktop_ocr.gui import clipboard
from desktop_ocr.gui.bus import Bus, save_settings
from desktop_ocr.gui.clipboard import (
    CHANGED_MESSAGE,
    ClipboardChanged,
    ClipboardContent,
    ClipboardError,
    NoImageOnClipboard,
    decode_content,
    qimage_to_pil,
)
from desktop_ocr.gui.clipboard.base import ClipboardPayload
from desktop_ocr.gui.clipboard.watch import ClipboardWatcher
from desktop_ocr.gui.i18n import translate
from desktop_ocr.gui.images import CapturedImage, pil_to_qimage
from desktop_ocr.gui.snip import SnipError, SnipResult, SnipSession, grab_screens

log = logging.getLogger(__name__)

# Time for the compositor to take our window off the screen before the grab.
HIDE_BEFORE_GRAB_S = 0.3


class QuickCapture(QObject):
    copied = Signal(int)  # characters put on the clipboard
    imageReady = Signal(str)  # label of an image shown and sent to recognition
    snipFinished = Signal(bool)  # True: a region was recognised; False: cancelled or failed
    refused = Signal(str)  # a message shown instead of a recognition

    def __init__(self, settings: Settings, notifications: NotificationManager, bus: Bus,
                 window_shown: Callable[[], bool], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.notifications = notifications
        self.bus = bus
        self._window_shown = window_shown  # is the window on screen (not hidden, not minimised)
        self.watcher = ClipboardWatcher(self)
        self.watcher.imageFound.connect(self._on_watched)
        self.watcher.set_enabled(self.settings.watch_clipboard)
        self._counter = 0
        # Counts clipboard changes, to tell a damaged image from one replaced mid-read.
        self._generation = 0
        QGuiApplication.clipboard().dataChanged.connect(self._bump)
        self._task: asyncio.Task | None = None
        self.session: SnipSession | None = None

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
        self.bus.status.emit(translate("Capture", "Reading the clipboard…"))
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
            self._refuse(translate("Capture", "The clipboard cannot be read: {why}").format(
                why=translate("Capture", str(exc))), Severity.WARNING)
            return
        self.watcher.remember(content)
        await self._recognise_content(content, generation)

    def _on_watched(self, content: ClipboardContent) -> None:
        self._replace_task(self._recognise_content(content, self._generation, "watch"))

    async def _recognise_content(self, content: ClipboardContent, generation: int,
                                 kind: str = "paste") -> None:
        try:
            image = await asyncio.to_thread(decode_content, content)
            qimage = await asyncio.to_thread(pil_to_qimage, image)
        except ImageError as exc:
            await asyncio.sleep(0.05)  # let a pending change notification arrive
            if self._generation != generation and not content.paths:
                # X11 asks the owner of the moment: a new owner may answer with its text.
                self._refuse(CHANGED_MESSAGE, Severity.WARNING)
            else:
                self._refuse(translate("Capture", "The clipboard image cannot be used: {why}").format(
                    why=translate("Capture", str(exc))), Severity.ERROR)
            return
        except MemoryError:
            self._refuse(translate("Capture", "The clipboard image is too large for the memory left."),
                         Severity.ERROR)
            return
        self._counter += 1
        label = f"{content.label()} ({image.width} × {image.height} px)"
        if content.paths:
            label = content.paths[0].name
        self._start(CapturedImage(label, image, qimage, kind))

    def _start(self, item: CapturedImage) -> None:
        self.bus.captured.emit(item)  # shown (and being recognised) once imageReady says so
        self.imageReady.emit(item.label)

    def _refuse(self, message: str, severity: Severity) -> None:
        # The fixed messages of the clipboard and snip modules are marked for translation
        # where they are written (context "Capture"); anything else stays as it is.
        message = translate("Capture", message)
        self.bus.status.emit(message)
        self.notifications.notify(message, severity)
        self.refused.emit(message)

    # ---------------------------------------------------------------- snip

    def snip(self) -> asyncio.Task:
        return self._replace_task(self._snip())

    async def _snip(self) -> None:
        was_visible = self._window_shown()
        if was_visible:
            self.bus.hideWindow.emit()
            await asyncio.sleep(HIDE_BEFORE_GRAB_S)
        try:
            grabs = await grab_screens()
        except SnipError as exc:
            self._restore(was_visible)
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
            self._restore(was_visible)
            raise
        finally:
            self.session = None
            session.deleteLater()
        if not isinstance(result, SnipResult):
            self._restore(was_visible)
            if result:
                self._refuse(result, Severity.INFO)
            else:
                self.bus.status.emit(translate("Capture", "Snip cancelled"))
            self.snipFinished.emit(False)
            return
        try:
            image = await asyncio.to_thread(qimage_to_pil, result.image)
        except ImageError as exc:
            self._restore(was_visible)
            self._refuse(str(exc), Severity.ERROR)
            self.snipFinished.emit(False)
            return
        self._counter += 1
        label = translate("Capture", "Snip {n}").format(n=self._counter) + \
            f" ({image.width} × {image.height} px)"
        # The result pane opens with the text: the window comes up even if it was hidden.
        self._restore(True)
        self._start(CapturedImage(label, image, result.image, "snip"))
        self.snipFinished.emit(True)

    def _restore(self, show: bool) -> None:
        # The window decides: without a tray a hidden window could not be found again, so
        # it always comes back then.
        self.bus.restoreWindow.emit(show)

    # ---------------------------------------------------------------- clipboard out

    def copy_result(self, kind: str, payload: ClipboardPayload) -> asyncio.Task | None:
        """A capture's run finished: its text goes on the clipboard (when the setting says so)."""
        if kind not in ("paste", "snip", "watch") or not self.settings.copy_snip_result:
            return None
        if not payload.text.strip():
            return None
        return asyncio.ensure_future(self.copy(payload))

    async def copy(self, payload: ClipboardPayload) -> int:
        """Put `payload` on the clipboard (TSV + HTML for a table) and say so; characters copied."""
        try:
            await clipboard.write(payload)
        except ClipboardError as exc:
            self.notifications.notify(str(exc), Severity.WARNING)
            return 0
        count = len(payload.text)
        message = (translate("Capture", "Copied {n} characters of a table to the clipboard")
                   if payload.html else
                   translate("Capture", "Copied {n} characters of text to the clipboard")).format(
            n=f"{count:,}")
        self.bus.status.emit(message)
        self.bus.say.emit(message + ".")
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
        save_settings(self.settings)

    def shutdown(self) -> None:
        self.watcher.set_enabled(False)
        if self.session is not None:
            self.session.cancel()
        if self._task is not None and not self._task.done():
            self._task.cancel()
