"""The clipboard forms of a result: plain text, or for a table TSV + an HTML table.

Spreadsheets (Excel, LibreOffice Calc, Google Sheets) paste text/html tables and
tab-separated text as cells, and run a cell starting with "=" as a formula: both flavours
go through core.export.csv_safe, the one neutralising function. Qt-free.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from desktop_ocr.core.export import csv_safe
from desktop_ocr.gui.clipboard.base import ClipboardPayload

_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")


def _split_row(line: str) -> list[str]:
    body = line.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|") and not body.endswith("\\|"):
        body = body[:-1]
    cells = re.split(r"(?<!\\)\|", body)
    return [c.strip().replace("\\|", "|") for c in cells]


def markdown_table_rows(text: str) -> list[list[str]]:
    """Rows of the first Markdown pipe table in `text` (header included), or []."""
    lines = text.splitlines()
    for i in range(len(lines) - 1):
        if "|" in lines[i] and _SEPARATOR.match(lines[i + 1]):
            rows = [_split_row(lines[i])]
            for line in lines[i + 2:]:
                if "|" not in line or not line.strip():
                    break
                rows.append(_split_row(line))
            return rows
    return []


class _TableParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None
        self._span = 1
        self._depth = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag == "table":
            self._depth += 1
        elif tag == "tr" and self._depth == 1:
            self.rows.append([])
        elif tag in ("td", "th") and self._depth == 1 and self.rows:
            self._cell = []
            span = dict(attrs).get("colspan") or "1"
            self._span = int(span) if span.isdigit() and 0 < int(span) < 100 else 1
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self.rows[-1].extend([""] * (self._span - 1))
            self._cell = None
        elif tag == "table":
            self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def html_table_rows(text: str) -> list[list[str]]:
    if "<table" not in text.lower():
        return []
    parser = _TableParser()
    parser.feed(text)
    parser.close()
    return [r for r in parser.rows if r]


def table_rows(text: str) -> list[list[str]]:
    return html_table_rows(text) or markdown_table_rows(text)


def to_tsv(rows: list[list[str]]) -> str:
    # Tabs and newlines inside a cell would split it; spreadsheets have no escape for them.
    # A cell whose text only started with a tab or CR is still a formula risk after the
    # whitespace is folded, so neutralise the cell as the user would see it.
    return "\n".join("\t".join(csv_safe(" ".join(c.split())) for c in row) for row in rows) + "\n"


def to_html(rows: list[list[str]]) -> str:
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(csv_safe(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<html><body><table>{body}</table></body></html>"


def payload_for(text: str, task: str) -> ClipboardPayload:
    """Plain text, or TSV + HTML when the task is a table and the text holds one."""
    if task == "table":
        rows = table_rows(text)
        if rows:
            width = max(len(r) for r in rows)
            rows = [r + [""] * (width - len(r)) for r in rows]
            return ClipboardPayload(to_tsv(rows), to_html(rows))
    return ClipboardPayload(text)
