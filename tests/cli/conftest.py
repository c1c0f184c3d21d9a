"""CLI fixtures: the engine tests' stand-in server and fake lmdeploy (one copy, not two)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.append(str(Path(__file__).resolve().parent.parent / "engines"))
from engine_helpers import FakeLMDeploy, Standin, install_fake_lmdeploy, start_standin  # noqa: E402


@pytest.fixture
def standin_factory() -> Iterator:
    started: list[Standin] = []

    def factory(*args: str, **kwargs) -> Standin:
        server = start_standin(*args, **kwargs)
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()


@pytest.fixture
def fake_lmdeploy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeLMDeploy:
    return install_fake_lmdeploy(tmp_path, monkeypatch)
