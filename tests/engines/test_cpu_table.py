"""CPU table grid: geometry on synthetic boxes, rule finding on drawn images, and
cell F1 on a few corpus tables as the corpus's own scorer (cer.py) measures it."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest
from PIL import Image, ImageDraw

from desktop_ocr.engines.cpu_table import (
    Box,
    Cell,
    Rules,
    build_grid,
    find_rules,
    grid_to_html,
    recognize_table,
)


@dataclass
class TextBox:  # the shape engines.cpu hands over: any object with these attributes will do
    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    score: float = 1.0


def _at(cells: list[Cell]) -> dict[tuple[int, int], tuple[str, int, int]]:
    return {(c.row, c.col): (c.text, c.rowspan, c.colspan) for c in cells}


def _row(y: float, *cols: tuple[float, float, str], h: float = 10) -> list[TextBox]:
    return [TextBox(t, x0, y, x1, y + h) for x0, x1, t in cols]


def test_rows_and_columns_from_aligned_boxes():
    boxes = (_row(0, (0, 40, "Name"), (60, 90, "Qty"), (110, 150, "Price"))
             + _row(14, (0, 30, "Apple"), (70, 80, "3"), (120, 150, "1.20"))
             + _row(28, (0, 35, "Pear"), (65, 80, "12"), (115, 150, "0.80")))
    at = _at(build_grid(boxes))
    assert at == {
        (0, 0): ("Name", 1, 1), (0, 1): ("Qty", 1, 1), (0, 2): ("Price", 1, 1),
        (1, 0): ("Apple", 1, 1), (1, 1): ("3", 1, 1), (1, 2): ("1.20", 1, 1),
        (2, 0): ("Pear", 1, 1), (2, 1): ("12", 1, 1), (2, 2): ("0.80", 1, 1),
    }


def test_empty_cells_keep_their_column():
    boxes = (_row(0, (0, 40, "a"), (60, 90, "b"), (110, 150, "c"))
             + _row(14, (0, 30, "d"), (110, 150, "f"))
             + _row(28, (60, 90, "h"), (110, 150, "i")))
    at = _at(build_grid(boxes))
    assert at[(1, 2)][0] == "f" and (1, 1) not in at
    assert at[(2, 1)][0] == "h" and (2, 0) not in at


def test_header_over_two_columns_gets_colspan_at_its_left_column():
    boxes = (_row(0, (0, 40, "Item"), (70, 130, "P value"))
             + _row(14, (60, 90, "+ PMN"), (110, 140, "- PMN"))
             + [b for y in (28, 42, 56) for b in _row(y, (0, 40, "row"), (60, 90, "0.1"), (110, 140, "0.2"))])
    at = _at(build_grid(boxes))
    assert at[(0, 1)] == ("P value", 1, 2)
    assert at[(1, 1)] == ("+ PMN", 1, 1) and at[(1, 2)] == ("- PMN", 1, 1)


def test_wrapped_cell_joins_the_row_of_its_centred_neighbours():
    # "Cardiopulmonary / function improvement" over two lines, the other cells
    # vertically centred on the pair: one row, the text joined in reading order
    boxes = [TextBox("1", 0, 9, 8, 19), TextBox("Cardiopulmonary", 30, 0, 110, 14),
             TextBox("function improvement", 25, 14, 115, 28), TextBox("Swimming", 140, 7, 190, 21)]
    boxes += _row(40, (0, 8, "2"), (30, 110, "Hand"), (140, 190, "Yoga"), h=14)
    at = _at(build_grid(boxes))
    assert at[(0, 1)][0] == "Cardiopulmonary function improvement"
    assert at[(0, 2)][0] == "Swimming" and at[(1, 2)][0] == "Yoga"


def test_two_boxes_in_one_cell_are_joined_left_to_right():
    boxes = (_row(0, (0, 40, "Type"), (80, 120, "Total"))
             + _row(14, (0, 20, "Patient"), (24, 40, "delay"), (80, 100, "55"))
             + _row(28, (0, 40, "Other"), (80, 100, "7")))
    at = _at(build_grid(boxes))
    assert at[(1, 0)][0] == "Patient delay" and at[(1, 1)][0] == "55"


def test_ruled_table_uses_rule_bands_and_rule_columns():
    # fully ruled: a title across all columns, a two-line cell whose lines do not overlap
    boxes = [TextBox("Exercise plan", 80, 4, 140, 14)]
    boxes += _row(24, (5, 15, "No"), (40, 90, "Goal"), (130, 180, "Type"))
    boxes += [TextBox("1", 5, 50, 15, 60), TextBox("Upper limb", 40, 44, 90, 54),
              TextBox("improvement", 35, 56, 95, 66), TextBox("Squat", 130, 50, 170, 60)]
    boxes += _row(78, (5, 15, "2"), (40, 90, "Lower"), (130, 170, "Yoga"))
    rules = Rules(h=(0.0, 19.0, 39.0, 71.0, 93.0),
                  v=((25.0, 19.0, 93.0), (110.0, 19.0, 93.0)))
    at = _at(build_grid(boxes, rules=rules))
    assert at[(0, 0)] == ("Exercise plan", 1, 3)
    assert at[(2, 1)] == ("Upper limb improvement", 1, 1)
    assert at[(2, 0)][0] == "1" and at[(2, 2)][0] == "Squat"
    assert at[(3, 2)][0] == "Yoga"


def test_find_rules_sees_drawn_lines_but_not_text_or_shading():
    img = Image.new("RGB", (300, 200), "white")
    d = ImageDraw.Draw(img)
    d.rectangle([0, 0, 299, 25], fill=(90, 90, 90))  # a shaded header band
    for y in (60, 100, 140):
        d.line([(5, y), (295, y)], fill="black", width=1)
    d.line([(150, 30), (150, 190)], fill="black", width=1)
    d.text((20, 70), "lllll IIII", fill="black")
    rules = find_rules(img, [Box("lllll IIII", 18, 68, 80, 82)])
    assert [round(y) for y in rules.h] == [60, 100, 140]
    assert [round(x) for x, _, _ in rules.v] == [150]


def test_html_has_spans_and_empty_cells_and_escapes_text():
    cells = [Cell(0, 0, "Exercise plan", 1, 2), Cell(1, 0, "a<b & c", 2, 1), Cell(1, 1, "x"),
             Cell(3, 1, "z")]
    html = grid_to_html(cells)
    assert html == ('<table><tr><td colspan="2">Exercise plan</td></tr>'
                    '<tr><td rowspan="2">a&lt;b &amp; c</td><td>x</td></tr>'
                    "<tr><td></td></tr><tr><td></td><td>z</td></tr></table>")

    class Count(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.rows = 0

        def handle_starttag(self, tag, attrs):
            self.rows += tag == "tr"

    p = Count()
    p.feed(html)
    assert p.rows == 4


def test_no_boxes_is_an_empty_table():
    assert build_grid([]) == []
    assert grid_to_html([]) == "<table></table>"


# ---------------------------------------------------------------- corpus


def _cer(corpus):
    spec = importlib.util.spec_from_file_location("corpus_cer", corpus.parent / "cer.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow
@pytest.mark.parametrize(("stem", "min_f1"), [
    # tiny type, lone digits: the OCR crops matter here (measured 0.99)
    ("table-pubtabnet-PMC3826085_003_00", 0.95),
    # fully ruled, title rows across all columns, wrapped cells (measured 0.84)
    ("table-pubtabnet-PMC4003957_018_00", 0.80),
    # two header rows with spanning headers (measured 1.00)
    ("table-pubtabnet-PMC4517499_004_00", 0.95),
])
def test_corpus_table_cell_f1(corpus, stem, min_f1):
    image = Image.open(corpus / f"{stem}.png").convert("RGB")
    html = recognize_table(image)
    scores = _cer(corpus).table_scores(html, (corpus / f"{stem}.gt.html").read_text(encoding="utf-8"))
    assert scores["cell_f1"] >= min_f1, scores
    assert scores["shape_match"], scores


def test_flat_images_are_padded_for_the_detector_not_blown_up():
    import numpy as np

    from desktop_ocr.engines.cpu_table import _pad_for_det

    flat = np.full((45, 503, 3), 250, dtype=np.uint8)
    flat[10:20, 10:60] = 0
    padded = _pad_for_det(flat, 736)
    # the detector scales the short side to 736: the long side must stay near 1600
    assert padded.shape[1] == 503 and padded.shape[0] * 1600 >= 503 * 736
    assert 503 * 736 / padded.shape[0] <= 1600
    assert (padded[:45] == flat).all() and (padded[45:] == 250).all()
    square = np.zeros((400, 420, 3), dtype=np.uint8)
    assert _pad_for_det(square, 736) is square
