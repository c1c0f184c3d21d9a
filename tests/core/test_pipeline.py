"""The one pipeline: planning, concurrency against the stand-in server, cancel, bounded
retries, engine death, the PDF's text, stored results reused, the library fed per part."""

from __future__ import annotations

import asyncio
import io
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

sys.path.append(str(Path(__file__).resolve().parent.parent / "engines"))
from engine_helpers import API_KEY, make_image, run, start_standin  # noqa: E402

from desktop_ocr.core.contract import (  # noqa: E402
    BadRequest,
    Chunk,
    EngineCrashed,
    EngineDied,
    EngineUnavailable,
    FinishReason,
)
from desktop_ocr.core.pipeline import (  # noqa: E402
    EngineRestarted,
    PageOptions,
    PartFinished,
    PartStarted,
    PartText,
    PartWaiting,
    Pipeline,
    Progress,
    RetryPolicy,
    RunStopped,
    Source,
    SourceFailed,
    SourceOpened,
    expand_inputs,
)
from desktop_ocr.core.regions import Region, RegionSpec  # noqa: E402
from desktop_ocr.core.results import PartResult, ReuseKey  # noqa: E402
from desktop_ocr.core.settings import Settings  # noqa: E402
from desktop_ocr.engines.openai_compat import OpenAIEngine  # noqa: E402


class MemoryStore:
    """The ResultStore protocol in memory: what the library is asked, in order."""

    def __init__(self) -> None:
        self.results: list[PartResult] = []
        self.runs: dict[int, dict] = {}

    async def add(self, result: PartResult) -> int:
        self.results.append(result)
        return len(self.results)

    async def find(self, key: ReuseKey) -> PartResult | None:
        hits = [r for r in self.results if r.ok and r.reuse_key() == key]
        return hits[-1] if hits else None

    async def start_run(self, kind: str, plan: dict) -> int:
        run_id = len(self.runs) + 1
        self.runs[run_id] = {"kind": kind, "plan": plan, "state": "running"}
        return run_id

    async def finish_run(self, run_id: int, state: str) -> None:
        self.runs[run_id]["state"] = state

    async def resume_run(self, run_id: int) -> dict:
        self.runs[run_id]["state"] = "running"
        return self.runs[run_id]


class ScriptedEngine:
    """Replays scripted attempts: each a list of texts, chunks or an exception to raise."""

    name = "scripted"
    model = "script-1"
    max_concurrency = 2

    def __init__(self, *attempts) -> None:
        self.attempts = [list(a) for a in attempts]
        self.calls = 0
        self.starts = 0
        self.stops = 0

    async def start(self) -> None:
        self.starts += 1

    async def stop(self) -> None:
        self.stops += 1

    async def health(self):
        return None

    async def stream(self, request):
        script = self.attempts[min(self.calls, len(self.attempts) - 1)]
        self.calls += 1
        for item in script:
            if isinstance(item, BaseException):
                raise item
            await asyncio.sleep(0)
            yield item if isinstance(item, Chunk) else Chunk(item)
        yield Chunk("", FinishReason.STOP)


def _png(tmp_path: Path, name: str, size=(320, 200)) -> Path:
    path = tmp_path / name
    make_image(size).save(path)
    return path


def _pdf(tmp_path: Path, pages: list[str | None]) -> Path:
    """A PDF whose pages have the given text layer (None: an image-only page, a 'scan')."""
    import pymupdf

    doc = pymupdf.open()
    for text in pages:
        page = doc.new_page(width=300, height=200)
        if text is None:
            buf = io.BytesIO()
            make_image((300, 200)).save(buf, "PNG")
            page.insert_image(page.rect, stream=buf.getvalue())
        else:
            page.insert_text((20, 50), text)
    path = tmp_path / "doc.pdf"
    doc.save(path)
    doc.close()
    return path


def _settings(**kw) -> Settings:
    s = Settings()
    for k, v in kw.items():
        setattr(s, k, v)
    return s


# ---------------------------------------------------------------------- planning & running

def test_several_files_run_concurrently_and_come_back_in_input_order(tmp_path):
    # GIVEN a server that serves 8 at once and three inputs: two images and a 3-page PDF
    server = start_standin("--scenario", "batch", "--capacity", "16", "--tokens", "12",
                           "--tokens-per-s", "300")
    paths = [_png(tmp_path, "a.png"), _pdf(tmp_path, [None, None, None]), _png(tmp_path, "b.png")]
    store, events = MemoryStore(), []

    async def go():
        engine = OpenAIEngine(server.url, API_KEY, "internvl3", max_concurrency=3)
        try:
            pipeline = Pipeline(engine, _settings(max_in_flight=3), library=store,
                                on_event=events.append)
            return await pipeline.run([Source(path=p) for p in paths], kind="batch")
        finally:
            await engine.stop()

    try:
        summary = run(go())
        # WHEN all five parts ran
        stats = server.stats()
    finally:
        server.stop()
    # THEN three were in flight at once, and the results are in input order
    assert stats["max_active"] == 3
    assert [(Path(r.source).name, r.page) for r in summary.results] == [
        ("a.png", 1), ("doc.pdf", 1), ("doc.pdf", 2), ("doc.pdf", 3), ("b.png", 1)]
    assert all(r.ok and r.finish == "stop" and r.engine == "openai" and r.model == "internvl3"
               for r in summary.results)
    assert all(r.text == "".join(f"t{i} " for i in range(12)) for r in summary.results)
    # AND every part went to the library as it finished, in one run marked done
    assert sorted(r.id for r in summary.results) == [1, 2, 3, 4, 5]
    assert store.runs[summary.run_id]["state"] == "done"
    assert len(store.runs[summary.run_id]["plan"]["sources"]) == 3
    # AND the events tell the story: sources opened, parts started, text, finished, progress
    assert sum(isinstance(e, SourceOpened) for e in events) == 3
    assert sum(isinstance(e, PartStarted) for e in events) == 5
    assert sum(isinstance(e, PartFinished) for e in events) == 5
    last = [e for e in events if isinstance(e, Progress)][-1]
    assert (last.done, last.total, last.failed, last.eta, last.sources_left) == (5, 5, 0, 0.0, 0)
    # AND each result carries its source's content hash and a JPEG thumbnail
    assert summary.results[0].source_hash != summary.results[1].source_hash
    assert summary.results[0].thumbnail[:2] == b"\xff\xd8"


def test_regions_rotation_and_their_own_tasks_become_parts_in_order(tmp_path):
    # GIVEN a page with two regions, the second with its own task, turned 90 degrees
    path = _png(tmp_path, "page.png", (400, 300))
    r1 = Region(0.0, 0.0, 0.5, 0.5, order=1)
    r2 = Region(0.5, 0.5, 0.5, 0.5, order=2, task="table")
    source = Source(path=path, page_options={0: PageOptions([r1, r2], rotation=90)})
    engine = ScriptedEngine(["one"], ["two"])
    engine.max_concurrency = 1
    seen = []

    async def go():
        pipeline = Pipeline(engine, _settings(task="text"),
                            on_event=lambda e: seen.append(e) if isinstance(e, PartStarted) else None)
        return await pipeline.run([source])

    summary = run(go())
    # THEN one part per region, in the user's order, each with its task, region and rotation
    assert [(r.region_label, r.task, r.text) for r in summary.results] == [
        ("Region 1", "text", "one"), ("Region 2", "table", "two")]
    assert summary.results[1].region == (0.5, 0.5, 0.5, 0.5)
    assert all(r.rotation == 90 and r.region_id for r in summary.results)
    # AND the part's image was rendered turned: a 200 x 150 crop became 150 wide
    assert seen[0].part.rotation == 90


def test_cli_region_and_page_spec(tmp_path):
    path = _pdf(tmp_path, [None, None, None, None])
    engine = ScriptedEngine(["x"])

    async def go():
        return await Pipeline(engine, _settings()).run(
            [Source(path=path, pages="2,4", region=RegionSpec(0.0, 0.0, 0.5, 1.0))])

    summary = run(go())
    assert [r.page for r in summary.results] == [2, 4]
    assert all(r.region == (0.0, 0.0, 0.5, 1.0) and r.page_count == 4 for r in summary.results)


def test_a_source_that_cannot_be_opened_fails_alone(tmp_path):
    # GIVEN a damaged file between two good ones
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    good = [_png(tmp_path, "a.png"), _png(tmp_path, "b.png")]
    store, events = MemoryStore(), []

    async def go():
        return await Pipeline(ScriptedEngine(["ok"]), _settings(), library=store,
                              on_event=events.append).run(
            [Source(path=good[0]), Source(path=bad), Source(path=good[1])])

    summary = run(go())
    # THEN the bad one is one failed result naming the file; the others are recognised
    assert [r.ok for r in summary.results] == [True, False, True]
    assert "broken.png" in summary.results[1].error
    failed = [e for e in events if isinstance(e, SourceFailed)]
    assert len(failed) == 1 and failed[0].source.path == bad
    assert len(store.results) == 3  # the failure is in the library too


def test_password_is_asked_again_when_wrong(tmp_path):
    import pymupdf

    path = tmp_path / "secret.pdf"
    doc = pymupdf.open()
    doc.new_page().insert_text((50, 50), "secret")
    doc.save(path, encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="pw", owner_pw="own")
    doc.close()
    asked: list[bool] = []

    async def provider(name: str, wrong: bool) -> str | None:
        asked.append(wrong)
        return "nope" if len(asked) == 1 else "pw"

    async def go():
        return await Pipeline(ScriptedEngine(["ok"]), _settings(), password_provider=provider).run(
            [Source(path=path, use_text_layer=True, ocr=False)])

    summary = run(go())
    assert asked == [False, True]
    assert summary.results[0].text.strip() == "secret"


def test_folder_expands_to_supported_files_sorted(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / ".hidden").mkdir()
    for name in ("b.png", "a.pdf", "sub/c.jpg", "notes.txt", ".hidden/d.png"):
        (tmp_path / name).write_bytes(b"x")
    assert [p.relative_to(tmp_path).as_posix() for p in expand_inputs([tmp_path])] == [
        "a.pdf", "b.png", "sub/c.jpg"]


def test_pasted_image_is_one_part_with_the_hash_of_its_pixels():
    image = make_image((200, 100))

    async def go():
        return await Pipeline(ScriptedEngine(["pasted"]), _settings()).run(
            [Source(image=image, kind="paste", label="Clipboard image 1")], kind="paste")

    first = run(go()).results[0]
    again = run(go()).results[0]
    assert (first.source, first.source_kind, first.text) == ("Clipboard image 1", "paste", "pasted")
    assert first.source_hash and first.source_hash == again.source_hash


# ---------------------------------------------------------------------- text layer & reuse

def test_pdf_text_is_used_without_starting_the_engine(tmp_path):
    # GIVEN a PDF with a text page and a scanned page, and "use the PDF's text"
    path = _pdf(tmp_path, ["Hello from the text layer", None])
    engine = ScriptedEngine(["from ocr"])

    async def go():
        return await Pipeline(engine, _settings()).run([Source(path=path, use_text_layer=True)])

    summary = run(go())
    # THEN the text page takes its own text, the scan is recognised
    assert summary.results[0].origin == "pdf-text"
    assert "Hello from the text layer" in summary.results[0].text
    assert (summary.results[1].origin, summary.results[1].text) == ("ocr", "from ocr")
    assert engine.calls == 1

    # AND text only (no OCR): the engine is never started
    engine2 = ScriptedEngine(["never"])

    async def text_only():
        return await Pipeline(engine2, _settings()).run(
            [Source(path=path, use_text_layer=True, ocr=False)])

    summary2 = run(text_only())
    assert engine2.starts == 0 and engine2.calls == 0
    assert summary2.results[1].text == "" and summary2.results[1].ok


def test_resume_reuses_stored_results_for_the_same_question(tmp_path):
    # GIVEN a library holding the results of a first run
    path = _pdf(tmp_path, [None, None])
    store = MemoryStore()
    engine = ScriptedEngine(["first"])

    async def go(reuse: bool, task: str = "text"):
        p = Pipeline(engine, _settings(task=task), library=store, reuse=reuse)
        return p, await p.run([Source(path=path)])

    run(go(False))
    assert engine.calls == 2
    # WHEN the same file runs again with reuse
    pipeline, summary = run(go(True))
    # THEN nothing is asked again, and the stored text comes back marked as reused
    assert engine.calls == 2 and pipeline.reused == 2
    assert [(r.origin, r.text) for r in summary.results] == [("library", "first")] * 2
    assert len(store.results) == 2  # reused results are not stored twice
    # AND another task is another question
    run(go(True, task="markdown"))
    assert engine.calls == 4


# ---------------------------------------------------------------------- faults

FAST_RETRY = RetryPolicy(attempts=3, budget_s=10, backoff_s=0.01)


def _one(engine, retry=FAST_RETRY, **kw):
    events: list = []

    async def go():
        pipeline = Pipeline(engine, _settings(), retry=retry, on_event=events.append, **kw)
        return await pipeline.run([Source(image=make_image((64, 64)), kind="paste", label="x")])

    return run(go()), events


def test_retried_before_the_first_token_within_the_policy():
    engine = ScriptedEngine([EngineUnavailable("refused")], [EngineCrashed("dropped")], ["ok"])
    summary, _ = _one(engine)
    result = summary.results[0]
    assert (result.ok, result.text, result.attempts) == (True, "ok", 3)


def test_not_retried_after_the_first_token_and_partial_text_kept():
    engine = ScriptedEngine(["partial ", EngineCrashed("dropped")], ["never"])
    summary, _ = _one(engine)
    result = summary.results[0]
    assert (result.text, engine.calls) == ("partial ", 1)
    assert "dropped" in result.error


@pytest.mark.parametrize("error, calls", [(BadRequest("no"), 1), (EngineCrashed("busy"), 3)])
def test_definite_errors_and_exhausted_retries_fail_the_part(error, calls):
    engine = ScriptedEngine([error])
    summary, _ = _one(engine)
    assert not summary.results[0].ok and engine.calls == calls and not summary.stopped


def test_retries_are_bounded_in_time():
    engine = ScriptedEngine([EngineCrashed("again")])
    summary, _ = _one(engine, retry=RetryPolicy(attempts=100, budget_s=0.2, backoff_s=0.05))
    assert not summary.results[0].ok and 2 <= engine.calls < 10


def test_engine_death_restarts_once_then_stops_the_run_with_one_message():
    # GIVEN an engine that dies, comes back, then dies again
    died = EngineDied("The InternVL3 server died (exit code 134): CUDA error.")
    engine = ScriptedEngine([died], ["after restart"], [died])
    events: list = []

    async def go():
        pipeline = Pipeline(engine, _settings(), on_event=events.append, concurrency=1,
                            restart_on_death=True)
        return await pipeline.run([Source(image=make_image((64, 64)), kind="snip", label=f"s{i}")
                                   for i in range(4)])

    summary = run(go())
    # THEN it was restarted once and the first image recognised after the restart
    assert engine.stops == 1
    assert [e for e in events if isinstance(e, EngineRestarted)][0].message.startswith(
        "The InternVL3 server died (exit code 134)")
    assert summary.results[0].text == "after restart"
    # AND the second death stopped the run: one message with the cause, no line per input;
    # the image it happened on is kept as failed, the two after it were never started
    stops = [e for e in events if isinstance(e, RunStopped)]
    assert len(stops) == 1 and "exit code 134" in stops[0].message
    assert stops[0].part is not None and stops[0].part.label == "s1"
    assert summary.stopped == stops[0].message and len(summary.results) == 2
    assert "exit code 134" in summary.results[1].error and engine.calls == 3


def test_engine_death_without_restart_stops_at_once():
    engine = ScriptedEngine([EngineDied("gone (exit code 1)")])
    summary, events = _one(engine, restart_on_death=False)
    assert engine.stops == 0 and "exit code 1" in summary.stopped


def test_an_engine_that_cannot_start_stops_the_run_once():
    class Unstartable(ScriptedEngine):
        async def start(self):
            raise EngineUnavailable("No lmdeploy.", hint="Install the GPU extra.")

    events: list = []

    async def go():
        return await Pipeline(Unstartable(["x"]), _settings(), on_event=events.append).run(
            [Source(image=make_image((64, 64)), kind="paste", label=f"p{i}") for i in range(3)])

    summary = run(go())
    assert sum(isinstance(e, RunStopped) for e in events) == 1
    assert "No lmdeploy. Install the GPU extra." in summary.stopped


def test_waiting_is_reported_from_the_engine():
    engine = ScriptedEngine([Chunk("", info={"waiting_s": 3.0}), "late"])
    summary, events = _one(engine)
    assert [e.seconds for e in events if isinstance(e, PartWaiting)] == [3.0]
    assert summary.results[0].text == "late"


# ---------------------------------------------------------------------- cancel

def test_cancel_closes_streams_keeps_what_finished_and_marks_the_run(tmp_path):
    # GIVEN a slow server and four pages, two at a time
    server = start_standin("--scenario", "slow", "--tokens", "400", "--tokens-per-s", "40")
    path = _pdf(tmp_path, [None] * 4)
    store = MemoryStore()

    async def go():
        engine = OpenAIEngine(server.url, API_KEY, "internvl3", max_concurrency=2)
        texts: list = []
        try:
            pipeline = Pipeline(engine, _settings(max_in_flight=2), library=store,
                                on_event=lambda e: texts.append(e) if isinstance(e, PartText) else None)
            task = asyncio.ensure_future(pipeline.run([Source(path=path)], kind="document"))
            while len(texts) < 4:
                await asyncio.sleep(0.02)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        finally:
            await engine.stop()

    try:
        run(go())
        # THEN the server sees both open connections closed (it notices on its next write)
        deadline = time.monotonic() + 5
        while server.stats()["client_closed"] < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        stats = server.stats()
    finally:
        server.stop()
    assert (stats["client_closed"], stats["active"], stats["completed"]) == (2, 0, 0)
    # AND the run is marked cancelled in the library
    assert store.runs[1]["state"] == "cancelled"


def test_image_source_sizes_are_kept_for_the_engine():
    sizes = []

    class Sizer(ScriptedEngine):
        async def stream(self, request):
            sizes.append(request.image.size)
            yield Chunk("", FinishReason.STOP)

    async def go():
        return await Pipeline(Sizer(), _settings()).run(
            [Source(image=Image.new("RGB", (123, 45), "white"), kind="paste", label="p")])

    run(go())
    assert sizes == [(123, 45)]


def test_pause_starts_no_new_part_and_resume_goes_on():
    # GIVEN a run of three images, one at a time
    engine = ScriptedEngine(["a"])
    engine.max_concurrency = 1
    started: list = []

    async def go():
        pipeline = Pipeline(engine, _settings(), on_event=lambda e: started.append(e)
                            if isinstance(e, PartFinished) else None)
        pipeline.pause()
        task = asyncio.ensure_future(pipeline.run(
            [Source(image=make_image((32, 32)), kind="paste", label=f"p{i}") for i in range(3)]))
        # WHEN paused from the start THEN nothing runs while the loop turns
        for _ in range(50):
            await asyncio.sleep(0)
        assert engine.calls == 0 and pipeline.paused
        pipeline.resume()
        return await task

    summary = run(go())
    # THEN after resume everything finished
    assert len(summary.results) == 3 and engine.calls == 3


def test_parts_in_flight_when_the_engine_dies_restart_it_once_and_all_go_on():
    # GIVEN an engine serving two at once whose process dies under both streams
    class Dying:
        name, model, max_concurrency = "scripted", "script-1", 2

        def __init__(self) -> None:
            self.life, self.starts, self.stops, self.calls = 0, 0, 0, 0
            self.both_in = asyncio.Event()
            self.inside = 0

        async def start(self):
            self.starts += 1

        async def stop(self):
            self.stops += 1
            self.life += 1  # a restart is a new process

        async def health(self):
            return None

        async def stream(self, request):
            self.calls += 1
            life = self.life
            if life == 0:
                self.inside += 1
                if self.inside == 2:
                    self.both_in.set()
                await self.both_in.wait()
                raise EngineDied("The server died (exit code 134).")
            yield Chunk(f"life {life}")
            yield Chunk("", FinishReason.STOP)

    engine, events = Dying(), []

    async def go():
        return await Pipeline(engine, _settings(max_in_flight=2), on_event=events.append,
                              restart_on_death=True).run(
            [Source(image=make_image((64, 64)), kind="paste", label=f"p{i}") for i in range(3)])

    summary = run(go())
    # THEN one restart served both: nothing failed, nothing stopped, all on the new engine
    assert sum(isinstance(e, EngineRestarted) for e in events) == 1 and engine.stops == 1
    assert not summary.stopped and [r.text for r in summary.results] == ["life 1"] * 3
