"""A private Xvfb display for tests that need a real X clipboard, and xclip helpers.

Qt cannot switch platform plugins inside the pytest process (which runs offscreen), so
code that must talk to X runs in a driver subprocess with QT_QPA_PLATFORM=xcb and this
display; the test talks to the same clipboard with xclip, as another program would.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DRIVERS = Path(__file__).resolve().parent / "drivers"


def missing_tools() -> list[str]:
    return [t for t in ("Xvfb", "xclip") if shutil.which(t) is None]


@contextmanager
def xvfb(screen: str = "1280x800x24") -> Iterator[str]:
    """Start Xvfb on a free display number; yield ":N"."""
    read, write = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", screen, "-nolisten", "tcp", "-noreset"],
        pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    os.close(write)
    try:
        with os.fdopen(read) as fh:
            number = fh.readline().strip()
        if not number:
            raise RuntimeError("Xvfb did not start")
        yield f":{number}"
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def x_env(display: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("WAYLAND_DISPLAY", None)
    env.update(DISPLAY=display, QT_QPA_PLATFORM="xcb", PYTHONPATH=str(ROOT))
    env.update(extra)
    return env


def xclip_set(display: str, data: bytes, target: str) -> None:
    """Own the clipboard with `data` as `target` (xclip keeps serving it in the background).

    Returns once the clipboard serves `data`: xclip's foreground process exits before its
    background one has surely taken the selection, and a paste in between would read the
    previous owner's targets and the new owner's data."""
    subprocess.run(["xclip", "-selection", "clipboard", "-t", target, "-i"], input=data,
                   env=x_env(display), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=True, timeout=10)
    deadline = time.monotonic() + 10
    while True:
        try:
            if xclip_get(display, target) == data:
                return
        except subprocess.CalledProcessError:
            pass  # nobody owns it yet, or the old owner lacks this target
        if time.monotonic() > deadline:
            raise AssertionError(f"the clipboard never served the {target} just set")
        time.sleep(0.02)


def xclip_get(display: str, target: str | None = None) -> bytes:
    args = ["xclip", "-selection", "clipboard", "-o"] + (["-t", target] if target else [])
    return subprocess.run(args, env=x_env(display), capture_output=True, check=True, timeout=10).stdout


def xclip_targets(display: str) -> list[str]:
    return xclip_get(display, "TARGETS").decode().split()


class Driver:
    """A driver script run under the display; it prints one JSON object per line."""

    def __init__(self, display: str, script: str, *args: str, **env: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(DRIVERS / script), *args], env=x_env(display, **env), cwd=ROOT,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._pump, args=(self.proc.stdout, self.lines), daemon=True).start()
        threading.Thread(target=self._pump, args=(self.proc.stderr, None), daemon=True).start()

    def _pump(self, stream, into) -> None:
        for line in stream:
            if into is None:
                self.stderr.append(line)
            else:
                into.put(line)
        if into is not None:
            into.put(None)

    def event(self, timeout: float = 30.0, kind: str | None = None) -> dict:
        """The next JSON event (of `kind`, if given), skipping anything else printed."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                line = self.lines.get(timeout=max(0.01, left)) if left > 0 else None
            except queue.Empty:
                line = None
                if time.monotonic() < deadline:
                    continue
            if line is None:
                if self.proc.poll() is not None:
                    raise AssertionError(f"driver exited ({self.proc.returncode}): {''.join(self.stderr)}")
                raise AssertionError(f"no {kind or 'event'} from the driver within {timeout} s; "
                                     f"stderr: {''.join(self.stderr)[-2000:]}")
            line = line.strip()
            if line.startswith("{"):
                obj = json.loads(line)
                if kind is None or obj.get("event") == kind:
                    return obj

    def send(self, command: str) -> None:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def close(self) -> tuple[int, str]:
        try:
            if self.proc.poll() is None:
                self.send("quit")
            rc = self.proc.wait(15)
        except (subprocess.TimeoutExpired, BrokenPipeError, OSError):
            self.proc.kill()
            rc = self.proc.wait()
        return rc, "".join(self.stderr)
