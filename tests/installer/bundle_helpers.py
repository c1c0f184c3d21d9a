"""Helpers of the installer tests: run the bundled program, score its text."""

from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path

from corpus_data import CORPUS


def scores(text: str, name: str) -> dict:
    spec = importlib.util.spec_from_file_location("corpus_cer", CORPUS / "cer.py")
    assert spec and spec.loader
    cer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cer)
    manifest = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
    item = next(it for it in manifest["items"] if it["file"] == name)
    return cer.text_scores(text, (CORPUS / "files" / item["gt_text"]).read_text(encoding="utf-8"))


def run_ocr(exe: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    # Another working directory than the checkout: nothing may come from the source tree.
    return subprocess.run([str(exe), "ocr", *args], capture_output=True, text=True, timeout=300,
                          cwd="/", env=env)
