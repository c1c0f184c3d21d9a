"""Shared fixtures. Area-specific fixtures live in tests/<area>/conftest.py."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from corpus_data import CORPUS

# The stand-in launcher and the fake lmdeploy live with the engine tests; every area uses them.
sys.path.append(str(Path(__file__).resolve().parent / "engines"))
from engine_helpers import FakeLMDeploy, Standin, install_fake_lmdeploy, start_standin  # noqa: E402

# GUI tests run offscreen unless a display was asked for explicitly (Xvfb tests set it).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not (CORPUS / "manifest.json").exists():
        pytest.fail(f"the test corpus is missing: expected {CORPUS} (../shared/corpus beside the checkout)")
    return CORPUS / "files"


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory, monkeypatch):
    """Never touch the real user's settings, logs or history from a test."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("DESKTOP_OCR_CONFIG", str(home / "settings.json"))
    monkeypatch.setenv("DESKTOP_OCR_LIBRARY", str(home / "data" / "library.sqlite3"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))


@dataclass(frozen=True)
class TinyInternVL:
    folder: Path
    tokens_per_tile: int
    eos_token_id: int
    image_token_id: int
    vocab_size: int


@pytest.fixture(scope="session")
def tiny_internvl(tmp_path_factory) -> TinyInternVL:
    """A tiny random-weight InternVL "-hf" folder, built once per run (tests/tiny_internvl.py)."""
    missing = [m for m in ("torch", "transformers") if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"the transformers engine tests need {' and '.join(missing)} "
                    "(bash installer/setup.sh test installs them)")
    from tiny_internvl import make

    folder = tmp_path_factory.mktemp("tiny-internvl")
    return TinyInternVL(folder, **make(folder))


@pytest.fixture
def standin_factory() -> Iterator:
    """Stand-in servers started with the given options, stopped after the test."""
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
    """The fake `lmdeploy` as an executable file (shebang: this interpreter)."""
    return install_fake_lmdeploy(tmp_path, monkeypatch)
