"""Exporting results and batches: edited tables, failed parts left out, one workbook with a
Sources sheet, or one file per input into a folder."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest

from desktop_ocr.core.export import ExportError, export_batch, items_from_results
from desktop_ocr.core.results import PartResult
from desktop_ocr.core.tables import Table

CREATED = dt.datetime(2024, 5, 6, 7, 8, 9).timestamp()


def _batch() -> list[PartResult]:
    edited = Table.from_grid([["Item", "Price"], ["Tea", "3.50"]], header_rows=1)
    return [
        PartResult(source="/in/scan.pdf", page=1, page_count=2, task="table", engine="lmdeploy",
                   model="InternVL3-8B", text="| Item | Price |\n|---|---|\n| Tea | 9.99 |",
                   tables=[edited], finish="stop", created=CREATED),
        PartResult(source="/in/scan.pdf", page=2, page_count=2, region_label="Region 1",
                   task="text", engine="lmdeploy", model="InternVL3-8B", text="合计 12.00\nThanks",
                   finish="stop", created=CREATED),
        PartResult(source="/in/scan.pdf", page=2, page_count=2, region_label="Region 2",
                   error="The server went away.", engine="lmdeploy"),
        PartResult(source="Clipboard image 3 (640 × 480 px)", source_kind="paste", task="table",
                   engine="cpu", text="<table><tr><td>a</td><td>b</td></tr></table>",
                   finish="stop", created=CREATED),
        PartResult(source="/other/scan.pdf", task="text", engine="cpu", text="second file",
                   finish="stop", created=CREATED),
    ]


def _values(ws) -> list[list]:
    return [list(row) for row in ws.iter_rows(values_only=True)]


def test_items_from_results_use_edited_tables_and_leave_failures_out():
    # GIVEN a batch with an edited table, a failed part and single-page sources
    items = items_from_results(_batch())
    # THEN the failed part is gone, pages show only for the two-page PDF, edits win
    assert [(i.source, i.page, i.region) for i in items] == [
        ("/in/scan.pdf", 1, ""), ("/in/scan.pdf", 2, "Region 1"),
        ("Clipboard image 3 (640 × 480 px)", None, ""), ("/other/scan.pdf", None, "")]
    assert items[0].all_tables()[0].to_grid() == [["Item", "Price"], ["Tea", "3.50"]]


def test_one_workbook_has_a_sheet_per_table_and_a_sources_sheet(tmp_path):
    # WHEN the batch is exported to one workbook
    out = tmp_path / "batch.xlsx"
    assert export_batch(_batch(), out) == [out]
    wb = openpyxl.load_workbook(out)
    # THEN each table has its sheet, text has one, and Sources says where each came from
    assert wb.sheetnames == ["Table 1", "Table 2", "Text", "Sources"]
    assert _values(wb["Table 1"])[1] == ["Tea", 3.5]  # the edited grid, typed
    assert _values(wb["Table 2"]) == [["a", "b"]]
    assert ["scan.pdf — page 2 — Region 1", "合计 12.00"] in _values(wb["Text"])
    rows = _values(wb["Sources"])
    assert rows[0] == ["File", "Page", "Region", "Task", "Engine", "Model", "Finished", "Sheet", "Path"]
    when = dt.datetime(2024, 5, 6, 7, 8, 9)
    assert rows[1:] == [
        ["scan.pdf", 1, "whole page", "table", "lmdeploy", "InternVL3-8B", when, "Table 1", "/in/scan.pdf"],
        ["scan.pdf", 2, "Region 1", "text", "lmdeploy", "InternVL3-8B", when, "Text", "/in/scan.pdf"],
        ["Clipboard image 3 (640 × 480 px)", None, "whole page", "table", "cpu", None, when, "Table 2", None],
        ["scan.pdf", None, "whole page", "text", "cpu", None, when, "Text", "/other/scan.pdf"],
    ]


def test_one_file_per_input_into_a_folder(tmp_path):
    # WHEN the batch is exported one file per input into a folder that is not there yet
    folder = tmp_path / "out"
    written = export_batch(_batch(), folder, per_input=True)
    # THEN each input has its file, named after it, with only its own parts
    assert [p.name for p in written] == ["scan.xlsx", "Clipboard image 3 (640 × 480 px).xlsx",
                                         "scan (2).xlsx"]
    assert all(p.parent == folder for p in written)
    first = openpyxl.load_workbook(written[0])
    assert [r[1] for r in _values(first["Sources"])[1:]] == [1, 2]
    second = openpyxl.load_workbook(written[2])
    assert _values(second["Text"])[1] == ["scan.pdf", "second file"]
    # AND another format works the same way
    md = export_batch(_batch(), folder, per_input=True, fmt="md")
    assert [p.suffix for p in md] == [".md"] * 3
    assert "Tea" in md[0].read_text() and "9.99" not in md[0].read_text()


def test_other_formats_take_every_part_in_one_file(tmp_path):
    # WHEN exported as Markdown
    [out] = export_batch(_batch(), tmp_path / "batch.md")
    text = out.read_text()
    # THEN every part that worked is there, labelled, and the failed one is not
    assert "## scan.pdf — page 1" in text and "## scan.pdf — page 2 — Region 1" in text
    assert "Region 2" not in text and "second file" in text and "| Tea | 3.50 |" in text


def test_nothing_to_export_and_bad_targets_are_plain_errors(tmp_path):
    failed = [PartResult(source="/in/a.png", error="no engine")]
    # GIVEN only failed parts THEN there is nothing to export
    with pytest.raises(ExportError, match="Nothing to export"):
        export_batch(failed, tmp_path / "x.xlsx")
    # GIVEN a file where the folder should be THEN it says so and leaves the file alone
    blocker = tmp_path / "file"
    blocker.write_text("mine")
    with pytest.raises(ExportError, match="not a folder"):
        export_batch(_batch(), blocker, per_input=True)
    assert blocker.read_text() == "mine"
    # GIVEN an existing export and a format that cannot be THEN the old file is unchanged
    out = tmp_path / "keep.xlsx"
    export_batch(_batch(), out)
    before = out.read_bytes()
    with pytest.raises(ExportError):
        export_batch(_batch(), out, fmt="pdf")
    assert out.read_bytes() == before
