"""Doubtful words: the VLM's text against the CPU engine's reading of the same image."""

from __future__ import annotations

import pytest
from corpus_data import CORPUS, corpus_items
from doubt_data import inject, scores

from desktop_ocr.core.doubt import Doubt, find_doubts, mask_markup
from desktop_ocr.core.layout import Layout


def _layout(*lines: tuple[str, float]) -> Layout:
    return Layout.of((800, 60 * len(lines)),
                     [(t, (0, 60 * k, 700, 60 * k + 40), s) for k, (t, s) in enumerate(lines)])


def test_a_misread_word_is_marked_with_both_readings():
    # GIVEN the CPU's confident reading and a VLM text with one wrong digit
    cpu = _layout(("Total 59.00 EUR", 0.99), ("Thank you", 0.98))
    text = "Total 58.00 EUR\nThank you"
    # WHEN the two are compared
    doubts = find_doubts(text, cpu)
    # THEN exactly that word is doubtful, with its span and the CPU's reading
    assert doubts == [Doubt(6, 11, "58.00", "59.00")]
    assert text[doubts[0].start:doubts[0].end] == "58.00"


def test_case_spacing_punctuation_and_order_are_no_doubt():
    cpu = _layout(("INVOICE NO.2024-0042", 0.99), ("YONGFATTENTERPRISE", 0.99), ("Name Ada", 0.99))
    text = "Name: Ada\nInvoice No. 2024-0042\nYONGFATT ENTERPRISE"
    assert find_doubts(text, cpu) == []


def test_a_dropped_or_added_letter_is_marked():
    cpu = _layout(("RECEIPT AMOUNT", 0.99))
    assert [d.vlm for d in find_doubts("RECIPT AMOUNT", cpu)] == ["RECIPT"]
    assert [d.vlm for d in find_doubts("RECEIPT AMOUNTS", cpu)] == ["AMOUNTS"]


def test_an_unsure_cpu_box_contradicts_nothing():
    assert find_doubts("Total 58.00", _layout(("Total 59.00", 0.6))) == []
    assert find_doubts("Total 58.00", _layout(("Total 59.00", 0.6)), min_score=0.5)


def test_words_the_cpu_did_not_see_are_not_doubtful():
    # the CPU missed a whole line: nothing to disagree with
    assert find_doubts("Total 59.00\nSigned: Ada Lovelace", _layout(("Total 59.00", 0.99))) == []


def test_each_chinese_character_is_its_own_word():
    doubts = find_doubts("发票总金额已付清", _layout(("发票总全额已付清", 0.99)))
    assert [(d.vlm, d.cpu) for d in doubts] == [("金", "全")]


def test_html_markup_is_not_compared_and_offsets_stay():
    text = "<table><tr><td>Paper</td><td>8.50</td></tr></table>"
    doubts = find_doubts(text, _layout(("Paper", 0.99), ("8.60", 0.99)))
    assert [(text[d.start:d.end], d.cpu) for d in doubts] == [("8.50", "8.60")]
    assert mask_markup("a<b>c</b>&amp;") == "a   c" + " " * 9


def test_plain_text_cpu_reading_works_too():
    assert [d.vlm for d in find_doubts("Total 58.00", "Total 59.00")] == ["58.00"]


# ---------------------------------------------------------------- corpus, real CPU engine

# Every third receipt, the Chinese pages and every third table: three kinds, none picked
# by hand. zh-pdfpage-3854 is left out: its page image shows the PDF's broken font
# (garbage glyphs) while its ground truth is the text layer's Chinese, so no reader of the
# image could agree with it.
PAGES = ([it["file"] for it in corpus_items("text-image") if it["file"].startswith("receipt")][::3]
         + ["zh-pdfpage-4546.png", "zh-pdfpage-chinese-tables.png"]
         + [it["file"] for it in corpus_items("table-image")][::3])
SEEDS = (1, 2, 3)


@pytest.fixture(scope="module")
def cpu_readings():
    """The real CPU engine's reading (its layout) of each page, once per module."""
    from PIL import Image

    from desktop_ocr.engines.cpu import recognize_layout

    out = {}
    for name in PAGES:
        with Image.open(CORPUS / "files" / name) as img:
            out[name] = recognize_layout(img.convert("RGB"))
    return out


def _truth(name: str) -> str:
    item = next(it for it in corpus_items() if it["file"] == name)
    return (CORPUS / "files" / (item["gt_text"] or item["gt_table"])).read_text(encoding="utf-8")


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["receipt", "zh", "table"])
def test_injected_errors_are_marked_and_correct_words_are_not(cpu_readings, kind):
    # GIVEN pages of one kind, their ground truth with errors injected (fixed seeds) as
    # the "VLM text", and the real CPU engine's reading of each page image
    totals = [0, 0, 0, 0]
    for name in PAGES:
        if not name.startswith(kind if kind != "table" else "table-"):
            continue
        truth = _truth(name)
        for seed in SEEDS:
            text, spans = inject(truth, seed)
            # WHEN the doubtful words are found
            marked = [(d.start, d.end) for d in find_doubts(text, cpu_readings[name])]
            totals = [t + s for t, s in zip(totals, scores(marked, spans), strict=True)]
    injected, caught, correct, accused = totals
    # THEN at least 80 % of the injected errors are marked, at most 10 % of correct words
    assert injected > 30 and correct > 300
    assert caught / injected >= 0.8, totals
    assert accused / correct <= 0.10, totals
