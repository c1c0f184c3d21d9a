"""Search latency with 100,000 stored results (goal <= 50 ms), against a plain LIKE scan of
the same table in the same process.

The results are realistic English and Chinese pages (bench/library_write.py's corpus lines,
recombined with fresh numbers). A few rare words are planted in 10 results each, spread
over the whole history, so that a rare term cannot be answered from the newest rows alone.
Queries: 1, 2 and 3+ characters in both scripts, common and rare, several terms at once,
and terms found nowhere. Each runs as the History panel asks: the newest 50 hits with their
snippets (`Library.search(q, limit=50)`), timed from the call to the hits in hand.

    python bench/library_search.py [--n 100000] [--reps 15]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from library_write import make_texts, results, thumbnails  # noqa: E402

from desktop_ocr.core.library import Library  # noqa: E402

RARE = ["琥珀色的", "Zebrawood"]
QUERIES = {
    "EN 1 char": ["t", "q", "z"],
    "EN 2 chars": ["to", "in", "ze"],
    "EN 3+ chars": ["tot", "invoice", "total amount", "zebrawood"],
    "ZH 1 char": ["发", "税", "琥"],
    "ZH 2 chars": ["发票", "合计", "琥珀"],
    "ZH 3+ chars": ["有限公司", "人民币", "琥珀色"],
    "several terms": ["发票 total", "公司 12", "琥珀 zebrawood"],
    "no hit": ["xyzzy", "鳕鱼", "鳕"],
}


def build(path: Path, n: int) -> Library:
    texts = make_texts(n, seed=5)
    rng = random.Random(9)
    for word in RARE:
        for k in rng.sample(range(n), 10):
            texts[k] += f"\n{word} {k}"
    rows = results(texts, thumbnails())
    lib = Library.open(path)
    t0 = time.perf_counter()
    for k in range(0, n, 5000):
        lib.add_many(rows[k:k + 5000])
    print(f"built {n:,} results in {time.perf_counter() - t0:.0f} s "
          f"({sum(len(t) for t in texts) / n:.0f} characters each on average)")
    return lib


def like_scan(db: sqlite3.Connection, query: str) -> list[int]:
    """The baseline: every term as a LIKE over name, text and cells, newest first."""
    terms = query.split()
    where = " AND ".join("(name || char(10) || text || char(10) || cells) LIKE ?" for _ in terms)
    return [r[0] for r in db.execute(f"SELECT id FROM results WHERE {where} ORDER BY id DESC "
                                     "LIMIT 50", [f"%{t}%" for t in terms])]


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--reps", type=int, default=15)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "library.sqlite3"
        build(path, a.n).close()
        t0 = time.perf_counter()
        Library.open(path, check=True).close()  # the integrity check the app runs beside it
        checked = time.perf_counter() - t0
        t0 = time.perf_counter()
        lib = Library.open(path)
        opened = time.perf_counter() - t0
        size = sum(p.stat().st_size for p in Path(tmp).iterdir())
        print(f"open: {opened * 1e3:.0f} ms; with quick_check (AsyncLibrary runs it on its own "
              f"thread): {checked * 1e3:.0f} ms; file {size / 1e9:.2f} GB")
        raw = sqlite3.connect(path)
        every: list[float] = []
        every_like: list[float] = []
        deep: list[float] = []  # rare or absent terms: the newest rows cannot answer them
        deep_like: list[float] = []
        print(f"{'query kind':15s} {'p50':>8s} {'p95':>8s} {'max':>8s}   {'LIKE p50':>9s}  ratio   hits")
        for kind, queries in QUERIES.items():
            times: list[float] = []
            like: list[float] = []
            counts = []
            for q in queries:
                lib.search(q, limit=50)  # warm the page cache for this query's index pages
                for _ in range(a.reps):
                    t0 = time.perf_counter()
                    hits = lib.search(q, limit=50)
                    times.append(time.perf_counter() - t0)
                counts.append(len(hits))
                mine = times[-a.reps:]
                for _ in range(3):
                    t0 = time.perf_counter()
                    like_scan(raw, q)
                    like.append(time.perf_counter() - t0)
                if len(hits) < 50:
                    deep += mine
                    deep_like += like[-3:]
            every += times
            every_like += like
            print(f"{kind:15s} {pct(times, .5) * 1e3:6.1f}ms {pct(times, .95) * 1e3:6.1f}ms "
                  f"{max(times) * 1e3:6.1f}ms   {pct(like, .5) * 1e3:7.1f}ms  "
                  f"{pct(times, .5) / pct(like, .5):6.2g}x  {counts}")
        print(f"all queries: p50 {pct(every, .5) * 1e3:.1f} ms, p95 {pct(every, .95) * 1e3:.1f} ms, "
              f"max {max(every) * 1e3:.1f} ms (goal <= 50 ms); LIKE scan p50 "
              f"{pct(every_like, .5) * 1e3:.0f} ms; ratio of p50s {pct(every, .5) / pct(every_like, .5):.2g}x")
        print(f"rare or absent terms (fewer than 50 hits): p50 {pct(deep, .5) * 1e3:.1f} ms, "
              f"max {max(deep) * 1e3:.1f} ms; the LIKE scan p50 {pct(deep_like, .5) * 1e3:.0f} ms, "
              f"max {max(deep_like) * 1e3:.0f} ms; ratio of p50s {pct(deep, .5) / pct(deep_like, .5):.2g}x")
        raw.close()
        lib.close()


if __name__ == "__main__":
    main()
