"""The pipeline beyond one engine and one task: a task that names its own engine (codes
on the CPU engine's barcode reader whatever engine runs the rest), and follow-up
questions about an image, run as parts like any other (same crop, same retries)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parent.parent / "engines"))
from engine_helpers import API_KEY, make_image, run, start_standin  # noqa: E402

from desktop_ocr.core.contract import Chunk, EngineUnavailable, FinishReason, Turn  # noqa: E402
from desktop_ocr.core.conversation import ASK_TASK, Conversation  # noqa: E402
from desktop_ocr.core.pipeline import LazyEngine, PageOptions, Pipeline, Source  # noqa: E402
from desktop_ocr.core.regions import Region  # noqa: E402
from desktop_ocr.core.settings import Settings  # noqa: E402
from desktop_ocr.engines.openai_compat import OpenAIEngine  # noqa: E402


class Recorder:
    """An engine that answers `answer` and keeps every request it got; `fail_first`
    attempts fail as a server that is briefly away would."""

    model = "rec-1"
    max_concurrency = 1

    def __init__(self, name: str, answer: str, fail_first: int = 0) -> None:
        self.name = name
        self.answer = answer
        self.fail_first = fail_first
        self.requests: list = []
        self.starts = 0

    async def start(self) -> None:
        self.starts += 1

    async def stop(self) -> None:
        pass

    async def health(self):
        return None

    async def stream(self, request):
        self.requests.append(request)
        if len(self.requests) <= self.fail_first:
            raise EngineUnavailable("not up yet")
        await asyncio.sleep(0)
        yield Chunk(self.answer)
        yield Chunk("", FinishReason.STOP)


def test_a_task_that_names_its_engine_runs_on_it_and_the_rest_on_the_runs_engine():
    # GIVEN a run's engine, a codes engine the hook gives for the codes task, and a page
    # with a codes region and a text region
    vlm, cpu = Recorder("openai", "words"), Recorder("cpu", "[]")
    created: list[str] = []

    def engine_for(task: str):
        if task != "codes":
            return None
        created.append(task)
        return LazyEngine(lambda: cpu)

    regions = [Region(0, 0, 0.5, 1, task="codes", order=1), Region(0.5, 0, 0.5, 1, order=2)]
    source = Source(image=make_image((400, 200)), kind="paste", task="text",
                    page_options={0: PageOptions(regions)})
    # WHEN it runs
    summary = run(Pipeline(vlm, Settings(), engine_for=engine_for).run([source]))
    # THEN the codes region went to the codes engine, the other to the run's engine
    assert [(r.task, r.engine, r.text) for r in summary.results] == [
        ("codes", "cpu", "[]"), ("text", "openai", "words")]
    assert [r.task for r in cpu.requests] == ["codes"] and [r.task for r in vlm.requests] == ["text"]
    assert created == ["codes"]  # asked once per task, the handle kept for the run


def test_a_question_goes_with_the_parts_crop_and_the_conversation_and_is_retried():
    # GIVEN a region recognised before, the conversation about it, and a server that is
    # not up for the first attempt
    engine = Recorder("openai", "59.00", fail_first=1)
    conv = Conversation().add("Extract all text.", "Total 59.00")
    region = Region(0.5, 0, 0.5, 1, id="r1", order=1)
    source = Source(image=make_image((400, 200)), kind="paste", question=" What is the total? ",
                    conversation=conv, page_options={0: PageOptions([region])})
    # WHEN the question runs through the pipeline
    summary = run(Pipeline(engine, Settings()).run([source], kind="ask"))
    # THEN it was retried, the engine got the region's crop, the first prompt and the
    # conversation so far with the question last
    (result,) = summary.results
    assert result.ok and result.text == "59.00" and result.attempts == 2
    request = engine.requests[-1]
    assert request.image.size == (200, 200) and request.task == ASK_TASK
    assert request.prompt == "Extract all text."
    assert request.history == (Turn("assistant", "Total 59.00"), Turn("user", "What is the total?"))
    assert (result.task, result.prompt, result.region_id) == (ASK_TASK, "What is the total?", "r1")


def test_a_question_through_the_stand_in_server_is_answered_from_the_conversation():
    server = start_standin()
    try:
        # GIVEN a server and the conversation about an image so far
        conv = Conversation().add("Extract all text.", "Invoice 2024-0042\nTOTAL 59.00")
        source = Source(image=make_image((320, 200)), kind="paste", question="What is the total?",
                        conversation=conv)

        async def go():
            engine = OpenAIEngine(server.url, API_KEY, "internvl3")
            try:
                return await Pipeline(engine, Settings()).run([source], kind="ask")
            finally:
                await engine.stop()

        # WHEN the question runs
        summary = run(go())
        # THEN the answer streamed back from the whole conversation, the image sent once
        assert summary.results[0].text == ("Answer 1 to: What is the total?\n"
                                           "Earlier answer: Invoice 2024-0042\n")
        assert server.stats()["turns"] == [["user", 1, "parts"], ["assistant", 0, "str"],
                                           ["user", 0, "str"]]
    finally:
        server.stop()


def test_the_cpu_engine_refuses_a_question_plainly():
    from desktop_ocr.engines.cpu import CpuEngine

    # GIVEN the CPU engine (no language model)
    source = Source(image=make_image((200, 100)), kind="paste", question="What is the total?")

    async def go():
        engine = CpuEngine()
        try:
            return await Pipeline(engine, Settings()).run([source], kind="ask")
        finally:
            await engine.stop()

    # WHEN a question is asked THEN the part fails at once with a plain sentence
    (result,) = run(go()).results
    assert not result.ok and result.attempts == 1
    assert "cannot answer questions" in result.error
