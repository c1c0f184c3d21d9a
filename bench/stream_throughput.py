"""Throughput of many regions against a server that batches (goal: >= 0.9x its capacity).

The stand-in (tests/standin/server.py) in batch mode serves up to CAPACITY requests at
once, each at TOKENS_PER_S: its capacity is CAPACITY * TOKENS_PER_S tokens/s. We send
REGIONS requests through core.jobs.JobQueue + OpenAIEngine (the app's remote path) with
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

from desktop_ocr.core.contract import Request  # noqa: E402
from desktop_ocr.core.jobs import JobQueue, JobState  # noqa: E402
from desktop_ocr.engines.openai_compat import OpenAIEngine  # noqa: E402

KEY = "bench-key"


async def run_batch(url: str, regions: int, in_flight: int) -> tuple[float, int]:
    engine = OpenAIEngine(url, KEY, None, max_concurrency=in_flight)
    await engine.start()
    try:
        image = Image.new("RGB", (320, 120), "white")
        queue = JobQueue(engine)
        t0 = time.perf_counter()
        jobs = [queue.submit(Request(image=image, max_tokens=4096), key=i) for i in range(regions)]
        await queue.join()
        elapsed = time.perf_counter() - t0
        bad = [j for j in jobs if j.state is not JobState.DONE]
        if bad:
            raise SystemExit(f"{len(bad)} jobs failed: {bad[0].error}")
        tokens = sum(j.usage["completion_tokens"] for j in jobs)
        return elapsed, tokens
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
        base_elapsed, base_tokens = asyncio.run(run_batch(url, max(2, a.regions // a.capacity), 1))
        elapsed, tokens = asyncio.run(run_batch(url, a.regions, a.capacity))
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
