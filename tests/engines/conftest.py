"""Engine test fixtures: the stand-in server as a real subprocess, the fake lmdeploy, and
a check that no child process outlives the engine tests."""

from __future__ import annotations

import time
from collections.abc import Iterator

import psutil
import pytest
from engine_helpers import Standin, start_standin


@pytest.fixture(scope="session", autouse=True)
def no_leftover_children() -> Iterator[None]:
    """After the engine tests, no process started by them may still be running."""
    me = psutil.Process()
    before = {p.pid for p in me.children(recursive=True)}
    yield
    deadline = time.monotonic() + 5
    left: list[psutil.Process] = []
    while time.monotonic() < deadline:
        left = [p for p in me.children(recursive=True) if p.pid not in before and _alive(p)]
        if not left:
            return
        time.sleep(0.1)
    described = [f"{p.pid} {_cmd(p)}" for p in left]
    for p in left:  # do not leak them into the rest of the run either
        p.kill()
    pytest.fail(f"child processes left after the engine tests: {described}")


def _alive(p: psutil.Process) -> bool:
    try:
        return p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _cmd(p: psutil.Process) -> str:
    try:
        return " ".join(p.cmdline())
    except psutil.Error:
        return "?"


@pytest.fixture(scope="module")
def standin() -> Iterator[Standin]:
    """One stand-in for a module; tests pick scenarios with [[scenario=NAME]] in the prompt."""
    server = start_standin()
    yield server
    server.stop()


