"""Running a clipboard command-line tool off the GUI thread, with a deadline."""

from __future__ import annotations

import asyncio
import subprocess

from desktop_ocr.gui.clipboard.base import HandlerUnavailable

TIMEOUT_S = 5.0


class ToolFailed(HandlerUnavailable):
    def __init__(self, code: int, stderr: str) -> None:
        super().__init__(stderr or f"exit code {code}")
        self.code = code
        self.stderr = stderr


def _run(args: list[str], data: bytes | None, timeout: float) -> bytes:
    try:
        # A tool that serves the selection (xclip -i, wl-copy) forks and keeps running:
        # it must not hold our pipes open, or run() would wait for it.
        out = subprocess.PIPE if data is None else subprocess.DEVNULL
        done = subprocess.run(args, input=data, stdout=out, stderr=out, timeout=timeout, check=False)
    except FileNotFoundError:
        raise HandlerUnavailable(f"{args[0]} is not installed.") from None
    except subprocess.TimeoutExpired:
        raise HandlerUnavailable(f"{args[0]} did not answer within {timeout:.0f} s.") from None
    if done.returncode != 0:
        err = (done.stderr or b"").decode(errors="replace").strip() if data is None else ""
        raise ToolFailed(done.returncode, err)
    return done.stdout or b""


async def run(args: list[str], data: bytes | None = None, timeout: float = TIMEOUT_S) -> bytes:
    return await asyncio.to_thread(_run, args, data, timeout)

