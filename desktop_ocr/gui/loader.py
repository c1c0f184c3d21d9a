"""Opens files for the viewer, off the GUI thread, asking for a PDF's password when needed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from desktop_ocr.core.documents import (
    OPEN_ERRORS,
    Document,
    PasswordRequired,
    WrongPassword,
    open_decoded,
)
from desktop_ocr.core.notifications import NotificationManager, Severity, user_message
from desktop_ocr.gui.i18n import localize, translate

log = logging.getLogger(__name__)

# (file name, the last password was wrong) -> password, or None when the user cancels.
PasswordProvider = Callable[[str, bool], Awaitable[str | None]]


@dataclass
class LoadedDocument:
    path: Path
    document: Document
    recognise: bool = False  # the caller asked to recognise it right away


class DocumentLoader(QObject):
    loaded = Signal(object)  # LoadedDocument
    loadFailed = Signal(str, str)  # path, message

    def __init__(self, notifications: NotificationManager, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.notifications = notifications
        self.password_provider: PasswordProvider | None = None
        self._task: asyncio.Task | None = None

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    def open_file(self, path: Path, recognise: bool = True) -> asyncio.Task:
        """Open `path` (the one before is forgotten if it is still opening)."""
        self.cancel()
        self._task = asyncio.ensure_future(self._open(path, recognise))
        return self._task

    def cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def _open(self, path: Path, recognise: bool) -> None:
        password: str | None = None
        while True:
            try:
                doc = await asyncio.to_thread(open_decoded, path, password)
                break
            except asyncio.CancelledError:
                raise
            except (PasswordRequired, WrongPassword) as exc:
                wrong = isinstance(exc, WrongPassword)
                if self.password_provider is None:
                    self._failed(path, translate("Loader", "Cannot open {name}: {why}").format(
                        name=path.name, why=exc))
                    return
                password = await self.password_provider(path.name, wrong)
                if password is None:
                    # The core closed the PDF when it refused it: nothing stays open.
                    message = translate("Loader", "{name} was not opened (no password given).").format(
                        name=path.name)
                    self.notifications.notify(message, Severity.INFO)
                    self.loadFailed.emit(str(path), message)
                    return
            except OPEN_ERRORS as exc:
                log.info("cannot open %s: %s", path, exc)
                self._failed(path, translate("Loader", "Cannot open {name}: {why}").format(
                    name=path.name, why=localize(user_message(exc))))
                return
            except Exception as exc:
                note = self.notifications.report(exc, translate("Loader", "Cannot open {name}").format(
                    name=path.name))
                self.loadFailed.emit(str(path), note.message)
                return
        if doc.repaired:
            self.notifications.notify(
                translate("Loader", "{name} is damaged; it was repaired as far as possible and some "
                                    "pages or content may be missing.").format(name=path.name),
                Severity.WARNING, "\n".join(doc.warnings))
        self.loaded.emit(LoadedDocument(path, doc, recognise))

    def _failed(self, path: Path, message: str) -> None:
        note = self.notifications.notify(message, Severity.ERROR)
        self.loadFailed.emit(str(path), note.message)
