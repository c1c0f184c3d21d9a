"""DESIGN.md's layering rules, checked on every import statement and on the real import
graph in fresh interpreters.

core/ imports nothing from engines/ or gui/; engines/ nothing from gui/; neither imports
Qt; the window never imports torch, lmdeploy or transformers. The static check reads every
`import` in every module, the ones inside functions (lazy imports) included, so a rule
cannot be dodged by importing late.
"""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import desktop_ocr
import desktop_ocr.core
import desktop_ocr.engines

PACKAGE_ROOT = Path(desktop_ocr.__file__).parent
QT = ("PySide6", "shiboken6", "qasync")
HEAVY = ("torch", "lmdeploy", "transformers")

# layer -> modules it must never import (a prefix matches the module and its submodules)
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "desktop_ocr.core": ("desktop_ocr.engines", "desktop_ocr.gui", "desktop_ocr.cli",
                         "desktop_ocr.doctor", *QT, *HEAVY),
    "desktop_ocr.engines": ("desktop_ocr.gui", "desktop_ocr.cli", *QT),
    "desktop_ocr.gui": HEAVY,
}


@dataclass(frozen=True)
class Violation:
    module: str
    line: int
    imported: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line} imports {self.imported}"


def _module_name(root: Path, path: Path, package: str) -> str:
    rel = path.relative_to(root).with_suffix("")
    parts = [package, *rel.parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(tree: ast.AST, module: str, is_package: bool) -> list[tuple[int, str]]:
    """Every module an import statement anywhere in `tree` names, resolved to absolute."""
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            out.append((node.lineno, target))
            # `from desktop_ocr import gui` imports desktop_ocr.gui
            out += [(node.lineno, f"{target}.{alias.name}") for alias in node.names]
    return out


def _matches(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def violations(root: Path, package: str, rules: dict[str, tuple[str, ...]]) -> list[Violation]:
    found: list[Violation] = []
    for path in sorted(root.rglob("*.py")):
        module = _module_name(root, path, package)
        layer_rules = [banned for layer, banned in rules.items() if _matches(module, layer)]
        if not layer_rules:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for line, name in _imports(tree, module, path.name == "__init__.py"):
            for banned in layer_rules:
                if any(_matches(name, b) for b in banned):
                    found.append(Violation(module, line, name))
    return sorted(set(found), key=str)


def test_no_module_imports_across_its_layer_lazy_imports_included():
    # GIVEN every module of the package
    # WHEN every import statement is read, inside functions too
    found = violations(PACKAGE_ROOT, "desktop_ocr", FORBIDDEN)
    # THEN none crosses a layer boundary
    assert [str(v) for v in found] == []


def test_the_layer_check_catches_a_lazy_import(tmp_path):
    # GIVEN a package whose core hides an engines import inside a function, and a relative one
    pkg = tmp_path / "pkg"
    (pkg / "core").mkdir(parents=True)
    (pkg / "engines").mkdir()
    for init in (pkg / "__init__.py", pkg / "core" / "__init__.py", pkg / "engines" / "__init__.py"):
        init.write_text("")
    (pkg / "engines" / "cpu.py").write_text("X = 1\n")
    (pkg / "core" / "tidy.py").write_text("import os\n")
    (pkg / "core" / "sneaky.py").write_text(
        "def late():\n    from pkg.engines import cpu\n    return cpu\n")
    (pkg / "core" / "relative.py").write_text(
        "def late():\n    from ..engines.cpu import X\n    return X\n")
    (pkg / "core" / "qt.py").write_text("def f():\n    import PySide6.QtCore\n")
    rules = {"pkg.core": ("pkg.engines", "PySide6")}
    # WHEN the checker reads it
    found = {(v.module, v.imported) for v in violations(pkg, "pkg", rules)}
    # THEN each hidden import is reported, and the tidy module is not
    assert ("pkg.core.sneaky", "pkg.engines") in found
    assert ("pkg.core.sneaky", "pkg.engines.cpu") in found
    assert ("pkg.core.relative", "pkg.engines.cpu") in found
    assert ("pkg.core.qt", "PySide6.QtCore") in found
    assert not any(m == "pkg.core.tidy" for m, _ in found)


def test_the_engine_contract_lives_in_core():
    from desktop_ocr.core import contract

    for name in ("Request", "Chunk", "FinishReason", "Engine", "EngineError", "EngineUnavailable",
                 "EngineCrashed", "BadImage", "BadRequest", "EngineTimeout", "Cancelled",
                 "ENGINE_IDS", "Decoding"):
        assert hasattr(contract, name), name
    assert not (PACKAGE_ROOT / "engines" / "base.py").exists()


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
    assert "desktop_ocr.core.imaging" in modules and "desktop_ocr.core.contract" in modules
    # WHEN all of them are imported in a fresh interpreter
    loaded = _imported_after(modules)
    # THEN neither Qt nor qasync came with them
    offenders = sorted(m for m in loaded if m.split(".")[0] in set(QT))
    assert offenders == []


def test_gui_imports_no_torch_or_lmdeploy():
    loaded = _imported_after(["desktop_ocr.gui.main_window", "desktop_ocr.gui.app", "desktop_ocr.cli"])
    assert "PySide6.QtWidgets" in loaded  # the check itself can see imports
    assert not {m for m in loaded if m.split(".")[0] in set(HEAVY)}
