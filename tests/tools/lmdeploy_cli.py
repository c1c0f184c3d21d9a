#!/usr/bin/env python3
"""lmdeploy's own `serve api_server` argument parser, without torch, for the launch-line tests.

    python tests/tools/lmdeploy_cli.py fetch            # once: lmdeploy's CLI source into .cache/
    python tests/tools/lmdeploy_cli.py parse ARGS...    # parse like `lmdeploy ARGS...`; JSON out

`fetch` downloads the lmdeploy wheel from PyPI (pip, no dependencies) and keeps only the
files the parser is built from (lmdeploy/cli/, pytorch/disagg/config.py, version.py,
messages.py for QuantPolicy) under `.cache/lmdeploy-<version>/` (git-ignored; nothing of
lmdeploy is committed). `parse` builds `lmdeploy`'s real parser from them: the modules
that would pull in torch are replaced by what the parser needs of them (the batch-size
default, the KV QuantPolicy enum read from lmdeploy's own messages.py, and the parser
registries that only appear in help texts). It prints the parsed namespace as JSON, or
exits 2 with argparse's own error, exactly as the real `lmdeploy` would.

An installed lmdeploy (the [gpu] extra) is used instead when there is one, and
`LMDEPLOY_SRC` may name a folder that holds an `lmdeploy/` source tree.
"""

from __future__ import annotations

import ast
import enum
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import types
import zipfile
from pathlib import Path

VERSION = "0.18.0"
ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache" / f"lmdeploy-{VERSION}"
KEEP = ("lmdeploy/version.py", "lmdeploy/messages.py", "lmdeploy/pytorch/disagg/config.py")


def source() -> Path | None:
    """A folder holding lmdeploy/cli/serve.py, or None."""
    if os.environ.get("LMDEPLOY_SRC"):
        p = Path(os.environ["LMDEPLOY_SRC"])
        return p if (p / "lmdeploy/cli/serve.py").is_file() else None
    spec = importlib.util.find_spec("lmdeploy")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations))).parent
    return CACHE if (CACHE / "lmdeploy/cli/serve.py").is_file() else None


def fetch() -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                        f"lmdeploy=={VERSION}", "-d", tmp], check=True)
        wheel = next(Path(tmp).glob("lmdeploy-*.whl"))
        with zipfile.ZipFile(wheel) as z:
            for name in z.namelist():
                if name.startswith("lmdeploy/cli/") or name in KEEP:
                    z.extract(name, CACHE)
    return CACHE


def _package(name: str, path: Path) -> None:
    mod = types.ModuleType(name)
    mod.__path__ = [str(path)]
    sys.modules[name] = mod


def build_parser(src: Path):
    root = src / "lmdeploy"
    # The packages' __init__ files import the inference engines (torch): register them empty.
    for name, sub in (("lmdeploy", ""), ("lmdeploy.pytorch", "pytorch"), ("lmdeploy.pytorch.disagg", "pytorch/disagg"),
                      ("lmdeploy.serve", "serve"), ("lmdeploy.serve.parsers", "serve/parsers")):
        _package(name, root / sub)
    utils = types.ModuleType("lmdeploy.utils")
    utils.get_max_batch_size = lambda *a, **k: 256  # only the default of --max-batch-size
    sys.modules["lmdeploy.utils"] = utils
    # QuantPolicy, compiled from lmdeploy's own messages.py (the rest of that module needs torch).
    tree = ast.parse((root / "messages.py").read_text(encoding="utf-8"))
    node = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "QuantPolicy")
    messages = types.ModuleType("lmdeploy.messages")
    messages.enum = enum
    exec(compile(ast.Module([node], []), str(root / "messages.py"), "exec"), messages.__dict__)  # noqa: S102
    sys.modules["lmdeploy.messages"] = messages
    for name, attrs in (("lmdeploy.serve.parsers.reasoning_parser",
                         {"ReasoningParserManager": types.SimpleNamespace(module_dict={}),
                          "LEGACY_REASONING_PARSER_NAMES": []}),
                        ("lmdeploy.serve.parsers.tool_parser",
                         {"ToolParserManager": types.SimpleNamespace(module_dict={})})):
        mod = types.ModuleType(name)  # help texts only
        mod.__dict__.update(attrs)
        sys.modules[name] = mod
    sys.path.insert(0, str(src))
    from lmdeploy.cli.cli import CLI
    from lmdeploy.cli.serve import SubCliServe

    SubCliServe.add_parsers()
    return CLI.parser


def main(argv: list[str]) -> int:
    if argv[:1] == ["fetch"]:
        print(fetch())
        return 0
    if argv[:1] != ["parse"]:
        print(__doc__, file=sys.stderr)
        return 64
    src = source()
    if src is None:
        print("lmdeploy's CLI source is not here: python tests/tools/lmdeploy_cli.py fetch", file=sys.stderr)
        return 3
    ns = build_parser(src).parse_args(argv[1:])
    print(json.dumps({k: v for k, v in vars(ns).items() if k != "run"}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
