"""The window's side of the pipeline: one run at a time, its events as Qt signals.

Every recognition the window starts (a page, all pages, several files or a folder, a
paste, a snip, a watched clipboard image, a resumed batch) is a `core.pipeline` run
started here. The pipeline's events arrive on the event loop (the GUI thread under
qasync) and leave as signals; the window, the batch panel and quick capture listen.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from desktop_ocr.core import pipeline as pl
from desktop_ocr.core.notifications import NotificationManager, Severity
from desktop_ocr.core.settings import Settings
from desktop_ocr.gui.engine_host import EngineHost
from desktop_ocr.gui.i18n import localize, translate

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunInfo:
    kind: str  # "page" | "document" | "batch" | "paste" | "snip" | "watch" | "resume"
    label: str
    sources: tuple[pl.Source, ...]


class RunController(QObject):
    started = Signal(object)  # RunInfo
    sourceOpened = Signal(object)  # pipeline.SourceOpened
    sourceFailed = Signal(object)  # pipeline.SourceFailed
    partStarted = Signal(object)  # pipeline.Part
    text = Signal(object, str)  # Part, a piece of its text
    waiting = Signal(object, float)  # Part, seconds waited for the server
    partFinished = Signal(object, object)  # Part, PartResult
    progress = Signal(object)  # pipeline.Progress
    finished = Signal(object, object)  # RunInfo, RunSummary (also when the run stopped early)
    cancelled = Signal(object)  # RunInfo
    failed = Signal(object, str)  # RunInfo, message (a bug or an unexpected error)
    pausedChanged = Signal(bool)

    def __init__(self, engines: EngineHost, settings: Settings,
                 notifications: NotificationManager, parent: QObject | None = None, *,
                 library: pl.ResultStore | None = None) -> None:
        super().__init__(parent)
        self.engines = engines
        self.settings = settings
        self.notifications = notifications
        self.library = library
        self.password_provider: pl.PasswordProvider | None = None
        self._task: asyncio.Task | None = None
        self._pipeline: pl.Pipeline | None = None
        self.info: RunInfo | None = None  # the last run started
        self._current: RunInfo | None = None  # the run going now
        engines.on_stop = self.cancel_and_wait
        engines.runs = self

    # ---------------------------------------------------------------- state

    @property
    def busy(self) -> bool:
        """A run is going (false already while its finished/cancelled signal is handled)."""
        return self._current is not None

    @property
    def kind(self) -> str:
        return self._current.kind if self._current is not None else ""

    @property
    def paused(self) -> bool:
        return self._pipeline is not None and self._pipeline.paused

    # ---------------------------------------------------------------- control

    def start(self, sources: Sequence[pl.Source], kind: str, label: str, *, reuse: bool = False,
              run_id: int | None = None, store: bool = True) -> asyncio.Task:
        """Start a run; a run in progress is cancelled first (its finished parts are kept).
        `store=False`: its results are not added to the library (a follow-up question's
        answer is kept with the result it is about instead)."""
        previous = self._task
        self.cancel()
        info = RunInfo(kind, label, tuple(sources))
        self.info = self._current = info
        self._task = asyncio.ensure_future(self._run(previous, info, reuse, run_id, store))
        self._task.add_done_callback(lambda _t, info=info: self._ended(info))
        return self._task

    def cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def cancel_and_wait(self) -> None:
        task = self._task
        self.cancel()
        if task is not None:
            try:
                await task
            except BaseException:  # noqa: B036 - cancelled on purpose; failures were reported
                pass

    def pause(self) -> None:
        if self._pipeline is not None and not self._pipeline.paused:
            self._pipeline.pause()
            self.pausedChanged.emit(True)

    def resume(self) -> None:
        if self._pipeline is not None and self._pipeline.paused:
            self._pipeline.resume()
            self.pausedChanged.emit(False)

    # ---------------------------------------------------------------- the run

    def _ended(self, info: RunInfo) -> None:
        # A run cancelled before it began never reached its own bookkeeping below.
        if self._current is info:
            self._current = None
            self.cancelled.emit(info)

    async def _run(self, previous: asyncio.Task | None, info: RunInfo, reuse: bool,
                   run_id: int | None, store: bool = True) -> None:
        if previous is not None and not previous.done():
            # Its bookkeeping (library run state, documents) first; its outcome is its own.
            await asyncio.wait({previous})
        pipeline = pl.Pipeline(self.engines, self.settings,
                               library=self.library if store else None,
                               on_event=self._on_event, reuse=reuse,
                               password_provider=self.password_provider,
                               engine_for=self.engines.engine_for)
        self._pipeline = pipeline
        self.started.emit(info)
        try:
            summary = await pipeline.run(info.sources, kind=info.kind, run_id=run_id)
        except asyncio.CancelledError:
            self._done(pipeline, info)
            self.cancelled.emit(info)
            raise
        except Exception as exc:
            self._done(pipeline, info)
            note = self.notifications.report(exc, translate("Runs", "Recognising {what} failed")
                                             .format(what=info.label))
            self.failed.emit(info, note.message)
            return
        self._done(pipeline, info)
        log.info("%s run %r finished: %d parts, %d failed%s", info.kind, info.label,
                 len(summary.results), len(summary.results) - len(summary.ok),
                 f", stopped: {summary.stopped}" if summary.stopped else "")
        if summary.stopped:
            self.notifications.notify(summary.stopped, Severity.ERROR)
        self.finished.emit(info, summary)

    def _done(self, pipeline: pl.Pipeline, info: RunInfo) -> None:
        if self._pipeline is pipeline:
            self._pipeline = None
        if self._current is info:
            self._current = None

    def _on_event(self, event: object) -> None:
        if isinstance(event, pl.PartText):
            self.text.emit(event.part, event.text)
        elif isinstance(event, pl.PartStarted):
            self.partStarted.emit(event.part)
        elif isinstance(event, pl.PartFinished):
            self.partFinished.emit(event.part, event.result)
        elif isinstance(event, pl.Progress):
            self.progress.emit(event)
        elif isinstance(event, pl.PartWaiting):
            self.waiting.emit(event.part, event.seconds)
        elif isinstance(event, pl.SourceOpened):
            self.sourceOpened.emit(event)
        elif isinstance(event, pl.SourceFailed):
            self.sourceFailed.emit(event)
        elif isinstance(event, pl.EngineRestarted):
            where = ""
            if event.part is not None:
                from desktop_ocr.gui.main_window import label_of

                where = f"{label_of(event.part)}: "
            self.notifications.notify(where + localize(event.message) + " " +
                                      translate("Runs", "Starting it again…"), Severity.WARNING)
