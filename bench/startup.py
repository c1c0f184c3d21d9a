"""Time to the first shown main window, as a ratio to a bare PySide6 window (goal <= 1.5x).

Each sample is a fresh interpreter (imports included), timed from just before it is
spawned until the first Expose event of its main window. The app goes through its real
start path (desktop_ocr.gui.app.run); the baseline is a QMainWindow in a bare script.
Both run alternately in this same process, offscreen, and the medians are compared.
Bytecode caches are allowed (PYTHONDONTWRITEBYTECODE is removed from the children's
environment) and warmed by a first run of each: an installed app has its .pyc files.

    python bench/startup.py [--runs 7] [--language zh_CN] [--theme dark]

`--language zh_CN` starts the window in Chinese (its translation loaded before the first
paint), `--theme dark` with the dark palette.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

PROBE = r"""
import sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QWindow
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv[:1])
class First(QObject):
    def eventFilter(self, obj, ev):
        if ev.type() == QEvent.Type.Expose and isinstance(obj, QWindow) and obj.isExposed():
            print("SHOWN", time.time(), flush=True)
            QTimer.singleShot(0, app.quit)
            app.removeEventFilter(self)
        return False
f = First(); app.installEventFilter(f)
"""

BARE = PROBE + r"""
w = QMainWindow(); w.resize(1280, 800); w.show()
app.exec()
"""

APP = PROBE + r"""
from desktop_ocr.core.settings import Settings
from desktop_ocr.gui.app import run
run(Settings(engine="cpu", language=LANGUAGE, theme=THEME))
"""


def sample(code: str, env: dict) -> float:
    began = time.time()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    for line in out.stdout.splitlines():
        if line.startswith("SHOWN"):
            return float(line.split()[1]) - began
    raise RuntimeError(f"no window shown: {out.stderr[-2000:]}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--language", default="en")
    parser.add_argument("--theme", default="system")
    args = parser.parse_args()
    app_code = f"LANGUAGE, THEME = {args.language!r}, {args.theme!r}\n" + APP
    home = tempfile.mkdtemp(prefix="bench-startup-")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", DESKTOP_OCR_CONFIG=f"{home}/settings.json",
               XDG_STATE_HOME=home, XDG_CONFIG_HOME=home, XDG_DATA_HOME=home)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    sample(BARE, env), sample(app_code, env)  # warm the page cache for both
    bare, app = [], []
    for _ in range(args.runs):
        bare.append(sample(BARE, env))
        app.append(sample(app_code, env))
    b, a = statistics.median(bare), statistics.median(app)
    print(f"bare PySide6 window: median {b * 1000:.0f} ms over {args.runs} runs")
    print(f"Desktop OCR window ({args.language}, {args.theme}):  median {a * 1000:.0f} ms over "
          f"{args.runs} runs")
    print(f"startup ratio: {a / b:.2f}x (goal <= 1.5x)")


if __name__ == "__main__":
    main()
