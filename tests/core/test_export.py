"""Export: corpus tables through xlsx and back, formula safety, atomic saves."""

from __future__ import annotations

import csv
import datetime as dt
import errno
import importlib.util
import io
import json
import os
import re

import openpyxl
import pytest
from corpus_data import CORPUS, corpus_items

from desktop_ocr.core import export as ex
from desktop_ocr.core.atomic import atomic_write
from desktop_ocr.core.export import ExportError, ExportItem, export, export_table
from desktop_ocr.core.tables import CellRange, Table, parse_tables


@pytest.fixture(scope="session")
def cer():
    """The corpus's own scorer: an HTML table reader written independently of ours."""
    spec = importlib.util.spec_from_file_location("corpus_cer", CORPUS / "cer.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _reference(cer, src):
    """Ground truth grid {(r, c): text} and merged ranges, from cer.py's own reader."""
    rows = cer.parse_rows(src)
    grid, shape = cer.grid(rows)
    merges, taken = set(), set()
    for i, row in enumerate(rows):
        j = 0
        for _text, rs, cs in row:
            while (i, j) in taken:
                j += 1
            taken |= {(i + a, j + b) for a in range(rs) for b in range(cs)}
            if rs > 1 or cs > 1:
                merges.add((i, j, i + rs - 1, j + cs - 1))
            j += cs
    return grid, shape, merges


def _plain_number(text):
    """An independent reading of the simple numbers found in the corpus tables: a comma
    groups thousands, except in a scientific mantissa ("1,040E-09" is a P value, 1.04e-9)."""
    t = text.replace("\u2212", "-")
    t = t.replace(",", ".") if re.fullmatch(r"-?\d,\d+[eE][-+]?\d+", t) else t.replace(",", "")
    if t.endswith("%"):
        return float(t[:-1]) / 100
    return float(t)


@pytest.mark.parametrize("item", corpus_items("table-image"), ids=lambda it: it["file"])
@pytest.mark.parametrize("typed", [False, True])
def test_corpus_table_to_xlsx_and_back(item, typed, cer, corpus, tmp_path):
    src = (corpus / item["gt_table"]).read_text(encoding="utf-8")
    out = export([ExportItem(item["file"], None, "", "table", src)], tmp_path / "t.xlsx",
                 typed=typed)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Table 1", "Sources"]
    ws = wb["Table 1"]
    grid, (n_rows, n_cols), merges = _reference(cer, src)
    assert (ws.max_row, ws.max_column) == (n_rows, n_cols)
    got_merges = {(m.min_row - 1, m.min_col - 1, m.max_row - 1, m.max_col - 1)
                  for m in ws.merged_cells.ranges}
    assert got_merges == merges
    for (r, c), text in grid.items():
        value = ws.cell(row=r + 1, column=c + 1).value
        if isinstance(value, str) or value is None:
            assert cer.norm(value or "") == text
        elif isinstance(value, dt.datetime):
            assert typed
            assert {f"{value.year}", f"{value.month:02d}", f"{value.day:02d}"} <= set(
                re.findall(r"\d+", text))
        else:
            assert typed, f"{text!r} became {value!r} with typing off"
            assert value == pytest.approx(_plain_number(text))
    # header rows (thead) are bold, the body is not
    thead = src.split("</thead>")[0].count("<tr>")
    assert all(ws.cell(row=r, column=1).font.b for r in range(1, thead + 1)
               if ws.cell(row=r, column=1).value)
    assert not ws.cell(row=thead + 1, column=2).font.b
    sources = [[c.value for c in row] for row in wb["Sources"].iter_rows()]
    assert sources[1][:4] == ["Table 1", item["file"], None, "whole page"]


def test_numbers_stay_numbers_ids_stay_text(tmp_path):
    t = Table.from_grid([["id", "amount", "share", "when", "formula"],
                         ["00123", "1,234.50", "12.5%", "2024-03-05", "=HYPERLINK(\"x\")"],
                         ["4111111111111111", "(7.00)", "-3%", "16/01/2012", "+1+1"],
                         ["@SUM(A1)", "-5", "€ 3", "n/a", "-2+3"]], header_rows=1)
    path = export_table(t, tmp_path / "x.xlsx", source="scan.png")
    ws = openpyxl.load_workbook(path)["Table 1"]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    assert rows[0] == ["00123", 1234.5, 0.125, dt.datetime(2024, 3, 5), '=HYPERLINK("x")']
    assert rows[1] == ["4111111111111111", -7.0, -0.03, dt.datetime(2012, 1, 16), "+1+1"]
    assert rows[2] == ["@SUM(A1)", -5, 3, "n/a", "-2+3"]
    for row in ws.iter_rows(min_row=2):
        for c in row:
            assert c.data_type != "f"
    assert ws["B2"].number_format == "#,##0.00"
    assert ws["A1"].font.b and not ws["A2"].font.b
    assert ws.column_dimensions["A"].width >= len("4111111111111111")


def test_recognised_table_without_thead_keeps_bold_header_merges_and_comma_numbers(tmp_path):
    # GIVEN the kind of HTML the CPU table task writes when it finds no header rows:
    # "P value" spanning two columns over "+ PMN" / "- PMN", P values with decimal commas
    html = ('<table><tr><td rowspan="2">Pathway</td><td colspan="2">P value</td>'
            "<td>Genes</td></tr><tr><td>+ PMN</td><td>- PMN</td><td></td></tr>"
            "<tr><td>Cell cycle</td><td>1,040E-09</td><td>8,149E-08</td><td>32</td></tr>"
            "<tr><td>Mitosis</td><td>4,131E-06</td><td>0,540</td><td>20</td></tr></table>")
    # WHEN it is exported to xlsx
    out = export([ExportItem("scan.png", None, "", "table", html)], tmp_path / "t.xlsx")
    ws = openpyxl.load_workbook(out)["Table 1"]
    # THEN the spanning headers stay merged
    assert {str(m) for m in ws.merged_cells.ranges} == {"A1:A2", "B1:C1"}
    # AND both header rows are bold, the body is not
    assert ws["A1"].font.b and ws["B1"].font.b and ws["B2"].font.b and ws["C2"].font.b
    assert not ws["A3"].font.b and not ws["B3"].font.b
    # AND the decimal-comma exponents are numbers in scientific format
    assert ws["B3"].value == pytest.approx(1.040e-09) and ws["B3"].number_format == "0.00E+00"
    assert ws["B4"].value == pytest.approx(4.131e-06)
    assert ws["C4"].value == pytest.approx(0.54)
    assert ws["D4"].value == 20
    assert ws.freeze_panes == "A3"


def test_formula_injection_in_csv(tmp_path):
    t = Table.from_grid([["=1+2", "-5", "-1+2", "+x", "@a", "\tz", "plain", "a,b\n\"c\""]])
    path = export_table(t, tmp_path / "x.csv")
    row = next(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert row == ["'=1+2", "-5", "'-1+2", "'+x", "'@a", "'\tz", "plain", "a,b\n\"c\""]
    export_table(t, tmp_path / "bom.csv", csv_bom=True)
    assert (tmp_path / "bom.csv").read_bytes().startswith(b"\xef\xbb\xbf'=1+2")


def test_document_export_all_formats(tmp_path):
    html_table = "<table><tr><th>a</th><th>b</th></tr><tr><td colspan=2>wide</td></tr></table>"
    items = [
        ExportItem("/scans/report.pdf", 3, "region 2", "markdown",
                   "# Title\n\nSome text.\n\n| x | y |\n|---|---|\n| 1 | 2 |\n\nMore.\n" + html_table),
        ExportItem("receipt.jpg", None, "", "fields", "```json\n" + json.dumps({"vendor": "ACME", "total": 12.5,
                               "line_items": [{"description": "tea", "amount": 2.5}]}) + "\n```"),
    ]
    for fmt in ex.FORMATS:
        if fmt != "pdf":  # a searchable PDF needs the source pages (tests/core/test_searchable_pdf.py)
            export(items, tmp_path / f"doc.{fmt}")
    wb = openpyxl.load_workbook(tmp_path / "doc.xlsx")
    assert wb.sheetnames == ["Table 1", "Table 2", "Table 3", "Table 4", "Text", "Sources"]
    src = [[c.value for c in r] for r in wb["Sources"].iter_rows(min_row=2)]
    assert [r[:4] for r in src] == [["Table 1", "/scans/report.pdf", 3, "region 2"],
                                   ["Table 2", "/scans/report.pdf", 3, "region 2"],
                                   ["Table 3", "receipt.jpg", None, "whole page"],
                                   ["Table 4", "receipt.jpg", None, "whole page"]]
    assert [[c.value for c in r] for r in wb["Table 3"].iter_rows()] == [
        ["Field", "Value"], ["vendor", "ACME"], ["date", None], ["invoice_number", None],
        ["currency", None], ["subtotal", None], ["tax", None], ["total", 12.5]]
    assert [c.value for c in wb["Table 4"][2]] == ["tea", 2.5]
    text_sheet = [r[1].value for r in wb["Text"].iter_rows(min_row=2)]
    assert text_sheet == ["# Title", "Some text.", "More."]
    md = (tmp_path / "doc.md").read_text(encoding="utf-8")
    assert "## report.pdf — page 3 — region 2" in md
    assert "| x | y |" in md and 'colspan="2"' in md  # merges survive as HTML in Markdown
    assert parse_tables(md)[1].merged_ranges() == [CellRange(1, 0, 1, 2)]
    html = (tmp_path / "doc.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "<td colspan=\"2\">wide</td>" in html
    txt = (tmp_path / "doc.txt").read_text(encoding="utf-8")
    assert "x\ty\n1\t2\n" in txt
    data = json.loads((tmp_path / "doc.json").read_text(encoding="utf-8"))
    assert data["results"][0]["page"] == 3
    assert data["results"][0]["tables"][1]["merged"] == [[1, 0, 1, 2]]
    assert data["results"][1]["fields"]["vendor"] == "ACME"
    csv_text = (tmp_path / "doc.csv").read_bytes().decode("utf-8")
    assert csv_text.startswith("x,y\r\n1,2\r\n\r\na,b\r\nwide,\r\n")


def test_edited_tables_replace_parsed_ones(tmp_path):
    item = ExportItem("a.png", text="before\n| a |\n|---|\n| 1 |\nafter",
                      tables=[Table.from_grid([["A"], ["fixed"]], header_rows=1)])
    out = export([item], tmp_path / "e.md")
    assert out.read_text(encoding="utf-8") == "before\n| A |\n|---|\n| fixed |\nafter\n"


def test_format_from_extension_or_forced(tmp_path):
    t = Table.from_grid([["a"]])
    assert export_table(t, tmp_path / "x.dat", fmt="csv").read_bytes() == b"a\r\n"
    with pytest.raises(ExportError, match="choose one of"):
        export_table(t, tmp_path / "x.doc")


# ---------------------------------------------------------------- atomic saves

def _old(tmp_path):
    path = tmp_path / "out.xlsx"
    path.write_bytes(b"old contents")
    return path


def test_full_disk_keeps_old_file(tmp_path):
    path = _old(tmp_path)

    def writer(fh):
        fh.write(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(ExportError, match="disk .* is full.*left unchanged"):
        atomic_write(path, writer)
    assert path.read_bytes() == b"old contents"
    assert os.listdir(tmp_path) == ["out.xlsx"]  # no temporary file left behind


def test_full_disk_at_fsync_during_export_keeps_old_file(tmp_path, monkeypatch):
    path = _old(tmp_path)

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(ex.os, "fsync", full)
    with pytest.raises(ExportError, match="full"):
        export_table(Table.from_grid([["a"]]), path)
    monkeypatch.undo()
    assert path.read_bytes() == b"old contents"
    assert os.listdir(tmp_path) == ["out.xlsx"]


def test_missing_folder_and_bad_targets(tmp_path):
    t = Table.from_grid([["a"]])
    with pytest.raises(ExportError, match="folder .* does not exist"):
        export_table(t, tmp_path / "nope" / "x.csv")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ExportError, match="is not a folder"):
        export_table(t, tmp_path / "file" / "x.csv")
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(ExportError, match="folder of that name"):
        export_table(t, tmp_path / "dir.csv")


def test_unwritable_folder_keeps_old_file(tmp_path, monkeypatch):
    path = _old(tmp_path)
    real_open = os.open

    def denied(p, flags, mode=0o777, **kw):
        if str(p).startswith(str(tmp_path)):
            raise PermissionError(errno.EACCES, "Permission denied", str(p))
        return real_open(p, flags, mode, **kw)

    # root ignores chmod, so refuse the create the way a read-only folder would
    monkeypatch.setattr(ex.os, "open", denied)
    with pytest.raises(ExportError, match="no permission to write in"):
        export_table(Table.from_grid([["a"]]), path)
    monkeypatch.undo()
    assert path.read_bytes() == b"old contents"


def test_new_file_mode_follows_umask_and_existing_mode_is_kept(tmp_path):
    t = Table.from_grid([["a"]])
    p = export_table(t, tmp_path / "n.csv")
    umask = os.umask(0)
    os.umask(umask)
    assert p.stat().st_mode & 0o777 == 0o666 & ~umask
    os.chmod(p, 0o640)
    export_table(t, p)
    assert p.stat().st_mode & 0o777 == 0o640
