"""The model catalog: which vision-language models the app can fetch, choose and serve.

The facts live in `desktop_ocr/resources/models.json` (sizes, KV cost per token, LMDeploy
backend, licence, hub ids, with where each came from); this module only reads and
queries them. No Qt, no engines: the GUI, the CLI and the engines all ask here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

GIB = 1024**3
REQUEST_STYLES = ("internvl", "qwen2_5_vl")
BACKENDS = ("turbomind", "pytorch")


@dataclass(frozen=True)
class Family:
    id: str
    title: str
    request: str  # how a request is shaped: "internvl" (max_dynamic_patch) or "qwen2_5_vl" (pixels)
    served_name: str  # lmdeploy --model-name, and the "model" of each request
    architecture: str  # config.json "architectures"[0] of its repositories
    note: str = ""


@dataclass(frozen=True)
class ModelEntry:
    name: str  # the short name the app and the CLI use: "InternVL3-8B-AWQ"
    family: str
    params_b: float
    weights_gb: float  # decimal GB, as the hubs show them
    format: str  # "bf16" (16-bit weights, served as bf16 or fp16) or "awq" (4-bit)
    kv_bytes_per_token: int
    overhead_gib: float
    backend: str
    licence: str
    hf: str = ""
    modelscope: str = ""
    base: str = ""
    llm: str = ""
    note: str = ""
    weights_estimated: bool = False
    licence_seen: bool = False

    @property
    def awq(self) -> bool:
        return self.format == "awq"

    @property
    def weights_gib(self) -> float:
        return self.weights_gb * 1e9 / GIB

    def kv_gib(self, session_len: int) -> float:
        return self.kv_bytes_per_token * session_len / GIB

    def need_gib(self, session_len: int = 16384) -> float:
        """VRAM for the weights, one full session's KV cache and the runtime overhead."""
        return self.weights_gib + self.kv_gib(session_len) + self.overhead_gib

    def hub_id(self, source: str = "hf") -> str:
        return self.modelscope if source == "modelscope" else self.hf

    @property
    def ids(self) -> tuple[str, ...]:
        """Every name this entry answers to (short name, hub ids and their last part, which
        is what a downloaded folder is usually called), for matching."""
        hub = [x for x in (self.hf, self.modelscope) if x]
        return tuple(dict.fromkeys([self.name, *hub, *(h.split("/")[-1] for h in hub)]))


@dataclass(frozen=True)
class Catalog:
    families: dict[str, Family]
    models: tuple[ModelEntry, ...]
    default_family: str
    advice_order: tuple[str, ...]
    about: tuple[str, ...] = field(default=())

    # ------------------------------------------------------------ queries

    def get(self, name: str) -> ModelEntry | None:
        """The entry for a short name or a hub id (case-insensitive), or None."""
        key = _norm(name)
        if not key:
            return None
        for m in self.models:
            if key in (_norm(i) for i in m.ids):
                return m
        return None

    def require(self, name: str) -> ModelEntry:
        entry = self.get(name)
        if entry is None:
            raise KeyError(f"{name!r} is not in the model catalog; `desktop-ocr models list` shows the names.")
        return entry

    def family(self, family_id: str) -> Family:
        return self.families[family_id]

    def family_of(self, model: str) -> Family | None:
        """The family of a catalog name, a hub id or a model folder (its config.json decides)."""
        entry = self.get(model) or self.get(Path(model).name)
        if entry is not None:
            return self.families[entry.family]
        arch = folder_architecture(model)
        if arch:
            hits = [f for f in self.families.values() if f.architecture == arch]
            if hits:
                # InternVL3 and InternVL3.5 share an architecture; the folder name tells them apart.
                named = [f for f in hits if _norm(f.title).replace(".", "") in _norm(model).replace("_", "")]
                return (named or hits)[0]
        return self.guess_family(model)

    def guess_family(self, name: str) -> Family | None:
        """From a served model name alone ("OpenGVLab/InternVL3-8B", "qwen2.5-vl", "internvl3")."""
        key = _norm(name).replace("_", ".")
        if "qwen2.5-vl" in key or "qwen2.5vl" in key:
            return self.families.get("qwen2_5_vl")
        if "internvl3.5" in key:
            return self.families.get("internvl3_5")
        if "internvl" in key:
            return self.families.get("internvl3")
        return None

    def in_family(self, family_id: str) -> list[ModelEntry]:
        return [m for m in self.models if m.family == family_id]


def _norm(text: str) -> str:
    return text.strip().strip("/").lower()


def folder_architecture(path: str | Path) -> str:
    """`architectures[0]` of a model folder's config.json, or "" (no folder, no config)."""
    try:
        data = json.loads((Path(path) / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    archs = data.get("architectures") if isinstance(data, dict) else None
    return str(archs[0]) if isinstance(archs, list) and archs else ""


def parse(data: dict[str, Any]) -> Catalog:
    """Build a Catalog from the JSON document; raises ValueError on a malformed one."""
    try:
        families = {fid: Family(fid, f["title"], f["request"], f["served_name"], f["architecture"],
                                f.get("note", "")) for fid, f in data["families"].items()}
        seen = set(data.get("licences_seen", ()))
        models = []
        for m in data["models"]:
            models.append(ModelEntry(
                name=m["name"], family=m["family"], params_b=float(m["params_b"]),
                weights_gb=float(m["weights_gb"]), format=m["format"],
                kv_bytes_per_token=int(m["kv_bytes_per_token"]), overhead_gib=float(m["overhead_gib"]),
                backend=m["backend"], licence=m.get("licence", ""), hf=m.get("hf", ""),
                modelscope=m.get("modelscope", ""), base=m.get("base", ""), llm=m.get("llm", ""),
                note=m.get("note", ""), weights_estimated=bool(m.get("weights_estimated", False)),
                licence_seen=m["name"] in seen))
    except (KeyError, TypeError) as exc:
        raise ValueError(f"malformed model catalog: {exc!r}") from exc
    catalog = Catalog(families, tuple(models), data["default_family"], tuple(data.get("advice_order", ())),
                      tuple(data.get("about", ())))
    _validate(catalog)
    return catalog


def _validate(c: Catalog) -> None:
    names = [m.name for m in c.models]
    if len(set(names)) != len(names):
        raise ValueError("malformed model catalog: duplicate model names")
    if c.default_family not in c.families:
        raise ValueError(f"malformed model catalog: unknown default family {c.default_family!r}")
    for f in c.families.values():
        if f.request not in REQUEST_STYLES:
            raise ValueError(f"malformed model catalog: {f.id} has unknown request style {f.request!r}")
    for m in c.models:
        if m.family not in c.families:
            raise ValueError(f"malformed model catalog: {m.name} has unknown family {m.family!r}")
        if m.backend not in BACKENDS or m.format not in ("bf16", "awq"):
            raise ValueError(f"malformed model catalog: {m.name} has backend {m.backend!r} / format {m.format!r}")
        if not m.hf and not m.modelscope:
            raise ValueError(f"malformed model catalog: {m.name} has no hub id")
        for hub_id in (m.hf, m.modelscope):
            if hub_id and not re.fullmatch(r"[\w.-]+/[\w.-]+", hub_id):
                raise ValueError(f"malformed model catalog: {m.name} has a bad hub id {hub_id!r}")
    for name in c.advice_order:
        if name not in names:
            raise ValueError(f"malformed model catalog: advice_order names unknown {name!r}")


@lru_cache(maxsize=1)
def load() -> Catalog:
    """The catalog shipped in the package (read once)."""
    text = resources.files("desktop_ocr").joinpath("resources/models.json").read_text(encoding="utf-8")
    return parse(json.loads(text))
