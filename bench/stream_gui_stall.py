"""Largest event-loop stall while 5,000 chunks/s stream into the result view (goal: p99 <= 16 ms,
max <= 50 ms), against an idle loop in the same run.

The app's real path: the stand-in server (tests/standin/server.py, a real process on
127.0.0.1) streams SSE chunks at --rate; `OpenAIEngine` parses them, the pipeline's stream
loop hands each to `RunController`, which emits it as a Qt signal, `ResultView` buffers
and flushes once per frame; all on one qasync loop with the result view shown (offscreen
platform unless QT_QPA_PLATFORM is set). With --library (the default) the run stores its
result in a results library, and --writes results more (other parts of a batch finishing)
are written to it while the text streams, as in a batch. A
precise QTimer ticks every --tick ms; a tick's stall is how much later than its interval
it fired. The same ticker first runs on the idle loop (the baseline), then while streaming.

    python bench/stream_gui_stall.py [--rate 5000] [--seconds 5] [--tick 5] [--slice-ms 4]
                                     [--no-library] [--writes 100]

Measured on a shared 2-core VM (load ~1.5-2): p99 8-15 ms, max 10-32 ms (PASS); idle p99
0.4-2.6 ms. Under heavier load (load average 4) p99 rose to 18-35 ms. With --slice-ms 0
(no yielding) single stalls of 80-114 ms appear: a read buffer of hundreds of chunks is
handed over in one go once the loop falls behind.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import qasync  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402
from PySide6.QtCore import Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from desktop_ocr.core import pipeline as pipeline_module  # noqa: E402
from desktop_ocr.core.notifications import NotificationManager  # noqa: E402
from desktop_ocr.core.pipeline import Source  # noqa: E402
from desktop_ocr.core.settings import Settings  # noqa: E402
from desktop_ocr.gui.engine_host import EngineHost  # noqa: E402
from desktop_ocr.gui.eventloop import install_asyncgen_hooks  # noqa: E402
from desktop_ocr.gui.result_view import ResultView  # noqa: E402
from desktop_ocr.gui.runs import RunController  # noqa: E402

KEY = "bench-key"
P99_GOAL_MS = 16.0
MAX_GOAL_MS = 50.0
WORDS = ("invoice total amount paid tax net gross date item quantity price paper toner ink "
         "delivery address customer number account bank reference order shipping discount").split()


def make_text(chars: int, seed: int = 7) -> str:
    """Varied words (a repeating text would trip the loop guard), broken into lines."""
    rng = random.Random(seed)
    out, line, size = [], [], 0
    while size < chars:
        word = rng.choice(WORDS) if rng.random() > 0.2 else f"{rng.randint(1, 99999)}.{rng.randint(0, 99):02d}"
        line.append(word)
        size += len(word) + 1
        if sum(len(w) + 1 for w in line) > 70:
            out.append(" ".join(line))
            line = []
    out.append(" ".join(line))
    return "\n".join(out)


class Ticker:
    def __init__(self, interval_ms: int) -> None:
        self.interval = interval_ms / 1000
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.stalls: list[float] = []
        self._last = 0.0

    def _tick(self) -> None:
        now = time.perf_counter()
        self.stalls.append(max(0.0, now - self._last - self.interval))
        self._last = now

    def start(self) -> None:
        self.stalls = []
        self._last = time.perf_counter()
        self.timer.start()

    def stop(self) -> list[float]:
        self.timer.stop()
        return [s * 1000 for s in self.stalls]


def summary(ms: list[float]) -> tuple[float, float, float]:
    if not ms:
        return 0.0, 0.0, 0.0
    p99 = statistics.quantiles(ms, n=100)[98] if len(ms) >= 100 else max(ms)
    return statistics.median(ms), p99, max(ms)


async def run(args: argparse.Namespace, app: QApplication) -> int:
    chunks_wanted = int(args.rate * args.seconds)
    text = make_text(int(chunks_wanted * 2.5))  # the stand-in cuts 1-4 characters a chunk, 2.5 on average
    standin = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "standin" / "server.py"), "--port", "0", "--api-keys", KEY,
         "--chunk-delay", f"{1 / args.rate:.7f}", "--session-len", "10000000", "--text", text],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert standin.stdout is not None
        port = int(standin.stdout.readline().split()[1])
        settings = Settings(engine="openai", endpoint=f"http://127.0.0.1:{port}", api_key=KEY,
                            max_tokens=chunks_wanted * 2)
        notes = NotificationManager()
        engines = EngineHost(settings, notifications=notes)
        library = None
        if args.library:
            import tempfile

            from desktop_ocr.core.library import AsyncLibrary

            library = AsyncLibrary(Path(tempfile.mkdtemp(prefix="bench-stall-")) / "library.sqlite3")
            await library.ready()
        runs = RunController(engines, settings, notes, library=library)
        view = ResultView()
        view.resize(700, 900)
        view.show()
        chunks = 0
        first_at = 0.0

        def on_chunk(_part, piece: str) -> None:
            nonlocal chunks, first_at
            if not chunks:
                first_at = time.perf_counter()
            chunks += 1
            view.append_text(piece)

        runs.text.connect(on_chunk)
        done: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        runs.finished.connect(lambda _info, s: done.done() or done.set_result(s))
        runs.failed.connect(lambda _info, m: done.done() or done.set_exception(RuntimeError(m)))
        await engines.start_engine()  # discovers the model: not part of the measurement

        image = Image.new("RGB", (800, 600), "white")
        ImageDraw.Draw(image).text((20, 20), "Invoice 2024-0042", fill="black")
        ticker = Ticker(args.tick)

        ticker.start()
        await asyncio.sleep(args.idle)
        idle = ticker.stop()

        async def batch_writes() -> int:
            """Other parts of a batch finishing while this one streams: each is stored."""
            from desktop_ocr.core.results import PartResult

            written = 0
            gap = args.seconds / max(args.writes, 1)
            while not done.done() and written < args.writes:
                await asyncio.sleep(gap)
                await library.add(PartResult(f"/scans/batch-{written}.png", text=make_text(600, written),
                                             task="text", engine="openai", model="internvl3",
                                             finish="stop", thumbnail=b"\xff\xd8" + bytes(3000)))
                written += 1
            return written

        ticker.start()
        cpu0 = time.process_time()
        runs.start([Source(image=image, kind="paste", label="bench")], "paste", "bench")
        writer = asyncio.ensure_future(batch_writes()) if library is not None else None
        summary_ = await done
        writes = await writer if writer is not None else 0
        busy = ticker.stop()
        cpu = time.process_time() - cpu0
        streamed = time.perf_counter() - first_at
        result = summary_.results[0]  # type: ignore[attr-defined]
        view.flush()
        ok_text = view.toPlainText().endswith(text[-200:])
        await engines.shutdown()
        if library is not None:
            stored = await library.count()
            await library.close()
    finally:
        standin.terminate()
        standin.wait(5)
        if standin.stdout:
            standin.stdout.close()

    i50, i99, imax = summary(idle)
    b50, b99, bmax = summary(busy)
    print(f"streamed {chunks:,} chunks ({len(result.text):,} characters) in {streamed:.2f} s: "
          f"{chunks / streamed:,.0f} chunks/s (asked {args.rate:,}/s); text complete in the view: {ok_text}")
    print(f"GUI process CPU while streaming: {cpu:.2f} s, {cpu / max(chunks, 1) * 1e6:.0f} us a chunk")
    if args.library:
        print(f"results written to the library meanwhile: {writes} of a batch + this one "
              f"({stored} stored)")
    print(f"ticker every {args.tick} ms          p50      p99      max   (ms of lateness)")
    print(f"  idle loop ({len(idle):5d} ticks) {i50:8.2f} {i99:8.2f} {imax:8.2f}")
    print(f"  streaming ({len(busy):5d} ticks) {b50:8.2f} {b99:8.2f} {bmax:8.2f}")
    print(f"ratio streaming / idle: p99 {b99 / max(i99, 0.01):.1f}x, max {bmax / max(imax, 0.01):.1f}x")
    verdict = b99 <= P99_GOAL_MS and bmax <= MAX_GOAL_MS
    print(f"goal p99 <= {P99_GOAL_MS:.0f} ms and max <= {MAX_GOAL_MS:.0f} ms: {'PASS' if verdict else 'FAIL'}")
    return 0 if verdict and ok_text else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=5000, help="chunks per second from the stand-in")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of the stream")
    parser.add_argument("--tick", type=int, default=5, help="ticker interval, ms")
    parser.add_argument("--idle", type=float, default=3.0, help="seconds of idle baseline")
    parser.add_argument("--slice-ms", type=float, default=None,
                        help="the pipeline's longest run without yielding (0: never yield, to see why it does)")
    parser.add_argument("--library", action=argparse.BooleanOptionalAction, default=True,
                        help="store results in a results library while streaming (default on)")
    parser.add_argument("--writes", type=int, default=100,
                        help="results of other parts written to the library during the stream")
    args = parser.parse_args()
    if args.slice_ms is not None:
        pipeline_module.YIELD_EVERY_S = args.slice_ms / 1000 if args.slice_ms > 0 else float("inf")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    install_asyncgen_hooks(loop)
    with loop:
        rc = loop.run_until_complete(run(args, app))
        # httpx's line iterator is left to the garbage collector after [DONE]; finish it on the loop.
        loop.run_until_complete(loop.shutdown_asyncgens())
    return rc


if __name__ == "__main__":
    sys.exit(main())
