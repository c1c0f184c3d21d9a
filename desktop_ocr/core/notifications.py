"""One place that every error reaches: uncaught exceptions from the main thread, from
worker threads and from asyncio tasks, and errors the app reports on purpose.

Each becomes a `Notification` with a plain-language message (the traceback goes to the
log file, not to the user) and is handed to the subscribers: the GUI shows it
non-modally, the CLI prints one line. Qt-free, after napari's notification manager.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import TracebackType
from typing import TYPE_CHECKING

from desktop_ocr.core.atomic import SaveError
from desktop_ocr.core.contract import EngineError
from desktop_ocr.core.messages import QT_TRANSLATE_NOOP, Text

if TYPE_CHECKING:
    import asyncio

log = logging.getLogger("desktop_ocr.errors")


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@dataclass
class Notification:
    message: str
    severity: Severity = Severity.ERROR
    details: str = ""  # traceback or extra text for a "Details" view
    time: datetime = field(default_factory=datetime.now)
    # Buttons the notice offers ("Resume", "Show"): a label and what it does (on the GUI thread).
    actions: tuple[tuple[str, Callable[[], object]], ...] = ()


def user_message(exc: BaseException) -> str:
    """A sentence a user can act on, for any exception."""
    if isinstance(exc, EngineError):
        return exc.user_message
    from desktop_ocr.core.documents import DocumentError, PageError
    from desktop_ocr.core.imaging import ImageError
    from desktop_ocr.core.regions import SpecError

    if isinstance(exc, PageError) and isinstance(exc.__cause__, ImageError):
        return str(exc.__cause__)  # "the image is truncated", not "page 1 cannot be rendered"
    if isinstance(exc, (ImageError, DocumentError, SaveError, SpecError)):
        return str(exc)
    if isinstance(exc, FileNotFoundError):
        return Text(QT_TRANSLATE_NOOP("Messages", "File not found: {path}"),
                    path=str(exc.filename or exc))
    if isinstance(exc, PermissionError):
        return Text(QT_TRANSLATE_NOOP("Messages", "Permission denied: {path}"),
                    path=str(exc.filename or exc))
    if isinstance(exc, OSError) and exc.errno == 28:
        return QT_TRANSLATE_NOOP(
            "Messages", "The disk is full. Free some space and try again; nothing was overwritten.")
    if isinstance(exc, MemoryError):
        return QT_TRANSLATE_NOOP(
            "Messages", "Not enough memory for this operation. Try a smaller image or region.")
    if isinstance(exc, BrokenPipeError):
        return QT_TRANSLATE_NOOP("Messages", "The output was closed before everything was written.")
    text = (str(exc) or type(exc).__name__).rstrip(". ")
    # Point at the log only when this process writes one (the caller logs the traceback).
    from desktop_ocr.core.logs import active_log_file

    where = active_log_file()
    if where:
        return Text(QT_TRANSLATE_NOOP(
            "Messages", "Something went wrong: {what}. Details are in the log file ({where})."),
            what=text, where=str(where))
    return Text(QT_TRANSLATE_NOOP("Messages", "Something went wrong: {what}."), what=text)


Subscriber = Callable[[Notification], None]


class NotificationManager:
    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()
        self._installed = False
        self._previous: tuple = ()

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def notify(self, message: str, severity: Severity = Severity.INFO, details: str = "",
               actions: tuple[tuple[str, Callable[[], object]], ...] = ()) -> Notification:
        note = Notification(message, severity, details, actions=tuple(actions))
        with self._lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(note)
            except Exception:  # a broken subscriber must not hide the original problem
                log.exception("notification subscriber failed")
        return note

    def report(self, exc: BaseException, context: str = "") -> Notification:
        """Log `exc` with its traceback and tell the user in plain words."""
        details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        log.error("%s%s", f"{context}: " if context else "", details.rstrip())
        message = user_message(exc)
        if context:
            message = Text(QT_TRANSLATE_NOOP("Messages", "{context}: {why}"), context=context, why=message)
        return self.notify(message, Severity.ERROR, details)

    # ------------------------------------------------------------ hooks

    def _excepthook(self, etype: type[BaseException], value: BaseException,
                    tb: TracebackType | None) -> None:
        if issubclass(etype, KeyboardInterrupt):
            sys.__excepthook__(etype, value, tb)
            return
        self.report(value.with_traceback(tb))

    def _thread_hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            self.report(args.exc_value, f"In background work ({args.thread.name if args.thread else 'thread'})")

    def asyncio_handler(self, loop: asyncio.AbstractEventLoop, context: dict) -> None:
        exc = context.get("exception")
        if exc is None:
            log.warning("asyncio: %s", context.get("message"))
            return
        from asyncio import CancelledError

        if isinstance(exc, CancelledError):
            return
        self.report(exc)

    def install(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Route sys, threading and (if given) asyncio uncaught errors here."""
        if not self._installed:
            self._previous = (sys.excepthook, threading.excepthook)
            sys.excepthook = self._excepthook
            threading.excepthook = self._thread_hook
            self._installed = True
        if loop is not None:
            loop.set_exception_handler(self.asyncio_handler)

    def uninstall(self) -> None:
        if self._installed:
            sys.excepthook, threading.excepthook = self._previous
            self._installed = False


manager = NotificationManager()
