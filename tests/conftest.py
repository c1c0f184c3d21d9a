"""Shared fixtures. Area-specific fixtures live in tests/<area>/conftest.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from corpus_data import CORPUS

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
