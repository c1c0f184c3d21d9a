"""The job queue: bounded concurrency against the stand-in, cancel, retry-before-first-token."""

from __future__ import annotations

import asyncio

import pytest
from engine_helpers import API_KEY, make_image, run

from desktop_ocr.core.contract import (
    BadRequest,
    Chunk,
    EngineCrashed,
    EngineUnavailable,
    FinishReason,
    Request,
)
from desktop_ocr.core.jobs import JobQueue, JobState
from desktop_ocr.engines.openai_compat import OpenAIEngine


def test_concurrency_is_bounded_and_everything_finishes(standin_factory):
    server = standin_factory("--scenario", "batch", "--capacity", "16", "--tokens", "20",
                             "--tokens-per-s", "200")
    progress = []
    chunks = {}

    async def go():
        engine = OpenAIEngine(server.url, API_KEY, "internvl3", max_concurrency=3)
        await engine.start()
        try:
            q = JobQueue(engine, on_progress=progress.append,
                         on_chunk=lambda job, c: chunks.setdefault(job.id, []).append(c))
            jobs = [q.submit(Request(image=make_image((64, 64))), key=i) for i in range(8)]
            await q.join()
            return jobs
        finally:
            await engine.stop()

    jobs = run(go())
    assert all(j.state is JobState.DONE and j.finish_reason is FinishReason.STOP for j in jobs)
    assert all(j.text == "".join(f"t{i} " for i in range(20)) for j in jobs)
    assert server.stats()["max_active"] == 3  # the queue kept exactly 3 in flight
    assert progress[-1].done == 8 and progress[-1].eta == 0.0
    assert all(len(chunks[j.id]) == 21 for j in jobs)


def test_cancel_queued_and_running(standin):
    async def go():
        engine = OpenAIEngine(standin.url, API_KEY, "internvl3", max_concurrency=1)
        await engine.start()
        try:
            q = JobQueue(engine)
            slow = Request(image=make_image((64, 64)), prompt="x [[scenario=slow]]")
            running, queued = q.submit(slow), q.submit(slow)
            while not running.text:
                await asyncio.sleep(0.02)
            q.cancel(queued)
            q.cancel(running)
            await q.join()
            return running, queued
        finally:
            await engine.stop()

    running, queued = run(go())
    assert running.state is JobState.CANCELLED and running.text  # partial text kept
    assert queued.state is JobState.CANCELLED and queued.started is None


class ScriptedEngine:
    """Replays scripted attempts: each is a list of texts, ending in an exception or not."""

    name = "scripted"
    max_concurrency = 2

    def __init__(self, *attempts):
        self.attempts = list(attempts)
        self.calls = 0

    async def stream(self, request):
        script = self.attempts[self.calls]
        self.calls += 1
        for item in script:
            if isinstance(item, BaseException):
                raise item
            await asyncio.sleep(0)
            yield Chunk(item)
        yield Chunk("", FinishReason.STOP)


def _one(engine, retries=2):
    async def go():
        q = JobQueue(engine, retries=retries, retry_backoff=0.01)
        job = q.submit(Request(image=None))  # type: ignore[arg-type]
        await q.join()
        return job
    return run(go())


def test_retried_before_the_first_token():
    engine = ScriptedEngine([EngineUnavailable("refused")], [EngineCrashed("dropped")], ["ok"])
    job = _one(engine)
    assert job.state is JobState.DONE and job.text == "ok" and job.attempts == 3


def test_not_retried_after_the_first_token():
    engine = ScriptedEngine(["partial "], ["never"])
    engine.attempts[0].append(EngineCrashed("dropped"))
    job = _one(engine)
    assert job.state is JobState.FAILED and job.text == "partial " and engine.calls == 1
    assert isinstance(job.error, EngineCrashed)


@pytest.mark.parametrize("error", [BadRequest("no"), EngineUnavailable("busy")])
def test_definite_errors_and_exhausted_retries_fail(error):
    engine = ScriptedEngine([error], [error], [error])
    job = _one(engine, retries=1)
    assert job.state is JobState.FAILED and job.error is error
    assert engine.calls == (1 if isinstance(error, BadRequest) else 2)
