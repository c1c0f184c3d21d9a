"""Shared fixtures. Area-specific fixtures live in tests/<area>/conftest.py."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

# GUI tests run offscreen unless a display was asked for explicitly (Xvfb tests set it).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("DESKTOP_OCR_CORPUS", ROOT.parent / "shared" / "corpus"))


def corpus_items(kind: str | None = None) -> list[dict]:
    manifest = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
    items = manifest["items"]
    return [it for it in items if kind is None or it["kind"] == kind]


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
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
