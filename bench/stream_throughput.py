"""Throughput of many regions against a server that batches (goal: >= 0.9x its capacity).

The stand-in (tests/standin/server.py) in batch mode serves up to CAPACITY requests at
once, each at TOKENS_PER_S: its capacity is CAPACITY * TOKENS_PER_S tokens/s. We send
REGIONS regions through core.pipeline.Pipeline + OpenAIEngine (the app's remote path) with
max_in_flight = CAPACITY and report achieved / capacity. For contrast, the same work
one request at a time (the baseline, in the same process) reaches about 1/CAPACITY.

    python bench/stream_throughput.py [--regions 16] [--capacity 8] [--tokens 64] [--tokens-per-s 64]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

from desktop_ocr.core.pipeline import PageOptions, Pipeline, Source  # noqa: E402
from desktop_ocr.core.regions import Region  # noqa: E402
from desktop_ocr.core.settings import Settings  # noqa: E402
from desktop_ocr.engines.openai_compat import OpenAIEngine  # noqa: E402

KEY = "bench-key"


async def run_batch(url: str, regions: int, in_flight: int, tokens: int) -> tuple[float, int]:
    """`regions` regions of one image, as the window sends a page's regions."""
    engine = OpenAIEngine(url, KEY, None, max_concurrency=in_flight)
    await engine.start()
    try:
        image = Image.new("RGB", (320 * regions, 120), "white")
        marked = [Region(i / regions, 0.0, 1 / regions, 1.0, order=i + 1) for i in range(regions)]
        source = Source(image=image, kind="paste", label="bench",
                        page_options={0: PageOptions(marked)})
        pipeline = Pipeline(engine, Settings(max_in_flight=in_flight, max_tokens=4096))
        t0 = time.perf_counter()
        summary = await pipeline.run([source])
        elapsed = time.perf_counter() - t0
        bad = [r for r in summary.results if not r.ok]
        if bad or summary.stopped:
            raise SystemExit(f"{len(bad)} regions failed: {bad[0].error if bad else summary.stopped}")
        got = sum(len(r.text.split()) for r in summary.results)
        if got != regions * tokens:
            raise SystemExit(f"expected {regions * tokens} tokens, got {got}")
        return elapsed, got
    finally:
        await engine.stop()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--regions", type=int, default=16)
    p.add_argument("--capacity", type=int, default=8)
    p.add_argument("--tokens", type=int, default=64)
    p.add_argument("--tokens-per-s", type=float, default=64.0)
    a = p.parse_args()
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "standin" / "server.py"), "--port", "0", "--api-keys", KEY,
         "--scenario", "batch", "--capacity", str(a.capacity), "--tokens", str(a.tokens),
         "--tokens-per-s", str(a.tokens_per_s)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        port = int(server.stdout.readline().split()[1])
        url = f"http://127.0.0.1:{port}"
        capacity = a.capacity * a.tokens_per_s
        base_elapsed, base_tokens = asyncio.run(run_batch(url, max(2, a.regions // a.capacity), 1, a.tokens))
        elapsed, tokens = asyncio.run(run_batch(url, a.regions, a.capacity, a.tokens))
    finally:
        server.terminate()
        server.wait()
    base_rate = base_tokens / base_elapsed
    rate = tokens / elapsed
    print(f"stand-in capacity: {a.capacity} concurrent x {a.tokens_per_s:g} tokens/s = {capacity:g} tokens/s")
    print(f"baseline, 1 in flight: {base_rate:7.1f} tokens/s  = {base_rate / capacity:.2f}x capacity")
    print(f"{a.regions} regions, {a.capacity} in flight: {rate:7.1f} tokens/s in {elapsed:.2f} s"
          f"  = {rate / capacity:.2f}x capacity (goal >= 0.90x), {rate / base_rate:.1f}x the baseline")


if __name__ == "__main__":
    main()
