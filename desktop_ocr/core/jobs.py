"""Asyncio job queue: run many recognition requests against one engine.

Several requests stay in flight at once (a server batches them: continuous batching
serves N streams nearly as fast as one), bounded by `concurrency` (by default the
engine's `max_concurrency`). Every job reports its chunks and state changes through
callbacks; each job can be cancelled (queued: never starts; running: its stream is
closed, which closes the connection and stops generation on the server).

Retry policy: a job is retried only if it failed with a transient engine error
(unavailable, crashed, timeout) *before its first token*. Once text has reached the
user, a retry would duplicate it, so the job fails with what it has.

No Qt here; the GUI passes callbacks that emit its signals (they run on the event loop).
The engine is duck-typed (`stream(request)` and `max_concurrency`) so core does not
import engines.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

log = logging.getLogger(__name__)


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


# Errors worth a retry before the first token, by class name so core need not import
# engines: EngineUnavailable (refused, 503), EngineCrashed (dropped), EngineTimeout.
RETRYABLE = frozenset({"EngineUnavailable", "EngineCrashed", "EngineTimeout", "ServerDied"})


def _is_retryable(exc: BaseException) -> bool:
    if getattr(exc, "status", None) not in (None, 502, 503, 504):
        return False  # the server answered with a definite error (400, 500, error event)
    return any(cls.__name__ in RETRYABLE for cls in type(exc).__mro__)


_ids = itertools.count(1)


@dataclass(eq=False)
class Job:
    request: Any
    key: Any = None  # caller's handle (page, region), untouched
    id: int = field(default_factory=lambda: next(_ids))
    state: JobState = JobState.QUEUED
    text: str = ""
    finish_reason: Any = None
    usage: dict[str, Any] | None = None
    error: BaseException | None = None
    attempts: int = 0
    submitted: float = field(default_factory=time.monotonic)
    started: float | None = None
    first_token: float | None = None
    finished: float | None = None
    _task: asyncio.Task[None] | None = field(default=None, repr=False)
    _done: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    @property
    def is_finished(self) -> bool:
        return self.state in (JobState.DONE, JobState.FAILED, JobState.CANCELLED)

    async def wait(self) -> Job:
        await self._done.wait()
        return self


@dataclass(frozen=True)
class Progress:
    total: int
    done: int  # finished in any way
    failed: int
    cancelled: int
    running: int
    elapsed: float
    eta: float | None  # seconds, from the mean time per finished job and the concurrency


class JobQueue:
    """Run jobs with bounded concurrency. Use inside a running event loop.

    on_chunk(job, chunk): each chunk as it arrives (job.text already includes it).
    on_state(job): a job was queued, started, finished, failed or was cancelled.
    on_progress(progress): after every state change.
    """

    def __init__(self, engine: Any, *, concurrency: int | None = None, retries: int = 1,
                 retry_backoff: float = 0.5,
                 on_chunk: Callable[[Job, Any], None] | None = None,
                 on_state: Callable[[Job], None] | None = None,
                 on_progress: Callable[[Progress], None] | None = None) -> None:
        self.engine = engine
        self.concurrency = max(1, concurrency or getattr(engine, "max_concurrency", 1) or 1)
        self.retries = retries
        self.retry_backoff = retry_backoff
        self.on_chunk = on_chunk
        self.on_state = on_state
        self.on_progress = on_progress
        self.jobs: list[Job] = []
        self._slots = asyncio.Semaphore(self.concurrency)
        self._started = time.monotonic()

    # ------------------------------------------------------------ public

    def submit(self, request: Any, key: Any = None) -> Job:
        job = Job(request, key)
        self.jobs.append(job)
        job._task = asyncio.get_running_loop().create_task(self._run(job), name=f"ocr-job-{job.id}")
        self._changed(job)
        return job

    def cancel(self, job: Job) -> None:
        if not job.is_finished and job._task is not None:
            job._task.cancel()

    def cancel_all(self) -> None:
        for job in self.jobs:
            self.cancel(job)

    async def join(self) -> list[Job]:
        """Wait until every submitted job has finished (in any way)."""
        while True:
            pending = [j._task for j in self.jobs if j._task is not None and not j._task.done()]
            if not pending:
                return list(self.jobs)
            await asyncio.wait(pending)

    def progress(self) -> Progress:
        done = [j for j in self.jobs if j.is_finished]
        running = sum(1 for j in self.jobs if j.state is JobState.RUNNING)
        elapsed = time.monotonic() - self._started
        left = len(self.jobs) - len(done)
        eta = None
        durations = [j.finished - j.started for j in done
                     if j.state is JobState.DONE and j.finished is not None and j.started is not None]
        if left == 0:
            eta = 0.0
        elif durations:
            eta = sum(durations) / len(durations) * left / self.concurrency
        return Progress(len(self.jobs), len(done),
                        sum(1 for j in done if j.state is JobState.FAILED),
                        sum(1 for j in done if j.state is JobState.CANCELLED), running, elapsed, eta)

    async def __aenter__(self) -> JobQueue:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        if exc[0] is not None:
            self.cancel_all()
        await self.join()

    # ------------------------------------------------------------ internals

    def _changed(self, job: Job) -> None:
        for cb, arg in ((self.on_state, job), (self.on_progress, None)):
            if cb is None:
                continue
            try:
                cb(arg if arg is not None else self.progress())
            except Exception:
                log.exception("job queue callback failed")

    async def _run(self, job: Job) -> None:
        try:
            async with self._slots:
                job.state, job.started = JobState.RUNNING, time.monotonic()
                self._changed(job)
                await self._attempts(job)
            job.state = JobState.DONE
        except asyncio.CancelledError:
            job.state = JobState.CANCELLED
        except Exception as exc:
            job.state, job.error = JobState.FAILED, exc
            log.info("job %s failed: %s", job.id, exc)
        finally:
            job.finished = time.monotonic()
            job._done.set()
            self._changed(job)

    async def _attempts(self, job: Job) -> None:
        while True:
            job.attempts += 1
            try:
                stream = self.engine.stream(job.request)
                async with contextlib.aclosing(stream):
                    async for chunk in stream:
                        if chunk.text:
                            if job.first_token is None:
                                job.first_token = time.monotonic()
                            job.text += chunk.text
                        if chunk.finish_reason is not None:
                            job.finish_reason = chunk.finish_reason
                            job.usage = chunk.usage
                        if self.on_chunk is not None:
                            try:
                                self.on_chunk(job, chunk)
                            except Exception:
                                log.exception("on_chunk callback failed")
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if job.text or job.attempts > self.retries or not _is_retryable(exc):
                    raise
                log.info("job %s: retrying after %s", job.id, exc)
                await asyncio.sleep(self.retry_backoff * job.attempts)
