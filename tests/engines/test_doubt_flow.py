"""Doubtful words in one flow, as the app runs it: a vision-language server (the stand-in,
a real process, answering with a corpus page's ground truth with errors injected by the
test) reads the page, the CPU engine reads the same image, and the words where they
disagree are marked."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from corpus_data import CORPUS, corpus_items
from engine_helpers import API_KEY, run
from PIL import Image

from desktop_ocr.core.contract import Request, collect
from desktop_ocr.core.doubt import find_doubts
from desktop_ocr.core.layout import Layout
from desktop_ocr.engines.cpu import CpuEngine
from desktop_ocr.engines.openai_compat import OpenAIEngine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "core"))
from doubt_data import inject, scores  # noqa: E402

PAGES = ("receipt-sroie-590.jpg", "zh-pdfpage-chinese-tables.png")


async def _both_readings(url: str, image: Image.Image) -> tuple[str, Layout]:
    vlm = OpenAIEngine(url, API_KEY, "internvl3", loop_guard=False)
    cpu = CpuEngine()
    try:
        await vlm.start()
        text, _ = await collect(vlm, Request(image=image, prompt="Extract all text."))
        layout = None
        async for chunk in cpu.stream(Request(image=image)):
            if chunk.finish_reason is not None and chunk.info:
                layout = Layout.from_dict(chunk.info["layout"])
        assert layout is not None, "the CPU engine's closing chunk carries its layout"
        return text, layout
    finally:
        await vlm.stop()
        await cpu.stop()


@pytest.mark.slow
def test_vlm_errors_are_marked_against_the_cpu_reading(standin_factory):
    totals = [0, 0, 0, 0]
    for k, name in enumerate(PAGES):
        item = next(it for it in corpus_items() if it["file"] == name)
        truth = (CORPUS / "files" / item["gt_text"]).read_text(encoding="utf-8")
        injected, spans = inject(truth, seed=11 + k)
        # GIVEN a server that answers with the injected text
        server = standin_factory("--text", injected)
        with Image.open(CORPUS / "files" / name) as img:
            image = img.convert("RGB")
        # WHEN the page goes to it and to the CPU engine
        text, layout = run(_both_readings(server.url, image))
        # the stand-in names the image it got on a first line; the rest is the answer
        head, _, answer = text.partition("\n")
        assert head.startswith("[image ") and answer == injected
        offset = len(head) + 1
        marked = [(d.start - offset, d.end - offset) for d in find_doubts(text, layout)]
        totals = [t + s for t, s in zip(totals, scores(marked, spans), strict=True)]
    # THEN the injected errors are marked, the correct words mostly not
    bad, caught, good, accused = totals
    assert caught / bad >= 0.8, totals
    assert accused / good <= 0.10, totals
