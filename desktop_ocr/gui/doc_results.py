"""Results of one document, per page and per region, and the one place they are exported.

Qt-free so the whole-document runner, the result pane and the export share one store.
`export_results` is the single export call of the GUI: core/export.py (xlsx, csv, ...)
replaces its body later without touching the callers.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

EXPORT_FILTER = "Text (*.txt);;Markdown (*.md);;JSON (*.json)"
EXPORT_SUFFIXES = (".txt", ".md", ".json")


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


def _atomic_write(path: Path, text: str) -> None:
    # Write beside the target and rename, so a full disk never leaves half a file.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def export_results(path: Path, results: DocumentResults) -> Path:
    """Write the whole document's results to `path`; the format follows its suffix
    (.txt, .md, .json; anything else gets .txt added). Returns the path written."""
    suffix = path.suffix.lower()
    if suffix not in EXPORT_SUFFIXES:
        path = path.with_name(path.name + ".txt")
        suffix = ".txt"
    if suffix == ".md":
        text = results.markdown()
    elif suffix == ".json":
        text = json.dumps(results.to_json(), ensure_ascii=False, indent=2) + "\n"
    else:
        text = results.text().rstrip("\n") + "\n"
    _atomic_write(path, text)
    return path
