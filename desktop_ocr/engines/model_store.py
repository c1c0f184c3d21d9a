"""Models on disk: where they are, whether they are complete, and removing them.

Places looked at, in this order:
- the app's own models folder (`Settings.models_dir`, default `<user data>/models`): one
  folder per model, named by its catalog name, that only ever appears complete. A
  download builds it under `.partial/<name>/` and renames it into place after every file
  was verified, with `.desktop-ocr-model.json` (the manifest: repository, commit, files,
  sizes, hashes) inside; a folder without a valid manifest is not a model;
- the Hugging Face cache (`huggingface_hub.scan_cache_dir`: what `hf download` and
  `huggingface-cli download` fill);
- the ModelScope cache (`MODELSCOPE_CACHE`, default `~/.cache/modelscope/hub`);
- folders the user added (`Settings.model_folders`): a model folder, or a folder of them.

A folder from a cache or the user is complete when its config.json is there, every
shard its safetensors index names is there with a size, and no download is half done
in it (`*.incomplete`). No Qt here.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop_ocr.core import catalog

if TYPE_CHECKING:
    from desktop_ocr.core.settings import Settings

log = logging.getLogger(__name__)

MANIFEST = ".desktop-ocr-model.json"
PARTIAL = ".partial"
STATE = "state.json"
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")

SOURCES = {"app": "downloaded by Desktop OCR", "hf-cache": "Hugging Face cache",
           "modelscope-cache": "ModelScope cache", "folder": "a folder you added"}


@dataclass(frozen=True)
class LocalModel:
    name: str  # catalog name, or the folder's own name when the catalog does not know it
    path: Path
    source: str  # a key of SOURCES
    size_bytes: int
    entry: catalog.ModelEntry | None = None
    problem: str = ""  # why it cannot be served ("" = complete)
    repo: str = ""

    @property
    def complete(self) -> bool:
        return not self.problem


@dataclass
class PartialDownload:
    name: str
    path: Path
    repo: str
    source: str
    done_bytes: int
    total_bytes: int
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def fraction(self) -> float:
        return self.done_bytes / self.total_bytes if self.total_bytes else 0.0


def default_models_dir() -> Path:
    import platformdirs

    from desktop_ocr import APP_ID

    return Path(platformdirs.user_data_dir(APP_ID, appauthor=False)) / "models"


def folder_name(name_or_repo: str) -> str:
    """The folder a model gets in the app's models folder ("org/name" becomes "org--name")."""
    entry = catalog.load().get(name_or_repo)
    return entry.name if entry is not None else name_or_repo.strip("/").replace("/", "--")


def folder_size(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            with contextlib.suppress(OSError):
                total += (Path(root) / f).stat().st_size  # follows the HF cache's symlinks
    return total


def folder_problem(path: Path) -> str:
    """"" when `path` is a complete model folder, else why not (one line)."""
    path = Path(path)
    if not path.is_dir():
        return f"{path} is not a folder"
    if not (path / "config.json").is_file():
        return "no config.json: not a model folder, or not downloaded yet"
    if any(path.rglob("*.incomplete")):
        return "a download is not finished in it"
    manifest = path / MANIFEST
    if manifest.exists():
        return _manifest_problem(path, manifest)
    index = path / "model.safetensors.index.json"
    if index.is_file():
        try:
            shards = set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values())
        except (OSError, ValueError, KeyError, TypeError):
            return "its model.safetensors.index.json is damaged"
        missing = [s for s in sorted(shards) if not _has_bytes(path / s)]
        if missing:
            return f"{len(missing)} of {len(shards)} weight files missing ({missing[0]} ...)"
        return ""
    if not any(_has_bytes(p) for p in path.iterdir() if p.name.endswith(WEIGHT_SUFFIXES)):
        return "no weight files (*.safetensors)"
    return ""


def _has_bytes(p: Path) -> bool:
    try:
        return p.stat().st_size > 0  # stat follows a symlink: a dangling one fails
    except OSError:
        return False


def _manifest_problem(path: Path, manifest: Path) -> str:
    try:
        files = json.loads(manifest.read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return "its download record is damaged"
    for f in files:
        p = path / f["path"]
        try:
            size = p.stat().st_size
        except OSError:
            return f"{f['path']} is missing"
        if size != int(f["size"]):
            return f"{f['path']} has {size} bytes, not {f['size']}"
    return ""


class ModelStore:
    """Finds models on disk. Cheap enough to scan on each look (a few stat calls per model)."""

    def __init__(self, root: Path | None = None, folders: Iterable[str | Path] = (), *,
                 hf_cache: Path | None = None, modelscope_cache: Path | None = None,
                 use_caches: bool = True) -> None:
        self.root = Path(root) if root else default_models_dir()
        self.folders = [Path(f).expanduser() for f in folders if str(f).strip()]
        self.hf_cache = hf_cache
        self.modelscope_cache = modelscope_cache
        self.use_caches = use_caches
        self.catalog = catalog.load()

    @classmethod
    def from_settings(cls, settings: Settings) -> ModelStore:
        return cls(Path(settings.models_dir).expanduser() if settings.models_dir else None,
                   settings.model_folders)

    # ------------------------------------------------------------ paths

    def final_dir(self, name: str) -> Path:
        return self.root / folder_name(name)

    def partial_dir(self, name: str) -> Path:
        return self.root / PARTIAL / folder_name(name)

    # ------------------------------------------------------------ scanning

    def scan(self) -> list[LocalModel]:
        """Every model folder found, complete or not, the app's own first."""
        found: list[LocalModel] = []
        found += self._scan_app()
        if self.use_caches:
            found += self._scan_hf_cache()
            found += self._scan_modelscope_cache()
        for folder in self.folders:
            found += self._scan_folder(folder)
        # The same folder can be reached twice (a user folder that is the app's models folder).
        seen: set[Path] = set()
        out = []
        for m in found:
            key = m.path.resolve()
            if key not in seen:
                seen.add(key)
                out.append(m)
        return out

    def complete(self) -> dict[str, str]:
        """Catalog name -> folder of each complete model (first found wins), for the advice."""
        out: dict[str, str] = {}
        for m in self.scan():
            if m.complete and m.entry is not None and m.entry.name not in out:
                out[m.entry.name] = str(m.path)
        return out

    def find(self, name: str) -> LocalModel | None:
        """The best copy of `name` (catalog name, hub id or folder name): complete ones first."""
        entry = self.catalog.get(name)
        key = name.strip().strip("/").lower()
        hits = [m for m in self.scan()
                if (entry is not None and m.entry is entry)
                or m.name.lower() == key or m.repo.lower() == key]
        hits.sort(key=lambda m: (not m.complete, m.source != "app"))
        return hits[0] if hits else None

    def resolve(self, model: str) -> tuple[str, LocalModel | None]:
        """What to hand lmdeploy for `model`: a complete local folder, or "" and why not.

        `model` may be a folder path, a catalog name or a hub id. Returns (path, found).
        """
        p = Path(model).expanduser()
        if model and (p.is_absolute() or model.startswith((".", "~")) or p.is_dir()):
            problem = folder_problem(p)
            local = LocalModel(p.name, p, "folder", 0, self.catalog.get(p.name), problem)
            return ("" if problem else str(p)), local
        found = self.find(model)
        if found is not None and found.complete:
            return str(found.path), found
        return "", found

    def _entry_for(self, *names: str) -> catalog.ModelEntry | None:
        for n in names:
            e = self.catalog.get(n) if n else None
            if e is not None:
                return e
        return None

    def _scan_app(self) -> list[LocalModel]:
        out = []
        if not self.root.is_dir():
            return out
        for d in sorted(p for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(".")):
            repo = ""
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                repo = json.loads((d / MANIFEST).read_text(encoding="utf-8"))["repo"]
            problem = folder_problem(d) if (d / MANIFEST).exists() else "no download record: not made by a finished download"
            entry = self._entry_for(d.name, repo)
            out.append(LocalModel(entry.name if entry else d.name, d, "app", folder_size(d), entry, problem, repo))
        return out

    def _scan_hf_cache(self) -> list[LocalModel]:
        try:
            from huggingface_hub import scan_cache_dir

            info = scan_cache_dir(self.hf_cache) if self.hf_cache else scan_cache_dir()
        except Exception as exc:  # no cache yet (CacheNotFound), or unreadable
            log.debug("no Hugging Face cache: %s", exc)
            return []
        out = []
        for repo in info.repos:
            if repo.repo_type != "model":
                continue
            entry = self._entry_for(repo.repo_id)
            for rev in sorted(repo.revisions, key=lambda r: r.last_modified, reverse=True):
                path = Path(rev.snapshot_path)
                out.append(LocalModel(entry.name if entry else repo.repo_id, path, "hf-cache", rev.size_on_disk,
                                      entry, folder_problem(path), repo.repo_id))
        return out

    def _scan_modelscope_cache(self) -> list[LocalModel]:
        base = self.modelscope_cache or Path(os.environ.get("MODELSCOPE_CACHE") or
                                             Path.home() / ".cache" / "modelscope" / "hub")
        out = []
        for top in (base / "models", base):
            if not top.is_dir():
                continue
            for org in sorted(p for p in top.iterdir() if p.is_dir() and not p.name.startswith(".")):
                for d in sorted(p for p in org.iterdir() if p.is_dir() and not p.name.startswith(".")):
                    if not (d / "config.json").exists():
                        continue
                    repo = f"{org.name}/{d.name}"
                    entry = self._entry_for(repo)
                    out.append(LocalModel(entry.name if entry else repo, d, "modelscope-cache", folder_size(d),
                                          entry, folder_problem(d), repo))
        return out

    def _scan_folder(self, folder: Path) -> list[LocalModel]:
        if not folder.is_dir():
            return [LocalModel(folder.name, folder, "folder", 0, None, "the folder does not exist")]
        candidates = [folder] if (folder / "config.json").exists() else \
            sorted(p for p in folder.iterdir() if p.is_dir() and (p / "config.json").exists())
        out = []
        for d in candidates:
            entry = self._entry_for(d.name)
            out.append(LocalModel(entry.name if entry else d.name, d, "folder", folder_size(d), entry,
                                  folder_problem(d)))
        return out

    # ------------------------------------------------------------ partial downloads

    def partials(self) -> list[PartialDownload]:
        """Downloads that stopped (paused, cancelled by a crash, dropped) and can resume."""
        base = self.root / PARTIAL
        out = []
        if not base.is_dir():
            return out
        for d in sorted(p for p in base.iterdir() if p.is_dir()):
            try:
                state = json.loads((d / STATE).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                state = {}
            total = int(state.get("total", 0) or 0)
            out.append(PartialDownload(d.name, d, str(state.get("repo", "")), str(state.get("source", "")),
                                       min(folder_size(d), total) if total else folder_size(d), total, state))
        return out

    # ------------------------------------------------------------ removing

    def remove(self, name: str) -> list[Path]:
        """Delete every copy of `name` this app may delete, and its partial download.

        The app's own folder and the Hugging Face cache (through huggingface_hub) are
        removed; a ModelScope cache or a folder the user added is left alone (raises
        PermissionError naming it): those are the user's to manage.
        """
        entry = self.catalog.get(name)
        removed: list[Path] = []
        partial = self.partial_dir(name)
        if partial.is_dir():
            shutil.rmtree(partial)
            removed.append(partial)
        foreign: list[LocalModel] = []
        for m in self.scan():
            if not ((entry is not None and m.entry is entry) or m.name == name or (m.repo and m.repo == name)):
                continue
            if m.source == "app":
                shutil.rmtree(m.path)
                removed.append(m.path)
            elif m.source == "hf-cache":
                removed += self._remove_hf(m)
            else:
                foreign.append(m)
        if not removed and foreign:
            where = ", ".join(f"{m.path} ({SOURCES[m.source]})" for m in foreign)
            raise PermissionError(f"{name} is only in {where}; delete it there yourself, "
                                  "or take the folder out of the model folders.")
        return removed

    def _remove_hf(self, m: LocalModel) -> list[Path]:
        from huggingface_hub import scan_cache_dir

        info = scan_cache_dir(self.hf_cache) if self.hf_cache else scan_cache_dir()
        for repo in info.repos:
            for rev in repo.revisions:
                if Path(rev.snapshot_path) == m.path:
                    info.delete_revisions(rev.commit_hash).execute()
                    return [m.path]
        return []
