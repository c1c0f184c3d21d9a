"""Streaming table parse: does the cost per chunk stay flat as the table grows?

Streams a 10,000-row HTML table (and the same as a Markdown table) through
`StreamParser` in 20-character chunks and prints the time of the last 1,000 chunks as a
ratio to the first 1,000 (goal <= 1.2x). A parser that re-read its whole buffer per chunk
would show a ratio in the hundreds.

    python bench/table_stream.py [--rows 10000] [--chunk 20] [--repeat 5]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from desktop_ocr.core.tables import RowAdded, StreamParser  # noqa: E402


def html_table(rows: int, rng: random.Random) -> str:
    head = "<table><thead><tr><th>ID</th><th>Item</th><th>Qty</th><th>Price</th></tr></thead><tbody>"
    body = "".join(
        f"<tr><td>{i:05d}</td><td>item {rng.randint(1, 999)}</td><td>{rng.randint(1, 99)}</td>"
        f"<td>{rng.randint(1, 99999) / 100:,.2f}</td></tr>" for i in range(rows))
    return "Here is the table:\n" + head + body + "</tbody></table>\nDone."


def markdown_table(rows: int, rng: random.Random) -> str:
    body = "".join(f"| {i:05d} | item {rng.randint(1, 999)} | {rng.randint(1, 99)} |\n"
                   for i in range(rows))
    return "| ID | Item | Qty |\n|---|---|---|\n" + body + "\nDone."


def run(text: str, chunk: int, window: int) -> tuple[float, float, int]:
    chunks = [text[i:i + chunk] for i in range(0, len(text), chunk)]
    times = []
    p = StreamParser()
    rows = 0
    clock = time.perf_counter
    for c in chunks:
        t0 = clock()
        ev = p.feed(c)
        times.append(clock() - t0)
        rows += sum(isinstance(e, RowAdded) for e in ev)
    ev = p.close()
    rows += sum(isinstance(e, RowAdded) for e in ev)
    return sum(times[:window]), sum(times[-window:]), rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--chunk", type=int, default=20)
    ap.add_argument("--window", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    worst = 0.0
    for name, make in (("html", html_table), ("markdown", markdown_table)):
        text = make(args.rows, random.Random(1))
        # best of N per window: timer noise on a shared machine only ever adds time
        firsts, lasts = [], []
        for _ in range(args.repeat):
            first, last, rows = run(text, args.chunk, args.window)
            firsts.append(first)
            lasts.append(last)
            assert rows == args.rows + 1, rows
        first, last = min(firsts), min(lasts)
        ratio = last / first
        worst = max(worst, ratio)
        n_chunks = -(-len(text) // args.chunk)
        print(f"{name:8s} {args.rows} rows, {len(text):,} chars, {n_chunks:,} chunks of "
              f"{args.chunk}: first {args.window} chunks {first * 1e3:.1f} ms, last "
              f"{args.window} {last * 1e3:.1f} ms, ratio {ratio:.2f}x "
              f"({first / args.window * 1e6:.1f} us/chunk)")
    print(f"worst ratio last/first: {worst:.2f}x (goal <= 1.2x)")
    return 0 if worst <= 1.2 else 1


if __name__ == "__main__":
    raise SystemExit(main())
