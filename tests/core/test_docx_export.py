"""Word export: paragraphs, Markdown headings and lists, real tables with merged cells."""

from __future__ import annotations

import importlib.util

import docx
import pytest
from corpus_data import CORPUS, corpus_items
from docx.oxml.ns import qn

from desktop_ocr.core.export import ExportItem, export
from desktop_ocr.core.tables import parse_tables

MARKDOWN = """# Quarterly report

Revenue grew in **every** region.
Costs stayed *flat*.

## Details

- North: 12 %
- South: 9 %

1. First step
2. Second step

<table><thead><tr><th rowspan="2">Region</th><th colspan="2">Sales</th></tr>
<tr><th>2023</th><th>2024</th></tr></thead>
<tbody><tr><td>North</td><td>10</td><td>12</td></tr></tbody></table>

The end.
"""


def _read(path):
    return docx.Document(str(path))


def test_markdown_result_becomes_headings_lists_paragraphs_and_a_table(tmp_path):
    # GIVEN a Markdown result with headings, lists, emphasis and a merged-header table
    item = ExportItem(source="report.png", task="markdown", text=MARKDOWN)
    # WHEN it is exported to .docx
    out = export([item], tmp_path / "report.docx")
    doc = _read(out)
    # THEN headings carry Word's heading styles and lists Word's list styles
    styled = [(p.style.name, p.text) for p in doc.paragraphs if p.text.strip()]
    assert ("Heading 1", "Quarterly report") in styled and ("Heading 2", "Details") in styled
    assert ("List Bullet", "North: 12 %") in styled and ("List Number", "Second step") in styled
    # the two lines of one paragraph stay one paragraph with a line break; emphasis is a run
    para = next(p for p in doc.paragraphs if p.text.startswith("Revenue"))
    assert para.text == "Revenue grew in every region.\nCosts stayed flat."
    assert [r.text for r in para.runs if r.bold] == ["every"]
    assert [r.text for r in para.runs if r.italic] == ["flat"]
    assert "**" not in "".join(p.text for p in doc.paragraphs)
    # AND the table is a real Word table with its merges and a repeating bold header
    (table,) = doc.tables
    assert len(table.rows) == 3 and len(table.columns) == 3
    assert table.cell(0, 0)._tc is table.cell(1, 0)._tc  # rowspan 2
    assert table.cell(0, 1)._tc is table.cell(0, 2)._tc  # colspan 2
    assert table.cell(0, 1).text == "Sales" and table.cell(2, 2).text == "12"
    assert all(r.bold for r in table.cell(0, 0).paragraphs[0].runs)
    header_rows = [row for row in table.rows if row._tr.trPr is not None
                   and row._tr.trPr.find(qn("w:tblHeader")) is not None]
    assert len(header_rows) == 2
    assert doc.paragraphs[-1].text == "The end."


def test_plain_text_keeps_a_leading_hash_as_text(tmp_path):
    item = ExportItem(source="scan.png", task="text", text="# 42 is the room\n**not bold**")
    doc = _read(export([item], tmp_path / "t.docx"))
    assert [p.text for p in doc.paragraphs] == ["# 42 is the room\n**not bold**"]
    assert all(p.style.name == "Normal" for p in doc.paragraphs)


def test_several_items_get_a_heading_each_and_chinese_survives(tmp_path):
    items = [ExportItem(source="a.pdf", page=1, text="第一页\n发票"),
             ExportItem(source="a.pdf", page=2, text="Page two\x0c with a form feed")]
    doc = _read(export(items, tmp_path / "two.docx"))
    texts = [(p.style.name, p.text) for p in doc.paragraphs]
    assert texts == [("Heading 2", "a.pdf — page 1"), ("Normal", "第一页\n发票"),
                     ("Heading 2", "a.pdf — page 2"), ("Normal", "Page two with a form feed")]


def test_key_fields_become_tables(tmp_path):
    text = '{"vendor": "ACME", "total": 59.0, "line_items": [{"description": "Paper", "amount": 8.5}]}'
    doc = _read(export([ExportItem(source="r.jpg", task="fields", text=text)], tmp_path / "f.docx"))
    kv, lines = doc.tables
    assert [c.text for c in kv.rows[1].cells] == ["vendor", "ACME"]
    assert [c.text for c in lines.rows[1].cells] == ["Paper", "8.5"]


@pytest.fixture(scope="module")
def cer():
    spec = importlib.util.spec_from_file_location("corpus_cer", CORPUS / "cer.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("item", corpus_items("table-image"), ids=lambda it: it["file"])
def test_corpus_tables_keep_their_cells_and_merges(item, cer, tmp_path):
    # GIVEN a corpus table's ground-truth HTML as a recognised table
    src = (CORPUS / "files" / item["gt_table"]).read_text(encoding="utf-8")
    (table,) = parse_tables(src)
    # WHEN it goes to Word
    doc = _read(export([ExportItem(source=item["file"], task="table", text=src)], tmp_path / "t.docx"))
    (out,) = doc.tables
    # THEN every cell of the corpus scorer's own grid is where it was, merged ones too
    rows = cer.parse_rows(src)
    grid, (n_rows, n_cols) = cer.grid(rows)
    assert (len(out.rows), len(out.columns)) == (n_rows, n_cols)
    for (r, c), text in grid.items():
        assert " ".join(out.cell(r, c).text.split()) == " ".join(text.split()), (r, c)
    for m in table.merged_ranges():
        assert out.cell(m.row, m.col)._tc is out.cell(m.last_row, m.last_col)._tc
