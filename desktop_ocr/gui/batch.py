"""Recognise every page of a document: progress, pages done / total, ETA, cancel.

Pages go through the Recognizer's engine, as many at once as the engine allows
(`max_concurrency`, capped by the `max_in_flight` setting). Each finished page is handed
back at once (`pageFinished`), so cancelling keeps everything that finished; running
again skips those pages (resume).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from desktop_ocr.core.notifications import NotificationManager, Severity
from desktop_ocr.gui.doc_results import PartResult
from desktop_ocr.gui.recognizer import Part, Recognizer

log = logging.getLogger(__name__)


def format_eta(seconds: float) -> str:
    if seconds < 0:
        return "estimating…"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, s = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}:{s:02d} min"
    hours, m = divmod(minutes, 60)
    return f"{hours}:{m:02d} h"


class BatchRunner(QObject):
    started = Signal(int)  # pages to do
    pageStarted = Signal(int)  # page index
    pageFinished = Signal(int, object)  # page index, list[PartResult]
    progress = Signal(int, int, float)  # done, total, ETA in seconds (-1: not known yet)
    finished = Signal(int, int, bool)  # done, total, cancelled
    failed = Signal(str)  # the run could not go on (engine unavailable)

    def __init__(self, recognizer: Recognizer, notifications: NotificationManager,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.recognizer = recognizer
        self.notifications = notifications
        self._task: asyncio.Task | None = None
        self.done = 0
        self.total = 0

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self, pages: list[int], parts_for: Callable[[int], list[Part]]) -> asyncio.Task:
        """Recognise `pages` (indices) in order; `parts_for(index)` says what to run for a
        page (its regions, the whole page, or its text layer)."""
        self.cancel()
        self._task = asyncio.ensure_future(self._run(list(pages), parts_for))
        return self._task

    def cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def _run(self, pages: list[int], parts_for: Callable[[int], list[Part]]) -> None:
        self.done, self.total = 0, len(pages)
        self.started.emit(self.total)
        self.progress.emit(0, self.total, -1.0)
        if not pages:
            self.finished.emit(0, 0, False)
            return
        try:
            # Created, not started: pages with a text layer need no engine at all.
            engine = await self.recognizer.prepare()
            width = max(1, min(getattr(engine, "max_concurrency", 1),
                               self.recognizer.settings.max_in_flight))
        except asyncio.CancelledError:
            self.finished.emit(0, self.total, True)
            raise
        except Exception as exc:
            note = self.notifications.report(exc, "Recognising the document failed")
            self.failed.emit(note.message)
            self.finished.emit(0, self.total, False)
            return
        queue = list(pages)
        began = time.perf_counter()

        async def worker() -> None:
            while queue:
                index = queue.pop(0)
                self.pageStarted.emit(index)
                results: list[PartResult] = []
                for part in parts_for(index):
                    results.append(await self.recognizer.run_part(part))
                self.done += 1
                self.pageFinished.emit(index, results)
                elapsed = time.perf_counter() - began
                left = self.total - self.done
                self.progress.emit(self.done, self.total, elapsed / self.done * left)

        workers = [asyncio.ensure_future(worker()) for _ in range(min(width, len(pages)))]
        try:
            await asyncio.gather(*workers)
        except asyncio.CancelledError:
            for w in workers:
                w.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            self.finished.emit(self.done, self.total, True)
            raise
        except Exception as exc:
            for w in workers:
                w.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            note = self.notifications.report(exc, "Recognising the document stopped")
            self.failed.emit(note.message)
            self.finished.emit(self.done, self.total, False)
            return
        failed = self.total - self.done
        if failed:
            self.notifications.notify(f"{failed} pages could not be recognised.", Severity.WARNING)
        self.finished.emit(self.done, self.total, False)
