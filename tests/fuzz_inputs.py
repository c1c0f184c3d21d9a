"""Mutated copies of the corpus's images and PDFs for the fuzz tests (fixed seed: the same
files on every run, so a failure can be replayed by name).

Kinds: truncations (anywhere, and to the first few hundred bytes), bit flips (in the
header and anywhere), overwritten runs, another format's header on this body, two files
spliced, a repeated slice, and unchanged content under a wrong extension.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

SEED = 20261202
SOURCE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".gif", ".bmp", ".pdf", ".webp"}
SUFFIXES = [".png", ".jpg", ".pdf", ".tif", ".gif", ".bmp", ".webp", ".epub", ".xps", ".txt", ""]
MULTI_PAGE = ("pdf-47-pages", "bad-truncated", "odd-multipage")


@dataclass(frozen=True)
class Mutant:
    path: Path
    kind: str
    source: str

    @property
    def multi_page(self) -> bool:
        return any(self.source.startswith(m) for m in MULTI_PAGE)


def _truncate(rng: random.Random, data: bytes, others: list[bytes]) -> bytes:
    return data[: rng.randint(1, max(1, len(data) - 1))]


def _truncate_head(rng: random.Random, data: bytes, others: list[bytes]) -> bytes:
    return data[: rng.randint(8, min(len(data), 900))]


def _flip_bits(rng: random.Random, data: bytes, others: list[bytes], header: bool = False) -> bytes:
    out = bytearray(data)
    span = min(len(out), 256) if header else len(out)
    for _ in range(rng.randint(1, 24)):
        i = rng.randrange(span)
        out[i] ^= 1 << rng.randrange(8)
    return bytes(out)


def _flip_header(rng: random.Random, data: bytes, others: list[bytes]) -> bytes:
    return _flip_bits(rng, data, others, header=True)


def _overwrite(rng: random.Random, data: bytes, others: list[bytes]) -> bytes:
    out = bytearray(data)
    start = rng.randrange(len(out))
    n = rng.randint(1, 4096)
    fill = rng.choice([0x00, 0xFF, rng.randrange(256)])
    out[start:start + n] = bytes([fill]) * len(out[start:start + n])
    return bytes(out)


def _swap_header(rng: random.Random, data: bytes, others: list[bytes]) -> bytes:
    other = rng.choice(others)
    n = rng.choice([8, 16, 64, 256])
    return other[:n] + data[n:]


def _splice(rng: random.Random, data: bytes, others: list[bytes]) -> bytes:
    other = rng.choice(others)
    return data[: rng.randint(1, len(data))] + other[rng.randrange(len(other)):]


def _repeat_slice(rng: random.Random, data: bytes, others: list[bytes]) -> bytes:
    a = rng.randrange(len(data))
    b = min(len(data), a + rng.randint(1, 8192))
    return data[:b] + data[a:b] * rng.randint(1, 4) + data[b:]


def _same(rng: random.Random, data: bytes, others: list[bytes]) -> bytes:
    return data


MUTATIONS: list[tuple[str, Callable[..., bytes], bool]] = [
    # (kind, function, gets a wrong extension)
    ("truncate", _truncate, False),
    ("truncate-head", _truncate_head, False),
    ("flip", _flip_bits, False),
    ("flip-header", _flip_header, False),
    ("overwrite", _overwrite, False),
    ("swap-header", _swap_header, False),
    ("splice", _splice, False),
    ("repeat", _repeat_slice, False),
    ("wrong-ext", _same, True),
    ("truncate-wrong-ext", _truncate, True),
]


def sources(corpus: Path) -> list[Path]:
    return sorted(p for p in corpus.iterdir()
                  if p.suffix.lower() in SOURCE_SUFFIXES and p.stat().st_size > 0)


def make_mutants(corpus: Path, out: Path, count: int = 320, seed: int = SEED) -> list[Mutant]:
    """At least `count` distinct mutated files in `out`."""
    rng = random.Random(seed)
    files = sources(corpus)
    blobs = {p: p.read_bytes() for p in files}
    others = list(blobs.values())
    out.mkdir(parents=True, exist_ok=True)
    made: list[Mutant] = []
    seen: set[str] = set()
    i = 0
    while len(made) < count:
        src = files[i % len(files)]
        kind, mutate, rename = MUTATIONS[(i // len(files) + i) % len(MUTATIONS)]
        i += 1
        data = mutate(rng, blobs[src], others)
        digest = hashlib.sha1(data).hexdigest()
        suffix = rng.choice([s for s in SUFFIXES if s != src.suffix.lower()]) if rename else src.suffix
        key = digest + suffix
        if not data or key in seen:
            continue
        seen.add(key)
        path = out / f"{len(made):03d}-{kind}-{src.stem[:40]}{suffix}"
        path.write_bytes(data)
        made.append(Mutant(path, kind, src.name))
    return made
