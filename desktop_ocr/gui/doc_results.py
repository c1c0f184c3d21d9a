"""Results of one document, per page and per region, and the one place they are exported.

Qt-free so the whole-document runner, the result pane and the export share one store.
`export_results` is the single export call of the GUI; it hands ExportItems built from
the results (and the tables as edited in the grid) to core/export.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from desktop_ocr.core.export import ExportError, ExportItem, export, format_for
from desktop_ocr.core.tables import Table

EXPORT_FILTER = ("Excel workbook (*.xlsx);;CSV (*.csv);;Text (*.txt);;Markdown (*.md);;"
                 "HTML (*.html);;JSON (*.json)")
EXPORT_SUFFIXES = tuple(f".{f}" for f in ("xlsx", "csv", "txt", "md", "html", "json"))


@dataclass(frozen=True)
class PartResult:
    """What one region (or a whole page) gave."""

    key: str  # region id, or "page" for the whole page
    label: str  # what the user reads: "Region 2", "Page 3"
    text: str = ""
    source: str = "ocr"  # "ocr" | "pdf-text"
    task: str = ""
    engine: str = ""
    finish: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


class DocumentResults:
    """Results by page index; a page's parts are kept in reading order."""

    def __init__(self, name: str, page_count: int) -> None:
        self.name = name
        self.page_count = page_count
        self._pages: dict[int, list[PartResult]] = {}

    def __len__(self) -> int:
        return len(self._pages)

    def set_page(self, index: int, parts: list[PartResult]) -> None:
        self._pages[index] = list(parts)

    def page(self, index: int) -> list[PartResult]:
        return list(self._pages.get(index, ()))

    def has_page(self, index: int) -> bool:
        return index in self._pages

    def page_ok(self, index: int) -> bool:
        parts = self._pages.get(index)
        return bool(parts) and all(p.ok for p in parts)

    def done_pages(self) -> list[int]:
        return sorted(self._pages)

    def clear(self) -> None:
        self._pages.clear()

    def page_text(self, index: int) -> str:
        """The page's text; each part headed by its label when there are several."""
        parts = self._pages.get(index, [])
        if len(parts) == 1 and parts[0].key == "page":
            return parts[0].text if parts[0].ok else f"[{parts[0].error}]"
        chunks = []
        for p in parts:
            body = p.text.rstrip("\n") if p.ok else f"[{p.error}]"
            chunks.append(f"[{p.label}]\n{body}")
        return "\n\n".join(chunks)

    def text(self) -> str:
        """The whole document: pages headed `--- page N ---` when there are several
        (the CLI's format)."""
        pages = self.done_pages()
        if self.page_count == 1 and pages == [0]:
            return self.page_text(0)
        return "\n\n".join(f"--- page {i + 1} ---\n{self.page_text(i).rstrip()}" for i in pages)

    def markdown(self) -> str:
        out = [f"# {self.name}"]
        for i in self.done_pages():
            out.append(f"## Page {i + 1}")
            parts = self._pages[i]
            for p in parts:
                if not (len(parts) == 1 and p.key == "page"):
                    out.append(f"### {p.label}")
                out.append(p.text.strip() if p.ok else f"> {p.error}")
        return "\n\n".join(out) + "\n"

    def to_json(self) -> dict:
        return {
            "document": self.name,
            "page_count": self.page_count,
            "pages": [
                {"page": i + 1, "parts": [asdict(p) for p in self._pages[i]]}
                for i in self.done_pages()
            ],
        }


def export_items(results: DocumentResults, source: str = "",
                 tables: Mapping[tuple[int, str], list[Table]] | None = None) -> list[ExportItem]:
    """One ExportItem per recognised part, pages in order. `tables` holds the grids as the
    user edited them, by (page index, part key); parts without an entry have their tables
    parsed from the text. Failed parts are left out (they have no text to export)."""
    tables = tables or {}
    items: list[ExportItem] = []
    for i in results.done_pages():
        for p in results.page(i):
            if not p.ok:
                continue
            items.append(ExportItem(
                source=source or results.name,
                page=i + 1 if results.page_count > 1 else None,
                region="" if p.key == "page" else p.label,
                task=p.task or "text",
                text=p.text,
                tables=tables.get((i, p.key))))
    return items


def export_results(path: Path, results: DocumentResults, *, source: str = "",
                   tables: Mapping[tuple[int, str], list[Table]] | None = None) -> Path:
    """Write the whole document's results to `path` (core/export.py: .xlsx, .csv, .md,
    .html, .txt, .json; an unknown suffix gets .txt added), atomically. Returns the path
    written; raises ExportError with a message for the user."""
    try:
        format_for(path)
    except ExportError:
        path = path.with_name(path.name + ".txt")
    return export(export_items(results, source, tables), path)


def with_filter_suffix(path: Path, selected_filter: str) -> Path:
    """`path` with the suffix of the file dialog's chosen filter when it has no known one
    (a name typed without extension)."""
    try:
        format_for(path)
        return path
    except ExportError:
        pass
    start = selected_filter.find("(*.")
    if start < 0:
        return path
    suffix = selected_filter[start + 2:].split(")")[0].split()[0]
    return path.with_name(path.name + suffix)
