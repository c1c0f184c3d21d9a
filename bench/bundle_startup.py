"""Start-up of the PyInstaller bundle, as a ratio to the same app run from the venv.

Two figures, each the median of fresh processes started alternately from the bundle and from
the venv (`.venv/bin/desktop-ocr`) in this same run:
- command line: `desktop-ocr --version` (the frozen importer and the bootloader's cost);
- window: spawn until the main window is mapped on a private Xvfb display (xdotool polled
  every 10 ms), then Ctrl+Q, and the process must exit with 0.
It also prints the bundle's size on disk. Build the bundle first: bash installer/build.sh

    python bench/bundle_startup.py [--bundle dist/desktop-ocr] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def xvfb():
    read, write = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x800x24",
                             "-nolisten", "tcp", "-noreset"], pass_fds=(write,),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    try:
        with os.fdopen(read) as fh:
            yield ":" + fh.readline().strip()
    finally:
        proc.terminate()
        proc.wait(10)


def window_of(pid: int, env: dict) -> str | None:
    out = subprocess.run(["xdotool", "search", "--all", "--onlyvisible", "--pid", str(pid), "--name", "Desktop OCR"],
                         env=env, capture_output=True, text=True).stdout.split()
    return out[0] if out else None


def time_to_window(exe: str, env: dict) -> float:
    began = time.perf_counter()
    proc = subprocess.Popen([exe, "--engine", "cpu"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        while (window := window_of(proc.pid, env)) is None:
            if proc.poll() is not None:
                raise RuntimeError(f"{exe} exited with {proc.returncode}: {proc.stderr.read()[-2000:]}")
            if time.perf_counter() - began > 120:
                raise RuntimeError(f"{exe}: no window within 120 s")
            time.sleep(0.01)
        shown = time.perf_counter() - began
        subprocess.run(["xdotool", "windowfocus", "--sync", window, "key", "ctrl+q"], env=env, check=True)
        if proc.wait(30) != 0:
            raise RuntimeError(f"{exe} exited with {proc.returncode}: {proc.stderr.read()[-2000:]}")
        return shown
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def time_version(exe: str, env: dict) -> float:
    began = time.perf_counter()
    subprocess.run([exe, "--version"], env=env, check=True, capture_output=True)
    return time.perf_counter() - began


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bundle", type=Path, default=ROOT / "dist" / "desktop-ocr")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    bundled = str(args.bundle / "desktop-ocr")
    venv = str(Path(sys.executable).parent / "desktop-ocr")
    for exe in (bundled, venv):
        if not os.access(exe, os.X_OK):
            sys.exit(f"{exe} is missing (bash installer/build.sh; installer/setup.sh app)")
    missing = [t for t in ("Xvfb", "xdotool") if shutil.which(t) is None]
    if missing:
        sys.exit(f"needs {' and '.join(missing)} (bash installer/setup.sh test)")
    home = tempfile.mkdtemp(prefix="bench-bundle-")
    env = dict(os.environ, DESKTOP_OCR_CONFIG=f"{home}/settings.json", XDG_STATE_HOME=home,
               XDG_CONFIG_HOME=home, XDG_CACHE_HOME=home, XDG_DATA_HOME=home, QT_QPA_PLATFORM="xcb")
    env.pop("WAYLAND_DISPLAY", None)
    size = int(subprocess.run(["du", "-sm", str(args.bundle)], capture_output=True, text=True).stdout.split()[0])
    print(f"bundle size: {size} MiB ({args.bundle})")

    with xvfb() as display:
        env["DISPLAY"] = display
        for exe in (bundled, venv):  # warm the page cache for both
            time_version(exe, env), time_to_window(exe, env)
        for name, measure in (("--version", time_version), ("window", time_to_window)):
            b, v = [], []
            for _ in range(args.runs):
                b.append(measure(bundled, env))
                v.append(measure(venv, env))
            mb, mv = statistics.median(b), statistics.median(v)
            print(f"{name:>9}: bundle median {mb * 1000:.0f} ms, venv {mv * 1000:.0f} ms "
                  f"over {args.runs} runs: ratio {mb / mv:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
