"""Repetition-loop guard: notice a model repeating the same line or table row.

VLMs at greedy decoding sometimes fall into a loop and repeat one line until max_tokens
(lmdeploy-contract.md, "Known failure modes"). Feeding every streamed piece to a
`LoopGuard` spots an exactly repeating tail early, so the stream can be stopped and the
user offered a retry with a stronger repetition penalty (`retry_penalty`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from desktop_ocr.core.contract import Request

# A retry raises the penalty by this much, up to the cap: above ~1.3 models start to
# avoid legitimately repeated characters (digits in numbers, table pipes).
PENALTY_STEP = 0.1
PENALTY_CAP = 1.3


@dataclass(frozen=True)
class Repetition:
    unit: str  # the repeating piece of text
    repeats: int  # how many times it occurs back to back at the end
    start: int  # offset (in the whole text) where the repeats beyond the first begin

    def describe(self) -> str:
        shown = self.unit.strip().replace("\n", " / ")
        if len(shown) > 60:
            shown = shown[:57] + "..."
        return f"the model repeated {shown!r} {self.repeats} times"


class LoopGuard:
    """Feed text as it streams; `feed()` returns a Repetition once the tail loops.

    The tail is a loop when one unit of 1..max_period characters repeats back to back
    at least `min_repeats` times AND covers at least `min_chars` characters: short units
    need many repeats (a dotted leader is not a loop; 400 dots is), long units a few.
    Checks run every `check_every` characters, each costing O(max_period * log tail) in
    C-level slice compares, so a 5,000 chunks/s stream is not slowed down.
    """

    def __init__(self, *, min_repeats: int = 8, min_chars: int = 400, max_period: int = 600,
                 window: int = 8192, check_every: int = 64) -> None:
        self.min_repeats = min_repeats
        self.min_chars = min_chars
        self.max_period = max_period
        self.window = max(window, min_chars * 2, max_period * min_repeats)
        self.check_every = check_every
        self._tail = ""
        self._offset = 0  # text length before self._tail
        self._since_check = 0
        self.found: Repetition | None = None

    def feed(self, text: str) -> Repetition | None:
        if self.found is not None or not text:
            return self.found
        self._tail += text
        if len(self._tail) > self.window * 2:
            cut = len(self._tail) - self.window
            self._tail = self._tail[cut:]
            self._offset += cut
        self._since_check += len(text)
        if self._since_check >= self.check_every:
            self._since_check = 0
            self.found = self.check()
        return self.found

    def check(self) -> Repetition | None:
        tail = self._tail
        n = len(tail)
        if n < self.min_chars:
            return None
        for period in range(1, min(self.max_period, n // 2) + 1):
            # The tail loops with this period iff its last `need` characters equal the
            # same span shifted back by one period: one C-level compare per period.
            need = max(self.min_chars, self.min_repeats * period) - period
            if need + period > n or tail[n - need:] != tail[n - need - period:n - period]:
                continue
            # Found: measure the whole run. Matching shrinks monotonically, so bisect.
            lo, hi = need, n - period
            while lo < hi:
                mid = (lo + hi + 1) // 2
                if tail[n - mid:] == tail[n - mid - period:n - period]:
                    lo = mid
                else:
                    hi = mid - 1
            covered = lo + period
            repeats = covered // period
            unit = tail[n - period:]
            # Align the unit on a line start when it contains one (reads better).
            if "\n" in unit[:-1]:
                k = unit.index("\n") + 1
                unit = unit[k:] + unit[:k]
            return Repetition(unit, repeats, self._offset + n - covered + period)
        return None


def retry_penalty(current: float) -> float:
    """The repetition_penalty to retry with after a loop (None-safe upper cap)."""
    return round(min(PENALTY_CAP, max(current, 1.0) + PENALTY_STEP), 3)


def retry_request(request: Request) -> Request:
    """The same request with a stronger repetition penalty, for the "Retry" action."""
    return dataclasses.replace(request, repetition_penalty=retry_penalty(request.repetition_penalty))
