"""Rebuild a table grid from OCR line boxes: the CPU engine's `table` task.

No structure model: rows come from the vertical overlap of the recognised text boxes
(or, in a table with a rule under every row, from the bands between rules), columns
from the gutters that run down the table in the x-projection of those boxes (or from
its vertical rules). A box that bridges a gutter, or sits where a vertical rule
stops, becomes a cell with colspan at its leftmost column. Rowspans are not guessed
(`grid_to_html` writes any a caller sets): without rules, a label above empty cells
is as often a plain cell as a merged one, and cell-level scoring is the same either
way. The output is an HTML `<table>` that `core.tables` and `cer.py table` read.

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
    # sparse lines (titles, section headings, spanning headers) say little about
    # where the columns are
    most = max(len(line) for line in lines)
    dense = [line for line in lines if len(line) >= max(2, 0.5 * most)] or lines
    cover = [0] * (width + 1)
    for line in dense:
        seen = [False] * (width + 1)
        for b in line:
            for x in range(max(0, int(b.x0)), min(width, int(b.x1 + 0.5))):
                seen[x] = True
        for x, s in enumerate(seen):
            if s:
                cover[x] += 1
    # one spanning header must not bridge a gutter, once there are rows enough to tell
    limit = max(0.12 * len(dense), 1.0 if len(dense) >= 4 else 0.0)
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


@dataclass(frozen=True)
class Rules:
    """Ruling lines found in the image: full-width horizontal rules (their y) and
    vertical rule segments (x, y0, y1)."""

    h: tuple[float, ...] = ()
    v: tuple[tuple[float, float, float], ...] = ()


def find_rules(image: Image.Image, boxes: Sequence[BoxLike] = ()) -> Rules:
    """Thin dark lines: horizontal ones across most of the table, vertical ones taller
    than a couple of text lines. Thick dark bands are shading, not rules."""
    import numpy as np

    dark = np.asarray(image.convert("L")) < 140
    height, width = dark.shape
    bs = _as_boxes(boxes)
    text_h = sorted(b.h for b in bs)[len(bs) // 2] if bs else 12.0

    h_rows = [y for y in range(height) if _longest_run(dark[y]) >= 0.5 * width]
    h = tuple(sum(g) / len(g) for g in _groups(h_rows) if len(g) <= 4)

    run = np.zeros(width, dtype=np.int32)
    best = np.zeros(width, dtype=np.int32)
    for y in range(height):
        run = (run + 1) * dark[y]
        np.maximum(best, run, out=best)
    min_len = max(2.2 * text_h, 12.0)
    v: list[tuple[float, float, float]] = []
    for xs in _groups([int(x) for x in np.nonzero(best >= min_len)[0]]):
        if len(xs) > 4:  # a dark block, not a line
            continue
        col = dark[:, xs].any(axis=1)
        x = sum(xs) / len(xs)
        for y0, y1 in _runs(col):
            if y1 - y0 < min_len:
                continue
            # a letter stroke inside a text box is not a rule
            if any(b.x0 + 1 < x < b.x1 - 1 and _overlap(b.y0, b.y1, y0, y1) > 0.5 * b.h for b in bs):
                continue
            v.append((x, float(y0), float(y1)))
    return Rules(h, tuple(v))


def _longest_run(row: Any) -> int:
    return max((b - a for a, b in _runs(row)), default=0)


def _runs(flags: Any) -> list[tuple[int, int]]:
    """[start, end) of every run of True."""
    import numpy as np

    padded = np.concatenate(([False], np.asarray(flags, dtype=bool), [False]))
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _groups(values: list[int], gap: int = 1) -> list[list[int]]:
    out: list[list[int]] = []
    for v in values:
        if out and v - out[-1][-1] <= gap:
            out[-1].append(v)
        else:
            out.append([v])
    return out


def build_grid(boxes: Iterable[BoxLike], width: int | None = None,
               rules: Rules | None = None) -> list[Cell]:
    """Cells (row, col, text, spans) from OCR boxes in image coordinates.

    Without rules, rows are text lines and columns the gutters of the x-projection.
    With horizontal rules between most lines, a row is the band between two rules;
    with interior vertical rules, columns are the strips between them and a box whose
    neighbouring rules stop short of its line spans the strips it sits across.
    """
    bs = _as_boxes(boxes)
    if not bs:
        return []
    rules = rules or Rules()
    if width is None:
        width = int(max(b.x1 for b in bs)) + 1
    lines = _split_at_rules(_lines(bs, 0.3), sorted(rules.h))
    lines = _band_rows(lines, sorted(rules.h))
    left, right = min(b.x0 for b in bs), max(b.x1 for b in bs)
    vrules = [r for r in rules.v if left + 2 < r[0] < right - 2]
    if vrules and _ruled_columns(vrules, lines):
        return _cells_ruled(lines, vrules)
    cols = _columns(lines, width) or [(0, width)]
    cells: list[Cell] = []
    for r, line in enumerate(lines):
        spans = [(*_box_columns(b, cols), b) for b in line]
        cells.extend(_merge_slots(r, spans))
    return cells


def _merge_slots(r: int, spans: list[tuple[int, int, Box]]) -> list[Cell]:
    """Boxes of one row claiming overlapping columns are one cell."""
    merged: list[tuple[int, int, list[Box]]] = []
    for c0, c1, b in sorted(spans, key=lambda s: (s[0], s[1])):
        if merged and c0 <= merged[-1][1]:
            p0, p1, pg = merged[-1]
            merged[-1] = (p0, max(p1, c1), [*pg, b])
        else:
            merged.append((c0, c1, [b]))
    return [Cell(r, c0, _join(group), 1, c1 - c0 + 1) for c0, c1, group in merged]


def _band_rows(lines: list[list[Box]], hrules: list[float]) -> list[list[Box]]:
    """In a table with a rule under (nearly) every row, all lines between two rules
    are one row: wrapped cells whose lines do not overlap their neighbours'."""
    if len(hrules) < 3:
        return lines
    bands: dict[int, list[Box]] = {}
    for line in lines:
        cy = sum((b.y0 + b.y1) / 2 for b in line) / len(line)
        bands.setdefault(sum(1 for y in hrules if y < cy), []).extend(line)
    if len(bands) < 0.6 * len(lines):
        return lines  # rules only under the header and at the ends
    return [bands[k] for k in sorted(bands)]


def _ruled_columns(vrules: list[tuple[float, float, float]], lines: list[list[Box]]) -> bool:
    """Vertical rules define the columns when they cross most rows of the table."""
    crossed = 0
    for line in lines:
        cy = sum((b.y0 + b.y1) / 2 for b in line) / len(line)
        if any(y0 - 2 <= cy <= y1 + 2 for _, y0, y1 in vrules):
            crossed += 1
    return crossed >= 0.5 * len(lines)


def _cells_ruled(lines: list[list[Box]], vrules: list[tuple[float, float, float]]) -> list[Cell]:
    xs = [sum(g) / len(g) for g in _groups(sorted(round(r[0]) for r in vrules), gap=3)]
    bounds = [float("-inf"), *xs, float("inf")]
    cells: list[Cell] = []
    for r, line in enumerate(lines):
        spans = []
        for b in line:
            cy = (b.y0 + b.y1) / 2
            present = [x for x in xs
                       if any(abs(rx - x) <= 3 and y0 - 2 <= cy <= y1 + 2 for rx, y0, y1 in vrules)]
            lo = max((x for x in present if x <= b.x0 + 2), default=float("-inf"))
            hi = min((x for x in present if x >= b.x1 - 2), default=float("inf"))
            c0 = bounds.index(lo) if lo in bounds else 0
            c1 = bounds.index(hi) - 1 if hi in bounds else len(bounds) - 2
            spans.append((c0, max(c0, c1), b))
        cells.extend(_merge_slots(r, spans))
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

            # only its detector and recogniser are used: table text is upright, and
            # the angle classifier flips short headers the wrong way round
            _engine = RapidOCR()
        return _engine


_DET_MAX_SIDE = 2000  # what RapidOCR itself shrinks to before detection
_DET_MAX_WORK_SIDE = 1600


def _pad_for_det(bgr: Any, min_side: int) -> Any:
    """The detector scales the short side up to `min_side`; a wide, flat table (one
    header and one row) would become an image tens of thousands of pixels long and
    take seconds. Padding the short side (right/bottom, page colour) caps the long
    side the detector sees without moving any box."""
    import numpy as np

    height, width = bgr.shape[:2]
    need = int(max(height, width) * min_side / _DET_MAX_WORK_SIDE) + 1
    if min(height, width) >= need:
        return bgr
    edge = np.concatenate([bgr[0], bgr[-1], bgr[:, 0], bgr[:, -1]])
    colour = np.median(edge, axis=0).astype(bgr.dtype)
    shape = (need, width, 3) if height < width else (height, need, 3)
    out = np.empty(shape, dtype=bgr.dtype)
    out[:] = colour
    out[:height, :width] = bgr
    return out
_MIN_SCORE = 0.5  # RapidOCR's own text_score


def ocr_boxes(image: Image.Image) -> list[Box]:
    """Text boxes of a table image with RapidOCR's detector and recogniser.

    Not `RapidOCR.__call__`: it crops each line with the detector's tight quad, which
    on the small type of table scans cuts into digits ("0" read as a box, lone
    digits dropped). Axis-aligned crops with a little horizontal margin read them;
    on the corpus tables that alone took mean cell F1 from 0.73 to 0.85.
    """
    import numpy as np

    engine = _rapidocr()
    bgr = np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])
    height, width = bgr.shape[:2]
    scale = min(1.0, _DET_MAX_SIDE / max(height, width))
    det_img = bgr
    if scale < 1.0:
        import cv2

        det_img = cv2.resize(bgr, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    quads, _ = engine.text_det(_pad_for_det(det_img, engine.text_det.limit_side_len))
    if quads is None or len(quads) == 0:
        return []
    rects = []
    crops = []
    for quad in quads:
        x0, y0 = (float(v) / scale for v in quad.min(axis=0))
        x1, y1 = (float(v) / scale for v in quad.max(axis=0))
        pad = 0.05 * (y1 - y0)
        cx0, cx1 = max(0, int(x0 - pad)), min(width, int(x1 + pad) + 1)
        cy0, cy1 = max(0, int(y0)), min(height, int(y1) + 1)
        if cx1 - cx0 < 2 or cy1 - cy0 < 2:
            continue
        rects.append((x0, y0, x1, y1))
        crops.append(bgr[cy0:cy1, cx0:cx1])
    if not crops:
        return []
    results, _ = engine.text_rec(crops)
    out = []
    for (x0, y0, x1, y1), (text, score) in zip(rects, results, strict=True):
        if float(score) >= _MIN_SCORE and str(text).strip():
            out.append(Box(str(text).strip(), x0, y0, x1, y1, float(score)))
    return out


def recognize_table(image: Image.Image, boxes: Iterable[BoxLike] | None = None) -> str:
    """HTML `<table>` for a table image; `boxes` are OCR boxes already at hand."""
    if boxes is None:
        boxes = ocr_boxes(image)
    boxes = list(boxes)
    return grid_to_html(build_grid(boxes, width=image.width, rules=find_rules(image, boxes)))
