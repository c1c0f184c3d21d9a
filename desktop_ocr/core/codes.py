"""Barcodes and QR codes found in an image, as plain data (the reader is engines/codes.py).

The `codes` task's text is `codes_to_text(codes)`: a JSON list, one object per code with
its format, text and position, so the result can be stored, exported and read back
(`parse_codes`) like any other result, and `--task codes --json` can list it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

Point = tuple[float, float]
_URL_RX = re.compile(r"^(https?://|www\.)\S+$", re.I)


@dataclass(frozen=True)
class Code:
    """One code: `format` as people name it ("QR Code", "EAN-13", "Code 128"), the decoded
    `text`, and its corners (top-left, top-right, bottom-right, bottom-left of the symbol
    as it reads) in pixels of the image it was found in."""

    format: str
    text: str
    position: tuple[Point, Point, Point, Point]

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        xs = [p[0] for p in self.position]
        ys = [p[1] for p in self.position]
        return min(xs), min(ys), max(xs), max(ys)

    @property
    def centre(self) -> Point:
        x0, y0, x1, y1 = self.bbox
        return (x0 + x1) / 2, (y0 + y1) / 2

    @property
    def url(self) -> str | None:
        """The code's web address when its whole text is one (http, https or www.), else
        None. Only these may be offered for opening, and only after the user confirms."""
        text = self.text.strip()
        if not _URL_RX.match(text):
            return None
        url = text if "://" in text else "https://" + text
        parts = urlsplit(url)
        return url if parts.scheme in ("http", "https") and parts.netloc else None

    def to_dict(self) -> dict[str, Any]:
        x0, y0, x1, y1 = self.bbox
        return {"format": self.format, "text": self.text,
                "position": [[round(x, 1), round(y, 1)] for x, y in self.position],
                "bbox": [round(x0, 1), round(y0, 1), round(x1, 1), round(y1, 1)]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Code:
        pts = [(float(p[0]), float(p[1])) for p in d["position"]]
        if len(pts) != 4:
            raise ValueError("a code's position has four corners")
        return cls(str(d["format"]), str(d["text"]), (pts[0], pts[1], pts[2], pts[3]))


def codes_to_text(codes: Sequence[Code]) -> str:
    return json.dumps([c.to_dict() for c in codes], ensure_ascii=False, indent=2)


def parse_codes(text: str) -> list[Code] | None:
    """The codes of a `codes` result's text; None when the text is not such a list."""
    start, end = text.find("["), text.rfind("]")
    if start < 0 or end < start:
        return None
    try:
        data = json.loads(text[start:end + 1])
        return [Code.from_dict(d) for d in data] if isinstance(data, list) else None
    except (ValueError, KeyError, TypeError, IndexError):
        return None
