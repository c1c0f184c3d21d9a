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
import math
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
    words: tuple[Box, ...] = ()  # the line's words, each placed on its own (ocr_boxes)

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
            out.append(Box(text, x0, y0, x1, y1, float(getattr(b, "score", 1.0)),
                           tuple(getattr(b, "words", ()))))
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
    """Text of the boxes in one cell: top to bottom, then left to right; the lines of a
    wrapped Chinese cell join without a space."""
    rows = _lines(group, 0.5)
    out = ""
    for line in rows:
        text = " ".join(b.text for b in sorted(line, key=lambda b: b.x0))
        if out and not (_is_cjk(out[-1]) and _is_cjk(text[0])):
            out += " "
        out += text
    return out


def _is_cjk(ch: str) -> bool:
    return "\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef"


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


def grid_to_html(cells: Iterable[Cell], header_rows: int = 0) -> str:
    """A `<table>`: every grid row a `<tr>`, empty slots as empty `<td>`, spans kept;
    the first `header_rows` rows in a `<thead>` (a spreadsheet export makes them bold)."""
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
    header_rows = max(0, min(header_rows, n_rows - 1))
    for r in range(n_rows):
        if header_rows and r == 0:
            parts.append("<thead>")
        elif header_rows and r == header_rows:
            parts.append("<tbody>")
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
        if header_rows and r == header_rows - 1:
            parts.append("</thead>")
    if header_rows:
        parts.append("</tbody>")
    parts.append("</table>")
    return "".join(parts)


# ---------------------------------------------------------------- OCR

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


MIN_SKEW_DEG = 0.25  # below this a tilt moves a line by < 1 px per 230 px: leave it


def ocr_boxes(image: Image.Image) -> list[Box]:
    """Text line boxes of a table image, each with its words placed in image pixels.

    Not `RapidOCR.__call__`: it crops each line with the detector's tight quad, which
    on the small type of table scans cuts into digits ("0" read as a box, lone
    digits dropped). Axis-aligned crops with a little horizontal margin read them;
    on the corpus tables that alone took mean cell F1 from 0.73 to 0.85. Each line is
    read by `OcrModels.read_words`: spaces restored, and split into words at spaces and
    at wide blanks, so a line the detector ran across two cells can be shared out.
    """
    bgr, quads = _detect(image)
    return _read(bgr, quads)


def read_table(image: Image.Image) -> tuple[Image.Image, list[Box]]:
    """The table image, turned upright when its text lines are tilted (a scan put down
    askew), and its text boxes in that image's pixels."""
    bgr, quads = _detect(image)
    from desktop_ocr.engines.cpu import page_skew

    slope = page_skew([q.tolist() for q in quads]) if quads else 0.0
    angle = math.degrees(math.atan(slope))
    if abs(angle) < MIN_SKEW_DEG:
        return image, _read(bgr, quads)
    import numpy as np
    from PIL import Image as PILImage

    rgb = image.convert("RGB")
    edge = np.concatenate([bgr[0], bgr[-1], bgr[:, 0], bgr[:, -1]])
    fill = tuple(int(v) for v in np.median(edge, axis=0)[::-1])
    upright = rgb.rotate(angle, resample=PILImage.BICUBIC, expand=True, fillcolor=fill)
    bgr, quads = _detect(upright)
    return upright, _read(bgr, quads)


def _detect(image: Image.Image) -> tuple[Any, list[Any]]:
    """The image as a BGR array and the detector's text quads in its pixels."""
    import numpy as np

    from desktop_ocr.engines.cpu import shared_models

    models = shared_models()
    bgr = np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])
    height, width = bgr.shape[:2]
    scale = min(1.0, _DET_MAX_SIDE / max(height, width))
    det_img = bgr
    if scale < 1.0:
        import cv2

        det_img = cv2.resize(bgr, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    quads = models.detect_quads(_pad_for_det(det_img, models.det_side))
    return bgr, [q / scale for q in quads]


def _read(bgr: Any, quads: list[Any]) -> list[Box]:
    from desktop_ocr.engines.cpu import shared_models

    models = shared_models()
    height, width = bgr.shape[:2]
    out = []
    for quad in quads:
        x0, y0 = (float(v) for v in quad.min(axis=0))
        x1, y1 = (float(v) for v in quad.max(axis=0))
        pad = 0.05 * (y1 - y0)
        cx0, cx1 = max(0, int(x0 - pad)), min(width, int(x1 + pad) + 1)
        cy0, cy1 = max(0, int(y0)), min(height, int(y1) + 1)
        if cx1 - cx0 < 2 or cy1 - cy0 < 2:
            continue
        words, score = models.read_words(bgr[cy0:cy1, cx0:cx1])
        if score < _MIN_SCORE or not words:
            continue
        placed = tuple(Box(w.text, cx0 + w.x0, y0, max(cx0 + w.x1, cx0 + w.x0 + 1), y1, score)
                       for w in words)
        out.append(Box(" ".join(w.text for w in words), x0, y0, x1, y1, score, placed))
    return out


# ---------------------------------------------------------------- model structure


def fill_structure(structure: Any, boxes: Iterable[BoxLike],
                   rules: Rules | None = None) -> list[Cell] | None:
    """The model's cells (grid position, spans) filled with the recognised text; None
    when the structure and the text disagree too much to trust it.

    Text is placed word by word (a line the detector ran across two cells is shared
    out): a word goes to the model cell holding its centre, else the one it overlaps
    most, else the cell at its nearest row band and column strip. The model's boxes
    come from a 488-px view of the table, so on a long table they drift from the text;
    a linear map fitted from the cells to the text they received corrects that before
    a second placement. Rows and columns where no cell starts with text are dropped:
    the model sometimes writes an empty row for a blank band or a wrapped header.
    The model's row count is then reconciled with the text lines: a row holding only
    the wrapped second lines of the row above joins it (`_merge_continued`), and a row
    whose spanning header holds the labels stacked under it splits in two
    (`_split_stacked`); one row off moves every cell below it.
    """
    bs = _as_boxes(boxes)
    cells = [c for c in structure.cells if c.bbox[2] > c.bbox[0] and c.bbox[3] > c.bbox[1]]
    if not structure.complete or not cells:
        return None
    if not bs:
        return [Cell(c.row, c.col, "", c.rowspan, c.colspan) for c in structure.cells]
    pieces = [w for b in bs for w in (b.words or _split_across([b], cells))]
    boxes_of = {id(c): c.bbox for c in cells}
    for _ in range(2):
        groups, lost = _place(pieces, cells, boxes_of, structure.n_rows, structure.n_cols)
        boxes_of = _refit(cells, groups, boxes_of)
    placed, lost, inserted = _place_rows(pieces, bs, cells, boxes_of, structure.n_rows,
                                         structure.n_cols, sorted(rules.h) if rules else [])
    if lost > 0.2 * len(pieces):
        return None
    items = [_Item(c.row, c.col, c.rowspan, c.colspan, placed.get((0, id(c)), []))
             for c in structure.cells]
    item_of = {id(c): it for c, it in zip(structure.cells, items, strict=True)}
    # rows the model missed, bottom first so the row numbers above stay put
    for n, after in sorted(inserted.items(), key=lambda kv: -kv[1]):
        items = _insert_row(items, after, {item_of[k]: w for (m, k), w in placed.items()
                                            if m == n and k in item_of})
    h = sorted(b.h for b in bs)[len(bs) // 2]
    items = _split_columns(items, structure.n_cols, h)
    items = _merge_columns(items, h)
    items = _split_spanning(items, h)
    items = _merge_continued(items, h)
    items = _split_stacked(items, h)
    items = _split_spanning(items, h)  # the labels a stacked header had over them
    out = [Cell(it.row, it.col, _join(it.words), it.rowspan, it.colspan) for it in items]
    return _drop_empty(out)


def _insert_row(items: list[_Item], after: int, words: dict[Any, list[Box]]) -> list[_Item]:
    """A new grid row under row `after`: cells of that row get a new cell below them,
    cells reaching down over it grow by one row; `words` maps a cell of row `after` to
    the words the new row holds there."""
    out = []
    for it in items:
        got = words.get(it, [])
        if it.row > after:
            out.append(_Item(it.row + 1, it.col, it.rowspan, it.colspan, it.words))
        elif it.row == after and it.rowspan == 1:
            out.append(it)
            out.append(_Item(after + 1, it.col, 1, it.colspan, list(got)))
        elif it.row + it.rowspan - 1 >= after:
            out.append(_Item(it.row, it.col, it.rowspan + 1, it.colspan, it.words + got))
        else:
            out.append(it)
    return out


@dataclass(eq=False)
class _Item:
    """A model cell on its way out: grid place, spans and the words placed in it."""

    row: int
    col: int
    rowspan: int
    colspan: int
    words: list[Box]


SPLIT_GAP_EM = 1.0  # a blank this many line-heights wide inside a column can be a gutter
SPLIT_SUPPORT = 0.5  # ...when this share of the column's filled cells has words both sides


def _split_columns(items: list[_Item], n_cols: int, h: float) -> list[_Item]:
    """Split a model column in two where its cells' words leave a gutter: the model
    sometimes writes two narrow number columns, or a label and its value, as one.

    A gutter is a blank strip at least SPLIT_GAP_EM line-heights wide that no word of
    the column's one-column cells crosses, with words on both sides in at least
    SPLIT_SUPPORT of those cells (and in three cells at least).
    """
    c = 0
    while c < n_cols:
        one = [it for it in items if it.col == c and it.colspan == 1 and it.words]
        cut = _gutter(one, h) if len(one) >= 3 else None
        if cut is None:
            c += 1
            continue
        out: list[_Item] = []
        for it in items:
            if it.col > c:
                out.append(_Item(it.row, it.col + 1, it.rowspan, it.colspan, it.words))
            elif it.col + it.colspan - 1 >= c and it.colspan > 1:
                out.append(_Item(it.row, it.col, it.rowspan, it.colspan + 1, it.words))
            elif it.col == c:
                left = [w for w in it.words if (w.x0 + w.x1) / 2 < cut]
                right = [w for w in it.words if (w.x0 + w.x1) / 2 >= cut]
                out.append(_Item(it.row, c, it.rowspan, 1, left))
                if right:
                    out.append(_Item(it.row, c + 1, it.rowspan, 1, right))
            else:
                out.append(it)
        items = out
        n_cols += 1
    return items


MERGE_GAP_EM = 0.8  # two columns whose texts are never further apart than this are one


def _merge_columns(items: list[_Item], h: float) -> list[_Item]:
    """Join two neighbouring model columns whose texts sit a word space apart in every
    row that fills both ("147.1" and "± 36.3" written as two columns): a gutter between
    real columns is wider than a space."""
    space = _word_space(items)
    c = 0
    while True:
        n_cols = max((it.col + it.colspan for it in items), default=0)
        if c >= n_cols - 1:
            return items
        left = {it.row: it for it in items if it.col == c and it.colspan == 1 and it.words}
        right = {it.row: it for it in items if it.col == c + 1 and it.colspan == 1 and it.words}
        both = [r for r in left if r in right]
        gaps = [min(w.x0 for w in right[r].words) - max(w.x1 for w in left[r].words) for r in both]
        # among five rows or more, one may stand apart (a header over the pair) when the
        # others are no wider than this table's own word spaces
        wide = sum(1 for g in gaps if g >= MERGE_GAP_EM * h)
        spaced = len(both) >= 5 and wide == 1 and space is not None and \
            sorted(gaps)[-2] <= 2 * space
        close = len(both) >= 3 and (wide == 0 or spaced) and len(both) >= 0.5 * len(left)
        if close or (left and right and not any(g >= MERGE_GAP_EM * h for g in gaps)
                     and _same_strip(left.values(), right.values())):
            items = _drop_boundary(items, c)
        else:
            c += 1


def _word_space(items: list[_Item]) -> float | None:
    """The median blank between neighbouring words of one line in one cell."""
    import statistics

    gaps = []
    for it in items:
        for ln in _text_lines(it.words):
            ws = sorted(ln, key=lambda w: w.x0)
            gaps += [b.x0 - a.x1 for a, b in zip(ws, ws[1:], strict=False)]
    return statistics.median(gaps) if len(gaps) >= 5 else None


def _split_spanning(items: list[_Item], h: float) -> list[_Item]:
    """A cell spanning several columns whose words stand in separate groups, each inside
    the strip of one of those columns (the strips of the one-column cells' words), is
    the model joining neighbouring header cells: it becomes one cell a column. A real
    spanning header ("P value" over two columns) is one group of words and stays."""
    strips: dict[int, tuple[float, float]] = {}
    for it in items:
        if it.colspan == 1 and it.words:
            x0 = min(w.x0 for w in it.words)
            x1 = max(w.x1 for w in it.words)
            a, b = strips.get(it.col, (x0, x1))
            strips[it.col] = (min(a, x0), max(b, x1))
    out: list[_Item] = []
    for it in items:
        groups = _word_groups(it.words, SPLIT_GAP_EM * h) if it.colspan > 1 else []
        cols: dict[int, list[Box]] = {}
        for g in groups:
            cx = (min(w.x0 for w in g) + max(w.x1 for w in g)) / 2
            hit = [c for c in range(it.col, it.col + it.colspan)
                   if c in strips and strips[c][0] <= cx <= strips[c][1]]
            if len(hit) != 1 or hit[0] in cols:
                cols = {}
                break
            cols[hit[0]] = g
        if len(groups) < 2 or len(cols) != len(groups):
            out.append(it)
            continue
        out.extend(_Item(it.row, c, it.rowspan, 1, cols.get(c, []))
                   for c in range(it.col, it.col + it.colspan))
    return out


def _text_lines(words: list[Box]) -> list[list[Box]]:
    """A cell's words in lines, top to bottom (a line's words share its box's y)."""
    return sorted(_lines(words, 0.5), key=lambda ln: min(w.y0 for w in ln))


def _em(text: str) -> float:
    """Rough width of a text in em in a proportional font (Helvetica/Times-like): the
    recogniser's word boxes are too loose to compare widths a character apart."""
    total = 0.0
    for ch in text:
        if _is_cjk(ch):
            total += 1.0
        elif ch == " ":
            total += 0.28
        elif ch.isdigit():
            total += 0.556
        elif ch.isupper():
            total += 0.68
        elif ch.isalpha():
            total += 0.5
        else:
            total += 0.35
    return total


def _line_text(line: list[Box]) -> str:
    return " ".join(w.text for w in sorted(line, key=lambda w: w.x0))


def _first_word(line: list[Box]) -> str:
    text = _line_text(line)
    return text[:1] if _is_cjk(text[:1]) else text.split(" ")[0]


WRAP_SLACK_EM = 0.3  # the fit must hold with this much to spare: widths are estimates


def _wraps(upper: list[Box], lower: list[Box], width_em: float) -> bool:
    """Whether `lower` can be the next line of the same paragraph as `upper` in a cell
    whose text runs `width_em` wide: a line breaks only where its next word does not
    fit (greedy line breaking, what every renderer does), so when the lower line's
    first word would have fitted after the upper line, the lower line is text of a
    cell of its own. A Chinese line breaks after any character."""
    sep = 0.0 if _is_cjk(_line_text(upper)[-1:]) and _is_cjk(_first_word(lower)) else 0.28
    return _em(_line_text(upper)) + sep + _em(_first_word(lower)) > width_em - WRAP_SLACK_EM


def _column_em(items: list[_Item]) -> dict[int, float]:
    """Per column, the widest line of its one-column cells, in em."""
    col_em: dict[int, float] = {}
    for it in items:
        if it.colspan == 1 and it.words:
            w = max(_em(_line_text(ln)) for ln in _text_lines(it.words))
            col_em[it.col] = max(col_em.get(it.col, 0.0), w)
    return col_em


def _wrap_gap_limit(items: list[_Item], h: float) -> float | None:
    """The widest blank between two lines of one paragraph in this table: halfway
    between the usual blank inside a cell (line to line) and the usual blank between
    a cell and the one under it (cell padding and rules add to it). None where the two
    are too close to tell apart (a compact table)."""
    import statistics

    inside, between = [], []
    at = {(it.row, it.col): it for it in items if it.words}
    for it in items:
        if not it.words:
            continue
        lines = _text_lines(it.words)
        inside += [min(w.y0 for w in b) - max(w.y1 for w in a) for a, b in zip(lines, lines[1:], strict=False)]
        below = at.get((it.row + it.rowspan, it.col))
        if below is not None:
            between.append(min(w.y0 for w in _text_lines(below.words)[0])
                           - max(w.y1 for w in lines[-1]))
    if len(inside) < 3 or len(between) < 3:
        return None
    a, b = statistics.median(inside), statistics.median(between)
    return (a + b) / 2 if b - a >= 0.15 * h else None


def _merge_continued(items: list[_Item], h: float) -> list[_Item]:
    """Join a row into the row above when it only carries on the wrapped texts of that
    row: the model (or a line top many wrapped cells share) made a row of the second
    lines of long cells. Every cell of the lower row that holds text must sit straight
    under the cell above it in the same columns (no more than a line's leading apart),
    its first word must not have fitted on that cell's last line (`_wraps`), and some
    cell of the upper row must have no such continuation: a row whose every cell sits
    close under the one above is as likely a compact table's next row."""
    col_em = _column_em(items)
    limit = _wrap_gap_limit(items, h)
    if limit is None:
        return items
    r = 0
    while True:
        n_rows = max((it.row + it.rowspan for it in items), default=0)
        if r >= n_rows - 1:
            return items
        upper = {it.col: it for it in items if it.row == r}
        lower = [it for it in items if it.row == r + 1]
        filled = [it for it in lower if it.words]
        ok = bool(filled) and all(it.rowspan == 1 for it in lower) and \
            len(filled) < sum(1 for it in upper.values() if it.words)
        for it in filled if ok else ():
            above = upper.get(it.col)
            if above is None or above.colspan != it.colspan or above.rowspan != 1 or \
                    not above.words:
                ok = False
                break
            a_lines, b_lines = _text_lines(above.words), _text_lines(it.words)
            last, first = a_lines[-1], b_lines[0]
            gap = min(w.y0 for w in first) - max(w.y1 for w in last)
            x_ov = _overlap(min(w.x0 for w in last), max(w.x1 for w in last),
                            min(w.x0 for w in first), max(w.x1 for w in first))
            if gap > limit or x_ov <= 0 or \
                    not _wraps(last, first, _width_em(above, a_lines, col_em)):
                ok = False
                break
        if not ok:
            r += 1
            continue
        out: list[_Item] = []
        for it in items:
            if it.row == r + 1:
                if it.words:
                    upper[it.col].words = upper[it.col].words + it.words
            elif it.row > r + 1:
                out.append(_Item(it.row - 1, it.col, it.rowspan, it.colspan, it.words))
            elif it.row + it.rowspan - 1 >= r + 1:
                out.append(_Item(it.row, it.col, it.rowspan - 1, it.colspan, it.words))
            else:
                out.append(it)
        items = out


def _split_stacked(items: list[_Item], h: float) -> list[_Item]:
    """Split a grid row in two where a cell holds two stacked texts rather than one
    wrapped one: the model often writes a spanning header and the labels under it
    (or a group label and its sub-label) as one row. A lower line is a text of its own
    when its first word would have fitted on the line above (`_wraps`) within the
    cell's widest line, or for a one-column cell the widest line of its column. The row
    splits at the top of the highest such line: a cell's lines above it (and lines
    wrapping on from them) stay in the row, the others go to a new row under it;
    cells not split reach over both."""
    col_em = _column_em(items)
    n_cols = max((it.col + it.colspan for it in items), default=0)
    r = 0
    while r < max((it.row + it.rowspan for it in items), default=0):
        row = [it for it in items if it.row == r and it.words]
        breaks = {}
        for it in row:
            y = _stack_break(it, h) if 1 < it.colspan < n_cols else \
                _spanning_break(it, row, items, h)
            if y is not None:
                breaks[id(it)] = y
        if breaks:
            items = _split_row(items, r, min(breaks.values()), breaks, col_em, h)
        r += 1
    return items


def _stack_break(it: _Item, h: float) -> float | None:
    """The top of the first line of `it` that is not the paragraph above it going on,
    or None, for a cell over some of the columns: a line holding texts a gutter apart
    under a single text (labels under their group's header), or one whose first word
    would have fitted on the line above. One-column cells are not judged: the model's
    column strips are too loose there to tell a wrapped label from a stacked one."""
    lines = _text_lines(it.words)
    if len(lines) < 2:
        return None
    gap = SPLIT_GAP_EM * h
    single = [ln for ln in lines if len(_word_groups(ln, gap)) == 1]
    for up, low in zip(lines, lines[1:], strict=False):
        if len(_word_groups(up, gap)) > 1:
            return None  # text of several columns the model joined: widths say nothing
        top = min(w.y0 for w in low)
        if len(_word_groups(low, gap)) > 1:
            return top
        if not _wraps(up, low, max(_em(_line_text(ln)) for ln in single)):
            return top
    return None


def _spanning_break(it: _Item, row: list[_Item], items: list[_Item],
                    h: float) -> float | None:
    """For a one-column cell whose first line is a header over it and the next column
    (the model wrote no spanning cell): that line runs a line height or more past the
    words of its column in every other row, and the next column's cell in this row has
    nothing level with it, only text below it (its own label under the header). Text
    the model put in the wrong cell has the neighbour's own text beside it. The break
    is the top of the first text under the header line, here or in the neighbour."""
    lines = _text_lines(it.words)
    up = lines[0]
    if len(_word_groups(up, SPLIT_GAP_EM * h)) > 1:
        return None
    own = [w for o in items if o.row != it.row and o.col == it.col and o.colspan == 1
           for w in o.words]
    if len(own) < 2 or max(w.x1 for w in up) < max(w.x1 for w in own) + h:
        return None
    nxt = it.col + 1
    y0, y1 = min(w.y0 for w in up), max(w.y1 for w in up)
    beside = [w for o in row if o.col == nxt for w in o.words]
    if not beside or any(_overlap(y0, y1, w.y0, w.y1) > 0.3 * h for w in beside):
        return None
    tops = [min(w.y0 for w in beside)] + ([min(w.y0 for w in lines[1])] if len(lines) > 1 else [])
    top = min(tops)
    return top if y1 - 0.3 * h <= top <= y1 + 2 * h else None


def _width_em(it: _Item, lines: list[list[Box]], col_em: dict[int, float]) -> float:
    width = max(_em(_line_text(ln)) for ln in lines)
    if it.colspan == 1:
        width = max(width, col_em.get(it.col, 0.0))
    return width


def _split_row(items: list[_Item], r: int, split_y: float, breaks: dict[int, float],
               col_em: dict[int, float], h: float) -> list[_Item]:
    """Row r split at `split_y`; `breaks` holds, per cell found stacked, where its own
    lower text begins (everything from there goes down)."""
    out: list[_Item] = []
    for it in items:
        if it.row > r:
            out.append(_Item(it.row + 1, it.col, it.rowspan, it.colspan, it.words))
            continue
        if it.row < r:
            grow = 1 if it.row + it.rowspan - 1 >= r else 0
            out.append(_Item(it.row, it.col, it.rowspan + grow, it.colspan, it.words))
            continue
        upper: list[Box] = []
        lower: list[Box] = []
        lines = _text_lines(it.words)
        width = _width_em(it, lines, col_em) if lines else 0.0
        prev: list[Box] | None = None
        own = breaks.get(id(it))
        for ln in lines:
            top = min(w.y0 for w in ln)
            # above the split, or a wrapped line of the text above it
            if own is not None:
                up = top < own - 0.3 * h
            else:
                up = not lower and (top < split_y - 0.3 * h or
                                    (prev is not None and _wraps(prev, ln, width)))
            (upper if up else lower).extend(ln)
            prev = ln
        if not lower:
            out.append(_Item(r, it.col, it.rowspan + 1, it.colspan, upper))
        else:
            out.append(_Item(r, it.col, 1, it.colspan, upper))
            out.append(_Item(r + 1, it.col, it.rowspan, it.colspan, lower))
    return out


def _word_groups(words: list[Box], gap: float) -> list[list[Box]]:
    """Words split where a blank at least `gap` wide runs down all their lines."""
    groups: list[list[Box]] = []
    end = float("-inf")
    for w in sorted(words, key=lambda w: w.x0):
        if groups and w.x0 - end < gap:
            groups[-1].append(w)
        else:
            groups.append([w])
        end = max(end, w.x1) if len(groups[-1]) > 1 else w.x1
    return groups


def _same_strip(a: Iterable[_Item], b: Iterable[_Item]) -> bool:
    """The words of two model columns lie in one vertical strip of the page: the cells
    of one visual column, which the model put in two columns in different rows. Half
    the cells of the emptier column at least have their centre inside the extent of
    the other column's words."""
    few, many = sorted((list(a), list(b)), key=len)
    x0 = min(w.x0 for it in many for w in it.words)
    x1 = max(w.x1 for it in many for w in it.words)
    inside = sum(1 for it in few
                 if x0 <= (min(w.x0 for w in it.words) + max(w.x1 for w in it.words)) / 2 <= x1)
    return inside >= 0.5 * len(few)


def _drop_boundary(items: list[_Item], c: int) -> list[_Item]:
    """The grid with columns c and c + 1 made one; cells meeting in a slot are joined."""
    def to(k: int) -> int:
        return k if k <= c else k - 1

    out: list[_Item] = []
    slot: dict[tuple[int, int], _Item] = {}
    for it in sorted(items, key=lambda it: (it.row, it.col)):
        col, last = to(it.col), to(it.col + it.colspan - 1)
        owner = slot.get((it.row, col))
        if owner is not None:
            owner.words = owner.words + it.words
            continue
        new = _Item(it.row, col, it.rowspan, last - col + 1, list(it.words))
        out.append(new)
        for dr in range(new.rowspan):
            for dc in range(new.colspan):
                slot.setdefault((new.row + dr, new.col + dc), new)
    return out


def _gutter(cells: list[_Item], h: float) -> float | None:
    spans = sorted((w.x0, w.x1) for it in cells for w in it.words)
    merged: list[list[float]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    best, best_n = None, 0
    for (_, a1), (b0, _) in zip(merged, merged[1:], strict=False):
        if b0 - a1 < SPLIT_GAP_EM * h:
            continue
        g = (a1 + b0) / 2
        n = sum(1 for it in cells if any(w.x1 <= g for w in it.words)
                and any(w.x0 >= g for w in it.words))
        if n > best_n:
            best, best_n = g, n
    return best if best_n >= max(3, SPLIT_SUPPORT * len(cells)) else None


def _place(pieces: list[Box], cells: list[Any], boxes_of: dict[int, tuple[float, ...]],
           n_rows: int, n_cols: int) -> tuple[dict[int, list[Box]], int]:
    rows_y = _bands(cells, boxes_of, n_rows, axis=1)
    cols_x = _bands(cells, boxes_of, n_cols, axis=0)
    slot = {}
    for c in cells:
        for dr in range(c.rowspan):
            for dc in range(c.colspan):
                slot[(c.row + dr, c.col + dc)] = c
    groups: dict[int, list[Box]] = {}
    lost = 0
    for b in pieces:
        target = _best_cell(b, cells, boxes_of)
        if target is None:
            r = _nearest_band(rows_y, (b.y0 + b.y1) / 2)
            k = _nearest_band(cols_x, (b.x0 + b.x1) / 2)
            target = slot.get((r, k)) if r is not None and k is not None else None
        if target is None:
            lost += 1
            continue
        groups.setdefault(id(target), []).append(b)
    return groups, lost


def _place_rows(pieces: list[Box], lines: list[Box], cells: list[Any],
                boxes_of: dict[int, tuple[float, ...]], n_rows: int, n_cols: int,
                hrules: Sequence[float] = (),
                ) -> tuple[dict[Any, list[Box]], int, dict[int, int]]:
    """Place words by the rows they start under, then by column: {(insertion, id(cell)):
    words}, with insertion 0 for the model's own rows, the count of words lost, and the
    rows inserted where the model missed one.

    A row begins at the top of its first text line: the model's top for the row, moved
    onto the nearest recognised line top. A word belongs to the last row that began at
    or above it, so the lines of a wrapped cell stay with the row they started in,
    however far the model's own box for that cell reaches; within the row it goes to
    the cell whose extent holds it (or lies nearest) across the columns.
    """
    import statistics

    h = statistics.median(b.h for b in lines)
    # line tops shared by several boxes (columns) are where rows start; a line just
    # under another one of its column continues that cell (a wrapped line) and starts
    # nothing, so it does not count
    clusters: list[list[tuple[float, bool]]] = []
    for b in sorted(lines, key=lambda b: b.y0):
        item = (b.y0, not _continues(b, lines, h))
        if clusters and b.y0 - clusters[-1][0][0] <= 0.35 * h:
            clusters[-1].append(item)
        else:
            clusters.append([item])
    # ...unless most columns start a line there at once: in a compact table every row's
    # lines sit as close under the row above as a wrapped line under its first
    starting = [sum(1 for _, s in c if s) for c in clusters]
    tops = [(statistics.median(y for y, _ in c), len(c) if len(c) >= max(2.0, 0.6 * n_cols)
             else k) for c, k in zip(clusters, starting, strict=True)]
    model_tops: list[tuple[int, float]] = []
    for r in range(n_rows):
        ys = [boxes_of[id(c)][1] for c in cells if c.row == r and c.rowspan == 1]
        if ys:
            model_tops.append((r, statistics.median(ys)))
    if not model_tops:
        return {}, len(pieces), {}
    ordered = [(y, r, 0) for r, y in _align_starts(model_tops, tops, h)]
    # a line top where most columns start a cell (none continuing one) that no model row
    # took is a row the model missed: it becomes a new row under the model row above it
    # (`inserted`, numbered 1, 2, ...)
    strong = max(2.0, 0.6 * n_cols)
    inserted: dict[int, int] = {}  # insertion number -> the model row it follows
    for (y, _), k in zip(tops, starting, strict=True):
        if k < strong or y <= ordered[0][0] or any(abs(y - o[0]) < 0.5 * h for o in ordered):
            continue
        after = max((o for o in ordered if o[0] < y), key=lambda o: o[0])
        if after[2]:
            continue  # one new row under a model row at most
        inserted[len(inserted) + 1] = after[1]
        ordered.append((y, after[1], len(inserted)))
    ordered.sort()
    # where a ruling line runs between a row's start and the row above, the row begins
    # at the rule: a cell centred in a tall row starts above its neighbours' first line
    bounds = []
    for k, (y, r, new) in enumerate(ordered):
        b = y + 0.1 * h  # in word-centre terms: a word starts a row at most 0.4 h above
        if k:
            between = [ry for ry in hrules if ordered[k - 1][0] + 0.5 * h < ry <= y + 0.4 * h]
            if between:
                b = min(b, max(between))
        bounds.append((b, r, new))
    in_row: dict[int, list[Any]] = {}
    for c in cells:
        for dr in range(c.rowspan):
            in_row.setdefault(c.row + dr, []).append(c)
    groups: dict[Any, list[Box]] = {}
    lost = 0
    for b in pieces:
        start = None
        cy = (b.y0 + b.y1) / 2
        for o in bounds:
            if o[0] <= cy:
                start = o
            else:
                break
        if start is None:
            if b.y1 < ordered[0][0] - 0.5 * h:
                lost += 1
                continue
            start = bounds[0]
        _, r, new = start
        cands = in_row.get(r)
        if not cands:
            lost += 1
            continue
        cx = (b.x0 + b.x1) / 2
        target = min(cands, key=lambda c: (_x_dist(boxes_of[id(c)], cx), c.colspan))
        groups.setdefault((new, id(target)), []).append(b)
    return groups, lost, inserted


KEEP_COST = 2.0  # line heights: how far off the model's top for a row may be
CONTINUES_GAP_EM = 0.45  # a line closer than this under its column's line above continues it


def _continues(b: Box, lines: list[Box], h: float) -> bool:
    for a in lines:
        if a is b or a.y0 > b.y0 - 0.3 * h or a.y1 > b.y0 + 0.4 * h or \
                b.y0 - a.y1 > CONTINUES_GAP_EM * h:
            continue
        if _overlap(a.x0, a.x1, b.x0, b.x1) >= 0.3 * min(a.x1 - a.x0, b.x1 - b.x0):
            return True
    return False


def _align_starts(model_tops: list[tuple[int, float]], tops: list[tuple[float, int]],
                  h: float) -> list[tuple[int, float]]:
    """Each model row's start moved onto a recognised line top, in order and one row a
    top: the cheapest monotone matching, where a match costs its distance in line
    heights (half a line more for a top only one box starts) and a row left on the
    model's own top costs KEEP_COST. `tops` holds (y, how many boxes start a cell
    there); a top where no box starts one is never a row's."""
    n, m = len(model_tops), len(tops)
    inf = float("inf")
    # best[i][j]: cost of the first i rows using only the first j tops
    best = [[0.0] * (m + 1)] + [[inf] * (m + 1) for _ in range(n)]
    move: dict[tuple[int, int], tuple[int, int, bool]] = {}
    for i in range(1, n + 1):
        t = model_tops[i - 1][1]
        for j in range(m + 1):
            cands = [(best[i - 1][j] + KEEP_COST, (i - 1, j, False))]  # row keeps its own top
            if j:
                cands.append((best[i][j - 1], (i, j - 1, None)))  # top j left unused
                y, k = tops[j - 1]
                d = abs(y - t) / h
                if d <= KEEP_COST and k >= 1:
                    cands.append((best[i - 1][j - 1] + d + (0.0 if k >= 2 else 0.5),
                                  (i - 1, j - 1, True)))
            cost, step = min(cands, key=lambda c: c[0])
            best[i][j] = cost
            move[(i, j)] = step  # type: ignore[assignment]
    out: list[tuple[int, float]] = []
    i, j = n, m
    while i > 0:
        pi, pj, matched = move[(i, j)]
        if matched is None:
            i, j = pi, pj
            continue
        r, t = model_tops[i - 1]
        out.append((r, tops[j - 1][0] if matched else t))
        i, j = pi, pj
    out.reverse()
    # a row the model placed out of order (its own top above the row before) is dropped
    kept: list[tuple[int, float]] = []
    for r, y in out:
        if not kept or y > kept[-1][1] + 0.3 * h:
            kept.append((r, y))
    return kept


def _x_dist(bbox: tuple[float, ...], x: float) -> float:
    return 0.0 if bbox[0] <= x <= bbox[2] else min(abs(x - bbox[0]), abs(x - bbox[2]))


def _refit(cells: list[Any], groups: dict[int, list[Box]],
           boxes_of: dict[int, tuple[float, ...]]) -> dict[int, tuple[float, ...]]:
    """Move the model's boxes by the linear map (x and y apart) that best takes each
    one-slot cell's box centre to the centre of the text placed in it."""
    import numpy as np

    src, dst = [], []
    for c in cells:
        got = groups.get(id(c))
        if not got or c.rowspan != 1 or c.colspan != 1:
            continue
        x0, y0, x1, y1 = boxes_of[id(c)]
        src.append(((x0 + x1) / 2, (y0 + y1) / 2))
        dst.append(((min(b.x0 for b in got) + max(b.x1 for b in got)) / 2,
                    (min(b.y0 for b in got) + max(b.y1 for b in got)) / 2))
    if len(src) < 4:
        return boxes_of
    s, d = np.asarray(src), np.asarray(dst)
    maps = []
    for axis in (0, 1):
        if np.ptp(s[:, axis]) < 1:
            return boxes_of
        a, b = np.polyfit(s[:, axis], d[:, axis], 1)
        res = np.abs(a * s[:, axis] + b - d[:, axis])
        keep = res <= max(2.0, 2 * float(np.median(res)))
        if keep.sum() >= 4 and np.ptp(s[keep, axis]) >= 1:
            a, b = np.polyfit(s[keep, axis], d[keep, axis], 1)
        if not 0.8 <= a <= 1.25:  # not a drift: something else is wrong; leave it
            return boxes_of
        maps.append((float(a), float(b)))
    (ax, bx), (ay, by) = maps
    return {k: (ax * x0 + bx, ay * y0 + by, ax * x1 + bx, ay * y1 + by)
            for k, (x0, y0, x1, y1) in boxes_of.items()}


def _drop_empty(cells: list[Cell]) -> list[Cell]:
    """Remove grid rows, then columns, in which no cell with text starts."""
    for axis in ("row", "col"):
        n = max((getattr(c, axis) + (c.rowspan if axis == "row" else c.colspan) for c in cells),
                default=0)
        used = {getattr(c, axis) for c in cells if c.text}
        empty = [k for k in range(n) if k not in used]
        if not empty or len(empty) == n:
            continue
        out = []
        for c in cells:
            start = getattr(c, axis)
            if start in empty and not c.text:
                continue
            span = c.rowspan if axis == "row" else c.colspan
            gone_inside = sum(1 for k in empty if start < k < start + span)
            shift = sum(1 for k in empty if k < start)
            if axis == "row":
                out.append(Cell(start - shift, c.col, c.text, span - gone_inside, c.colspan))
            else:
                out.append(Cell(c.row, start - shift, c.text, c.rowspan, span - gone_inside))
        cells = out
    return cells


def _overlap_area(b: Box, bbox: tuple[float, ...]) -> float:
    return _overlap(b.x0, b.x1, bbox[0], bbox[2]) * _overlap(b.y0, b.y1, bbox[1], bbox[3])


def _best_cell(b: Box, cells: list[Any], boxes_of: dict[int, tuple[float, ...]]) -> Any:
    cx, cy = (b.x0 + b.x1) / 2, (b.y0 + b.y1) / 2
    area = max(1e-6, (b.x1 - b.x0) * (b.y1 - b.y0))
    best, best_ov, inside = None, 0.0, False
    for c in cells:
        bb = boxes_of[id(c)]
        ov = _overlap_area(b, bb) / area
        holds = bb[0] <= cx <= bb[2] and bb[1] <= cy <= bb[3]
        if (holds, ov) > (inside, best_ov):
            best, best_ov, inside = c, ov, holds
    return best if inside or best_ov > 0.05 else None


def _bands(cells: list[Any], boxes_of: dict[int, tuple[float, ...]], n: int,
           axis: int) -> list[tuple[float, float] | None]:
    """Per grid row (axis=1) or column (axis=0): the median extent of its one-slot cells."""
    import statistics

    lo: dict[int, list[float]] = {}
    hi: dict[int, list[float]] = {}
    for c in cells:
        span = c.rowspan if axis == 1 else c.colspan
        if span != 1:
            continue
        k = c.row if axis == 1 else c.col
        lo.setdefault(k, []).append(boxes_of[id(c)][axis])
        hi.setdefault(k, []).append(boxes_of[id(c)][axis + 2])
    return [(statistics.median(lo[k]), statistics.median(hi[k])) if k in lo else None
            for k in range(n)]


def _nearest_band(bands: list[tuple[float, float] | None], v: float) -> int | None:
    best, dist = None, float("inf")
    for k, band in enumerate(bands):
        if band is None:
            continue
        d = 0.0 if band[0] <= v <= band[1] else min(abs(v - band[0]), abs(v - band[1]))
        if d < dist:
            best, dist = k, d
    return best


def _split_across(bs: list[Box], cells: list[Any]) -> list[Box]:
    """Split a multi-word box whose words fall into different model cells of one line."""
    out: list[Box] = []
    for b in bs:
        words = b.text.split(" ")
        hit = [c for c in cells if _overlap_area(b, c.bbox) > 0.15 * (b.x1 - b.x0) * (b.y1 - b.y0)
               and _overlap(b.y0, b.y1, c.bbox[1], c.bbox[3]) > 0.3 * b.h]
        if len(words) < 2 or len(hit) < 2:
            out.append(b)
            continue
        # a word's x from its share of the characters (proportional type is near enough)
        n = len(b.text)
        pos = 0
        parts: list[tuple[Any, list[str], float, float]] = []
        for w in words:
            wx0 = b.x0 + (b.x1 - b.x0) * pos / n
            wx1 = b.x0 + (b.x1 - b.x0) * (pos + len(w)) / n
            pos += len(w) + 1
            cx = (wx0 + wx1) / 2
            owner = min(hit, key=lambda c: 0.0 if c.bbox[0] <= cx <= c.bbox[2]
                        else min(abs(cx - c.bbox[0]), abs(cx - c.bbox[2])))
            if parts and parts[-1][0] is owner:
                parts[-1] = (owner, [*parts[-1][1], w], parts[-1][2], wx1)
            else:
                parts.append((owner, [w], wx0, wx1))
        for _owner, ws, x0, x1 in parts:
            out.append(Box(" ".join(ws), x0, b.y0, max(x1, x0 + 1), b.y1, b.score))
    return out


def recognize_table(image: Image.Image, boxes: Iterable[BoxLike] | None = None,
                    use_model: bool = True) -> str:
    """HTML `<table>` for a table image; `boxes` are OCR boxes already at hand.

    With the SLANet-plus model installed the grid is the model's, filled with the boxes;
    without it, or when its structure and the boxes disagree, the grid is rebuilt from
    the boxes' geometry and the image's rules.
    """
    if boxes is None:
        image, boxes = read_table(image)
    boxes = list(boxes)
    if use_model:
        from desktop_ocr.engines.table_structure import shared_model

        model = shared_model()
        if model is not None:
            structure = model.predict(image)
            cells = fill_structure(structure, boxes, find_rules(image, boxes))
            if cells is not None:
                return grid_to_html(cells, header_rows=structure.header_rows)
    return grid_to_html(build_grid(boxes, width=image.width, rules=find_rules(image, boxes)))
