"""DESIGN.md's layering rules, checked on the real import graph in fresh interpreters."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import desktop_ocr.core
import desktop_ocr.engines


def _modules(package) -> list[str]:
    return [m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]


def _imported_after(modules: list[str]) -> set[str]:
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


def test_core_and_engines_import_no_qt():
    # GIVEN every module of core/ and engines/
    modules = _modules(desktop_ocr.core) + _modules(desktop_ocr.engines)
    assert "desktop_ocr.core.imaging" in modules and "desktop_ocr.engines.base" in modules
    # WHEN all of them are imported in a fresh interpreter
    loaded = _imported_after(modules)
    # THEN neither Qt nor qasync came with them
    offenders = sorted(m for m in loaded if m.split(".")[0] in {"PySide6", "shiboken6", "qasync"})
    assert offenders == []


def test_gui_imports_no_torch_or_lmdeploy():
    loaded = _imported_after(["desktop_ocr.gui.main_window", "desktop_ocr.gui.app", "desktop_ocr.cli"])
    assert "PySide6.QtWidgets" in loaded  # the check itself can see imports
    assert not {m for m in loaded if m.split(".")[0] in {"torch", "lmdeploy", "transformers"}}
