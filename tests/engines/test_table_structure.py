"""SLANet-plus structure: token parsing, filling its cells with recognised words, and the
model itself on a table rendered here with known HTML (wrapped cells, spanning header)."""

from __future__ import annotations

import importlib.util
import io
from dataclasses import dataclass

import pytest
from PIL import Image

from desktop_ocr.engines import table_structure as ts
from desktop_ocr.engines.cpu_table import Box, Cell, fill_structure, grid_to_html, recognize_table


def _tokens(html_like: str) -> list[str]:
    """Split '<tr><td></td><td colspan="2">...' the way the model emits its tokens."""
    out, i = [], 0
    while i < len(html_like):
        for tok in ("<td></td>", "<td", ' colspan="2"', ' rowspan="2"', ">", "</td>", "<tr>",
                    "</tr>", "<thead>", "</thead>", "<tbody>", "</tbody>"):
            if html_like.startswith(tok, i):
                out.append(tok)
                i += len(tok)
                break
        else:
            raise AssertionError(html_like[i:])
    return out


def test_tokens_become_cells_with_spans_and_header_rows():
    # GIVEN a header of two rows ("Gene" down both, "P value" across two columns)
    toks = _tokens('<thead><tr><td rowspan="2"></td><td colspan="2"></td></tr>'
                   "<tr><td></td><td></td></tr></thead><tbody><tr><td></td><td></td><td></td>"
                   "</tr></tbody>")
    boxes = [[k * 10, 0, k * 10 + 5, 0, k * 10 + 5, 5, k * 10, 5] for k in range(8)]
    s = ts.parse_tokens(toks, boxes)
    # THEN the cells sit on a 3 x 3 grid, spans kept, two header rows
    assert [(c.row, c.col, c.rowspan, c.colspan) for c in s.cells] == [
        (0, 0, 2, 1), (0, 1, 1, 2), (1, 1, 1, 1), (1, 2, 1, 1), (2, 0, 1, 1), (2, 1, 1, 1),
        (2, 2, 1, 1)]
    assert (s.n_rows, s.n_cols, s.header_rows) == (3, 3, 2)
    assert s.cells[1].bbox == (10.0, 0.0, 15.0, 5.0)


@dataclass
class _S:
    row: int
    col: int
    rowspan: int
    colspan: int
    bbox: tuple[float, float, float, float]
    header: bool = False


def _structure(cells, n_rows, n_cols, complete=True):
    return ts.Structure(cells=cells, n_rows=n_rows, n_cols=n_cols, complete=complete)


def _line(text, x0, y0, x1, h=10.0):
    """A recognised line with its words placed by character share (as ocr_boxes does)."""
    words, pos = [], 0
    for w in text.split(" "):
        a = x0 + (x1 - x0) * pos / len(text)
        b = x0 + (x1 - x0) * (pos + len(w)) / len(text)
        words.append(Box(w, a, y0, b, y0 + h))
        pos += len(w) + 1
    return Box(text, x0, y0, x1, y0 + h, 1.0, tuple(words))


def test_wrapped_cell_stays_one_cell_even_where_the_model_box_is_short():
    # GIVEN two rows; the model's box for the wrapped cell covers only its first line
    cells = [_S(0, 0, 1, 1, (0, 0, 40, 10)), _S(0, 1, 1, 1, (60, 0, 100, 10)),
             _S(1, 0, 1, 1, (0, 40, 40, 50)), _S(1, 1, 1, 1, (60, 40, 100, 50))]
    lines = [_line("Cardio", 0, 0, 40), _line("pulmonary function", 0, 12, 45),
             _line("12.5", 60, 0, 90), _line("Hand", 0, 40, 30), _line("7.0", 60, 40, 85)]
    got = fill_structure(_structure(cells, 2, 2), lines)
    # THEN the second line joins the first row's cell, not the row below
    assert [(c.row, c.col, c.text) for c in got] == [
        (0, 0, "Cardio pulmonary function"), (0, 1, "12.5"), (1, 0, "Hand"), (1, 1, "7.0")]


def test_a_line_run_across_two_cells_is_shared_out_by_its_words():
    cells = [_S(0, 0, 1, 1, (0, 0, 40, 10)), _S(0, 1, 1, 1, (50, 0, 90, 10)),
             _S(1, 0, 1, 1, (0, 20, 40, 30)), _S(1, 1, 1, 1, (50, 20, 90, 30))]
    lines = [_line("63 (10.1) Standard", 0, 0, 90), _line("a", 0, 20, 10), _line("b", 50, 20, 60)]
    got = {(c.row, c.col): c.text for c in fill_structure(_structure(cells, 2, 2), lines)}
    assert got[(0, 0)] == "63 (10.1)" and got[(0, 1)] == "Standard"


def test_boxes_drifting_down_a_long_table_are_refitted():
    # GIVEN 12 rows whose model boxes fall 3 % short of where the text really is
    n = 12
    cells, lines = [], []
    for r in range(n):
        y = 20.0 * r
        cells += [_S(r, 0, 1, 1, (0, 0.97 * y, 30, 0.97 * y + 10)),
                  _S(r, 1, 1, 1, (50, 0.97 * y, 80, 0.97 * y + 10))]
        lines += [_line(f"r{r}", 0, y, 20), _line(f"{r}.5", 50, y, 75)]
    got = {(c.row, c.col): c.text for c in fill_structure(_structure(cells, n, 2), lines)}
    assert all(got[(r, 0)] == f"r{r}" and got[(r, 1)] == f"{r}.5" for r in range(n))


def test_rows_where_nothing_starts_are_dropped_and_spans_shrink():
    # GIVEN the model wrote a blank band under a header as a row of its own
    cells = [_S(0, 0, 3, 1, (0, 0, 30, 10)), _S(0, 1, 1, 1, (50, 0, 80, 10)),
             _S(1, 1, 1, 1, (50, 14, 80, 16)), _S(2, 1, 1, 1, (50, 20, 80, 30)),
             _S(3, 0, 1, 1, (0, 40, 30, 50)), _S(3, 1, 1, 1, (50, 40, 80, 50))]
    lines = [_line("Group", 0, 0, 30), _line("P value", 50, 0, 80), _line("+PMN", 50, 20, 80),
             _line("a", 0, 40, 10), _line("0.1", 50, 40, 70)]
    got = fill_structure(_structure(cells, 4, 2), lines)
    assert [(c.row, c.col, c.text, c.rowspan) for c in got] == [
        (0, 0, "Group", 2), (0, 1, "P value", 1), (1, 1, "+PMN", 1), (2, 0, "a", 1),
        (2, 1, "0.1", 1)]


def test_two_number_columns_the_model_wrote_as_one_are_split_at_their_gutter():
    # GIVEN the model saw "+ PMN" and "- PMN" as one column under a header over both
    cells = [_S(0, 0, 1, 1, (0, 0, 60, 10)), _S(0, 1, 1, 1, (80, 0, 160, 10))]
    lines = [_line("Pathway", 0, 0, 50), _line("P value", 80, 0, 120)]
    for r, (a, b) in enumerate([("0.0012", "0.53"), ("0.0154", "0.0024"), ("0.0045", "0.0273"),
                                ("0.0101", "0.0020")], start=1):
        y = 20.0 * r
        cells += [_S(r, 0, 1, 1, (0, y, 60, y + 10)), _S(r, 1, 1, 1, (80, y, 160, y + 10))]
        lines += [_line(f"row {r}", 0, y, 40), _line(a, 80, y, 110), _line(b, 130, y, 160)]
    got = {(c.row, c.col): (c.text, c.colspan)
           for c in fill_structure(_structure(cells, 5, 2), lines)}
    # THEN each number has a column of its own
    assert got[(1, 1)] == ("0.0012", 1) and got[(1, 2)] == ("0.53", 1)
    assert got[(4, 2)] == ("0.0020", 1)
    # AND wrapped words of one text column are not taken for a gutter
    assert got[(0, 0)] == ("Pathway", 1)


def test_a_row_the_model_missed_is_put_back_where_every_column_starts_a_line():
    # GIVEN three rows of text but a model that wrote two, a label down both of them
    cells = [_S(0, 0, 2, 1, (0, 0, 30, 10)), _S(0, 1, 1, 1, (50, 0, 80, 10)),
             _S(0, 2, 1, 1, (100, 0, 130, 10)),
             _S(1, 1, 1, 1, (50, 30, 80, 40)), _S(1, 2, 1, 1, (100, 30, 130, 40))]
    lines = [_line("group", 0, 0, 30), _line("b", 50, 0, 60), _line("c", 100, 0, 110),
             _line("e", 50, 30, 60), _line("f", 100, 30, 110),
             _line("h", 50, 60, 60), _line("i", 100, 60, 110)]
    got = fill_structure(_structure(cells, 2, 3), lines)
    at = {(c.row, c.col): (c.text, c.rowspan) for c in got}
    # THEN the third row is there, and the label spans it too
    assert at[(2, 1)] == ("h", 1) and at[(2, 2)] == ("i", 1)
    assert at[(1, 1)] == ("e", 1) and at[(0, 0)] == ("group", 3)


def test_header_cells_the_model_joined_are_parted_by_their_columns():
    # GIVEN a model header cell over two columns holding two labels far apart, each over
    # its own column, and a real spanning header (one group of words) beside them
    cells = [_S(0, 0, 1, 2, (0, 0, 130, 10)), _S(0, 2, 1, 2, (150, 0, 260, 10))]
    lines = [_line("Insulin surgery", 0, 0, 60), _line("Primary", 90, 0, 130),
             _line("P value", 180, 0, 230)]
    for r in range(1, 4):
        y = 20.0 * r
        cells += [_S(r, k, 1, 1, (70 * k, y, 70 * k + 50, y + 10)) for k in range(4)]
        lines += [_line(f"{r}{k}", 90 * k if k < 2 else 150 + 70 * (k - 2), y,
                        (90 * k if k < 2 else 150 + 70 * (k - 2)) + 30) for k in range(4)]
    got = {(c.row, c.col): (c.text, c.colspan)
           for c in fill_structure(_structure(cells, 4, 4), lines)}
    assert got[(0, 0)] == ("Insulin surgery", 1) and got[(0, 1)] == ("Primary", 1)
    assert got[(0, 2)] == ("P value", 2)


def _body(n_rows, xs, y0=40.0):
    """Model cells and lines for n_rows one-line body rows, one column per x."""
    cells, lines = [], []
    for r in range(1, n_rows + 1):
        y = y0 + 20.0 * (r - 1)
        for k, x in enumerate(xs):
            cells.append(_S(r, k, 1, 1, (x, y, x + 30, y + 10)))
            lines.append(_line(f"{k}.{r}" if k else f"g{r}", x, y, x + 20))
    return cells, lines


def test_labels_under_a_group_header_the_model_put_in_its_row_get_a_row_of_their_own():
    # GIVEN a header over two columns and, under it, a label over each of them, which
    # the model wrote as one header row (one cell over both columns holding all three)
    cells = [_S(0, 0, 1, 1, (0, 0, 40, 20)), _S(0, 1, 1, 2, (50, 0, 170, 20))]
    lines = [_line("Gene", 0, 0, 40), _line("Group of patients", 50, 0, 150),
             _line("Case", 50, 12, 80), _line("Control", 120, 12, 142)]
    body_cells, body_lines = _body(3, (0, 50, 120))
    got = fill_structure(_structure(cells + body_cells, 4, 3), lines + body_lines)
    at = {(c.row, c.col): (c.text, c.rowspan, c.colspan) for c in got}
    # THEN the labels form the second header row, under the group, and the body follows
    assert at[(0, 0)] == ("Gene", 2, 1) and at[(0, 1)] == ("Group of patients", 1, 2)
    assert at[(1, 1)] == ("Case", 1, 1) and at[(1, 2)] == ("Control", 1, 1)
    assert at[(2, 0)] == ("g1", 1, 1) and at[(4, 2)] == ("2.3", 1, 1)


def test_a_sub_label_is_told_from_a_wrapped_header_by_whether_its_word_fitted_above():
    # GIVEN two headers over two columns each, both on two lines: "Group" over
    # "Variable standard" (which would have fitted after "Group": two texts) and
    # "Odds ratio (95%" over "CI)" (which did not fit: one wrapped text)
    cells = [_S(0, 0, 1, 1, (0, 0, 40, 20)), _S(0, 1, 1, 2, (50, 0, 170, 20)),
             _S(0, 3, 1, 2, (190, 0, 310, 20))]
    lines = [_line("Gene", 0, 0, 40), _line("Group", 50, 0, 75),
             _line("Variable standard", 50, 12, 135), _line("Odds ratio (95%", 190, 0, 270),
             _line("CI)", 190, 12, 205)]
    body_cells, body_lines = _body(3, (0, 50, 120, 190, 260))
    got = fill_structure(_structure(cells + body_cells, 4, 5), lines + body_lines)
    at = {(c.row, c.col): c.text for c in got}
    assert at[(0, 1)] == "Group" and at[(1, 1)] == "Variable standard"
    assert at[(0, 3)] == "Odds ratio (95% CI)" and at[(2, 0)] == "g1"


def test_a_row_of_wrapped_second_lines_joins_the_row_above():
    # GIVEN labels wrapped onto two lines (no blank between them, 10 px between rows)
    # and a model that made the second lines of row 1 a row of their own
    cells, lines = [], []
    y = 0.0
    for r in range(4):
        cells += [_S(r, 0, 1, 1, (0, y, 60, y + 20)), _S(r, 1, 1, 1, (80, y, 110, y + 10))]
        lines += [_line("Alpha beta", 0, y, 60), _line("gamma", 0, y + 10, 35),
                  _line(f"{r}.5", 80, y, 100)]
        y += 30.0
    cells = [c for c in cells if c.row < 2] + [
        _S(2, 0, 1, 1, (0, 40, 60, 50)), _S(2, 1, 1, 1, (80, 40, 110, 50))] + [
        _S(c.row + 1, c.col, 1, 1, c.bbox) for c in cells if c.row >= 2]
    got = fill_structure(_structure(cells, 5, 2), lines)
    # THEN every row is one label and its number
    assert [(c.row, c.col, c.text) for c in got if c.text] == [
        (r, k, "Alpha beta gamma" if k == 0 else f"{r}.5") for r in range(4) for k in (0, 1)]


def test_wrapped_chinese_lines_join_without_a_space():
    from desktop_ocr.engines.cpu_table import _join

    assert _join([Box("分期主", 0, 0, 30, 10), Box("要", 0, 12, 10, 22)]) == "分期主要"
    assert _join([Box("Mean", 0, 0, 30, 10), Box("line", 0, 12, 20, 22)]) == "Mean line"


def test_row_starts_follow_line_tops_in_order():
    from desktop_ocr.engines.cpu_table import _align_starts

    # model tops drift; line tops at 0, 20, 40 (three boxes each) and a lone wrapped line at 52
    tops = [(0.0, 3), (20.0, 3), (40.0, 3), (52.0, 1), (70.0, 3)]
    got = _align_starts([(0, 2.0), (1, 24.0), (2, 47.0), (3, 66.0)], tops, h=10.0)
    assert got == [(0, 0.0), (1, 20.0), (2, 40.0), (3, 70.0)]


def test_an_unfinished_structure_is_not_trusted():
    cells = [_S(0, 0, 1, 1, (0, 0, 30, 10))]
    assert fill_structure(_structure(cells, 1, 1, complete=False), [_line("a", 0, 0, 10)]) is None


def test_header_rows_go_in_a_thead():
    html = grid_to_html([Cell(0, 0, "Gene"), Cell(1, 0, "GAPDH")], header_rows=1)
    assert html == ("<table><thead><tr><td>Gene</td></tr></thead>"
                    "<tbody><tr><td>GAPDH</td></tr></tbody></table>")


def test_model_file_comes_from_the_installed_wheel_or_the_environment(monkeypatch, tmp_path):
    path = ts.model_path()
    assert path is not None and path.name == "slanet-plus.onnx" and path.stat().st_size > 1e6
    monkeypatch.setenv(ts.ENV_MODEL, "off")
    assert ts.model_path() is None
    monkeypatch.setenv(ts.ENV_MODEL, str(tmp_path / "missing.onnx"))
    assert ts.model_path() is None


def _render(html: str, width: float = 420) -> Image.Image:
    import pymupdf

    css = "* {font-family: sans-serif; font-size: 9pt} td {padding: 2px 5px; vertical-align: top}"
    story = pymupdf.Story(html, user_css=css)
    buf = io.BytesIO()
    writer = pymupdf.DocumentWriter(buf)
    dev = writer.begin_page(pymupdf.Rect(0, 0, width + 20, 400))
    story.place(pymupdf.Rect(10, 10, width + 10, 390))
    story.draw(dev)
    writer.end_page()
    writer.close()
    page = pymupdf.open("pdf", buf.getvalue())[0]
    area = pymupdf.Rect()
    for w in page.get_text("words"):
        area |= pymupdf.Rect(w[:4])
    for d in page.get_drawings():
        area |= d["rect"]
    pix = page.get_pixmap(dpi=150, clip=area + (-6, -6, 6, 6))
    return Image.frombytes("RGB", (pix.width, pix.height), pix.samples)


@pytest.mark.slow
def test_model_keeps_wrapped_cells_and_spanning_headers(corpus):
    # GIVEN a rendered table: "P value" over two columns, labels down both header rows,
    # and a body cell long enough to wrap onto two lines
    b = "border: 1px solid #000"
    gt = ('<table><tr><td rowspan="2">Pathway</td><td colspan="2">P value</td>'
          '<td rowspan="2">Genes in pathway</td></tr>'
          "<tr><td>+ PMN</td><td>- PMN</td></tr>"
          "<tr><td>Role of APC in cell cycle regulation</td><td>1.04E-09</td>"
          "<td>8.15E-08</td><td>15</td></tr>"
          "<tr><td>Initiation of mitosis</td><td>1.54E-03</td><td>2.48E-03</td><td>7</td></tr>"
          "<tr><td>Alternative complement pathway</td><td>4.54E-07</td><td>2.74E-02</td>"
          "<td>12</td></tr></table>")
    image = _render(gt.replace("<table>", '<table style="border-collapse: collapse">')
                    .replace("<td", f'<td style="{b}"'), width=330)
    # WHEN the table task reads it
    html = recognize_table(image)
    # THEN the grid is the one written, wrapped cells whole, the header merged
    spec = importlib.util.spec_from_file_location("corpus_cer", corpus.parent / "cer.py")
    cer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cer)
    scores = cer.table_scores(html, gt)
    assert scores["shape_match"], (scores, html)
    assert scores["teds_struct"] == 1.0, html
    assert scores["cell_f1"] >= 0.85, (scores, html)
    # AND a spreadsheet export finds both header rows (a <thead>, or a text row over numbers)
    from desktop_ocr.core.tables import header_rows_of, parse_tables

    assert header_rows_of(parse_tables(html)[0]) == 2
