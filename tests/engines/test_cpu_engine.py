"""The embedded CPU OCR engine on real corpus images, its streaming and its reading order.

Accuracy thresholds sit a little under what the engine measures on these images
(bench/cpu_accuracy.py has the whole-corpus figures), so a regression in recognition,
space restoration or line order fails here.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import time

import pytest
from corpus_data import CORPUS
from PIL import Image

from desktop_ocr.core.contract import Chunk, Engine, FinishReason, Request, collect
from desktop_ocr.engines.cpu import (
    CpuEngine,
    OcrModels,
    TextBox,
    group_lines,
    page_skew,
    paragraph_breaks,
    recognize_boxes,
)


def _scorer():
    spec = importlib.util.spec_from_file_location("corpus_cer", CORPUS / "cer.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.text_scores


@pytest.fixture(scope="module")
def models() -> OcrModels:
    return OcrModels()


def _image(corpus, name: str) -> Image.Image:
    return Image.open(corpus / name).convert("RGB")


def _gt(corpus, name: str) -> str:
    manifest = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
    item = next(it for it in manifest["items"] if it["file"] == name)
    return (corpus / item["gt_text"]).read_text(encoding="utf-8")


# ------------------------------------------------------------------ accuracy


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "max_cer_ci", "min_word_f1"),
    [
        # measured with PP-OCRv6 small: 0.029 / 0.81
        ("receipt-sroie-590.jpg", 0.05, 0.78),
        # measured: 0.090 / 0.57
        ("receipt-sroie-326.jpg", 0.13, 0.50),
        # measured: 0.096 / 0.93 (PP-OCRv4 read this page better, 0.043, but worse on
        # the corpus as a whole: bench/cpu_accuracy.py --models v4,v6)
        ("zh-pdfpage-chinese-tables.png", 0.12, 0.88),
    ],
)
def test_engine_reads_corpus_images(corpus, models, name, max_cer_ci, min_word_f1):
    engine = CpuEngine(models)
    text, finish = asyncio.run(collect(engine, Request(_image(corpus, name))))
    scores = _scorer()(text, _gt(corpus, name))
    assert finish is FinishReason.STOP
    assert scores["cer_ci"] < max_cer_ci, scores
    assert scores["word_f1"] > min_word_f1, scores


@pytest.mark.slow
def test_a_small_snip_is_enlarged_and_reads_like_the_table_task(corpus, models):
    # GIVEN a 251 x 136 px crop of a primer table (lines ~10 px high), read as plain text
    image = _image(corpus, "table-pubtabnet-PMC5897438_004_00.png")
    assert max(image.size) < 600
    text, _ = asyncio.run(collect(CpuEngine(models), Request(image)))
    # THEN its small words read as words, as in the table task's cells
    for words in ("GAPDH antisense", "GAPDH sense", "IL6 antisense", "Primer sequence"):
        assert words in text, text
    # AND the boxes are still in the snip's own pixels
    boxes = recognize_boxes(image, models)
    assert all(0 <= b.bbox[0] < b.bbox[2] <= image.width + 1 for b in boxes)
    assert all(0 <= b.bbox[1] < b.bbox[3] <= image.height + 1 for b in boxes)


def test_only_small_images_are_enlarged():
    from desktop_ocr.engines.cpu import small_image_scale

    assert small_image_scale(251, 136) == pytest.approx(1000 / 251)
    assert small_image_scale(120, 40) == 4.0  # at most four times
    assert small_image_scale(600, 90) == 1.0 and small_image_scale(1200, 1600) == 1.0


def test_receipt_columns_share_a_line_and_words_are_spaced(corpus, models):
    # On receipt 590 the item row "5  3.68  18.40" is three boxes on one visual line,
    # and the model reads "TOTAL SALES INCLUSIVE" without spaces on its own.
    text = "".join(
        c.text for c in _run(CpuEngine(models), Request(_image(corpus, "receipt-sroie-590.jpg")))
    )
    lines = [ln.strip().casefold() for ln in text.splitlines()]
    assert any("3.68" in ln and "18.40" in ln for ln in lines), text
    assert any("sales inclusive" in ln for ln in lines), text


def test_recognize_boxes_gives_text_and_pixel_boxes(corpus, models):
    image = _image(corpus, "receipt-sroie-326.jpg")
    boxes = recognize_boxes(image, models)
    assert len(boxes) > 10
    assert all(isinstance(b, TextBox) and b.text and 0.5 <= b.score <= 1 for b in boxes)
    w, h = image.size
    for b in boxes:
        x0, y0, x1, y1 = b.bbox
        assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h, b
    # Reading order: tops never go back up by more than a line height.
    tops = [b.bbox[1] for b in boxes]
    assert all(t2 > t1 - 30 for t1, t2 in zip(tops, tops[1:], strict=False))


# ------------------------------------------------------------------ streaming


def _run(engine: Engine, request: Request) -> list[Chunk]:
    async def go() -> list[Chunk]:
        return [c async for c in engine.stream(request)]

    return asyncio.run(go())


def test_stream_yields_lines_progressively_and_ends_with_stop(corpus, models):
    chunks = _run(CpuEngine(models), Request(_image(corpus, "receipt-sroie-326.jpg")))
    text_chunks = [c for c in chunks if c.text]
    assert len(text_chunks) > 5
    assert all(c.finish_reason is None for c in chunks[:-1])
    assert chunks[-1].finish_reason is FinishReason.STOP
    assert all(c.text.endswith("\n") for c in text_chunks)


def test_engine_protocol_and_lifecycle(models):
    async def go():
        engine = CpuEngine(models)
        assert isinstance(engine, Engine)
        assert engine.name == "cpu" and engine.max_concurrency == 1
        assert (await engine.health()).state == "stopped"
        await engine.start()
        await engine.start()  # idempotent
        h = await engine.health()
        assert h.ok and h.state == "ready"
        await engine.stop()
        await engine.stop()
        assert (await engine.health()).state == "stopped"
        # A blank image has no text: just the final chunk.
        chunks = [c async for c in engine.stream(Request(Image.new("RGB", (200, 100), "white")))]
        assert [c.finish_reason for c in chunks] == [FinishReason.STOP]
        await engine.stop()

    asyncio.run(go())


def test_cancel_mid_stream_stops_promptly(corpus, models):
    image = _image(corpus, "zh-pdfpage-chinese-tables.png")  # ~100 lines: seconds of work

    async def go():
        engine = CpuEngine(models)
        await engine.start()
        got: list[Chunk] = []

        async def consume():
            async for c in engine.stream(Request(image)):
                got.append(c)

        task = asyncio.create_task(consume())
        while len(got) < 2:
            await asyncio.sleep(0.01)
        task.cancel()
        t0 = time.monotonic()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert time.monotonic() - t0 < 0.5
        n = len(got)
        assert all(c.finish_reason is None for c in got)
        # The worker is free again within about one line's work, and the engine still serves.
        t0 = time.monotonic()
        chunks = [c async for c in engine.stream(Request(Image.new("RGB", (64, 64), "white")))]
        assert time.monotonic() - t0 < 2.0
        assert chunks[-1].finish_reason is FinishReason.STOP
        assert len(got) == n  # nothing arrived for the cancelled request afterwards
        await engine.stop()

    asyncio.run(go())


def test_closing_the_stream_early_releases_the_engine(corpus, models):
    image = _image(corpus, "receipt-sroie-326.jpg")

    async def go():
        engine = CpuEngine(models)
        agen = engine.stream(Request(image))
        first = await agen.__anext__()
        assert first.text and first.finish_reason is None
        await agen.aclose()
        text, finish = await collect(engine, Request(image))
        assert finish is FinishReason.STOP and text.startswith(first.text)

    asyncio.run(go())


# ------------------------------------------------------------------ reading order


def test_group_lines_orders_columns_and_rows():
    # Two receipt rows: description at the left, qty and price further right, boxes
    # given in shuffled order and with slightly different heights and baselines.
    boxes = [
        (300, 52, 360, 70),  # row 2 price
        (10, 10, 120, 30),  # row 1 description
        (200, 12, 230, 31),  # row 1 qty
        (10, 50, 150, 71),  # row 2 description
        (300, 9, 360, 29),  # row 1 price
        (200, 51, 230, 69),  # row 2 qty
        (10, 140, 200, 160),  # after a gap: new paragraph
    ]
    lines = group_lines(boxes)
    assert lines == [[1, 2, 4], [3, 5, 0], [6]]
    assert paragraph_breaks(boxes, lines) == [False, False, True]


def test_group_lines_keeps_stacked_boxes_apart():
    # Boxes overlapping horizontally are never the same line, even when close vertically.
    boxes = [(10, 10, 100, 30), (20, 22, 110, 42)]
    assert group_lines(boxes) == [[0], [1]]


def test_group_lines_follows_a_tilted_page():
    # A photo tilted by 0.1 rad: the right column sits ~20 px lower than the left one,
    # more than a line height, yet belongs to the same line once the skew is removed.
    slope = 0.1
    quads, bboxes = [], []
    for row in range(3):
        for x0, x1 in ((0, 150), (250, 300)):
            y = 100 + 40 * row
            q = [(x0, y + slope * x0), (x1, y + slope * x1), (x1, y + 15 + slope * x1), (x0, y + 15 + slope * x0)]
            quads.append(q)
            bboxes.append((x0, min(p[1] for p in q), x1, max(p[1] for p in q)))
    skew = page_skew(quads)
    assert abs(skew - slope) < 1e-6
    assert group_lines(bboxes, skew) == [[0, 1], [2, 3], [4, 5]]


@pytest.mark.slow
def test_table_task_streams_rows_of_an_html_table(corpus):
    from desktop_ocr.core.tables import parse_tables

    async def run():
        engine = CpuEngine()
        try:
            image = Image.open(corpus / "table-pubtabnet-PMC3826085_003_00.png").convert("RGB")
            return [c async for c in engine.stream(Request(image=image, task="table"))]
        finally:
            await engine.stop()

    chunks = asyncio.run(run())
    assert len(chunks) > 5 and chunks[-1].finish_reason is FinishReason.STOP
    assert all(c.text.endswith("</tr>") for c in chunks[1:-2])  # one row a chunk, for a live grid
    tables = parse_tables("".join(c.text for c in chunks))
    assert len(tables) == 1 and tables[0].to_grid()[0][1:] == ["Infancy", "Early", "Late", "Total"]


def test_a_task_the_cpu_cannot_do_is_refused_plainly(monkeypatch):
    import dataclasses

    from desktop_ocr.core import tasks
    from desktop_ocr.core.contract import BadRequest

    # GIVEN a preset the CPU engine declares it cannot honour
    monkeypatch.setitem(tasks.PRESETS, "formula", dataclasses.replace(
        tasks.PRESETS["formula"], cpu=tasks.CpuSupport("unsupported")))

    async def run():
        engine = CpuEngine()
        try:
            request = Request(image=Image.new("RGB", (64, 32), "white"), task="formula")
            return [c async for c in engine.stream(request)]
        finally:
            await engine.stop()

    # THEN the engine refuses it with a message that says what to use instead
    with pytest.raises(BadRequest) as info:
        asyncio.run(run())
    assert "formula" in str(info.value) and "InternVL3" in info.value.user_message


def _mono(text: str, pitch: float = 10.0) -> list[tuple[str, float, float]]:
    """Characters of a monospaced line: each in its own cell, spaces as empty cells."""
    return [(ch, i * pitch + 2, i * pitch + 8) for i, ch in enumerate(text) if ch != " "]


def test_monospaced_line_gets_spaces_only_at_empty_cells():
    import numpy as np

    from desktop_ocr.engines.cpu import _mono_pitch, _restore_spaces

    # GIVEN "Cashier:admin Table" set in a monospaced font, where the narrow "i" and "l"
    # leave wide blanks beside them inside words
    line = "Cashier:admin Table"
    chars = _mono(line)
    ink = np.ones(len(line) * 10, dtype=bool)
    for ch, xs, xe in chars:
        if ch in "il":  # a narrow glyph inks only the middle of its cell
            ink[int(xs):int(xe)] = False
            ink[int(xs) + 2:int(xs) + 4] = True
    for i, ch in enumerate(line):
        if ch == " ":
            ink[i * 10:(i + 1) * 10] = False
    for ch, xs, xe in chars:
        if ch not in "il":
            ink[int(xs):int(xe)] = True
        ink[int(xe):int(xe) + 4] = False  # the blank between two cells
    # THEN the line is recognised as monospaced and only the real space is kept
    assert _mono_pitch(chars) == pytest.approx(10.0)
    assert _restore_spaces(chars, ink, crop_h=20, gap_em=0.2) == line


def test_proportional_line_keeps_its_word_spaces():
    import numpy as np

    from desktop_ocr.engines.cpu import _restore_spaces

    # GIVEN "Total Sales Tax" in a proportional font: glyph widths vary, words 6 px apart
    widths = {"T": 8, "o": 7, "t": 4, "a": 7, "l": 3, "S": 7, "e": 7, "s": 6, "x": 7}
    chars, x = [], 0.0
    ink = np.zeros(200, dtype=bool)
    for word in "Total Sales Tax".split():
        for ch in word:
            chars.append((ch, x, x + widths[ch]))
            ink[int(x):int(x + widths[ch])] = True
            x += widths[ch] + 1
        x += 6
    # THEN every word space is found, and no space appears inside a word
    assert _restore_spaces(chars, ink, crop_h=20, gap_em=0.2) == "Total Sales Tax"
