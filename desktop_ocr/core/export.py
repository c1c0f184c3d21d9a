"""Export recognised results: .xlsx, .csv, .md, .html, .txt, .json, .docx and searchable
.pdf, saved atomically.

A document export takes a list of `ExportItem`s (one per recognised page or region),
renders the whole file in memory, then `atomic_write` puts it in place: a temporary file
in the target folder, fsync, os.replace. A failure at any step leaves the previous file
as it was and raises `ExportError` with a message fit for the user.

Text that a spreadsheet could run as a formula (starting with = + - @, their full-width
forms, a tab or a CR) is never written as one, wherever data leaves the app: `csv_safe`
is the one neutralising function. In CSV, TSV, the clipboard's TSV and HTML flavours and
Markdown / HTML table cells such text gets a leading apostrophe (what a spreadsheet user
types to mean "this is text"); in xlsx the cell is typed as a string and quote-prefixed,
so the value stays exact and editing it in Excel does not turn it into a formula. Plain
numbers like -5 are left alone.

.docx is written by core/docx_export.py, the searchable .pdf by core/searchable_pdf.py
(the items' pages with the text as an invisible layer; it reads the items' `region_rect`,
`rotation`, `layout` and `image`).
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop_ocr import APP_ID, __version__
from desktop_ocr.core.atomic import SaveError, atomic_write
from desktop_ocr.core.layout import Layout
from desktop_ocr.core.messages import QT_TRANSLATE_NOOP, Text
from desktop_ocr.core.results import PartResult
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

if TYPE_CHECKING:
    from PIL import Image

    from desktop_ocr.core.results import PartResult

__all__ = ["ExportError", "ExportItem", "FORMATS", "format_for", "render", "export",
           "export_table", "csv_safe", "formula_risk", "table_tsv", "table_html",
           "items_from_results", "export_batch"]

FORMATS = ("xlsx", "csv", "tsv", "md", "html", "txt", "json", "docx", "pdf")
# What a file dialog calls each format.
FORMAT_NAMES = {"xlsx": "Excel workbook", "csv": "CSV", "tsv": "Tab-separated values",
                "md": "Markdown", "html": "HTML", "txt": "Text", "json": "JSON",
                "docx": "Word document", "pdf": "Searchable PDF"}
_ALIASES = {"markdown": "md", "htm": "html", "text": "txt", "xls": "xlsx", "tab": "tsv",
            "word": "docx"}
# What starts a formula in Excel, LibreOffice or Google Sheets (full-width forms too:
# East Asian input methods type them, and Excel reads them as the ASCII ones).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_INERT = set(" =+-@\t\r\uff1d\uff0b\uff0d\uff20")
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
    # ---- what only the searchable PDF reads
    region_rect: tuple[float, float, float, float] | None = None  # x, y, w, h fractions
    rotation: int = 0  # clockwise degrees the user turned the page before recognising
    layout: Layout | None = None  # the CPU engine's boxes of the recognised image
    image: Image.Image | None = None  # the page's picture when the source is no file

    @classmethod
    def from_result(cls, result: PartResult, *, image: Image.Image | None = None) -> ExportItem:
        """The export view of a library result; its layout comes from
        `result.extra["layout"]` (a `Layout.to_dict()`) when the pipeline kept one."""
        raw = result.extra.get("layout") if result.extra else None
        layout = raw if isinstance(raw, Layout) else Layout.from_dict(raw) if raw else None
        return cls(source=result.source, page=result.page if result.page_count > 1 else None,
                   region=result.region_label, task=result.task, text=result.text,
                   tables=result.tables, region_rect=result.region, rotation=result.rotation,
                   layout=layout, image=image)

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
        raise ExportError(Text(QT_TRANSLATE_NOOP("Messages", "Cannot export to {what}: choose one of {formats}."),
                               what=str(shown), formats=", ".join("." + f for f in FORMATS)))
    return name


# ====================================================================== export API

def export(items: Sequence[ExportItem], path: str | os.PathLike[str], fmt: str | None = None,
           *, csv_bom: bool = False, typed: bool = True,
           passwords: Mapping[str, str] | None = None) -> Path:
    """Write a whole document (every item) to `path`; the format comes from the extension
    unless `fmt` says otherwise. `typed`: numbers and dates become spreadsheet values
    (xlsx). `csv_bom`: start a CSV with a UTF-8 BOM so Excel reads it as UTF-8.
    `passwords`: source path -> password, for a searchable PDF of encrypted PDFs."""
    kind = format_for(path, fmt)
    data = render(items, kind, csv_bom=csv_bom, typed=typed, passwords=passwords)
    return atomic_write(path, data)


def export_table(table: Table, path: str | os.PathLike[str], fmt: str | None = None,
                 *, source: str = "", **kwargs: Any) -> Path:
    """Export one table (the grid tab's "Export…")."""
    item = ExportItem(source=source, task="table", text="", tables=[table])
    return export([item], path, fmt, **kwargs)


def render(items: Sequence[ExportItem], fmt: str, *, csv_bom: bool = False,
           typed: bool = True, passwords: Mapping[str, str] | None = None) -> bytes:
    """The file's bytes in memory (also what a clipboard copy can use)."""
    kind = format_for("x", fmt)
    if kind == "pdf":
        from desktop_ocr.core import searchable_pdf

        return searchable_pdf.build(pdf_pages(items), passwords=passwords)
    if kind == "docx":
        from desktop_ocr.core.docx_export import render_docx

        return render_docx(items)
    if kind == "xlsx":
        return _xlsx(items, typed)
    if kind == "csv":
        return _csv(items).encode("utf-8-sig" if csv_bom else "utf-8")
    if kind == "tsv":
        return _csv(items, delimiter="\t").encode("utf-8-sig" if csv_bom else "utf-8")
    if kind == "md":
        return _md(items).encode("utf-8")
    if kind == "html":
        return _html(items).encode("utf-8")
    if kind == "txt":
        return _txt(items).encode("utf-8")
    return _json(items).encode("utf-8")


def pdf_pages(items: Sequence[ExportItem]) -> list[Any]:
    """The searchable PDF's pages: one per source page, in the order items first name it,
    each with the text of every item (region) on it."""
    from desktop_ocr.core.searchable_pdf import LayerPage, LayerPart, layer_text

    pages: dict[tuple[str, int, int], LayerPage] = {}
    for item in items:
        number = item.page or 1
        key = (item.source, number, id(item.image) if item.image is not None else 0)
        page = pages.get(key)
        if page is None:
            page = pages[key] = LayerPage(item.source, number, item.rotation, image=item.image)
        text = layer_text(item.document(), item.task, item.layout)
        page.parts.append(LayerPart(text, item.region_rect, item.layout))
    return list(pages.values())


# ====================================================================== writers

def _workbook() -> tuple[Any, Any, Any, Callable[[int], str]]:
    """An empty workbook and the styles every sheet of ours uses."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    return wb, Font(bold=True), Alignment(wrap_text=True, vertical="top"), get_column_letter


def _text_sheet(wb: Any, rows: list[list[str]], bold: Any) -> None:
    """The "Text" sheet: the text around the tables, so the workbook loses nothing; every
    cell a string, quote-prefixed where it would read as a formula."""
    if not rows:
        return
    ws = wb.create_sheet("Text")
    ws.append(["Source", "Text"])
    for row in rows:
        ws.append([_xl_text(v) for v in row])
        for c in ws[ws.max_row]:
            c.data_type = "s"
            c.quotePrefix = formula_risk(c.value or "")
    for c in ws[1]:
        c.font = bold
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 100


def _item_text_lines(item: ExportItem, tables: list[Table]) -> list[str]:
    """The lines of an item that are not in its tables (key fields: all in the table)."""
    if item.task == "fields" and tables:
        return []
    around = item.text if not tables else item.document().text
    return [line for line in around.splitlines() if line.strip()]


def _saved(wb: Any) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _xlsx(items: Sequence[ExportItem], typed: bool) -> bytes:
    wb, bold, wrap, get_column_letter = _workbook()
    sources: list[list[Any]] = []
    n = 0
    text_rows: list[list[str]] = []
    for item in items:
        tables = item.all_tables()
        text_rows += [[item.label, line] for line in _item_text_lines(item, tables)]
        for k, table in enumerate(tables, 1):
            n += 1
            title = f"Table {n}"
            ws = wb.create_sheet(title)
            _fill_sheet(ws, table, typed, bold, wrap, get_column_letter)
            sources.append([title, item.source, item.page if item.page is not None else "",
                            item.region or "whole page", item.task, k, table.caption])
    _text_sheet(wb, text_rows, bold)
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
                c.quotePrefix = formula_risk(c.value)
    for col, width in zip("ABCDEFG", (10, 50, 6, 20, 10, 8, 30), strict=True):
        ws.column_dimensions[col].width = width
    return _saved(wb)


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
                if formula_risk(text):
                    cell.quotePrefix = True  # and editing it in Excel keeps it text
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


def formula_risk(text: str) -> bool:
    """Would a spreadsheet read `text` as a formula? Plain numbers (-5, +1.5e3 is not one)
    and cells of nothing but signs ("-", "--") are safe: nothing there can call anything."""
    if not text.startswith(_FORMULA_START) or not set(text) - _INERT:
        return False
    return parse_value(text).kind == "text"


def csv_safe(text: str) -> str:
    """The one neutralising function: text a spreadsheet must not run as a formula gets
    a leading apostrophe (CSV, TSV, clipboard, Markdown and HTML cells)."""
    return "'" + text if formula_risk(text) else text


def table_tsv(table: Table) -> str:
    """A table as tab-separated text for a spreadsheet (clipboard, grid Copy)."""
    return table.to_tsv(cell=csv_safe)


def table_html(table: Table) -> str:
    """A table as an HTML <table> whose cells cannot run as formulas when pasted."""
    return table.to_html(cell=csv_safe)


def _csv(items: Sequence[ExportItem], delimiter: str = ",") -> str:
    out = io.StringIO()
    # A tab in a TSV cell is quoted like a comma in CSV (Excel and LibreOffice read both).
    w = csv.writer(out, lineterminator="\r\n", delimiter=delimiter)
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
    # Cell text is escaped: a recognised "<img onerror=...>" must stay text in a viewer.
    return t.to_html(cell=csv_safe) if t.merged_ranges() else t.to_markdown(cell=csv_safe)


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
                body.append(seg.to_html(cell=csv_safe))
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



# ====================================================================== results and batches

def items_from_results(results: Sequence[PartResult]) -> list[ExportItem]:
    """Export items for stored or fresh results: tables as the user edited them, failed
    parts left out, the page shown only for sources with more than one page, the CPU
    engine's boxes where the result keeps them (a searchable PDF places its text there)."""
    return [ExportItem.from_result(r) for r in results if r.ok]


_BATCH_SOURCES = ("File", "Page", "Region", "Task", "Engine", "Model", "Finished", "Sheet", "Path")
_UNSAFE_NAME = re.compile(r'[\x00-\x1f<>:"/\\|?*]+')


def export_batch(results: Sequence[PartResult], path_or_folder: str | os.PathLike[str],
                 per_input: bool = False, fmt: str | None = None, *, typed: bool = True,
                 csv_bom: bool = False) -> list[Path]:
    """Export a batch of results (failed parts left out); returns the files written.

    `per_input=False`: one file at `path_or_folder`, its format from the extension unless
    `fmt` says; a workbook gets a sheet per table, a Text sheet for text, and a Sources
    sheet saying where each came from (file, page, region, task, engine, model, when,
    which sheet). `per_input=True`: `path_or_folder` is a folder (created if missing) and
    each input gets its own file there, named after it, in `fmt` (default xlsx). Each
    file is written atomically."""
    ok = [r for r in results if r.ok]
    if not ok:
        raise ExportError(QT_TRANSLATE_NOOP(
            "Messages", "Nothing to export: no part of these results was recognised."))
    if not per_input:
        kind = format_for(path_or_folder, fmt)
        return [atomic_write(path_or_folder, _batch_bytes(ok, kind, typed, csv_bom))]
    kind = format_for("x", fmt or "xlsx")
    folder = Path(path_or_folder)
    if folder.exists() and not folder.is_dir():
        raise ExportError(Text(QT_TRANSLATE_NOOP(
            "Messages", "Cannot export into {path}: it is a file, not a folder."), path=str(folder)))
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(Text(QT_TRANSLATE_NOOP("Messages", "Cannot create the folder {path}: {why}."),
                               path=str(folder), why=str(exc.strerror or exc))) from exc
    groups: dict[tuple[str, str], list[PartResult]] = {}
    for r in ok:
        groups.setdefault((r.source_kind, r.source), []).append(r)
    written: list[Path] = []
    taken: set[str] = set()
    for group in groups.values():
        name = _file_stem(group[0])
        stem, n = name, 1
        while f"{stem}.{kind}".lower() in taken:
            n += 1
            stem = f"{name} ({n})"
        taken.add(f"{stem}.{kind}".lower())
        written.append(atomic_write(folder / f"{stem}.{kind}",
                                    _batch_bytes(group, kind, typed, csv_bom)))
    return written


def _file_stem(r: PartResult) -> str:
    stem = Path(r.source).stem if r.source_kind == "file" else r.source
    return _UNSAFE_NAME.sub("_", stem).strip(" .")[:120] or "result"


def _batch_bytes(results: Sequence[PartResult], kind: str, typed: bool, csv_bom: bool) -> bytes:
    if kind == "xlsx":
        return _batch_xlsx(results, typed)
    return render(items_from_results(results), kind, csv_bom=csv_bom, typed=typed)


def _batch_xlsx(results: Sequence[PartResult], typed: bool) -> bytes:
    import datetime as _dt

    wb, bold, wrap, get_column_letter = _workbook()
    sources: list[list[Any]] = []
    text_rows: list[list[str]] = []
    n = 0
    for r, item in zip(results, items_from_results(results), strict=True):
        tables = item.all_tables()
        lines = _item_text_lines(item, tables)
        text_rows += [[item.label, line] for line in lines]
        sheets = []
        for table in tables:
            n += 1
            sheets.append(f"Table {n}")
            _fill_sheet(wb.create_sheet(sheets[-1]), table, typed, bold, wrap, get_column_letter)
        if lines:
            sheets.append("Text")
        finished = _dt.datetime.fromtimestamp(r.created).replace(microsecond=0)
        sources.append([r.name, r.page if r.page_count > 1 else "", r.region_label or "whole page",
                        r.task, r.engine, r.model, finished, ", ".join(sheets),
                        r.source if r.source_kind == "file" else ""])
    _text_sheet(wb, text_rows, bold)
    ws = wb.create_sheet("Sources")
    ws.append(list(_BATCH_SOURCES))
    for c in ws[1]:
        c.font = bold
    for row in sources:
        ws.append(row)
        for c in ws[ws.max_row]:
            if isinstance(c.value, str):
                c.value = _xl_text(c.value)
                c.data_type = "s"  # a file called "=cmd.png" stays text
            elif isinstance(c.value, _dt.datetime):
                c.number_format = "yyyy-mm-dd hh:mm"
    for col, width in zip("ABCDEFGHI", (30, 6, 14, 10, 10, 28, 17, 18, 60), strict=True):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A2"
    return _saved(wb)
