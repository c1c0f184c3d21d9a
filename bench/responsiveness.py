"""Largest event-loop stall while the CPU engine reads a receipt, against an idle loop.

A timer ticks every 5 ms on a plain asyncio loop; the stall is the largest lateness of a
tick. We measure it first with the loop idle, then while `CpuEngine` streams a corpus
receipt on the same loop (the GUI awaits the engine the same way through qasync).
Goal: at most 50 ms.

    python bench/responsiveness.py [IMAGE]
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CORPUS = ROOT.parent / "shared" / "corpus"

from PIL import Image  # noqa: E402

from desktop_ocr.core.contract import Request  # noqa: E402
from desktop_ocr.engines.cpu import CpuEngine, OcrModels  # noqa: E402

TICK = 0.005
GOAL_MS = 50.0


async def _ticker(stop: asyncio.Event, lateness: list[float]) -> None:
    while not stop.is_set():
        t0 = time.perf_counter()
        await asyncio.sleep(TICK)
        lateness.append(time.perf_counter() - t0 - TICK)


async def _measure(work) -> tuple[float, float, int]:
    stop = asyncio.Event()
    lateness: list[float] = []
    ticker = asyncio.create_task(_ticker(stop, lateness))
    await asyncio.sleep(0.05)
    t0 = time.perf_counter()
    result = await work()
    elapsed = time.perf_counter() - t0
    stop.set()
    await ticker
    return max(lateness) * 1000, elapsed, result


async def main(path: Path) -> None:
    image = Image.open(path).convert("RGB")
    engine = CpuEngine(OcrModels())
    await engine.start()

    async def idle() -> int:
        await asyncio.sleep(3.0)
        return 0

    async def recognise() -> int:
        n = 0
        async for chunk in engine.stream(Request(image)):
            n += bool(chunk.text)
        return n

    idle_ms, _, _ = await _measure(idle)
    busy_ms, secs, chunks = await _measure(recognise)
    await engine.stop()
    print(f"image: {path.name}, {chunks} text chunks in {secs:.2f} s")
    print(f"largest stall, idle loop:       {idle_ms:6.1f} ms")
    print(f"largest stall, while reading:   {busy_ms:6.1f} ms")
    print(f"ratio reading / idle: {busy_ms / max(idle_ms, 0.1):.2f}; goal <= {GOAL_MS:.0f} ms: "
          f"{'PASS' if busy_ms <= GOAL_MS else 'FAIL'}")


if __name__ == "__main__":
    arg = Path(sys.argv[1]) if len(sys.argv) > 1 else CORPUS / "files" / "receipt-sroie-590.jpg"
    asyncio.run(main(arg))
