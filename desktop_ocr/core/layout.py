"""Where text sits on an image: the CPU engine's line boxes as plain data, and text from
an engine without boxes (a vision-language model) laid onto them.

A `Layout` is what a box-giving engine saw in one image (a page or a region crop): the
image's size and its text segments in reading order, each with an axis-aligned box in
that image's pixels. core/ takes it as data from whoever ran the engine (the CLI, the
pipeline), so nothing here imports an engine; `to_dict`/`from_dict` let a result keep it
(`PartResult.extra["layout"]`).

`assign_text(text, layout)` places another reading of the same image on those boxes by
sequence alignment: the two texts are aligned character by character (Levenshtein, via
rapidfuzz), every character of `text` takes the box of the CPU character it lines up
with, and a run of characters the CPU did not see joins the box before it. Runs in
another order than the CPU's (a VLM reading a column before the next one) that the
monotone alignment leaves unplaced are matched against the boxes that got nothing.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

# Below this share of `text` characters matched to the boxes the alignment is noise (a
# translation, another image): the caller should spread the lines instead.
MIN_MATCHED = 0.25
# An unplaced run of at least this many characters is tried against the unused boxes,
# and placed there when it matches at least this well (rapidfuzz ratio, 0-100).
ORPHAN_MIN_CHARS = 4
ORPHAN_MIN_RATIO = 60.0


@dataclass(frozen=True)
class LineBox:
    """One text segment: its text and box (x0, y0, x1, y1) in pixels of the image read,
    and the reader's confidence in it (mean character confidence, 0..1)."""

    text: str
    bbox: tuple[float, float, float, float]
    score: float = 1.0

    @property
    def height(self) -> float:
        return max(0.0, self.bbox[3] - self.bbox[1])

    @property
    def width(self) -> float:
        return max(0.0, self.bbox[2] - self.bbox[0])


@dataclass(frozen=True)
class Layout:
    """The boxes of one image, in reading order, and the image's (width, height)."""

    size: tuple[int, int]
    lines: tuple[LineBox, ...] = ()

    @classmethod
    def of(cls, size: tuple[int, int], boxes: Iterable[Sequence[Any]]) -> Layout:
        """From (text, bbox) or (text, bbox, score) tuples."""
        lines = []
        for box in boxes:
            text, bbox = str(box[0]), box[1]
            if text.strip():
                score = float(box[2]) if len(box) > 2 and box[2] is not None else 1.0
                lines.append(LineBox(text, _box(bbox), score))
        return cls((int(size[0]), int(size[1])), tuple(lines))

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    def to_dict(self) -> dict[str, Any]:
        return {"size": list(self.size),
                "lines": [[ln.text, list(ln.bbox), round(ln.score, 4)] for ln in self.lines]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Layout:
        return cls.of(tuple(d["size"]), d.get("lines") or ())


def _box(b: Sequence[float]) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = (float(v) for v in b)
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


def fold(ch: str) -> str:
    """One character as the alignment compares it: NFKC, case-folded, first code point."""
    n = unicodedata.normalize("NFKC", ch).casefold()
    return n[0] if n else ch


@dataclass(frozen=True)
class Placed:
    """A span of the placed text and the box it goes in (an index into layout.lines)."""

    text: str
    box: int
    start: int  # character offsets of the span in the text that was placed
    end: int
    # the part of the box's width the span covers (fractions 0..1), from the CPU
    # characters it lined up with: a span that matched only the end of a box sits there
    across: tuple[float, float] = (0.0, 1.0)


@dataclass(frozen=True)
class Placement:
    spans: tuple[Placed, ...]  # in the order of the placed text
    matched: float  # share of the text's visible characters that matched a CPU character

    @property
    def ok(self) -> bool:
        return bool(self.spans) and self.matched >= MIN_MATCHED


def assign_text(text: str, layout: Layout) -> Placement:
    """Cut `text` into spans, each assigned to one of `layout`'s boxes (see the module doc).

    Whitespace never decides anything: both sides are compared without it. Spans keep the
    text's own order (its reading order).
    """
    from rapidfuzz.distance import Levenshtein

    owners: list[int] = []
    offsets: list[int] = []  # each CPU character's offset in its box's text
    cpu: list[str] = []
    for i, line in enumerate(layout.lines):
        for off, ch in enumerate(line.text):
            if not ch.isspace():
                cpu.append(fold(ch))
                owners.append(i)
                offsets.append(off)
    pos = [k for k, ch in enumerate(text) if not ch.isspace()]
    if not pos or not owners:
        return Placement((), 0.0)
    mine = [fold(text[k]) for k in pos]
    seen: list[int | None] = [None] * len(pos)  # the CPU character each one lined up with
    equal = 0
    for tag, a0, a1, b0, b1 in Levenshtein.opcodes(cpu, mine):
        if tag == "equal":
            equal += b1 - b0
            for j in range(b1 - b0):
                seen[b0 + j] = a0 + j
        elif tag == "replace":
            for j in range(b1 - b0):  # proportional when the lengths differ
                seen[b0 + j] = a0 + min(a1 - a0 - 1, j * (a1 - a0) // (b1 - b0))
    box: list[int | None] = [None if a is None else owners[a] for a in seen]
    _drop_weak_runs(box, seen, cpu, mine)
    _place_orphans(text, pos, box, layout)
    if all(b is None for b in box):
        return Placement((), 0.0)
    _fill(text, pos, box)
    spans: list[Placed] = []
    a = 0
    for j in range(1, len(pos) + 1):
        if j < len(pos) and box[j] == box[a]:
            continue
        b = box[a]
        assert b is not None
        start, end = pos[a], pos[j - 1] + 1
        # The CPU characters of its own box this span lined up with, as a share of the
        # box's text: a span that matched only the end of a box sits at that end.
        hits = [offsets[c] for c in seen[a:j] if c is not None and owners[c] == b]
        n = len(layout.lines[b].text)
        across = (min(hits) / n, (max(hits) + 1) / n) if hits and n else (0.0, 1.0)
        spans.append(Placed(" ".join(text[start:end].split()), b, start, end, across))
        a = j
    return Placement(tuple(spans), equal / len(pos))


def _fill(text: str, pos: list[int], box: list[int | None]) -> None:
    """Unplaced characters join a box of their own line (the one before them, at a
    line's start the one after them); a line with none joins the box before it."""
    lines: list[list[int]] = [[]]
    for j in range(len(pos)):
        if j and "\n" in text[pos[j - 1]:pos[j]]:
            lines.append([])
        lines[-1].append(j)
    last: int | None = None
    for line in lines:
        placed = [box[j] for j in line if box[j] is not None]
        current = placed[0] if placed else last
        for j in line:
            if box[j] is None:
                box[j] = current
            else:
                current = box[j]
        last = current if current is not None else last
    first = next(b for b in box if b is not None)
    for j in range(len(box)):  # lines before any placed one
        if box[j] is None:
            box[j] = first


def _drop_weak_runs(box: list[int | None], seen: list[int | None], cpu: list[str],
                    mine: list[str]) -> None:
    """A run of characters given to one box mostly by substitution, or a lone character
    matched between unplaced ones, is not a match but the alignment bridging two texts
    in different orders: leave it unplaced."""
    runs: list[tuple[int, int]] = []
    j = 0
    while j < len(box):
        k = j
        while k < len(box) and box[k] == box[j]:
            k += 1
        runs.append((j, k))
        j = k
    weak = []
    for n, (j, k) in enumerate(runs):
        if box[j] is None:
            continue
        same = sum(1 for t in range(j, k) if seen[t] is not None and cpu[seen[t]] == mine[t])
        lone = (same < 2 and (n == 0 or box[runs[n - 1][0]] is None)
                and (n == len(runs) - 1 or box[runs[n + 1][0]] is None))
        if (k - j >= ORPHAN_MIN_CHARS and same < (k - j) / 2) or lone:
            weak.append((j, k))
    for j, k in weak:
        for t in range(j, k):
            box[t] = None
            seen[t] = None


def _place_orphans(text: str, pos: list[int], box: list[int | None], layout: Layout) -> None:
    """Runs with no box, tried against the boxes nothing was assigned to."""
    from rapidfuzz import fuzz

    used = {b for b in box if b is not None}
    free = [i for i in range(len(layout.lines)) if i not in used]
    if not free:
        return
    j = 0
    while j < len(box):
        if box[j] is not None:
            j += 1
            continue
        k = j
        while k < len(box) and box[k] is None:
            k += 1
        # cut the run at the text's line breaks: each line finds its own box
        for a, b in _line_pieces(text, pos, j, k):
            if b - a < ORPHAN_MIN_CHARS or not free:
                continue
            piece = "".join(fold(text[pos[t]]) for t in range(a, b))
            best, score = None, ORPHAN_MIN_RATIO
            for i in free:
                s = fuzz.ratio(piece, "".join(fold(c) for c in layout.lines[i].text if not c.isspace()))
                if s >= score:
                    best, score = i, s
            if best is not None:
                for t in range(a, b):
                    box[t] = best
                free.remove(best)
        j = k


def _line_pieces(text: str, pos: list[int], j: int, k: int) -> list[tuple[int, int]]:
    out, a = [], j
    for t in range(j + 1, k):
        if "\n" in text[pos[t - 1]:pos[t]]:
            out.append((a, t))
            a = t
    out.append((a, k))
    return out
