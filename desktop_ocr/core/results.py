"""The one result type: what recognising one part of a source gave.

A *part* is one region of one page of one source, or a whole page. The pipeline
(core/pipeline.py) yields a `PartResult` for every part it finishes, the library
(core/library.py) stores each one the moment it exists, and the window, the CLI and every
export read them. A result knows where it came from well enough to be found again for the
same input (`reuse_key`) and to be shown without the source (its thumbnail).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from desktop_ocr.core.tables import Table

# Where a source came from: a file (or a page of one), or an image that never was a file.
SOURCE_KINDS = ("file", "paste", "snip", "watch")
# Where the text came from: an engine, the PDF's own text layer, or a stored result.
ORIGINS = ("ocr", "pdf-text", "library")


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_hash(path: Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes, read in chunks (a 2 GB PDF must not load at once)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class ReuseKey:
    """What makes two recognitions the same question: the same bytes, page, region, task,
    prompt, engine and model. A stored result with the same key is reused by resume."""

    source_hash: str
    page: int
    region: tuple[float, float, float, float] | None
    rotation: int
    task: str
    prompt: str
    engine: str
    model: str


@dataclass
class PartResult:
    # ---- where it came from
    source: str  # file path, or a label ("Clipboard image 3 (640 × 480 px)", "Snip 2")
    source_kind: str = "file"  # one of SOURCE_KINDS
    source_hash: str = ""  # SHA-256 of the file (of the PNG-encoded image for a paste/snip)
    page: int = 1  # 1-based
    page_count: int = 1
    region: tuple[float, float, float, float] | None = None  # x, y, w, h fractions; None = page
    region_label: str = ""  # "Region 2"; "" for the whole page
    region_id: str = ""  # the window's region id, to put a result back on its rectangle
    rotation: int = 0  # clockwise degrees the user turned the page before recognising
    # ---- what was asked
    task: str = "text"
    prompt: str = ""
    engine: str = ""  # engine id (core.contract.ENGINE_IDS)
    model: str = ""  # the model that answered ("" when the engine has none)
    # ---- what came back
    text: str = ""
    finish: str = ""  # a FinishReason value; "" when the part failed
    error: str = ""  # a message for the user; "" when it worked
    origin: str = "ocr"  # one of ORIGINS
    tables: list[Table] | None = None  # the grids as the user edited them; None = parse text
    # ---- how long it took (seconds) and how hard it was
    seconds: float = 0.0
    first_token_s: float | None = None
    attempts: int = 0
    created: float = field(default_factory=time.time)  # epoch seconds
    # ---- bookkeeping
    thumbnail: bytes = b""  # a small JPEG of the crop, for the History panel
    id: int | None = None  # library row id once stored
    run_id: int | None = None  # the library run (batch) it belongs to
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. repetition details, Q&A turns

    @property
    def ok(self) -> bool:
        return not self.error

    @property
    def name(self) -> str:
        """The source's file name, or its label."""
        return Path(self.source).name if self.source_kind == "file" else self.source

    @property
    def label(self) -> str:
        """What a user reads: "scan.pdf, page 3, Region 2"."""
        parts = [self.name]
        if self.page_count > 1:
            parts.append(f"page {self.page}")
        if self.region_label:
            parts.append(self.region_label)
        return ", ".join(parts)

    def reuse_key(self) -> ReuseKey:
        return ReuseKey(self.source_hash, self.page, _rounded(self.region), self.rotation,
                        self.task, self.prompt, self.engine, self.model)

    def with_(self, **changes: Any) -> PartResult:
        return replace(self, **changes)

    def to_dict(self, *, thumbnail: bool = False) -> dict[str, Any]:
        """JSON-ready (tables as dicts; the thumbnail only when asked for, as hex)."""
        d = asdict(self)
        d["tables"] = [t.to_dict() for t in self.tables] if self.tables is not None else None
        d["region"] = list(self.region) if self.region is not None else None
        if thumbnail:
            d["thumbnail"] = self.thumbnail.hex()
        else:
            d.pop("thumbnail")
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PartResult:
        d = dict(d)
        known = set(cls.__dataclass_fields__)
        d = {k: v for k, v in d.items() if k in known}
        if d.get("tables") is not None:
            d["tables"] = [Table.from_dict(t) for t in d["tables"]]
        if d.get("region") is not None:
            d["region"] = tuple(float(v) for v in d["region"])
        if isinstance(d.get("thumbnail"), str):
            d["thumbnail"] = bytes.fromhex(d["thumbnail"])
        return cls(**d)


def _rounded(region: tuple[float, float, float, float] | None
             ) -> tuple[float, float, float, float] | None:
    # Fractions that went through JSON or SQLite must still compare equal.
    return None if region is None else tuple(round(v, 6) for v in region)  # type: ignore[return-value]
