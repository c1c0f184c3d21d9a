"""Largest event-loop stall of the window while the CPU engine's second reading runs in
the background (doubtful words, codes, boxes), against the same window idle.

A real `MainWindow` on a qasync loop (offscreen platform unless QT_QPA_PLATFORM is set)
recognises a corpus receipt with an in-process engine that answers its ground truth at
once, so the only work left afterwards is the second reading. A precise QTimer ticks
every --tick ms; a tick's stall is how much later than its interval it fired. The same
ticker first runs on the idle window for as long (the baseline). Goal: max <= 50 ms.

    python bench/second_reading_stall.py [IMAGE] [--tick 5]

Measured on a shared 2-core VM (load ~1.7): receipt-sroie-590.jpg read again in 1.6-1.8 s,
stall max 13-19 ms (p99 7-10 ms) against 0.5-2 ms idle; the Chinese table page (111
boxes, 4 s) max 16 ms. PASS.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("DESKTOP_OCR_CONFIG", str(Path(tempfile.mkdtemp()) / "settings.json"))
CORPUS = ROOT.parent / "shared" / "corpus"

import qasync  # noqa: E402
from PySide6.QtCore import Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from desktop_ocr.core.contract import Chunk, FinishReason  # noqa: E402
from desktop_ocr.core.notifications import NotificationManager  # noqa: E402
from desktop_ocr.core.settings import Settings  # noqa: E402
from desktop_ocr.gui.main_window import MainWindow  # noqa: E402

GOAL_MS = 50.0


class Answer:
    """A vision-language engine stand-in that answers `text` at once."""

    name, model, max_concurrency = "openai", "bench", 1

    def __init__(self, text: str) -> None:
        self.text = text

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def health(self):
        return None

    async def stream(self, request):
        yield Chunk(self.text)
        yield Chunk("", FinishReason.STOP)


async def _ticks(tick_ms: int, until) -> list[float]:
    """Lateness (ms) of each tick of a precise timer until `until()` is true."""
    stalls: list[float] = []
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(tick_ms)
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        stalls.append(max(0.0, (now - last[0]) * 1000 - tick_ms))
        last[0] = now

    timer.timeout.connect(tick)
    timer.start()
    while not until():
        await asyncio.sleep(0.02)
    timer.stop()
    return stalls


def _line(name: str, stalls: list[float]) -> str:
    p99 = statistics.quantiles(stalls, n=100)[98] if len(stalls) >= 100 else max(stalls)
    return f"{name:<28} p99 {p99:6.1f} ms   max {max(stalls):6.1f} ms   ({len(stalls)} ticks)"


async def main(image: Path, text: str, tick_ms: int) -> int:
    win = MainWindow(Settings(engine="openai", endpoint="http://127.0.0.1:9"),
                     notifications=NotificationManager())
    win.engines.use(Answer(text))
    win.resize(1280, 800)
    win.show()
    reader = win.result_extras.reader
    win.open_paths([image])
    while not (win.runs.busy or win.session is not None):
        await asyncio.sleep(0.01)
    while win.runs.busy:
        await asyncio.sleep(0.01)
    began = time.perf_counter()
    busy = await _ticks(tick_ms, lambda: not reader.busy)
    seconds = time.perf_counter() - began
    idle_until = time.perf_counter() + seconds
    idle = await _ticks(tick_ms, lambda: time.perf_counter() >= idle_until)
    (result,) = win.session.all_results()
    print(f"image: {image.name}; second reading took {seconds:.2f} s, "
          f"{len(result.extra.get('doubts', []))} doubtful words, "
          f"{len(result.extra.get('layout', {}).get('lines', []))} CPU boxes")
    print(_line("idle window:", idle))
    print(_line("during the second reading:", busy))
    ratio = max(busy) / max(max(idle), 0.1)
    print(f"ratio max reading / idle: {ratio:.2f}; goal max <= {GOAL_MS:.0f} ms: "
          f"{'PASS' if max(busy) <= GOAL_MS else 'FAIL'}")
    win.close()
    await win.engines.shutdown()
    return 0 if max(busy) <= GOAL_MS else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image", nargs="?", type=Path,
                        default=CORPUS / "files" / "receipt-sroie-590.jpg")
    parser.add_argument("--tick", type=int, default=5)
    args = parser.parse_args()
    gt = args.image.with_name(args.image.stem + ".gt.txt")
    truth = gt.read_text(encoding="utf-8") if gt.is_file() else "text"
    app = QApplication([])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        sys.exit(loop.run_until_complete(main(args.image, truth, args.tick)))
