"""Export recognised results: .xlsx, .csv, .md, .html, .txt, .json, saved atomically.

A document export takes a list of `ExportItem`s (one per recognised page or region),
renders the whole file in memory, then `atomic_write` puts it in place: a temporary file
in the target folder, fsync, os.replace. A failure at any step leaves the previous file
as it was and raises `ExportError` with a message fit for the user.

Text that a spreadsheet could run as a formula (starting with = + - @, or a tab or CR)
is never written as one: xlsx cells holding text are typed as strings, and in CSV such
text gets a leading apostrophe unless it is a plain number like -5.
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop_ocr import APP_ID, __version__
from desktop_ocr.core.atomic import SaveError, atomic_write
from desktop_ocr.core.tables import (
    Document,
    Table,
    TextSegment,
    header_rows_of,
    parse,
    parse_value,
    typed_grid,
)
from desktop_ocr.core.tasks import parse_fields

__all__ = ["ExportError", "ExportItem", "FORMATS", "format_for", "render", "export",
           "export_table", "csv_safe"]

FORMATS = ("xlsx", "csv", "md", "html", "txt", "json")
_ALIASES = {"markdown": "md", "htm": "html", "text": "txt", "xls": "xlsx", "tsv": "csv"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_XLSX_CELL_MAX = 32767


# One error for every failed save, whether the format or the disk refused it.
ExportError = SaveError


@dataclass
class ExportItem:
    """One recognised page or region, as the GUI's result pane or the CLI holds it."""

    source: str  # file path or name ("clipboard" for a paste)
    page: int | None = None  # 1-based; None for single images
    region: str = ""  # what the user calls the region; "" = the whole page
    task: str = "text"
    text: str = ""  # the answer as recognised (or as edited in the text pane)
    tables: list[Table] | None = None  # edited tables; None = parse them from `text`

    @property
    def label(self) -> str:
        parts = [Path(self.source).name or self.source]
        if self.page is not None:
            parts.append(f"page {self.page}")
        if self.region:
            parts.append(self.region)
        return " — ".join(parts)

    def document(self) -> Document:
        """The text's segments with `tables` (when given) in place of the parsed ones."""
        doc = parse(self.text)
        if self.tables is None:
            return doc
        edited = list(self.tables)
        segs: list[TextSegment | Table] = []
        for seg in doc.segments:
            if isinstance(seg, Table):
                if edited:
                    segs.append(edited.pop(0))
            else:
                segs.append(seg)
        segs.extend(edited)
        return Document(segs)

    def all_tables(self) -> list[Table]:
        tables = self.document().tables
        if not tables and self.task == "fields":
            tables = fields_tables(self.text)
        return tables


def fields_tables(text: str) -> list[Table]:
    """Key fields JSON → a key/value table plus a line-items table (when present)."""
    obj = parse_fields(text)
    if obj is None:
        return []
    kv = [["Field", "Value"]]
    items_table: list[Table] = []
    for key, value in obj.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            cols: list[str] = []
            for v in value:
                cols += [k for k in v if k not in cols]
            grid = [cols] + [[_scalar(v.get(c)) for c in cols] for v in value]
            items_table.append(Table.from_grid(grid, header_rows=1, caption=str(key)))
        else:
            kv.append([str(key), _scalar(value)])
    return [Table.from_grid(kv, header_rows=1, caption="fields"), *items_table]


def _scalar(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False)
    return str(v)


def format_for(path: str | os.PathLike[str], fmt: str | None = None) -> str:
    """The export format: `fmt` if given, else from the file's extension."""
    name = (fmt or Path(path).suffix.lstrip(".")).lower().lstrip(".")
    name = _ALIASES.get(name, name)
    if name not in FORMATS:
        shown = fmt or Path(path).suffix or "(none)"
        raise ExportError(f"Cannot export to {shown!s}: choose one of " +
                          ", ".join("." + f for f in FORMATS) + ".")
    return name


# ====================================================================== export API

def export(items: Sequence[ExportItem], path: str | os.PathLike[str], fmt: str | None = None,
           *, csv_bom: bool = False, typed: bool = True) -> Path:
    """Write a whole document (every item) to `path`; the format comes from the extension
    unless `fmt` says otherwise. `typed`: numbers and dates become spreadsheet values
    (xlsx). `csv_bom`: start a CSV with a UTF-8 BOM so Excel reads it as UTF-8."""
    kind = format_for(path, fmt)
    data = render(items, kind, csv_bom=csv_bom, typed=typed)
    return atomic_write(path, data)


def export_table(table: Table, path: str | os.PathLike[str], fmt: str | None = None,
                 *, source: str = "", **kwargs: Any) -> Path:
    """Export one table (the grid tab's "Export…")."""
    item = ExportItem(source=source, task="table", text="", tables=[table])
    return export([item], path, fmt, **kwargs)


def render(items: Sequence[ExportItem], fmt: str, *, csv_bom: bool = False,
           typed: bool = True) -> bytes:
    """The file's bytes in memory (also what a clipboard copy can use)."""
    kind = format_for("x", fmt)
    if kind == "xlsx":
        return _xlsx(items, typed)
    if kind == "csv":
        return _csv(items).encode("utf-8-sig" if csv_bom else "utf-8")
    if kind == "md":
        return _md(items).encode("utf-8")
    if kind == "html":
        return _html(items).encode("utf-8")
    if kind == "txt":
        return _txt(items).encode("utf-8")
    return _json(items).encode("utf-8")


# ====================================================================== writers

def _xlsx(items: Sequence[ExportItem], typed: bool) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    sources: list[list[Any]] = []
    n = 0
    text_rows: list[list[str]] = []
    for item in items:
        tables = item.all_tables()
        # text around the tables goes to a "Text" sheet so the workbook loses nothing
        around = item.text if not tables else item.document().text
        if not (item.task == "fields" and tables):
            text_rows += [[item.label, line] for line in around.splitlines() if line.strip()]
        for k, table in enumerate(tables, 1):
            n += 1
            title = f"Table {n}"
            ws = wb.create_sheet(title)
            _fill_sheet(ws, table, typed, bold, wrap, get_column_letter)
            sources.append([title, item.source, item.page if item.page is not None else "",
                            item.region or "whole page", item.task, k, table.caption])
    if text_rows:
        ws = wb.create_sheet("Text")
        ws.append(["Source", "Text"])
        for row in text_rows:
            ws.append([_xl_text(v) for v in row])
            for c in ws[ws.max_row]:
                c.data_type = "s"
        for c in ws[1]:
            c.font = bold
        ws.column_dimensions["A"].width = 30
        ws.column_dimensions["B"].width = 100
    ws = wb.create_sheet("Sources")
    ws.append(["Sheet", "Source file", "Page", "Region", "Task", "Table on page", "Caption"])
    for c in ws[1]:
        c.font = bold
    for row in sources:
        ws.append(row)
        for c in ws[ws.max_row]:
            if isinstance(c.value, str):
                c.value = _xl_text(c.value)
                c.data_type = "s"
    for col, width in zip("ABCDEFG", (10, 50, 6, 20, 10, 8, 30), strict=True):
        ws.column_dimensions[col].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _xl_text(s: str) -> str:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", s)[:_XLSX_CELL_MAX]


def _fill_sheet(ws: Any, table: Table, typed: bool, bold: Any, wrap: Any,
                letter: Callable[[int], str]) -> None:
    table.normalize()
    grid = typed_grid(table) if typed else None
    texts = table.to_grid()
    merges = table.merged_ranges()
    head = header_rows_of(table)
    spanned_anchor = {(m.row, m.col) for m in merges if m.colspan > 1}
    widths: dict[int, float] = {}
    for r, row in enumerate(texts):
        for c, text in enumerate(row):
            if not text:
                continue
            cell = ws.cell(row=r + 1, column=c + 1)
            tv = grid[r][c] if grid is not None else None
            if tv is not None and tv.kind != "text":
                cell.value = tv.value
                cell.number_format = tv.number_format
            else:
                cell.value = _xl_text(text)
                cell.data_type = "s"  # never a formula, whatever the text starts with
            if "\n" in text:
                cell.alignment = wrap
            if r < head:
                cell.font = bold
            if (r, c) not in spanned_anchor:
                widths[c] = max(widths.get(c, 0), _display_width(text))
    for m in merges:
        ws.merge_cells(start_row=m.row + 1, start_column=m.col + 1,
                       end_row=m.last_row + 1, end_column=m.last_col + 1)
    for c, w in widths.items():
        ws.column_dimensions[letter(c + 1)].width = min(60.0, max(6.0, w + 2))
    if 0 < head < len(texts):
        ws.freeze_panes = ws.cell(row=head + 1, column=1)


def _display_width(text: str) -> float:
    # wide (CJK) characters take two columns in a spreadsheet
    return max((sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)
                for line in text.splitlines()), default=0)


def csv_safe(text: str) -> str:
    """Text a spreadsheet must not run as a formula gets a leading apostrophe."""
    if text.startswith(_FORMULA_START) and parse_value(text).kind == "text":
        return "'" + text
    return text


def _csv(items: Sequence[ExportItem]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    first = True
    for item in items:
        tables = item.all_tables()
        blocks = [t.to_grid() for t in tables] if tables else (
            [[[line] for line in item.text.splitlines()]] if item.text else [])
        for grid in blocks:
            if not first:
                w.writerow([])  # a blank row between tables
            first = False
            for row in grid:
                w.writerow([csv_safe(t) for t in row])
    return out.getvalue()


def _segments(item: ExportItem) -> list[TextSegment | Table]:
    doc = item.document()
    if not doc.tables and item.task == "fields":
        tables = fields_tables(item.text)
        if tables:
            return [*tables]
    return doc.segments


def _md_table(t: Table) -> str:
    return t.to_html() if t.merged_ranges() else t.to_markdown()


def _md(items: Sequence[ExportItem]) -> str:
    parts: list[str] = []
    for item in items:
        if len(items) > 1:
            parts.append(f"## {item.label}\n\n")
        for seg in _segments(item):
            if isinstance(seg, Table):
                if parts and not parts[-1].endswith("\n"):
                    parts.append("\n")
                parts.append(_md_table(seg) + "\n")
            else:
                parts.append(seg.text)
        if parts and not parts[-1].endswith("\n"):
            parts.append("\n")
        parts.append("\n")
    return "".join(parts).rstrip("\n") + "\n"


def _html(items: Sequence[ExportItem]) -> str:
    body: list[str] = []
    for item in items:
        body.append(f"<section><h2>{html.escape(item.label)}</h2>")
        for seg in _segments(item):
            if isinstance(seg, Table):
                body.append(seg.to_html())
            elif seg.text.strip():
                body.append(f'<div class="text">{html.escape(seg.text.strip())}</div>')
        body.append("</section>")
    title = html.escape(items[0].label if items else "Desktop OCR export")
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            f"<title>{title}</title><style>"
            "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #999;"
            "padding:2px 6px;vertical-align:top}.text{white-space:pre-wrap}"
            "</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def _txt(items: Sequence[ExportItem]) -> str:
    parts: list[str] = []
    for item in items:
        if len(items) > 1:
            parts.append(f"=== {item.label} ===\n")
        for seg in _segments(item):
            if isinstance(seg, Table):
                if parts and not parts[-1].endswith("\n"):
                    parts.append("\n")
                parts.append(seg.to_tsv() + "\n")
            else:
                parts.append(seg.text)
        if parts and not parts[-1].endswith("\n"):
            parts.append("\n")
        parts.append("\n")
    return "".join(parts).rstrip("\n") + "\n"


def _json(items: Sequence[ExportItem]) -> str:
    results = []
    for item in items:
        entry: dict[str, Any] = {"source": item.source, "page": item.page,
                                 "region": item.region, "task": item.task, "text": item.text,
                                 "tables": [t.to_dict() for t in item.document().tables]}
        if item.task == "fields":
            entry["fields"] = parse_fields(item.text)
        results.append(entry)
    return json.dumps({"generator": f"{APP_ID} {__version__}", "results": results},
                      ensure_ascii=False, indent=2) + "\n"

