"""Clipboard watch: a new image on the clipboard is recognised without a click.

Changes are debounced (screenshot tools and clipboard managers announce one copy
several times), what this app wrote itself is ignored (it owns the clipboard then, and
it only ever writes text), and an image already handled is not handled again.
"""

from __future__ import annotations

import asyncio
import logging

from PySide6.QtCore import QObject, QProcess, QTimer, Signal
from PySide6.QtGui import QGuiApplication

from desktop_ocr.gui import clipboard
from desktop_ocr.gui.clipboard import qt, wlclipboard
from desktop_ocr.gui.clipboard.base import ClipboardContent, ClipboardError, is_wayland

log = logging.getLogger(__name__)
DEBOUNCE_MS = 400


class ClipboardWatcher(QObject):
    imageFound = Signal(object)  # ClipboardContent
    ignored = Signal(str)  # why a change was not acted on (own write, same image, no image)

    def __init__(self, parent: QObject | None = None, debounce_ms: int = DEBOUNCE_MS) -> None:
        super().__init__(parent)
        self._enabled = False
        self._last = ""
        self._task: asyncio.Task | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(debounce_ms)
        self._timer.timeout.connect(self._settled)
        self._process: QProcess | None = None
        QGuiApplication.clipboard().dataChanged.connect(self._changed)

    @property
    def enabled(self) -> bool:
        return self._enabled

    def set_enabled(self, on: bool) -> None:
        self._enabled = on
        if not on:
            self._timer.stop()
            self._stop_process()
        elif is_wayland() and wlclipboard.is_installed():
            self._start_process()

    def remember(self, content: ClipboardContent) -> None:
        """An image handled some other way (a paste): do not recognise it again."""
        self._last = content.fingerprint()

    def _changed(self) -> None:
        if self._enabled:
            self._timer.start()  # restarts: only the last of a burst counts

    def _settled(self) -> None:
        if qt.owns_clipboard():
            self.ignored.emit("own")
            return
        if self._task is not None and not self._task.done():
            self._timer.start()  # still reading the previous one; look again shortly
            return
        self._task = asyncio.ensure_future(self._look())

    async def _look(self) -> None:
        try:
            content = await clipboard.read()
        except ClipboardError as exc:
            self.ignored.emit(f"no image: {exc}")
            return
        fingerprint = await asyncio.to_thread(content.fingerprint)
        if not self._enabled:
            return
        if fingerprint == self._last:
            self.ignored.emit("same")
            return
        self._last = fingerprint
        self.imageFound.emit(content)

    # Wayland: Qt hears of clipboard changes only while a window of ours is focused.

    def _start_process(self) -> None:
        if self._process is not None:
            return
        process = QProcess(self)
        process.setProgram(wlclipboard.watch_command()[0])
        process.setArguments(wlclipboard.watch_command()[1:])
        process.readyReadStandardOutput.connect(self._on_process_output)
        process.start()
        self._process = process

    def _on_process_output(self) -> None:
        if self._process is not None:
            self._process.readAllStandardOutput()
            self._changed()

    def _stop_process(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.waitForFinished(1000)
            self._process = None
