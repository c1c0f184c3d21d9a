"""Word export (.docx, python-docx): paragraphs, headings and lists from Markdown results,
and tables as real Word tables with their merged cells, bold header rows that repeat on
every page a table runs over.

The text of a result keeps the image's line breaks (the prompts ask for them), so a line
break inside a paragraph stays a line break; a blank line starts a new paragraph. Only
results written in Markdown (the markdown and custom tasks) have their `#` headings,
`-`/`1.` lists and `**bold**`/`*italic*` turned into Word's own headings, list styles and
runs; a plain-text result that starts a line with `#` keeps it as text.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from desktop_ocr.core.tables import Table, TextSegment

if TYPE_CHECKING:
    from desktop_ocr.core.export import ExportItem

MARKDOWN_TASKS = ("markdown", "custom")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d{1,3}[.)]\s+(.*)$")
_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_INLINE = re.compile(r"(\*\*|__)(.+?)\1|(?<![\w*])([*_])(?!\s)(.+?)(?<!\s)\3(?![\w*])|`([^`]+)`")
# Word control characters are not allowed in XML (python-docx raises on them).
_XML_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    return _XML_BAD.sub("", text)


def _runs(paragraph: Any, text: str, markdown: bool) -> None:
    """Add `text` to `paragraph`, Markdown emphasis as bold/italic/monospace runs, line
    breaks as Word line breaks."""
    for k, line in enumerate(text.split("\n")):
        if k:
            paragraph.add_run().add_break()
        if not markdown:
            paragraph.add_run(_clean(line))
            continue
        at = 0
        for m in _INLINE.finditer(line):
            if m.start() > at:
                paragraph.add_run(_clean(line[at:m.start()]))
            if m.group(2) is not None:
                paragraph.add_run(_clean(m.group(2))).bold = True
            elif m.group(4) is not None:
                paragraph.add_run(_clean(m.group(4))).italic = True
            else:
                paragraph.add_run(_clean(m.group(5))).font.name = "Consolas"
            at = m.end()
        if at < len(line):
            paragraph.add_run(_clean(line[at:]))


def _text_blocks(doc: Any, text: str, markdown: bool) -> None:
    """Paragraphs (blank-line separated); in Markdown also headings, lists and rules."""
    para: list[str] = []

    def flush() -> None:
        if para:
            _runs(doc.add_paragraph(), "\n".join(para), markdown)
            para.clear()

    fence = False
    for line in text.split("\n"):
        if markdown and line.strip().startswith("```"):
            flush()
            fence = not fence
            continue
        if fence:
            p = doc.add_paragraph()
            p.add_run(_clean(line)).font.name = "Consolas"
            continue
        if not line.strip():
            flush()
            continue
        if markdown:
            if m := _HEADING.match(line):
                flush()
                _runs(doc.add_heading(level=min(len(m.group(1)), 9)), m.group(2), True)
                continue
            if _RULE.match(line):
                flush()
                continue
            m = _BULLET.match(line) or _NUMBERED.match(line)
            if m:
                flush()
                style = "List Bullet" if _BULLET.match(line) else "List Number"
                _runs(doc.add_paragraph(style=style), m.group(1), True)
                continue
        para.append(line)
    flush()


def _mark_header(row: Any) -> None:
    """A header row that Word repeats at the top of every page the table runs over."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tr_pr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    tr_pr.append(el)


def _table(doc: Any, table: Table) -> None:
    table.normalize()
    grid = table.to_grid()
    rows, cols = len(grid), max((len(r) for r in grid), default=0)
    if not rows or not cols:
        return
    if table.caption:
        doc.add_paragraph(_clean(table.caption), style="Caption")
    out = doc.add_table(rows=rows, cols=cols)
    out.style = "Table Grid"
    # Merge first: python-docx joins the texts of merged cells, so text goes in after.
    for m in table.merged_ranges():
        out.cell(m.row, m.col).merge(out.cell(m.last_row, m.last_col))
    covered = {(r, c) for m in table.merged_ranges()
               for r in range(m.row, m.last_row + 1) for c in range(m.col, m.last_col + 1)
               if (r, c) != (m.row, m.col)}
    for r, row in enumerate(grid):
        for c, text in enumerate(row):
            if (r, c) in covered or not text:
                continue
            cell = out.cell(r, c)
            paragraph = cell.paragraphs[0]
            for k, line in enumerate(text.split("\n")):
                if k:
                    paragraph.add_run().add_break()
                run = paragraph.add_run(_clean(line))
                if r < table.header_rows:
                    run.bold = True
    for r in range(min(table.header_rows, rows)):
        _mark_header(out.rows[r])


def render_docx(items: Sequence[ExportItem]) -> bytes:
    """The .docx bytes of every item: a heading per item when there are several."""
    from docx import Document as WordDocument

    from desktop_ocr.core.export import fields_tables

    doc = WordDocument()
    doc.core_properties.title = items[0].label if len(items) == 1 else "Desktop OCR export"
    doc.core_properties.author = "Desktop OCR"
    for item in items:
        if len(items) > 1:
            doc.add_heading(_clean(item.label), level=2)
        markdown = item.task in MARKDOWN_TASKS
        segments: list[TextSegment | Table] = list(item.document().segments)
        if item.task == "fields" and not any(isinstance(s, Table) for s in segments):
            tables = fields_tables(item.text)
            if tables:
                segments = list(tables)
        for seg in segments:
            if isinstance(seg, Table):
                _table(doc, seg)
            elif seg.text.strip():
                _text_blocks(doc, seg.text.strip("\n"), markdown)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
