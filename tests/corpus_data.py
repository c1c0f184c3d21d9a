"""Where the shared corpus lives and what its manifest lists (importable from any test dir)."""

from __future__ import annotations

import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("DESKTOP_OCR_CORPUS", ROOT.parent / "shared" / "corpus"))


def corpus_items(kind: str | None = None) -> list[dict]:
    manifest = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
    items = manifest["items"]
    return [it for it in items if kind is None or it["kind"] == kind]
