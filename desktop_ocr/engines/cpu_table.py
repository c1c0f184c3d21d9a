"""Rebuild a table grid from OCR line boxes: the CPU engine's `table` task.

No structure model: rows come from the vertical overlap of the recognised text boxes
(and from horizontal rules when the table draws them), columns from the gutters that
run down the whole table in the x-projection of those boxes. A box that bridges a
gutter becomes a cell with colspan; a cell whose neighbours below stay empty within a
ruled block becomes a rowspan. The output is an HTML `<table>` that `core.tables` and
`cer.py table` read.

Pure functions over boxes (`build_grid`, `grid_to_html`) are kept apart from the OCR
call (`ocr_boxes`) so the geometry can be tested on synthetic boxes.
"""

from __future__ import annotations

import html
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from PIL import Image


class BoxLike(Protocol):
    """Anything with recognised text and an axis-aligned box (engines.cpu.TextBox fits)."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass(frozen=True)
class Box:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    score: float = 1.0

    @property
    def h(self) -> float:
        return self.y1 - self.y0


@dataclass
class Cell:
    row: int
    col: int
    text: str
    rowspan: int = 1
    colspan: int = 1


# ---------------------------------------------------------------- geometry


def _as_boxes(boxes: Iterable[BoxLike]) -> list[Box]:
    out = []
    for b in boxes:
        text = " ".join(str(b.text).split())
        x0, x1 = sorted((float(b.x0), float(b.x1)))
        y0, y1 = sorted((float(b.y0), float(b.y1)))
        if text and x1 > x0 and y1 > y0:
            out.append(Box(text, x0, y0, x1, y1, float(getattr(b, "score", 1.0))))
    return out


def _lines(boxes: list[Box], min_overlap: float) -> list[list[Box]]:
    """Group boxes into text lines: boxes whose vertical extents overlap by at least
    `min_overlap` of the shorter one are on the same line (transitively, so a cell
    wrapped over two lines joins the line of a taller, vertically centred neighbour)."""
    n = len(boxes)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    order = sorted(range(n), key=lambda i: boxes[i].y0)
    for a_pos, i in enumerate(order):
        bi = boxes[i]
        for j in order[a_pos + 1:]:
            bj = boxes[j]
            if bj.y0 >= bi.y1:
                break
            ov = min(bi.y1, bj.y1) - max(bi.y0, bj.y0)
            if ov >= min_overlap * min(bi.h, bj.h):
                parent[find(i)] = find(j)
    groups: dict[int, list[Box]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(boxes[i])
    lines = sorted(groups.values(), key=lambda g: min(b.y0 for b in g))
    return lines


def _columns(lines: list[list[Box]], width: int) -> list[tuple[int, int]]:
    """Column extents [x0, x1) from the x-projection: per pixel column, how many lines
    put ink there. Gutters are runs where few lines do; a few spanning headers may
    bridge a gutter, so the threshold is a small share of the lines, not zero."""
    cover = [0] * (width + 1)
    for line in lines:
        seen = [False] * (width + 1)
        for b in line:
            for x in range(max(0, int(b.x0)), min(width, int(b.x1 + 0.5))):
                seen[x] = True
        for x, s in enumerate(seen):
            if s:
                cover[x] += 1
    multi = sum(1 for line in lines if len(line) > 1)
    limit = max(0.0, 0.12 * multi)
    runs: list[tuple[int, int]] = []
    start = None
    for x in range(width + 1):
        inside = cover[x] > limit
        if inside and start is None:
            start = x
        elif not inside and start is not None:
            runs.append((start, x))
            start = None
    if start is not None:
        runs.append((start, width + 1))
    return runs


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def _box_columns(b: Box, cols: list[tuple[int, int]]) -> tuple[int, int]:
    """First and last column a box covers; a column counts when the box covers a fair
    part of it (or the box lies inside it)."""
    hit = []
    for k, (c0, c1) in enumerate(cols):
        ov = _overlap(b.x0, b.x1, c0, c1)
        if ov > 0 and (ov >= 0.4 * (c1 - c0) or ov >= 0.6 * (b.x1 - b.x0)):
            hit.append(k)
    if not hit:
        centre = (b.x0 + b.x1) / 2
        k = min(range(len(cols)), key=lambda k: min(abs(centre - cols[k][0]), abs(centre - cols[k][1])))
        return k, k
    return hit[0], hit[-1]


def build_grid(boxes: Iterable[BoxLike], width: int | None = None,
               hrules: Sequence[float] = ()) -> list[Cell]:
    """Cells (row, col, text, spans) from OCR boxes in image coordinates.

    `hrules` are y positions of horizontal rules; text on either side of one never
    joins the same row.
    """
    bs = _as_boxes(boxes)
    if not bs:
        return []
    if width is None:
        width = int(max(b.x1 for b in bs)) + 1
    lines = _lines(bs, 0.3)
    lines = _split_at_rules(lines, sorted(hrules))
    cols = _columns(lines, width)
    if not cols:
        cols = [(0, width)]
    cells: list[Cell] = []
    for r, line in enumerate(lines):
        slots: dict[tuple[int, int], list[Box]] = {}
        for b in line:
            slots.setdefault(_box_columns(b, cols), []).append(b)
        # two boxes in one line claiming overlapping columns are one cell
        merged: list[tuple[int, int, list[Box]]] = []
        for (c0, c1), group in sorted(slots.items()):
            if merged and c0 <= merged[-1][1]:
                p0, p1, pg = merged[-1]
                merged[-1] = (p0, max(p1, c1), pg + group)
            else:
                merged.append((c0, c1, group))
        for c0, c1, group in merged:
            cells.append(Cell(r, c0, _join(group), 1, c1 - c0 + 1))
    return cells


def _join(group: list[Box]) -> str:
    """Text of the boxes in one cell: top to bottom, then left to right."""
    rows = _lines(group, 0.5)
    return " ".join(" ".join(b.text for b in sorted(line, key=lambda b: b.x0)) for line in rows)


def _split_at_rules(lines: list[list[Box]], rules: list[float]) -> list[list[Box]]:
    if not rules:
        return lines
    out: list[list[Box]] = []
    for line in lines:
        parts: dict[int, list[Box]] = {}
        for b in line:
            cy = (b.y0 + b.y1) / 2
            parts.setdefault(sum(1 for y in rules if y < cy), []).append(b)
        out.extend(parts[k] for k in sorted(parts))
    return out


# ---------------------------------------------------------------- HTML


def grid_to_html(cells: Iterable[Cell]) -> str:
    """A `<table>`: every grid row a `<tr>`, empty slots as empty `<td>`, spans kept."""
    cells = list(cells)
    if not cells:
        return "<table></table>"
    n_rows = max(c.row + c.rowspan for c in cells)
    n_cols = max(c.col + c.colspan for c in cells)
    taken: set[tuple[int, int]] = set()
    at: dict[tuple[int, int], Cell] = {}
    for c in cells:
        at[(c.row, c.col)] = c
    parts = ["<table>"]
    for r in range(n_rows):
        parts.append("<tr>")
        c = 0
        while c < n_cols:
            if (r, c) in taken:
                c += 1
                continue
            cell = at.get((r, c))
            if cell is None:
                parts.append("<td></td>")
                c += 1
                continue
            attrs = ""
            if cell.rowspan > 1:
                attrs += f' rowspan="{cell.rowspan}"'
            if cell.colspan > 1:
                attrs += f' colspan="{cell.colspan}"'
            parts.append(f"<td{attrs}>{html.escape(cell.text, quote=False)}</td>")
            for dr in range(cell.rowspan):
                for dc in range(cell.colspan):
                    taken.add((r + dr, c + dc))
            c += cell.colspan
        parts.append("</tr>")
    parts.append("</table>")
    return "".join(parts)


# ---------------------------------------------------------------- OCR

_engine: Any = None
_engine_lock = threading.Lock()


def _rapidocr() -> Any:
    global _engine
    with _engine_lock:
        if _engine is None:
            from rapidocr_onnxruntime import RapidOCR

            # table text is upright: the angle classifier only ever flips short
            # headers the wrong way round
            _engine = RapidOCR(use_cls=False)
        return _engine


def ocr_boxes(image: Image.Image) -> list[Box]:
    import numpy as np

    arr = np.asarray(image.convert("RGB"))[:, :, ::-1].copy()
    result, _ = _rapidocr()(arr, use_cls=False)
    out = []
    for quad, text, score in result or []:
        xs = [p[0] for p in quad]
        ys = [p[1] for p in quad]
        out.append(Box(str(text), min(xs), min(ys), max(xs), max(ys), float(score)))
    return out


def recognize_table(image: Image.Image, boxes: Iterable[BoxLike] | None = None) -> str:
    """HTML `<table>` for a table image; `boxes` are OCR boxes already at hand."""
    if boxes is None:
        boxes = ocr_boxes(image)
    return grid_to_html(build_grid(boxes, width=image.width))
