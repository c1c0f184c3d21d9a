"""The repetition-loop guard on looping output and on real ground-truth text."""

from __future__ import annotations

import pytest
from corpus_data import CORPUS, corpus_items

from desktop_ocr.core.contract import Request
from desktop_ocr.engines.loop_guard import LoopGuard, retry_penalty, retry_request


def feed_in_pieces(guard: LoopGuard, text: str, size: int = 3):
    for i in range(0, len(text), size):
        found = guard.feed(text[i:i + size])
        if found:
            return found, i + size
    return None, len(text)


def test_table_row_loop_is_caught_early():
    text = "| Item | Qty |\n| --- | --- |\n" + "| Paper A4 | 2 |\n" * 500
    found, at = feed_in_pieces(LoopGuard(), text)
    assert found is not None and found.unit == "| Paper A4 | 2 |\n"
    assert at < 600  # stopped after a few hundred characters, not at max_tokens
    # Where the repeats beyond the first begin (up to a rotation of the unit).
    assert 29 < found.start <= 29 + 17
    assert "Paper A4" in found.describe()


def test_long_unit_loop_and_single_char_loop():
    para = "The quick brown fox jumps over the lazy dog near the river bank today.\n"
    assert feed_in_pieces(LoopGuard(), "Intro.\n" + para * 20)[0].unit == para
    assert feed_in_pieces(LoopGuard(), "x" + "0" * 1000)[0].unit == "0"


def test_short_legitimate_repeats_pass():
    text = "Chapter 1 " + "." * 60 + " 3\n| a | b |\n|---|---|\n" + "|  |  |\n" * 5 + "Total\n" * 3
    assert feed_in_pieces(LoopGuard(), text * 2)[0] is None


@pytest.mark.parametrize("item", [i for i in corpus_items() if i.get("gt_text") or i.get("gt_table")],
                         ids=lambda i: i["file"])
def test_no_false_alarm_on_ground_truth(item):
    text = (CORPUS / "files" / (item.get("gt_text") or item["gt_table"])).read_text(encoding="utf-8")
    assert feed_in_pieces(LoopGuard(), text)[0] is None


def test_retry_uses_a_stronger_penalty():
    assert retry_penalty(1.05) == pytest.approx(1.15)
    assert retry_penalty(1.25) == pytest.approx(1.3)  # capped
    r = Request(image=None, repetition_penalty=1.05)  # type: ignore[arg-type]
    assert retry_request(r).repetition_penalty == pytest.approx(1.15)
