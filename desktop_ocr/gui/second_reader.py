"""The CPU engine's second reading of the window's results, in the background.

When a vision-language engine produced a result, the CPU engine reads the same crop
again (desktop_ocr/cpu_layouts.py `second_reading`): where the text sits (for a later
searchable PDF), the words the two readers disagree on (doubtful words) and the barcodes
and QR codes in it. A CPU engine result already has its boxes; it only gets its codes.

It is heavy (a few seconds a page on two cores), so results wait in a queue and are read
one at a time on a thread of their own: the event loop never waits for it, and the
engine's own work is not held up by a second pool. A result that goes away (its
document closed, the page recognised again) is dropped from the queue, and the one being
read stops at its next line. What was read goes into the result's `extra` and into the
library (`update_extra`), so nothing is read twice.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, Signal

from desktop_ocr.core.contract import Cancelled
from desktop_ocr.core.conversation import ASK_TASK
from desktop_ocr.core.documents import Document
from desktop_ocr.core.results import PartResult
from desktop_ocr.core.tasks import PRESETS

log = logging.getLogger(__name__)

# Tasks whose answer is the image's own words (a formula's LaTeX or a JSON of key fields
# is not, so comparing words there would only raise false doubts).
WORD_OUTPUTS = ("text", "markdown", "table")


@dataclass
class Needs:
    """What a result still lacks."""

    layout: bool
    doubts: bool
    codes: bool

    def __bool__(self) -> bool:
        return self.layout or self.doubts or self.codes


def needs(result: PartResult) -> Needs:
    """What the second reading would add to `result` (nothing for failures, PDF text,
    answers to questions, or what it holds already)."""
    if not result.ok or result.origin == "pdf-text" or result.task == ASK_TASK:
        return Needs(False, False, False)
    extra = result.extra or {}
    preset = PRESETS.get(result.task)
    words = (result.engine != "cpu" and bool(result.text.strip()) and preset is not None
             and preset.output in WORD_OUTPUTS)
    return Needs("layout" not in extra, words and "doubts" not in extra,
                 result.task != "codes" and "codes" not in extra)


@dataclass
class _Job:
    result: PartResult
    document: Document
    needs: Needs
    stop: threading.Event = field(default_factory=threading.Event)


class SecondReader(QObject):
    """The queue. `queue(result, document)` after a result arrives; `cancel(...)` when
    results go away; `read` says a result got its new entries."""

    read = Signal(object)  # PartResult (its extra now has them)
    changed = Signal()  # the queue or the running job changed

    def __init__(self, library=None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.enabled = True
        # Which queued result to read first (the ones on screen): set by the window.
        self.prefer: Callable[[PartResult], bool] | None = None
        self._queue: list[_Job] = []
        self._running: _Job | None = None
        self._task: asyncio.Task | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._store_tasks: set[asyncio.Task] = set()

    # ---------------------------------------------------------------- state

    def pending(self, result: PartResult) -> bool:
        """`result` is queued or being read."""
        return any(j.result is result for j in self._jobs())

    def _jobs(self) -> list[_Job]:
        return [*([self._running] if self._running is not None else []), *self._queue]

    @property
    def busy(self) -> bool:
        return self._running is not None or bool(self._queue)

    # ---------------------------------------------------------------- control

    def queue(self, result: PartResult, document: Document) -> bool:
        """Read `result` again in the background when it needs it; True when queued."""
        if not self.enabled or self.pending(result):
            return False
        wanted = needs(result)
        if not wanted:
            return False
        self._queue.append(_Job(result, document, wanted))
        self.changed.emit()
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._drain())
        return True

    def cancel(self, keep: Callable[[PartResult], bool] | None = None) -> None:
        """Drop every job (or those whose result `keep` says no to); the one running stops
        at its next line."""
        dropped = [j for j in self._jobs() if keep is None or not keep(j.result)]
        if not dropped:
            return
        for job in dropped:
            job.stop.set()
        self._queue = [j for j in self._queue if j not in dropped]
        self.changed.emit()

    def set_enabled(self, on: bool) -> None:
        self.enabled = on
        if not on:
            self.cancel()

    def shutdown(self) -> None:
        self.cancel()
        if self._task is not None:
            self._task.cancel()
        if self._executor is not None:
            # The line being read finishes on its own; nothing waits for it.
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    # ---------------------------------------------------------------- the work

    def _next(self) -> _Job:
        if self.prefer is not None:
            for job in self._queue:
                if self.prefer(job.result):
                    self._queue.remove(job)
                    return job
        return self._queue.pop(0)

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="second-reading")
        while self._queue:
            job = self._running = self._next()
            self.changed.emit()
            try:
                found = await loop.run_in_executor(self._executor, _read, job)
            except Cancelled:
                found = None
            except Exception:  # noqa: BLE001 - a background extra; the result stands as it is
                log.warning("the second reading of %s failed", job.result.label, exc_info=True)
                found = None
            finally:
                self._running = None
            if found and not job.stop.is_set():
                job.result.extra = {**(job.result.extra or {}), **found}
                self._store(job.result)
                self.read.emit(job.result)
            self.changed.emit()

    def _store(self, result: PartResult) -> None:
        if self.library is None or result.id is None:
            return

        async def store() -> None:
            try:
                await self.library.update_extra(result.id, result.extra)
            except Exception:  # noqa: BLE001 - kept in memory; the library said why
                log.warning("could not keep the second reading of %s", result.label,
                            exc_info=True)

        task = asyncio.ensure_future(store())
        self._store_tasks.add(task)
        task.add_done_callback(self._store_tasks.discard)


def _read(job: _Job) -> dict[str, Any]:
    """Worker thread: the crop as the engine saw it, read by the CPU engine."""
    from desktop_ocr.core.layout import Layout
    from desktop_ocr.cpu_layouts import part_image, second_reading

    if job.stop.is_set() or job.document.closed:
        raise Cancelled("gone")
    r = job.result
    image = part_image(job.document, r.page, r.region, r.rotation)
    raw = (r.extra or {}).get("layout")
    out: dict[str, Any] = {}
    if job.needs.layout or job.needs.doubts:
        found = second_reading(image, r.text if job.needs.doubts else None,
                               layout=Layout.from_dict(raw) if raw else None, codes=False,
                               should_stop=job.stop.is_set)
        out.update((k, v) for k, v in found.items() if k != "layout" or job.needs.layout)
    if job.needs.codes and not job.stop.is_set():
        from desktop_ocr.engines.codes import read_codes

        try:
            out["codes"] = [c.to_dict() for c in read_codes(image)]
        except Exception:  # noqa: BLE001 - no barcode reader here: no chips, the rest stands
            log.info("no codes read for %s", r.label, exc_info=True)
    return out
