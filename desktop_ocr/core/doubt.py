"""Doubtful words: where a vision-language model's text and the CPU engine's reading of the
same image disagree.

Two readers that work differently rarely make the same mistake, so a word the CPU engine
reads otherwise is worth a second look; a word both read alike almost never is. The
comparison:

1. The VLM text is laid onto the CPU engine's boxes (`core.layout.assign_text`: a
   character alignment, with runs in another order matched to the boxes they belong
   to), so each stretch of the VLM text is compared with the box it was read from, not
   with whatever the CPU happened to read next; reading order never causes a doubt.
   HTML tags and entities (a table's markup) are blanked out first, offsets kept.
2. In each stretch, the letters, digits and CJK characters of both sides are aligned
   (Levenshtein, rapidfuzz), case-folded and NFKC-normalised: case, spacing and
   punctuation never cause a doubt (the CPU model drops spaces between English words).
3. A VLM word is doubtful when one of its characters lines up with another character, or
   with nothing while the CPU read characters there, or when the CPU read extra
   characters inside the word (or at its edge, as part of the same CPU word). Chinese,
   Japanese and Korean characters are words of their own, so one wrong character is
   marked, not a whole line.
4. A word the CPU did not see at all (no character of it lined up with anything the CPU
   read) is not doubtful: there is nothing to disagree with.

`find_doubts(text, cpu)` returns each doubtful word's character span in the VLM text and
both readings: what the result view underlines, with the CPU's reading on hover.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from desktop_ocr.core.layout import Layout, LineBox, assign_text, fold

_CJK = ("\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
        "\U00020000-\U0002fa1f")
_WORD = re.compile(rf"[{_CJK}]|[^\s{_CJK}]+")
# Markup a model writes around the text (HTML tables, entities) is not read from the image.
_MARKUP = re.compile(r"<[^<>]{0,400}>|&(?:#\d{1,7}|#x[0-9a-fA-F]{1,6}|[A-Za-z]{2,8});")
# A CPU box read with less confidence than this (its mean character confidence) is too
# unsure of itself to contradict another reader.
CONFIDENT = 0.9


@dataclass(frozen=True)
class Doubt:
    """A word of the VLM text the CPU engine read otherwise: `text[start:end]` is `vlm`."""

    start: int
    end: int
    vlm: str
    cpu: str  # the CPU engine's reading of that place ("" when it read nothing there)

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "vlm": self.vlm, "cpu": self.cpu}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Doubt:
        return cls(int(d["start"]), int(d["end"]), str(d["vlm"]), str(d["cpu"]))


def mask_markup(text: str) -> str:
    """`text` with HTML tags and entities blanked out, offsets unchanged."""
    return _MARKUP.sub(lambda m: " " * len(m.group()), text)


def _is_core(ch: str) -> bool:
    """Letters, digits and ideographs are compared; spaces and punctuation are not."""
    return unicodedata.category(ch)[0] in "LN"


def _words(text: str, start: int, end: int) -> list[tuple[int, int]]:
    return [(start + m.start(), start + m.end()) for m in _WORD.finditer(text[start:end])]


def find_doubts(text: str, cpu: Layout | str, *, min_score: float = CONFIDENT) -> list[Doubt]:
    """The words of `text` (a VLM's reading) that the CPU engine's reading of the same
    image (`cpu`: its layout, or its plain text with one line per box) contradicts, in
    the order of `text`. Boxes the CPU read with a confidence below `min_score` cannot
    contradict anything."""
    layout = cpu if isinstance(cpu, Layout) else Layout(
        (0, 0), tuple(LineBox(ln, (0.0, 0.0, 0.0, 0.0)) for ln in cpu.splitlines() if ln.strip()))
    if not text.strip() or not layout.lines:
        return []
    text = mask_markup(text)
    placement = assign_text(text, layout)
    out: list[Doubt] = []
    for span in placement.spans:
        line = layout.lines[span.box]
        if line.score >= min_score:
            out += _span_doubts(text, span.start, span.end, line.text)
    return out


def _span_doubts(text: str, start: int, end: int, cpu: str) -> list[Doubt]:
    from rapidfuzz.distance import Levenshtein

    words = [w for w in _words(text, start, end) if any(_is_core(c) for c in text[w[0]:w[1]])]
    if not words:
        return []
    # the compared characters of each side: (folded char, offset, word index)
    mine: list[tuple[str, int, int]] = []
    for k, (a, b) in enumerate(words):
        mine += [(fold(text[i]), i, k) for i in range(a, b) if _is_core(text[i])]
    theirs: list[tuple[str, int, int]] = []
    for k, (a, b) in enumerate(_words(cpu, 0, len(cpu))):
        theirs += [(fold(cpu[i]), i, k) for i in range(a, b) if _is_core(cpu[i])]
    if not theirs:
        return []
    bad: set[int] = set()  # VLM word indices
    seen: dict[int, list[int]] = {}  # VLM word -> the CPU characters (indices) it met
    for tag, a0, a1, b0, b1 in Levenshtein.opcodes([c for c, _, _ in theirs],
                                                   [c for c, _, _ in mine]):
        if tag in ("equal", "replace"):
            for j in range(b1 - b0):
                a = a0 + min(a1 - a0 - 1, j * (a1 - a0) // max(1, b1 - b0))
                seen.setdefault(mine[b0 + j][2], []).append(a)
            if tag == "replace":
                bad.update(mine[j][2] for j in range(b0, b1))
        elif tag == "insert":
            # VLM characters the CPU has nothing for, between characters it read: a doubt
            # only where the CPU did read that place (the word's other characters)
            bad.update(mine[j][2] for j in range(b0, b1))
        elif tag == "delete":
            # characters only the CPU read: they speak against the VLM words beside them
            # that share a CPU word with them
            cpu_words = {theirs[a][2] for a in range(a0, a1)}
            for j in (b0 - 1, b0):
                if 0 <= j < len(mine):
                    w = mine[j][2]
                    neighbour = a0 - 1 if j == b0 - 1 else a1
                    if 0 <= neighbour < len(theirs) and theirs[neighbour][2] in cpu_words:
                        bad.add(w)
                        seen.setdefault(w, []).extend(range(a0, a1))
    out = []
    for k in sorted(bad):
        met = seen.get(k)
        if not met:
            continue  # the CPU read nothing of this word: nothing to disagree with
        a, b = words[k]
        lo, hi = min(met), max(met)
        reading = cpu[theirs[lo][1]:theirs[hi][1] + 1]
        out.append(Doubt(a, b, text[a:b], reading))  # masked text: offsets are the original's
    return out


def doubts_to_json(doubts: list[Doubt]) -> list[dict[str, Any]]:
    """For `PartResult.extra["doubts"]`."""
    return [d.to_dict() for d in doubts]


def doubts_from_json(data: list[dict[str, Any]] | None) -> list[Doubt]:
    return [Doubt.from_dict(d) for d in data or []]
