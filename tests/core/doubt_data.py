"""Errors injected into ground truth, as a vision-language model might make them: one
character of a word replaced by another of its kind, dropped, or doubled in. Returns the
new text and, per word, its span there and whether it was changed."""

from __future__ import annotations

import random
import string

from desktop_ocr.core.doubt import _is_core, _words, mask_markup


def inject(gt: str, seed: int, rate: float = 0.1) -> tuple[str, list[tuple[int, int, bool]]]:
    rng = random.Random(seed)
    masked = mask_markup(gt)  # never inside HTML tags: a model's markup is not read text
    words = [w for w in _words(masked, 0, len(masked)) if any(_is_core(c) for c in masked[w[0]:w[1]])]
    han = sorted({c for c in gt if "\u4e00" <= c <= "\u9fff"}) or list("的一是在不了有和")
    spans: list[tuple[int, int, bool]] = []
    out, at = "", 0
    for a, b in words:
        word = gt[a:b]
        out += gt[at:a]
        at = b
        if rng.random() >= rate:
            spans.append((len(out), len(out) + len(word), False))
            out += word
            continue
        core = [i for i, c in enumerate(word) if _is_core(c)]
        i = rng.choice(core)
        c = word[i]
        if c.isdigit():
            other = rng.choice([d for d in string.digits if d != c])
        elif "\u4e00" <= c <= "\u9fff":
            other = rng.choice([h for h in han if h != c] or ["错"])
        else:
            letters = string.ascii_uppercase if c.isupper() else string.ascii_lowercase
            other = rng.choice([x for x in letters if x.lower() != c.lower()])
        kind = rng.choice(["swap", "swap", "drop", "add"]) if len(core) >= 3 else "swap"
        if kind == "swap":
            changed = word[:i] + other + word[i + 1:]
        elif kind == "drop":
            changed = word[:i] + word[i + 1:]
        else:
            changed = word[:i] + other + word[i:]
        spans.append((len(out), len(out) + len(changed), True))
        out += changed
    return out + gt[at:], spans


def scores(marked: list[tuple[int, int]], spans: list[tuple[int, int, bool]]) -> tuple[int, int, int, int]:
    """(injected, injected marked, correct, correct marked)."""
    def hit(s: tuple[int, int, bool]) -> bool:
        return any(a < s[1] and s[0] < b for a, b in marked)

    bad = [s for s in spans if s[2]]
    good = [s for s in spans if not s[2]]
    return len(bad), sum(map(hit, bad)), len(good), sum(map(hit, good))
