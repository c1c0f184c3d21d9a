"""The transformers engine against the real worker process, on the CPU, with a tiny
random-weight InternVL built in the test run (tests/tiny_internvl.py; nothing downloads).

The words are gibberish; what is checked is the plumbing: image tokens per the tiling
rule, tokens in order and complete, cancel, errors, and no process left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import signal
import stat
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import psutil
import pytest
from PIL import Image

from desktop_ocr.core.contract import EngineCrashed, FinishReason, Request, Turn
from desktop_ocr.core.messages import Text
from desktop_ocr.engines.internvl_tiling import tile_count
from desktop_ocr.engines.lmdeploy_server import ServerState
from desktop_ocr.engines.transformers_engine import TransformersEngine, prepare_frame
from desktop_ocr.engines.transformers_plan import AGAIN_HINT, BadModelConfig, ModelFolderMissing
from desktop_ocr.engines.transformers_process import WorkerConfig, WorkerDied, WorkerProcess

pytestmark = pytest.mark.slow


class Loop:
    """One event loop kept for a module: the running worker reports to the loop it started on."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()

    def run(self, coro, timeout: float = 120.0):
        return self.loop.run_until_complete(asyncio.wait_for(coro, timeout))

    def close(self) -> None:
        self.loop.close()


@pytest.fixture(scope="module")
def loop():
    runner = Loop()
    yield runner
    runner.close()


@pytest.fixture(scope="module")
def engine(tiny_internvl, loop, tmp_path_factory):
    # A module fixture starts before the per-test isolated dirs: give the log its own place.
    log_path = tmp_path_factory.mktemp("worker-log") / "transformers-worker.log"
    eng = TransformersEngine(WorkerProcess(WorkerConfig(str(tiny_internvl.folder)), log_path=log_path),
                             loop_guard=False)
    loop.run(eng.start(), timeout=300)
    yield eng
    loop.run(eng.stop())
    assert eng.server.pid is None
    # The worker's log (file names, prompts) is the user's only, and says how it ended.
    assert stat.S_IMODE(log_path.stat().st_mode) == 0o600
    assert log_path.read_text().endswith("\n# exited with code 0\n")


def _request(size=(640, 480), *, max_tokens=8, tiles=12, prompt="Read the text.") -> Request:
    return Request(image=Image.new("RGB", size, (250, 250, 245)), prompt=prompt, max_tokens=max_tokens,
                   max_dynamic_patch=tiles)


async def _collect(engine, request):
    return [chunk async for chunk in engine.stream(request)]


def _decode(folder: Path, ids: list[int]) -> str:
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(folder / "tokenizer.json")).decode(ids, skip_special_tokens=True)


async def _worker_events(server: WorkerProcess, request: Request, *, cancel_after: int | None = None):
    """Raw protocol events of one request; cancel after that many token events."""
    frame = prepare_frame(request.image, request.max_dynamic_patch)
    rid, events = server.open_request({
        "width": frame.width, "height": frame.height, "max_tiles": request.max_dynamic_patch,
        "prompt": request.prompt, "history": [], "max_tokens": request.max_tokens,
        "temperature": request.temperature, "top_k": request.top_k,
        "repetition_penalty": request.repetition_penalty}, frame.data)
    seen: list[tuple[float, dict]] = []
    tokens = 0
    try:
        while True:
            event = await events.get()
            seen.append((time.monotonic(), event))
            if event["ev"] == "token":
                tokens += 1
                if tokens == cancel_after:
                    server.cancel(rid)
                    seen.append((time.monotonic(), {"ev": "cancel-sent"}))
            if event["ev"] in ("done", "error", "exit"):
                return seen
    finally:
        server.close_request(rid)


# ---------------------------------------------------------------- tiling


@pytest.mark.parametrize("size, tiles", [
    ((448, 448), 12),      # one tile
    ((1344, 448), 12),     # 3:1 strip
    ((900, 2700), 12),     # tall receipt: 2x6 + thumbnail
    ((2480, 3508), 12),    # A4 portrait page
    ((3508, 2480), 12),    # A4 landscape
    ((2480, 3508), 6),     # the same page at a lower detail level
    ((5000, 700), 1),      # detail 1: one tile whatever the shape
    ((120, 90), 12),       # a small snip
])
def test_image_tokens_follow_the_tiling_rule(engine, loop, tiny_internvl, size, tiles):
    # GIVEN an image of this shape at this detail level (the Request's max_dynamic_patch)
    request = _request(size, max_tokens=1, tiles=tiles)
    # WHEN the worker runs it
    chunks = loop.run(_collect(engine, request))
    usage = chunks[-1].usage
    # THEN the model saw exactly the model card's number of tiles, and that many tiles' tokens
    expected = tile_count(*size, tiles)
    assert usage["tiles"] == expected
    assert usage["image_tokens"] == expected * tiny_internvl.tokens_per_tile
    assert usage["prompt_tokens"] > usage["image_tokens"]


# ---------------------------------------------------------------- streaming


def test_tokens_stream_back_in_order_and_complete(engine, loop, tiny_internvl):
    # GIVEN a request for 40 tokens
    request = _request(max_tokens=40)
    # WHEN its raw events are read
    events = [e for _, e in loop.run(_worker_events(engine.server, request))]
    tokens = [e for e in events if e["ev"] == "token"]
    done = events[-1]
    # THEN a start, then token events with a rising count, then done: nothing lost or reordered
    assert events[0]["ev"] == "start" and done["ev"] == "done"
    counts = [e["n"] for e in tokens]
    assert counts == sorted(set(counts)) and counts[-1] == 40
    ids = [i for e in tokens for i in e["ids"]]
    assert len(ids) == done["usage"]["completion_tokens"] == 40
    assert done["finish"] == "length"
    # AND the texts joined are the decoding of all the ids (characters split over tokens included)
    assert "".join(e["text"] for e in tokens) == _decode(tiny_internvl.folder, ids)
    # AND the engine yields that same text as chunks, with the finish reason last
    chunks = loop.run(_collect(engine, request))
    assert "".join(c.text for c in chunks) == "".join(e["text"] for e in tokens)
    assert chunks[-1].finish_reason is FinishReason.LENGTH
    assert all(c.finish_reason is None for c in chunks[:-1])


def test_a_follow_up_question_adds_the_conversation_to_the_prompt(engine, loop):
    # GIVEN a first answer, then a question about it
    base = _request(max_tokens=1)
    first = loop.run(_collect(engine, base))[-1].usage
    follow = replace(base, history=(Turn("assistant", "Invoice 42"), Turn("user", "What is the total?")))
    second = loop.run(_collect(engine, follow))[-1].usage
    # THEN the same image costs the same, and the earlier turns lengthen the prompt
    assert second["image_tokens"] == first["image_tokens"]
    assert second["prompt_tokens"] > first["prompt_tokens"]


# ---------------------------------------------------------------- cancel


def test_cancel_stops_generation_within_a_second(engine, loop):
    # GIVEN a request that would run for minutes (the tiny model never says it is done)
    request = _request(max_tokens=8000)
    # WHEN it is cancelled after its third token
    seen = loop.run(_worker_events(engine.server, request, cancel_after=3))
    sent = next(t for t, e in seen if e["ev"] == "cancel-sent")
    end, done = seen[-1]
    # THEN the worker stops within a second, saying so, with only a few tokens made
    assert done["ev"] == "done" and done["finish"] == "cancelled"
    assert end - sent < 1.0
    assert done["usage"]["completion_tokens"] < 100


def test_closing_the_stream_cancels_and_the_worker_serves_the_next_request(engine, loop):
    async def scenario():
        got = []
        async with contextlib.aclosing(engine.stream(_request(max_tokens=8000))) as stream:
            async for chunk in stream:
                got.append(chunk)
                if len(got) == 3:
                    break  # the consumer walks away: the stream closes
        began = time.monotonic()
        after = await _collect(engine, _request(max_tokens=2))
        return got, after, time.monotonic() - began

    got, after, seconds = loop.run(scenario(), timeout=60)
    assert len(got) == 3 and all(c.finish_reason is None for c in got)
    # THEN the next request is answered at once: the long one is not still running ahead of it
    assert after[-1].finish_reason is FinishReason.LENGTH
    assert seconds < 10


# ---------------------------------------------------------------- errors


def test_a_missing_folder_gets_a_clear_message(tiny_internvl, tmp_path):
    worker = WorkerProcess(WorkerConfig(str(tmp_path / "InternVL3-1B-hf")))
    with pytest.raises(ModelFolderMissing) as caught:
        asyncio.run(worker.start())
    assert "does not exist" in str(caught.value) and "huggingface-cli download" in caught.value.hint
    assert worker.status.state is ServerState.FAILED and worker.pid is None


def test_a_damaged_config_gets_a_clear_message(tiny_internvl, tmp_path):
    # GIVEN a copy of the model whose config.json was cut short
    folder = tmp_path / "damaged"
    shutil.copytree(tiny_internvl.folder, folder)
    text = (folder / "config.json").read_text()
    (folder / "config.json").write_text(text[: len(text) // 2])
    worker = WorkerProcess(WorkerConfig(str(folder)))
    with pytest.raises(BadModelConfig) as caught:
        asyncio.run(worker.start())
    assert "config.json is damaged" in str(caught.value) and caught.value.hint
    assert worker.pid is None


def test_a_config_that_does_not_fit_the_weights_gets_a_clear_message(tiny_internvl, tmp_path):
    # GIVEN valid JSON that describes a different model than the weights hold
    folder = tmp_path / "mixed-up"
    shutil.copytree(tiny_internvl.folder, folder)
    config = json.loads((folder / "config.json").read_text())
    config["text_config"]["hidden_size"] = 48
    (folder / "config.json").write_text(json.dumps(config))
    worker = WorkerProcess(WorkerConfig(str(folder)))
    # WHEN transformers itself tries to load it in the worker
    with pytest.raises(BadModelConfig) as caught:
        asyncio.run(worker.start())
    # THEN the message names the mismatch, not a traceback; it came from the worker with its
    # template, so the window can say it in its language
    assert "do not fit its config.json" in str(caught.value)
    assert isinstance(str(caught.value), Text) and caught.value.user_message.values["then"] == AGAIN_HINT
    assert "Traceback" not in caught.value.user_message
    assert worker.pid is None


def test_a_worker_that_dies_mid_answer_is_reported(tiny_internvl):
    async def scenario():
        eng = TransformersEngine(WorkerProcess(WorkerConfig(str(tiny_internvl.folder))), loop_guard=False)
        await eng.start()
        try:
            async for chunk in eng.stream(_request(max_tokens=8000)):
                if chunk.text:
                    psutil.Process(eng.server.pid).kill()
            return None
        except EngineCrashed as exc:
            return exc, eng.server.status
        finally:
            await eng.stop()

    err, status = asyncio.run(asyncio.wait_for(scenario(), 300))
    assert isinstance(err, WorkerDied) and "killed by signal 9" in str(err)
    assert status.state is ServerState.FAILED


# ---------------------------------------------------------------- no orphans


PARENT = """
import asyncio, sys
from desktop_ocr.engines.transformers_process import WorkerConfig, WorkerProcess

async def main():
    worker = WorkerProcess(WorkerConfig(sys.argv[1]))
    await worker.start()
    print(worker.pid, flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


def test_killing_the_app_leaves_no_worker(tiny_internvl, tmp_path):
    # GIVEN an app process with a loaded worker
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(tiny_internvl.folder)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = parent.stdout.readline()
        assert line.strip().isdigit(), parent.stderr.read()
        worker = psutil.Process(int(line))
        assert worker.is_running() and worker.ppid() == parent.pid
        # WHEN the app is killed outright (no atexit, no stop())
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        # THEN the worker is gone too
        worker.wait(timeout=10)
        assert not psutil.pid_exists(worker.pid) or worker.status() == psutil.STATUS_ZOMBIE
    finally:
        if parent.poll() is None:
            parent.kill()
        parent.wait()


def test_stopping_the_engine_ends_the_worker(tiny_internvl):
    async def scenario():
        eng = TransformersEngine(WorkerProcess(WorkerConfig(str(tiny_internvl.folder))))
        await eng.start()
        pid = eng.server.pid
        health = await eng.health()
        await eng.stop()
        return pid, health, await eng.health()

    pid, ready, stopped = asyncio.run(asyncio.wait_for(scenario(), 300))
    assert ready.ok and ready.details["device"] == "cpu" and ready.details["dtype"] == "float32"
    assert not stopped.ok and stopped.state == "stopped"
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
