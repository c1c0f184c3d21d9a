"""Formula safety of every file format that leaves the app, on the same hostile cells."""

from __future__ import annotations

import csv
import html
import io
import re

import openpyxl
import pytest
from hostile_cells import HARMLESS, HOSTILE, html_cells, runs_as_formula

from desktop_ocr.core.export import ExportItem, csv_safe, export, formula_risk
from desktop_ocr.core.tables import Table

SCRIPT = '<img src=x onerror="alert(1)">'
CELLS = HOSTILE + HARMLESS


def _item() -> ExportItem:
    grid = [["cell"]] + [[c] for c in CELLS] + [[SCRIPT]]
    return ExportItem("scan.png", task="table", text="",
                      tables=[Table.from_grid(grid, header_rows=1)])


def _md_cells(text: str) -> list[str]:
    rows = [line for line in text.splitlines() if line.startswith("|") and "---" not in line]
    cells = []
    for line in rows:
        for raw in re.split(r"(?<!\\)\|", line.strip()[1:-1]):
            text = raw.strip().replace("\\|", "|").replace("\\\\", "\\").replace("<br>", "\n")
            cells.append(html.unescape(text))  # Markdown decodes entities
    return cells


def _read(path, fmt) -> list[str]:
    data = path.read_bytes().decode("utf-8")
    if fmt in ("csv", "tsv"):
        return [r[0] for r in csv.reader(io.StringIO(data), delimiter="\t" if fmt == "tsv" else ",") if r]
    if fmt == "html":
        return html_cells(data)
    return _md_cells(data)


@pytest.mark.parametrize("fmt", ["csv", "tsv", "md", "html"])
def test_no_hostile_cell_runs_as_a_formula(tmp_path, fmt):
    # GIVEN a recognised table holding formula payloads and harmless values
    path = tmp_path / f"out.{fmt}"
    # WHEN it is exported
    export([_item()], path)
    cells = _read(path, fmt)
    got = {c.lstrip("'"): c for c in cells}
    # THEN every hostile cell is there, neutralised by a leading apostrophe
    for cell in HOSTILE:
        key = next(k for k in got if k.strip() == cell.strip().replace("\r", "\n" if fmt in ("md", "html") else "\r"))
        assert not runs_as_formula(got[key]), (fmt, got[key])
        assert got[key].startswith("'")
    # AND the harmless ones are exactly as recognised (-5 stays a number)
    for cell in HARMLESS:
        assert cell in cells, (fmt, cell)


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_cell_html_is_escaped(tmp_path, fmt):
    # GIVEN a cell whose recognised text is an HTML tag
    path = export([_item()], tmp_path / f"out.{fmt}")
    text = path.read_text(encoding="utf-8")
    # THEN it is written as text, not markup
    assert "<img" not in text and "&lt;img" in text
    assert SCRIPT in _read(path, fmt)


def test_tsv_is_tab_separated(tmp_path):
    # GIVEN a two-column table WHEN exported as .tsv THEN the separator is a tab, not a comma
    item = ExportItem("a.png", task="table", text="",
                      tables=[Table.from_grid([["a", "b, c"], ["1", "tab\there"]], header_rows=1)])
    data = export([item], tmp_path / "x.tsv").read_text(encoding="utf-8")
    assert data.splitlines()[0] == "a\tb, c"
    assert list(csv.reader(io.StringIO(data), delimiter="\t")) == [["a", "b, c"], ["1", "tab\there"]]


def test_xlsx_hostile_cells_are_quote_prefixed_strings(tmp_path):
    # GIVEN the same cells WHEN exported as a workbook
    path = export([_item()], tmp_path / "out.xlsx")
    ws = openpyxl.load_workbook(path)["Table 1"]
    # (without lxml, openpyxl reads a CR in a cell back as LF: XML normalises line ends;
    # with lxml, which python-docx brings, the CR comes back as written)
    cells = {c.value: c for row in ws.iter_rows(min_row=2) for c in row if c.value is not None}
    cells.update({k.replace("\r", "\n"): v for k, v in list(cells.items()) if isinstance(k, str)})
    # THEN each hostile cell holds its exact text as a string, quote-prefixed so that an
    # edit in Excel keeps it text, and no cell of the sheet is a formula
    for text in HOSTILE:
        cell = cells[text.replace("\r", "\n")]
        assert cell.data_type == "s" and cell.quotePrefix, text
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    # AND numbers stay numbers
    assert cells[-5].data_type == "n" and not cells[-5].quotePrefix


def test_the_one_function_decides():
    for cell in HOSTILE:
        assert formula_risk(cell) and not runs_as_formula(csv_safe(cell)), cell
    for cell in HARMLESS:
        assert not formula_risk(cell) and csv_safe(cell) == cell, cell


def test_batch_workbook_text_is_quote_prefixed_too(tmp_path):
    # GIVEN stored results whose text (not a table) starts like formulas
    from desktop_ocr.core.export import export_batch
    from desktop_ocr.core.results import PartResult

    results = [PartResult("/scans/a.png", text=text, finish="stop") for text in HOSTILE[:5]]
    # WHEN the batch goes to one workbook
    (path,) = export_batch(results, tmp_path / "batch.xlsx")
    ws = openpyxl.load_workbook(path)["Text"]
    # THEN its Text sheet keeps each one as a quote-prefixed string, never a formula
    cells = [row[1] for row in ws.iter_rows(min_row=2)]
    assert [c.value for c in cells] == HOSTILE[:5]
    assert all(c.data_type == "s" and c.quotePrefix for c in cells)
