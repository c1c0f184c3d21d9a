"""Tables in recognised text: the table model, Markdown/HTML parsing (also of a growing
stream), and typing of cell values for spreadsheets.

The model follows HTML: a table is a list of rows, each listing the cells that *start*
in that row, left to right, with their rowspan/colspan. `Table.to_grid()` expands it to
a dense grid and `Table.merged_ranges()` lists the merges, which is what a spreadsheet
or an editable grid wants; `Table.from_grid()` goes back.

`StreamParser` is fed the model's answer chunk by chunk (a chunk may end anywhere, even
inside a tag) and reports rows as soon as they close. Each chunk is looked at once: the
only text kept between chunks is the unfinished line (text mode) or html.parser's
unfinished tag, so the cost per chunk does not grow with the table.
"""

from __future__ import annotations

import datetime as _dt
import html
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, Literal

__all__ = [
    "Cell", "Table", "CellRange", "TextSegment", "Document",
    "TableStarted", "RowAdded", "TableFinished", "TextAdded", "Event",
    "StreamParser", "parse", "parse_tables",
    "TypedValue", "parse_value", "infer_column_hints", "typed_grid", "header_rows_of",
]

MAX_COLSPAN = 1000  # a hostile or garbled colspan must not allocate a billion columns
MAX_ROWSPAN = 10000


# ====================================================================== model

@dataclass
class Cell:
    text: str = ""
    rowspan: int = 1
    colspan: int = 1
    header: bool = False  # a <th>, or a cell in <thead> / the Markdown header line

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"text": self.text}
        if self.rowspan != 1:
            d["rowspan"] = self.rowspan
        if self.colspan != 1:
            d["colspan"] = self.colspan
        if self.header:
            d["header"] = True
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Cell:
        return cls(str(d.get("text", "")), int(d.get("rowspan", 1)), int(d.get("colspan", 1)),
                   bool(d.get("header", False)))


@dataclass(frozen=True)
class CellRange:
    """A merged block in grid coordinates (0-based, inclusive start, spans >= 1)."""

    row: int
    col: int
    rowspan: int
    colspan: int

    @property
    def last_row(self) -> int:
        return self.row + self.rowspan - 1

    @property
    def last_col(self) -> int:
        return self.col + self.colspan - 1


class _Placer:
    """Places rows of spanning cells on a grid, one row at a time, in O(row width).

    `carry` maps a column to how many more rows a rowspan from above still covers.
    Colspans that would run into an occupied slot are cut short so merged ranges never
    overlap (Excel rejects files with overlapping merges).
    """

    def __init__(self) -> None:
        self.carry: dict[int, int] = {}
        self.n_cols = 0
        self.row = 0
        # cells whose rowspan still reaches below the last placed row, by anchor column
        self.open: dict[int, tuple[Cell, int]] = {}

    def place(self, cells: Sequence[Cell]) -> list[int]:
        taken = self.carry
        new: dict[int, int] = {}
        cols: list[int] = []
        col = 0
        for cell in cells:
            while col in taken or col in new:
                col += 1
            span = 0
            while span < cell.colspan and (col + span) not in taken:
                span += 1
            cell.colspan = max(1, span)
            cols.append(col)
            if cell.rowspan > 1:
                self.open[col] = (cell, self.row)
            for k in range(cell.colspan):
                new[col + k] = cell.rowspan - 1
            col += cell.colspan
        width = max([col, *[c + 1 for c in taken]]) if cells or taken else 0
        self.n_cols = max(self.n_cols, width)
        nxt = {c: n - 1 for c, n in taken.items() if n > 1}
        nxt.update({c: n for c, n in new.items() if n > 0})
        self.carry = nxt
        if self.open:
            self.open = {c: a for c, a in self.open.items() if c in nxt}
        self.row += 1
        return cols

    def clamp_open(self) -> None:
        """The table ended: rowspans reaching past the last row stop at it."""
        for cell, row in self.open.values():
            cell.rowspan = self.row - row
        self.open = {}
        self.carry = {}


@dataclass
class Table:
    rows: list[list[Cell]] = field(default_factory=list)
    header_rows: int = 0  # leading rows that are headers (bold in a spreadsheet)
    caption: str = ""
    source: str = ""  # "html" | "markdown" | "grid": what it was parsed from

    # ---------------------------------------------------------------- geometry

    def placements(self) -> list[list[int]]:
        """Start column of every cell, row by row (colspans that collide are cut)."""
        p = _Placer()
        return [p.place(row) for row in self.rows]

    @property
    def n_rows(self) -> int:
        return len(self.rows)

    @property
    def n_cols(self) -> int:
        p = _Placer()
        for row in self.rows:
            p.place(row)
        return p.n_cols

    def normalize(self) -> Table:
        """Make spans consistent in place: cut colliding colspans, clamp rowspans that run
        past the last row, drop empty rows. Returns self."""
        self.rows = [r for r in self.rows if r]
        n = len(self.rows)
        for i, row in enumerate(self.rows):
            for c in row:
                c.rowspan = max(1, min(c.rowspan, n - i))
                c.colspan = max(1, c.colspan)
        self.placements()
        self.header_rows = max(0, min(self.header_rows, n))
        return self

    def to_grid(self) -> list[list[str]]:
        """Dense grid of texts; a merged block's text sits at its top-left slot, the other
        slots are ""."""
        pl = _Placer()
        placed = [(i, pl.place(row)) for i, row in enumerate(self.rows)]
        n_rows = len(self.rows)
        for i, row in enumerate(self.rows):
            for c in row:
                n_rows = max(n_rows, i + c.rowspan)
        grid = [[""] * pl.n_cols for _ in range(n_rows)]
        for i, cols in placed:
            for cell, col in zip(self.rows[i], cols, strict=True):
                grid[i][col] = cell.text
        return grid

    def merged_ranges(self) -> list[CellRange]:
        out: list[CellRange] = []
        for i, cols in enumerate(self.placements()):
            for cell, col in zip(self.rows[i], cols, strict=True):
                if cell.rowspan > 1 or cell.colspan > 1:
                    out.append(CellRange(i, col, cell.rowspan, cell.colspan))
        return out

    def cells_with_positions(self) -> list[tuple[int, int, Cell]]:
        """(row, col, cell) for every cell, in reading order."""
        return [(i, col, cell) for i, cols in enumerate(self.placements())
                for cell, col in zip(self.rows[i], cols, strict=True)]

    # ---------------------------------------------------------------- builders

    @classmethod
    def from_grid(cls, grid: Sequence[Sequence[str]], merges: Iterable[CellRange] = (),
                  header_rows: int = 0, caption: str = "") -> Table:
        """From a dense grid plus merged ranges (what an editable grid holds). Text in
        slots covered by a merge other than its top-left one is dropped."""
        covered: dict[tuple[int, int], CellRange | None] = {}
        for m in merges:
            for r in range(m.row, m.row + m.rowspan):
                for c in range(m.col, m.col + m.colspan):
                    covered[(r, c)] = None
            covered[(m.row, m.col)] = m
        rows: list[list[Cell]] = []
        for r, line in enumerate(grid):
            row: list[Cell] = []
            for c, text in enumerate(line):
                key = (r, c)
                if key in covered:
                    m = covered[key]
                    if m is None:
                        continue
                    row.append(Cell(text, m.rowspan, m.colspan, r < header_rows))
                else:
                    row.append(Cell(text, 1, 1, r < header_rows))
            rows.append(row)
        return cls(rows, header_rows, caption, "grid")

    @classmethod
    def from_positioned(cls, cells: Iterable[tuple[int, int, str, int, int]],
                        header_rows: int = 0) -> Table:
        """From (row, col, text, rowspan, colspan) tuples in any order (table recognisers)."""
        items = sorted(cells, key=lambda t: (t[0], t[1]))
        n_rows = max((r + max(1, rs) for r, _c, _t, rs, _cs in items), default=0)
        n_cols = max((c + max(1, cs) for _r, c, _t, _rs, cs in items), default=0)
        grid = [[""] * n_cols for _ in range(n_rows)]
        merges = []
        for r, c, text, rs, cs in items:
            grid[r][c] = text
            if rs > 1 or cs > 1:
                merges.append(CellRange(r, c, max(1, rs), max(1, cs)))
        return cls.from_grid(grid, merges, header_rows)

    # ---------------------------------------------------------------- renderers

    def to_html(self, cell: Callable[[str], str] | None = None) -> str:
        """An HTML table; `cell` transforms each cell's text first (formula safety)."""
        parts = ["<table>"]
        if self.caption:
            parts.append(f"<caption>{html.escape(self.caption)}</caption>")
        for i, row in enumerate(self.rows):
            if i == 0 and self.header_rows:
                parts.append("<thead>")
            if i == self.header_rows and self.header_rows:
                parts.append("<tbody>")
            parts.append("<tr>")
            for c in row:
                tag = "th" if i < self.header_rows else "td"
                attrs = (f' rowspan="{c.rowspan}"' if c.rowspan > 1 else "") + (
                    f' colspan="{c.colspan}"' if c.colspan > 1 else "")
                text = html.escape(cell(c.text) if cell else c.text)
                text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")
                parts.append(f"<{tag}{attrs}>{text}</{tag}>")
            parts.append("</tr>")
            if i == self.header_rows - 1:
                parts.append("</thead>")
        if self.header_rows and self.header_rows < len(self.rows):
            parts.append("</tbody>")
        parts.append("</table>")
        return "".join(parts)

    def to_markdown(self, cell: Callable[[str], str] | None = None) -> str:
        """GitHub pipe table. Merges cannot be expressed: covered slots are left empty.

        Cell text is HTML-escaped (Markdown renders raw HTML; a cell is text), then pipes
        and backslashes; `cell` transforms each cell's text first (formula safety)."""
        grid = self.to_grid()
        if not grid:
            return ""
        width = max(1, len(grid[0]))

        def esc(t: str) -> str:
            t = html.escape(cell(t) if cell else t, quote=False)
            t = t.replace("\r\n", "\n").replace("\r", "\n")  # a CR would end the row too
            return t.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "<br>")

        lines = ["| " + " | ".join(esc(t) for t in grid[0]) + " |",
                 "|" + "|".join(["---"] * width) + "|"]
        lines += ["| " + " | ".join(esc(t) for t in row) + " |" for row in grid[1:]]
        return "\n".join(lines)

    def to_tsv(self, cell: Callable[[str], str] | None = None) -> str:
        """Tab-separated rows; `cell` transforms each cell's text first (formula safety)."""

        def esc(t: str) -> str:
            t = cell(t) if cell else t
            if any(ch in t for ch in '\t\n\r"'):
                return '"' + t.replace('"', '""') + '"'
            return t

        return "\n".join("\t".join(esc(t) for t in row) for row in self.to_grid())

    def to_dict(self) -> dict[str, Any]:
        return {"header_rows": self.header_rows, "caption": self.caption,
                "rows": [[c.to_dict() for c in row] for row in self.rows],
                "grid": self.to_grid(),
                "merged": [[m.row, m.col, m.rowspan, m.colspan] for m in self.merged_ranges()]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Table:
        rows = [[Cell.from_dict(c) for c in row] for row in d.get("rows", [])]
        return cls(rows, int(d.get("header_rows", 0)), str(d.get("caption", "")), "json")


@dataclass
class TextSegment:
    text: str


@dataclass
class Document:
    """A parsed answer: text and tables in the order they came."""

    segments: list[TextSegment | Table] = field(default_factory=list)

    @property
    def tables(self) -> list[Table]:
        return [s for s in self.segments if isinstance(s, Table)]

    @property
    def text(self) -> str:
        """The text outside tables, joined."""
        return "".join(s.text for s in self.segments if isinstance(s, TextSegment))


# ====================================================================== events

@dataclass(frozen=True)
class TableStarted:
    index: int  # 0-based among the tables of this answer
    source: str  # "html" | "markdown"


@dataclass(frozen=True)
class RowAdded:
    table_index: int
    row_index: int
    cells: tuple[Cell, ...]
    cols: tuple[int, ...]  # grid column where each cell starts
    header: bool


@dataclass(frozen=True)
class TableFinished:
    index: int
    table: Table  # final, normalised (rowspans past the end clamped)


@dataclass(frozen=True)
class TextAdded:
    text: str


Event = TableStarted | RowAdded | TableFinished | TextAdded


# ====================================================================== streaming parser

_TABLE_OPEN = re.compile(r"<table(?=[\s>/])", re.I)
_TABLE_CLOSE = re.compile(r"</table\s*>", re.I)
_FENCE = re.compile(r"^\s*(```|~~~)[\w+-]*\s*$")
_DELIM_ROW = re.compile(r"^\s*\|?\s*:?-{1,}:?\s*(\|\s*:?-{1,}:?\s*)*\|?\s*$")
_WS = re.compile(r"[ \t\r\n\f\v]+")
_BR = "\x00"
_PLAIN_LINE_PROBE = 1024  # a line with no "|" in its first 1024 chars is never a table row
_TAIL = 64


def _clean_cell(raw: str) -> str:
    # blank lines inside a cell are layout noise (<p> after <br>, nested tables)
    return "\n".join(line for line in (_WS.sub(" ", part).strip() for part in raw.split(_BR)) if line)


def _span(value: str | None, limit: int) -> int:
    try:
        n = int(str(value).strip().rstrip(";")) if value is not None else 1
    except ValueError:
        return 1
    return max(1, min(n, limit))


class _Builder:
    """Collects rows of one table and turns them into events."""

    def __init__(self, parser: StreamParser, source: str) -> None:
        self.p = parser
        self.table = Table(source=source)
        self.index = len(parser.document.tables)
        self.placer = _Placer()
        self.header_open = True
        parser._start_table(self)

    def add_row(self, cells: list[Cell]) -> None:
        if not cells:
            return
        header = all(c.header for c in cells)
        if header and self.header_open:
            self.table.header_rows += 1
        else:
            self.header_open = False
        cols = self.placer.place(cells)
        i = len(self.table.rows)
        self.table.rows.append(cells)
        self.p._emit(RowAdded(self.index, i, tuple(cells), tuple(cols), header))

    def finish(self) -> None:
        # rows were placed (colspans cut) as they came; only overlong rowspans are left,
        # so finishing costs nothing per row already seen
        self.placer.clamp_open()
        self.p._emit(TableFinished(self.index, self.table))


class _HtmlTable(HTMLParser):
    def __init__(self, builder: _Builder) -> None:
        super().__init__(convert_charrefs=True)
        self.b = builder
        self.depth = 0
        self.section = ""
        self.row: list[Cell] | None = None
        self.cell: list[str] | None = None
        self.cell_attrs: tuple[int, int, bool] = (1, 1, False)
        self.caption: list[str] | None = None
        self.stray: list[str] = []
        self.done = False

    # -- cells and rows
    def _close_cell(self) -> None:
        if self.cell is None:
            return
        rs, cs, head = self.cell_attrs
        if self.row is None:
            self.row = []
        self.row.append(Cell(_clean_cell("".join(self.cell)), rs, cs, head))
        self.cell = None

    def _close_row(self) -> None:
        self._close_cell()
        if self.row is not None:
            self.b.add_row(self.row)
            self.row = None

    def finish(self) -> None:
        self._close_row()
        if self.caption is not None:
            self.b.table.caption = _clean_cell("".join(self.caption))
            self.caption = None
        self.done = True

    # -- html.parser callbacks
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.depth += 1
            if self.depth > 1 and self.cell is not None:
                self.cell.append(_BR)
            return
        if self.depth > 1:  # a table nested in a cell: keep its text in the outer cell
            if self.cell is not None and tag in ("td", "th", "tr", "br"):
                self.cell.append(_BR if tag in ("tr", "br") else " ")
            return
        if tag in ("thead", "tbody", "tfoot"):
            self._close_row()
            self.section = tag
        elif tag == "tr":
            self._close_row()
            self.row = []
        elif tag in ("td", "th"):
            self._close_cell()
            a = dict(attrs)
            self.cell = []
            self.cell_attrs = (_span(a.get("rowspan"), MAX_ROWSPAN), _span(a.get("colspan"), MAX_COLSPAN),
                               tag == "th" or self.section == "thead")
        elif tag == "caption":
            self.caption = []
        elif tag in ("br", "p", "div", "li") and self.cell is not None:
            if tag == "br" or self.cell:
                self.cell.append(_BR)

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.depth -= 1
            if self.depth <= 0:
                self.finish()
            elif self.cell is not None:
                self.cell.append(_BR)
            return
        if self.depth > 1:
            return
        if tag in ("td", "th"):
            self._close_cell()
        elif tag == "tr":
            self._close_row()
        elif tag in ("thead", "tbody", "tfoot"):
            self._close_row()
            self.section = ""
        elif tag == "caption" and self.caption is not None:
            self.b.table.caption = _clean_cell("".join(self.caption))
            self.caption = None
        elif tag in ("p", "div", "li") and self.cell is not None:
            self.cell.append(_BR)

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)
        elif self.caption is not None:
            self.caption.append(data)
        elif self.stray or data.strip():
            # joined and stripped at the end, so however html.parser split it, same text
            self.stray.append(data)


def _split_pipe_row(line: str) -> list[str]:
    s = line.strip()
    if s.startswith("|"):
        s = s[1:]
    if s.endswith("|") and not s.endswith("\\|"):
        s = s[:-1]
    cells: list[str] = []
    cur: list[str] = []
    i = 0
    while i < len(s):
        ch = s[i]
        if ch == "\\" and i + 1 < len(s) and s[i + 1] == "|":
            cur.append("|")
            i += 2
            continue
        if ch == "|":
            cells.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    cells.append("".join(cur))
    return [_md_cell(c) for c in cells]


_BR_TAG = re.compile(r"<br\s*/?>", re.I)
_EMPH = re.compile(r"^(\*\*|__)(.+)\1$", re.S)


def _md_cell(raw: str) -> str:
    text = _BR_TAG.sub(_BR, raw)
    # Markdown decodes entities: "AT&amp;T" is AT&T (our Markdown export escapes cells).
    text = _clean_cell(html.unescape(text) if "&" in text else text)
    m = _EMPH.match(text)
    return m.group(2).strip() if m else text


def _is_pipe_line(line: str) -> bool:
    return "|" in line[:_PLAIN_LINE_PROBE] and bool(line.strip())


class StreamParser:
    """Incremental parser of a model answer: text, Markdown pipe tables, HTML tables.

    `feed(chunk)` returns the events that chunk completed; `close()` ends the stream and
    returns the last ones (an unfinished row or table is completed as it stands).
    `document` holds everything parsed so far. Feeding the same text in any chunking gives
    the same events and document as `parse(text)`.

    Code fences (```html ... ```) that only wrap a table are dropped; other text is kept
    verbatim. Stray text inside an HTML table but outside any cell is kept as a text
    segment right after that table.
    """

    def __init__(self) -> None:
        self.document = Document()
        self._events: list[Event] = []
        self._text: list[str] = []  # text of the current text segment
        self._buf = ""  # text mode: unconsumed input
        self._pos = 0  # consumed up to here in _buf
        self._scan = 0  # search for newline / <table resumes here
        self._line_plain = False  # current line already known not to be a table row
        self._candidate: str | None = None  # a pipe line that may be a table header
        self._md: _Builder | None = None
        self._fence: str | None = None  # an opening code fence held back
        self._drop_close_fence = False
        self._after: list[str] | None = None  # blank lines held while looking for a closing fence
        self._html: _HtmlTable | None = None
        self._html_tail = ""
        self._closed = False

    # ---------------------------------------------------------------- public

    def feed(self, chunk: str) -> list[Event]:
        if self._closed:
            raise ValueError("feed() after close()")
        data = chunk
        while data:
            if self._html is not None:
                data = self._feed_html(data)
            else:
                self._buf += data
                data = self._run_text()
        if self._html is None and self._pos:
            self._buf = self._buf[self._pos:]
            self._scan -= self._pos
            self._pos = 0
        return self._take()

    def close(self) -> list[Event]:
        if self._closed:
            return []
        self._closed = True
        if self._html is not None:
            self._html.close()
            self._end_html()
            rest = ""
        else:
            rest = self._buf[self._pos:]
        if rest:
            self._line(rest)
        self._end_of_lines()
        self._flush_text()
        return self._take()

    # ---------------------------------------------------------------- plumbing

    def _emit(self, ev: Event) -> None:
        self._events.append(ev)

    def _take(self) -> list[Event]:
        out, self._events = self._events, []
        return out

    def _add_text(self, text: str) -> None:
        if text:
            self._text.append(text)
            self._emit(TextAdded(text))

    def _flush_text(self) -> None:
        if self._text:
            self.document.segments.append(TextSegment("".join(self._text)))
            self._text = []

    def _start_table(self, b: _Builder) -> None:
        self._flush_text()
        self.document.segments.append(b.table)
        self._emit(TableStarted(b.index, b.table.source))

    # ---------------------------------------------------------------- text mode

    def _run_text(self) -> str:
        """Consume complete lines of _buf; returns input to hand to HTML mode, if any."""
        buf = self._buf
        while True:
            nl = buf.find("\n", self._scan)
            end = nl + 1 if nl >= 0 else len(buf)
            m = _TABLE_OPEN.search(buf, max(self._pos, self._scan - 8), end)
            if m:
                self._line(buf[self._pos:m.start()], partial=True)
                rest = buf[m.start():]
                self._buf, self._pos, self._scan = "", 0, 0
                self._line_plain = False
                self._begin_html()
                return rest
            if nl < 0:
                self._scan = max(self._scan, len(buf))
                self._maybe_plain(buf)
                return ""
            self._line(buf[self._pos:end])
            self._pos = self._scan = end
            self._line_plain = False

    def _maybe_plain(self, buf: str) -> None:
        """Emit a long line that cannot be a table row instead of holding it."""
        start = self._pos
        if not self._line_plain:
            if len(buf) - start < _PLAIN_LINE_PROBE or "|" in buf[start:start + _PLAIN_LINE_PROBE]:
                return
            self._line_plain = True
            self._plain_line_starts()
        keep = len(buf) - 8  # a "<table" may be arriving
        if keep > start:
            self._add_text(buf[start:keep])
            self._pos = keep

    def _plain_line_starts(self) -> None:
        # what a complete non-table line would do to pending state
        self._end_of_lines(keep_fence_hold=False)

    def _line(self, line: str, partial: bool = False) -> None:
        """One line (with its newline), or the text before a <table> when partial."""
        if self._line_plain:
            self._add_text(line)
            return
        if self._after is not None:
            if not line.strip() and not partial:
                self._after.append(line)
                return
            held, self._after = self._after, None
            self._drop_close_fence = False
            if _FENCE.match(line) and not partial:
                return  # the fence closing a wrapped table: drop it
            for h in held:
                self._add_text(h)
        if partial:
            if self._fence is not None and not line.strip():
                self._fence = None  # fence opening an HTML table: drop it
                self._end_of_lines(keep_fence_hold=True)
                self._drop_close_fence = True
                return
            self._end_of_lines()
            self._add_text(line)
            return
        if self._md is not None:
            if _is_pipe_line(line):
                if not _DELIM_ROW.match(line):
                    self._md.add_row([Cell(t) for t in _split_pipe_row(line)])
                return
            self._finish_md()
            self._line(line)
            return
        if self._candidate is not None:
            cand = self._candidate
            self._candidate = None
            if _is_pipe_line(line):
                delim = bool(_DELIM_ROW.match(line)) and "-" in line
                bordered = cand.lstrip().startswith("|") and line.lstrip().startswith("|")
                if delim or bordered:
                    if self._fence is not None:
                        self._fence = None
                        self._drop_close_fence = True
                    self._md = _Builder(self, "markdown")
                    header = [Cell(t, header=delim) for t in _split_pipe_row(cand)]
                    self._md.add_row(header)
                    if not delim:
                        self._md.add_row([Cell(t) for t in _split_pipe_row(line)])
                    return
            self._flush_fence()
            self._add_text(cand)
            self._line(line)
            return
        if _is_pipe_line(line) and not _DELIM_ROW.match(line):
            self._candidate = line
            return
        if self._fence is not None:
            self._flush_fence()
        if _FENCE.match(line):
            self._fence = line
            return
        self._add_text(line)

    def _flush_fence(self) -> None:
        if self._fence is not None:
            fence, self._fence = self._fence, None
            self._add_text(fence)

    def _finish_md(self) -> None:
        if self._md is not None:
            self._md.finish()
            self._md = None
            if self._drop_close_fence:
                self._after = []

    def _end_of_lines(self, keep_fence_hold: bool = False) -> None:
        """Resolve held state because no further table line follows."""
        if self._md is not None:
            self._finish_md()
        if self._candidate is not None:
            cand, self._candidate = self._candidate, None
            self._flush_fence()
            self._add_text(cand)
        if self._after is not None and not keep_fence_hold:
            held, self._after = self._after, None
            self._drop_close_fence = False
            for h in held:
                self._add_text(h)
        if not keep_fence_hold:
            self._flush_fence()

    # ---------------------------------------------------------------- HTML mode

    def _begin_html(self) -> None:
        self._html = _HtmlTable(_Builder(self, "html"))
        self._html_tail = ""

    def _feed_html(self, data: str) -> str:
        """Feed HTML up to the end of the table; returns what follows it (text mode)."""
        assert self._html is not None
        while data:
            tail = self._html_tail
            look = tail + data
            m = _TABLE_CLOSE.search(look)
            while m is not None and m.end() <= len(tail):
                m = _TABLE_CLOSE.search(look, m.start() + 1)
            cut = len(data) if m is None else m.end() - len(tail)
            piece, data = data[:cut], data[cut:]
            self._html.feed(piece)
            self._html_tail = (tail + piece)[-_TAIL:]
            if self._html.done:
                self._end_html()
                return data
        return ""

    def _end_html(self) -> None:
        h = self._html
        assert h is not None
        self._html = None
        if not h.done:
            h.finish()
        h.b.finish()
        if "".join(h.stray).strip():
            self._flush_text()
            self._add_text("".join(h.stray).strip())
            self._flush_text()
        if self._drop_close_fence:
            self._after = []


def parse(text: str) -> Document:
    """Parse a whole answer (same result as streaming it through StreamParser)."""
    p = StreamParser()
    p.feed(text)
    p.close()
    return p.document


def parse_tables(text: str) -> list[Table]:
    return parse(text).tables


# ====================================================================== value typing

Kind = Literal["text", "number", "percent", "currency", "date"]


@dataclass(frozen=True)
class TypedValue:
    """What a cell's text becomes in a spreadsheet."""

    value: str | int | float | _dt.date
    kind: Kind = "text"
    number_format: str = "General"


_CURRENCY_SYMBOLS = "$€£¥₹₩₽₺₪₫฿₴₦"
_CURRENCY_CODES = ("USD", "EUR", "GBP", "JPY", "CNY", "RMB", "CHF", "CAD", "AUD", "HKD", "SGD",
                   "MYR", "INR", "KRW", "RUB", "SEK", "NOK", "DKK", "PLN", "CZK", "BRL", "MXN",
                   "ZAR", "NZD", "TWD", "THB", "IDR", "PHP", "VND", "TRY", "AED", "SAR", "RM")
_CODE_RE = "|".join(sorted(_CURRENCY_CODES, key=len, reverse=True))
_NUM_BODY = r"[0-9][0-9.,'\u00a0\u202f ]*"
_NUMBER = re.compile(
    r"^(?P<neg>[-\u2212])?"
    rf"(?P<pre>(?:[{_CURRENCY_SYMBOLS}]|{_CODE_RE})\s?)?"
    r"(?P<neg2>[-\u2212])?"
    rf"(?P<body>{_NUM_BODY}|\.[0-9]+)"
    r"(?P<exp>[eE][-+]?[0-9]{1,3})?"
    rf"\s?(?P<post>%|[{_CURRENCY_SYMBOLS}]|(?:{_CODE_RE})|元)?$"
)
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_YMD_DATE = re.compile(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})$")
_XYZ_DATE = re.compile(r"^(\d{1,2})([/.-])(\d{1,2})\2(\d{4})$")
_CJK_DATE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$")


def _group_ok(intpart: str, sep: str) -> bool:
    groups = intpart.split(sep)
    return (1 <= len(groups[0]) <= 3 and groups[0] != "" and
            all(len(g) == 3 for g in groups[1:]))


def _parse_number_body(body: str, decimal: str | None) -> tuple[float | int, int, bool] | None:
    """Digits with separators -> (value, decimals, grouped) or None when ambiguous/odd."""
    body = body.replace("\u00a0", " ").replace("\u202f", " ").strip()
    if not body or body[-1] in ".,' ":
        return None
    for sep in (" ", "'"):
        if sep in body:
            intpart = re.split(r"[.,]", body)[0]
            if not _group_ok(intpart, sep):
                return None
            body = body.replace(sep, "")
            grouped = True
            break
    else:
        grouped = False
    dots, commas = body.count("."), body.count(",")
    if dots and commas:
        dec = "." if body.rfind(".") > body.rfind(",") else ","
    elif commas:
        if decimal == ",":
            dec = ","
        elif decimal == ".":
            dec = "."  # comma can only be grouping
        else:  # "1,234" groups, "1,5" and "12,75" are decimals
            dec = "." if (commas > 1 or len(body) - body.rfind(",") - 1 == 3) and \
                not body.startswith("0,") else ","
    elif dots:
        if decimal == ",":
            dec = ","
        elif decimal == ".":
            dec = "."
        else:
            dec = "," if dots > 1 else "."
    else:
        dec = "."
    group = "," if dec == "." else "."
    if body.count(dec) > 1:
        return None
    intpart, _, frac = body.partition(dec)
    if group in intpart:
        if not _group_ok(intpart, group):
            return None
        grouped = True
        intpart = intpart.replace(group, "")
    if group in frac or not intpart.isdigit() and intpart != "" or frac and not frac.isdigit():
        return None
    if intpart == "" and not frac:
        return None
    digits = (intpart + frac).lstrip("0")
    if len(intpart) > 1 and intpart.startswith("0") and not grouped:
        return None  # leading zero: an ID or a code, not a number
    if len(digits) > 15:
        return None  # past double precision: keep it exact as text
    if frac:
        return float(f"{intpart or '0'}.{frac}"), len(frac), grouped
    return int(intpart), 0, grouped


def _num_format(decimals: int, grouped: bool) -> str:
    base = "#,##0" if grouped else "0"
    return base + ("." + "0" * decimals if decimals else "")


def _date(y: int, m: int, d: int) -> _dt.date | None:
    try:
        return _dt.date(y, m, d) if 1000 <= y <= 9999 else None
    except ValueError:
        return None


def parse_value(text: str, *, decimal: str | None = None,
                date_order: str | None = None) -> TypedValue:
    """Type a cell's text for a spreadsheet, conservatively.

    Numbers: 1234, 1,234.56, 1.234,56, 1 234,5, 12%, $1,234, 1,234 EUR, -5, −5 (U+2212),
    (1,234.56) for negatives. `decimal` ("." or ",") settles "1,234" and "1.234"; by
    default one comma followed by exactly three digits groups thousands and one dot is
    a decimal point. Dates: ISO 2024-03-05, 2024/03/05, 2024年3月5日, and d/m/y or m/d/y
    when the day is > 12 or `date_order` ("DMY"/"MDY") says which; anything ambiguous,
    two-digit years, IDs with leading zeros, numbers of more than 15 digits and text
    that starts with "+" stay text.
    """
    s = text.strip()
    if not s or len(s) > 64 or "\n" in s:
        return TypedValue(text)
    d = _parse_date(s, date_order)
    if d is not None:
        return TypedValue(d, "date", "yyyy-mm-dd")
    neg = False
    if s.startswith("(") and s.endswith(")"):
        inner = s[1:-1].strip()
        # "(3)" is a footnote or list number more often than a negative: require a
        # currency sign, a decimal or a group separator before reading it as negative.
        if not re.search(rf"[.,{_CURRENCY_SYMBOLS}]|{_CODE_RE}", inner):
            return TypedValue(text)
        s, neg = inner, True
    m = _NUMBER.match(s)
    if not m:
        return TypedValue(text)
    if m.group("neg") and m.group("neg2"):
        return TypedValue(text)
    if (m.group("neg") or m.group("neg2")) and neg:
        return TypedValue(text)
    neg = neg or bool(m.group("neg") or m.group("neg2"))
    pre, post, exp = (m.group("pre") or "").strip(), m.group("post") or "", m.group("exp")
    if pre and post:
        return TypedValue(text)
    body = m.group("body")
    if exp:
        # a mantissa is plain digits with one decimal mark: "1.2e-05"; "4,131E-06" only
        # where the column says its decimal mark is a comma
        mark = "," if decimal == "," else "."
        if not re.fullmatch(rf"[0-9]+(\{mark}[0-9]+)?", body) or pre or post:
            return TypedValue(text)
        v = float(body.replace(",", ".") + exp)
        return TypedValue(-v if neg else v, "number", "0.00E+00")
    parsed = _parse_number_body(body, decimal)
    if parsed is None:
        return TypedValue(text)
    value, decimals, grouped = parsed
    if neg:
        value = -value
    if post == "%":
        fmt = "0" + ("." + "0" * decimals if decimals else "") + "%"
        return TypedValue(round(value / 100, decimals + 2 + 6), "percent", fmt)
    cur = pre or post
    if cur:
        num = _num_format(decimals, True)
        fmt = f'"{cur}"{num}' if pre else f'{num} "{cur}"'
        if neg:  # keep the accountant's parentheses when they were used
            fmt = f"{fmt};({fmt})" if text.strip().startswith("(") else fmt
        return TypedValue(value, "currency", fmt)
    fmt = _num_format(decimals, grouped)
    if text.strip().startswith("(") and neg:
        fmt = f"{fmt};({fmt})"
    return TypedValue(value, "number", fmt)


def _parse_date(s: str, order: str | None) -> _dt.date | None:
    for rx in (_ISO_DATE, _YMD_DATE, _CJK_DATE):
        m = rx.match(s)
        if m:
            return _date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = _XYZ_DATE.match(s)
    if not m:
        return None
    a, sep, b, y = int(m.group(1)), m.group(2), int(m.group(3)), int(m.group(4))
    if sep == ".":  # 05.03.2024 is day-first wherever dots are used
        return _date(y, b, a)
    if a > 12 >= b:
        return _date(y, b, a)
    if b > 12 >= a:
        return _date(y, a, b)
    if a == b:
        return _date(y, a, b)
    if order == "DMY":
        return _date(y, b, a)
    if order == "MDY":
        return _date(y, a, b)
    return None


def infer_column_hints(texts: Iterable[str]) -> tuple[str | None, str | None]:
    """(decimal, date_order) that the unambiguous values of one column agree on, else None.

    A column holding "1.234,56" tells that its "1.234" means 1234; one holding
    "16/01/2012" tells that its "03/04/2012" is the 3rd of April.
    """
    dec: set[str] = set()
    order: set[str] = set()
    for t in texts:
        s = t.strip().strip("()")
        m = _XYZ_DATE.match(s)
        if m:
            a, b = int(m.group(1)), int(m.group(3))
            if m.group(2) != "." and a > 12 >= b:
                order.add("DMY")
            elif m.group(2) != "." and b > 12 >= a:
                order.add("MDY")
            continue
        n = _NUMBER.match(s)
        if not n or _YMD_DATE.match(s):
            continue
        digits = n.group("body").strip()
        if n.group("exp"):
            # a scientific mantissa has one digit before its mark: "4,131E-06" is 4.131e-6
            if re.fullmatch(r"[0-9][.,][0-9]+", digits):
                dec.add(digits[1])
            continue
        if re.fullmatch(r"0[.,][0-9]+", digits):
            dec.add(digits[1])  # "0,540": nobody groups the thousands of zero
        elif "." in digits and "," in digits:
            dec.add("." if digits.rfind(".") > digits.rfind(",") else ",")
        elif digits.count(",") == 1 and len(digits) - digits.rfind(",") - 1 != 3:
            dec.add(",")
        elif digits.count(".") == 1 and len(digits) - digits.rfind(".") - 1 != 3:
            dec.add(".")
        elif digits.count(".") > 1:
            dec.add(",")
        elif digits.count(",") > 1:
            dec.add(".")
    return (dec.pop() if len(dec) == 1 else None, order.pop() if len(order) == 1 else None)


def header_rows_of(table: Table) -> int:
    """How many leading rows are the header. The table's own count when its source marked
    one (<thead>, <th>, a Markdown header line); otherwise the first row, and the rows its
    row-spanning cells reach down to, when those rows hold only text and a row below them
    holds a number: a recogniser that writes no <thead> still has a header row there."""
    if table.header_rows:
        return table.header_rows
    if len(table.rows) < 2 or not table.rows[0]:
        return 0
    head = max(c.rowspan for c in table.rows[0])
    grid = table.to_grid()
    if head >= len(grid):
        return 0
    if any(parse_value(t).kind != "text" for row in grid[:head] for t in row if t):
        return 0
    below = any(parse_value(t).kind != "text" for row in grid[head:] for t in row if t)
    return head if below else 0


def typed_grid(table: Table) -> list[list[TypedValue]]:
    """The table's grid typed column by column (header rows stay text)."""
    grid = table.to_grid()
    if not grid:
        return []
    n_cols = max(len(r) for r in grid)
    head = header_rows_of(table)
    hints = [infer_column_hints(r[c] for r in grid[head:] if c < len(r))
             for c in range(n_cols)]
    out: list[list[TypedValue]] = []
    for i, row in enumerate(grid):
        if i < head:
            out.append([TypedValue(t) for t in row])
        else:
            out.append([parse_value(t, decimal=hints[c][0], date_order=hints[c][1])
                        for c, t in enumerate(row)])
    return out
