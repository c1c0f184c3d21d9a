"""Table parsing: one-shot vs streaming, HTML spans, Markdown, malformed input, typing."""

from __future__ import annotations

import copy
import datetime as dt
import importlib.util
import random

import pytest
from corpus_data import CORPUS, corpus_items

from desktop_ocr.core.tables import (
    Cell,
    CellRange,
    RowAdded,
    StreamParser,
    Table,
    TableFinished,
    TableStarted,
    TextSegment,
    header_rows_of,
    infer_column_hints,
    parse,
    parse_tables,
    parse_value,
    typed_grid,
)


@pytest.fixture(scope="session")
def cer():
    """The corpus's own scorer: an HTML table reader written independently of ours."""
    spec = importlib.util.spec_from_file_location("corpus_cer", CORPUS / "cer.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def stream(text: str, seed: int, max_chunk: int = 9):
    rng = random.Random(seed)
    p = StreamParser()
    events, i = [], 0
    while i < len(text):
        n = rng.randint(1, max_chunk)
        events += p.feed(text[i:i + n])
        i += n
    events += p.close()
    return p.document, events


MIXED = """Here is what I found:
```html
<table border="1"><caption>Q1 &amp; Q2</caption><thead><tr><th>Item</th><th colspan="2">Price</th></tr></thead>
<tbody><tr><td rowspan=2>Apple<br/>red</td><td>1,234.50</td><td>$3</td></tr>
<tr><td>&lt;4&gt;</td><td>5 &#8364;</td></tr></tbody></table>
```

Second table:

| Name | Qty |
|:-----|----:|
| a \\| b | **7** |
| c<br>d | 8 |

And <table><tr><td>x<td>y<tr><td>z</table> inline, then the end."""


def test_mixed_answer_segments_in_order():
    doc = parse(MIXED)
    kinds = [type(s).__name__ for s in doc.segments]
    assert kinds == ["TextSegment", "Table", "TextSegment", "Table", "TextSegment", "Table",
                     "TextSegment"]
    t1, t2, t3 = doc.tables
    assert t1.caption == "Q1 & Q2"
    assert t1.header_rows == 1
    assert t1.to_grid() == [["Item", "Price", ""], ["Apple\nred", "1,234.50", "$3"],
                            ["", "<4>", "5 €"]]
    assert t1.merged_ranges() == [CellRange(0, 1, 1, 2), CellRange(1, 0, 2, 1)]
    assert t2.source == "markdown" and t2.header_rows == 1
    assert t2.to_grid() == [["Name", "Qty"], ["a | b", "7"], ["c\nd", "8"]]
    assert t3.to_grid() == [["x", "y"], ["z", ""]]
    # the code fence wrapping the first table is dropped, the other text kept verbatim
    assert doc.segments[0].text == "Here is what I found:\n"
    assert doc.segments[2].text == "\nSecond table:\n\n"
    assert doc.segments[4].text == "\nAnd "
    assert doc.segments[6].text == " inline, then the end."


@pytest.mark.parametrize("seed", range(40))
def test_streaming_equals_one_shot(seed):
    whole = parse(MIXED)
    doc, events = stream(MIXED, seed)
    assert doc == whole
    rows = [e for e in events if isinstance(e, RowAdded)]
    assert len(rows) == sum(t.n_rows for t in whole.tables)
    assert [e.index for e in events if isinstance(e, TableStarted)] == [0, 1, 2]
    finished = [e.table for e in events if isinstance(e, TableFinished)]
    assert finished == whole.tables


def test_rows_arrive_as_soon_as_they_close():
    p = StreamParser()
    assert p.feed("<table><tr><td>a</td><td>b</td></t") == [TableStarted(0, "html")]
    ev = p.feed("r><tr><td>c")
    assert [type(e) for e in ev] == [RowAdded]
    assert ev[0].cells == (Cell("a"), Cell("b")) and ev[0].row_index == 0
    ev = p.feed("</td></tr>")
    assert [e.cells[0].text for e in ev if isinstance(e, RowAdded)] == ["c"]
    p2 = StreamParser()
    p2.feed("| a | b |\n|---|---|\n| 1 | 2")
    ev = p2.feed(" |\n")
    assert [e.cells for e in ev if isinstance(e, RowAdded)] == [(Cell("1"), Cell("2"))]


def test_row_event_columns_follow_spans():
    _, events = stream("<table><tr><td rowspan=2>a</td><td>b</td><td>c</td></tr>"
                       "<tr><td colspan=2>d</td></tr><tr><td>e</td><td>f</td><td>g</td></tr></table>", 0)
    cols = [e.cols for e in events if isinstance(e, RowAdded)]
    assert cols == [(0, 1, 2), (1,), (0, 1, 2)]


@pytest.mark.parametrize("item", corpus_items("table-image"), ids=lambda it: it["file"])
def test_corpus_tables_parse_like_the_reference_reader(item, cer, corpus):
    src = (corpus / item["gt_table"]).read_text(encoding="utf-8")
    (table,) = parse_tables(src)
    ref_rows = cer.parse_rows(src)
    ref_grid, shape = cer.grid(ref_rows)
    assert (table.n_rows, table.n_cols) == shape
    grid = table.to_grid()
    for (r, c), text in ref_grid.items():
        assert cer.norm(grid[r][c]) == text
    spans = [(rs, cs) for row in ref_rows for _t, rs, cs in row if rs > 1 or cs > 1]
    assert [(m.rowspan, m.colspan) for m in table.merged_ranges()] == spans
    for seed in range(3):
        assert stream(src, seed, max_chunk=40)[0].tables == [table]


def test_random_tables_stream_in_any_chunking():
    rng = random.Random(7)
    words = ["a", "b&amp;c", "1,234.5", " x ", "<b>bold</b>", "&#x4e2d;", "é", "<br>", "|"]
    for _ in range(30):
        rows = []
        for _r in range(rng.randint(1, 6)):
            cells = "".join(
                f"<td{' rowspan=2' if rng.random() < 0.1 else ''}"
                f"{' colspan=2' if rng.random() < 0.1 else ''}>"
                + "".join(rng.choice(words) for _ in range(rng.randint(0, 3))) +
                ("</td>" if rng.random() < 0.8 else "")
                for _c in range(rng.randint(1, 5)))
            rows.append(f"<tr>{cells}" + ("</tr>" if rng.random() < 0.7 else "") + "\n")
        md = "| h1 | h2 |\n|---|---|\n" + "".join(f"| {rng.choice(words)} | {r} |\n" for r in range(3))
        text = "intro\n<table>" + "".join(rows) + "</table>\nmid\n" + md + "end"
        whole = parse(text)
        assert len(whole.tables) == 2
        for seed in range(5):
            assert stream(text, seed, max_chunk=rng.choice([1, 3, 20]))[0] == whole


@pytest.mark.parametrize("src, grid", [
    ("<table><tr><td>a<td>b<tr><td>c", [["a", "b"], ["c after", ""]]),  # nothing closed
    ("<TABLE><TR><TD>a</TD></TR></TABLE>", [["a"]]),
    ("<table><td>a</td><td>b</td></table>", [["a", "b"]]),  # no <tr>
    ("<table><tr><td colspan='x'>a</td><td rowspan=0>b</td></tr></table>", [["a", "b"]]),
    ("<table><tr><td>a < b & c</td></tr></table>", [["a < b & c"]]),
    ("<table><tr><td>a</td></tr></tr></td><tr><td>b</td></tr></table>", [["a"], ["b"]]),
    ("<table><tr><td>x<table><tr><td>in</td></tr></table>y</td><td>z</td></tr></table>",
     [["x\nin\ny", "z"]]),
    ("<table><tr><td>a</td><!-- </table> --><td>b</td></tr></table>", [["a", "b"]]),
    ("<table><tr><td colspan=99999999>a</td></tr></table>", None),
    ("<table><tr></tr><tr><td>only</td></tr></table>", [["only"]]),
])
def test_malformed_html_is_tolerated(src, grid):
    doc = parse(src + " after")
    (t,) = doc.tables
    if grid is None:
        assert t.n_cols == 1000  # colspan clamped, not a billion columns
    else:
        assert t.to_grid() == grid
    assert doc.segments[-1] == TextSegment(" after") or t.to_grid()[-1][0] == "c after"
    for seed in range(5):
        assert stream(src + " after", seed)[0] == doc


def test_overlapping_spans_are_cut_so_merges_never_overlap():
    t = parse_tables("<table><tr><td>a</td><td rowspan=3>b</td></tr>"
                     "<tr><td colspan=3>c</td></tr><tr><td rowspan=5>d</td></tr></table>")[0]
    merged = t.merged_ranges()
    slots = [(r, c) for m in merged for r in range(m.row, m.last_row + 1)
             for c in range(m.col, m.last_col + 1)]
    assert len(slots) == len(set(slots))
    assert CellRange(0, 1, 3, 1) in merged
    assert all(m.last_row < t.n_rows for m in merged)  # rowspan=5 clamped to the table
    # what the streaming builder fixed row by row is what a full normalise gives
    assert copy.deepcopy(t).normalize() == t


def test_unclosed_table_at_end_of_stream_keeps_the_partial_row():
    doc, events = stream("<table><tr><td>1</td><td>2</td></tr><tr><td>3</td><td>4", 3)
    assert doc.tables[0].to_grid() == [["1", "2"], ["3", "4"]]
    assert isinstance(events[-1], TableFinished)


def test_markdown_variants():
    assert parse_tables("a | b\n--- | ---\n1 | 2\n")[0].to_grid() == [["a", "b"], ["1", "2"]]
    # bordered rows without a delimiter line are still a table, without a header
    t = parse_tables("| a | b |\n| 1 | 2 |\n")[0]
    assert t.to_grid() == [["a", "b"], ["1", "2"]] and t.header_rows == 0
    # a lone line with a pipe is just text
    doc = parse("cat | grep x\nnext line\n")
    assert doc.tables == [] and doc.text == "cat | grep x\nnext line\n"


def test_long_plain_line_is_not_held_back():
    p = StreamParser()
    line = "word " * 400
    out = []
    for i in range(0, len(line), 20):
        out += p.feed(line[i:i + 20])
    emitted = "".join(e.text for e in out)
    assert len(emitted) > len(line) - 1100  # emitted while streaming, not only at the end
    p.close()
    assert p.document.text == line == parse(line).text


def test_grid_round_trip_and_positioned_cells():
    grid = [["h", "", "x"], ["a", "b", "c"], ["", "d", "e"]]
    merges = [CellRange(0, 0, 1, 2), CellRange(1, 0, 2, 1)]
    t = Table.from_grid(grid, merges, header_rows=1)
    assert t.to_grid() == grid
    assert t.merged_ranges() == merges
    again = parse_tables(t.to_html())[0]
    assert again.to_grid() == grid and again.merged_ranges() == merges and again.header_rows == 1
    p = Table.from_positioned([(1, 1, "b", 1, 1), (0, 0, "h", 1, 2), (1, 0, "a", 2, 1),
                               (0, 2, "x", 1, 1), (1, 2, "c", 1, 1), (2, 1, "d", 1, 1),
                               (2, 2, "e", 1, 1)], header_rows=1)
    assert p.to_grid() == grid and p.merged_ranges() == merges
    assert Table.from_dict(t.to_dict()).to_grid() == grid


@pytest.mark.parametrize("text, value, kind", [
    ("1,234.56", 1234.56, "number"),
    ("1.234,56", 1234.56, "number"),
    ("1 234,5", 1234.5, "number"),
    ("1.234.567", 1234567, "number"),
    ("12%", 0.12, "percent"),
    ("32.99%", 0.3299, "percent"),
    ("$1,234", 1234, "currency"),
    ("€ 12,50", 12.5, "currency"),
    ("12.50 EUR", 12.5, "currency"),
    ("RM20.40", 20.4, "currency"),
    ("(1,234.56)", -1234.56, "number"),
    ("($5.00)", -5.0, "currency"),
    ("-5", -5, "number"),
    ("\u221266.91", -66.91, "number"),
    ("0.5", 0.5, "number"),
    ("1.5E-3", 0.0015, "number"),
    ("2024-03-05", dt.date(2024, 3, 5), "date"),
    ("2013/08/17", dt.date(2013, 8, 17), "date"),
    ("16/01/2012", dt.date(2012, 1, 16), "date"),
    ("07/13/2012", dt.date(2012, 7, 13), "date"),
    ("05.03.2024", dt.date(2024, 3, 5), "date"),
    ("2024年3月5日", dt.date(2024, 3, 5), "date"),
])
def test_values_typed(text, value, kind):
    tv = parse_value(text)
    assert tv.kind == kind
    assert tv.value == pytest.approx(value) if kind != "date" else tv.value == value


@pytest.mark.parametrize("text", [
    "007", "00123", "1234567890123456", "4111111111111111111", "=SUM(A1:A3)", "+5",
    "-1+2", "@cmd", "- 0.1024", "03/04/2012", "1/2/24", "5-123", "(3)", "1,040E-09", "12 34",
    "1,2,3", "abc", "", "1.2.3", "2024-13-45", "+49 30 1234567", "1,",
])
def test_values_left_as_text(text):
    tv = parse_value(text)
    assert tv.kind == "text" and tv.value == text


def test_column_hints_settle_ambiguous_values():
    assert infer_column_hints(["1.234,56", "1.234", "7"]) == (",", None)
    assert parse_value("1.234", decimal=",").value == 1234
    assert infer_column_hints(["16/01/2012", "03/04/2012"]) == (None, "DMY")
    assert parse_value("03/04/2012", date_order="DMY").value == dt.date(2012, 4, 3)
    assert infer_column_hints(["16/01/2012", "01/16/2012"]) == (None, None)  # contradiction
    t = Table.from_grid([["when", "amount"], ["13/02/2020", "1.234,5"], ["03/04/2020", "2.000"]],
                        header_rows=1)
    typed = typed_grid(t)
    assert typed[0][0].kind == "text"
    assert typed[2][0].value == dt.date(2020, 4, 3) and typed[2][1].value == 2000


def test_decimal_comma_column_types_exponents_and_leading_zero_values():
    # GIVEN a P-value column written with decimal commas, mostly in scientific notation
    col = ["1,040E-09", "4,131E-06", "0,540", "", "<0,001"]
    # WHEN the column's hints are read THEN the comma is its decimal mark
    assert infer_column_hints(col) == (",", None)
    # AND its values are numbers where the mark settles them; "<0,001" stays text
    assert parse_value("4,131E-06", decimal=",").value == pytest.approx(4.131e-06)
    assert parse_value("4,131E-06", decimal=",").number_format == "0.00E+00"
    assert parse_value("0,540", decimal=",").value == pytest.approx(0.54)
    assert parse_value("<0,001", decimal=",").kind == "text"
    # a column that also holds "1.5" contradicts itself and types nothing it cannot settle
    assert infer_column_hints(["4,131E-06", "1.5"]) == (None, None)
    assert parse_value("4,131E-06").kind == "text"
    # without a column, a leading "0," can only be a decimal comma
    assert parse_value("0,540").value == pytest.approx(0.54)
    assert parse_value("1,540").value == 1540


def test_header_row_is_found_when_the_source_marked_none():
    # GIVEN a recognised table with no <thead>: a text row spanning two rows over numbers
    t = parse_tables('<table><tr><td rowspan="2">Gene</td><td colspan="2">P value</td></tr>'
                     "<tr><td>+PMN</td><td>-PMN</td></tr>"
                     "<tr><td>GAPDH</td><td>4,131E-06</td><td>0,52</td></tr></table>")[0]
    assert t.header_rows == 0
    # THEN the first row and the row its rowspan reaches are the header
    assert header_rows_of(t) == 2
    assert typed_grid(t)[1][1].kind == "text" and typed_grid(t)[2][1].kind == "number"
    # a table of numbers only, or of text only, has no header to guess
    assert header_rows_of(Table.from_grid([["1", "2"], ["3", "4"]])) == 0
    assert header_rows_of(Table.from_grid([["a", "b"], ["c", "d"]])) == 0
    # and a header the source marked is kept as it is
    assert header_rows_of(Table.from_grid([["a", "b"], ["c", "1"]], header_rows=1)) == 1


def test_fuzzed_answers_stream_like_one_shot():
    frags = ["text\n", "\n", "```html\n", "```\n", "| a | b |\n", "|---|---|\n", "x | y\n",
             "<table>", "<tr>", "<td>", "</td>", "</tr>", "</table>", "c&amp;d", "&", "<", "<br>",
             "|", "  ", "word " * 300, "<TABLE border=1>", "</table >", "<!-- c -->", "~~~\n",
             "| 1 |", "<th colspan=2>", "<td rowspan=3>"]
    for n in range(300):
        rng = random.Random(n)
        text = "".join(rng.choice(frags) for _ in range(rng.randint(1, 25)))
        whole = parse(text)
        assert stream(text, n, max_chunk=30)[0] == whole, text
