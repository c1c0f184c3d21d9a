"""Finding models on disk: the app's folder, a Hugging Face cache (scanned by
huggingface_hub itself), a ModelScope cache and added folders; complete or not; removing."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from desktop_ocr.engines.model_store import MANIFEST, ModelStore, folder_problem


def hf_cache_model(cache: Path, repo: str, files: dict[str, bytes], *, commit: str = "a" * 40) -> Path:
    """The Hugging Face cache layout: blobs, a snapshot of symlinks, refs/main."""
    base = cache / ("models--" + repo.replace("/", "--"))
    snap = base / "snapshots" / commit
    (base / "blobs").mkdir(parents=True, exist_ok=True)
    snap.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        blob = base / "blobs" / hashlib.sha256(data).hexdigest()
        blob.write_bytes(data)
        link = snap / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    (base / "refs").mkdir(exist_ok=True)
    (base / "refs" / "main").write_text(commit)
    return snap


CONFIG = json.dumps({"architectures": ["InternVLChatModel"]}).encode()


def sharded(missing: bool = False) -> dict[str, bytes]:
    files = {"config.json": CONFIG, "model-00001-of-00002.safetensors": b"1" * 100,
             "model.safetensors.index.json": json.dumps({"weight_map": {
                 "a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}).encode()}
    if not missing:
        files["model-00002-of-00002.safetensors"] = b"2" * 100
    return files


def test_the_hugging_face_cache_is_found_and_judged_by_its_shards(tmp_path):
    # GIVEN a complete InternVL3-8B and an InternVL3-2B with a shard missing (an interrupted `hf download`)
    cache = tmp_path / "hf"
    good = hf_cache_model(cache, "OpenGVLab/InternVL3-8B", sharded())
    # (its own commit: huggingface_hub deletes revisions by commit hash, and two repositories
    # sharing one made the deletion depend on the order the cache scan listed them in)
    bad = hf_cache_model(cache, "OpenGVLab/InternVL3-2B", sharded(missing=True), commit="b" * 40)
    store = ModelStore(tmp_path / "models", hf_cache=cache, modelscope_cache=tmp_path / "ms")
    found = {m.name: m for m in store.scan()}
    # THEN the complete one is usable, the other names what is missing, and only one counts
    assert found["InternVL3-8B"].complete and found["InternVL3-8B"].path == good
    assert found["InternVL3-8B"].source == "hf-cache" and found["InternVL3-8B"].size_bytes > 200
    assert "1 of 2 weight files missing" in found["InternVL3-2B"].problem and found["InternVL3-2B"].path == bad
    assert store.complete() == {"InternVL3-8B": str(good)}
    assert store.resolve("OpenGVLab/InternVL3-8B")[0] == str(good)
    path, broken = store.resolve("InternVL3-2B")
    assert path == "" and broken is not None and not broken.complete
    # WHEN removed, huggingface_hub deletes the revision from its cache
    assert store.remove("InternVL3-8B") == [good]
    assert not good.exists() and "InternVL3-8B" not in store.complete()


def test_modelscope_cache_and_added_folders_are_found_but_not_deleted(tmp_path):
    ms = tmp_path / "ms"
    qwen = ms / "models" / "Qwen" / "Qwen2.5-VL-7B-Instruct"
    qwen.mkdir(parents=True)
    (qwen / "config.json").write_text(json.dumps({"architectures": ["Qwen2_5_VLForConditionalGeneration"]}))
    (qwen / "model.safetensors").write_bytes(b"q" * 64)
    mine = tmp_path / "by-hand"
    own = mine / "InternVL3_5-8B"
    own.mkdir(parents=True)
    (own / "config.json").write_bytes(CONFIG)
    (own / "model.safetensors").write_bytes(b"x" * 64)
    (mine / "notes").mkdir()  # not a model: ignored
    store = ModelStore(tmp_path / "models", [mine], hf_cache=tmp_path / "no-hf", modelscope_cache=ms)
    found = {m.name: m for m in store.scan()}
    assert found["Qwen2.5-VL-7B"].source == "modelscope-cache" and found["Qwen2.5-VL-7B"].complete
    assert found["InternVL3.5-8B"].source == "folder" and found["InternVL3.5-8B"].path == own
    assert set(found) == {"Qwen2.5-VL-7B", "InternVL3.5-8B"}
    # The user's folders are theirs: remove refuses, naming where it is.
    with pytest.raises(PermissionError, match="by-hand"):
        store.remove("InternVL3.5-8B")
    assert own.exists()


def test_an_app_folder_without_its_manifest_or_with_a_short_file_is_no_model(tmp_path):
    root = tmp_path / "models"
    d = root / "InternVL3-1B"
    d.mkdir(parents=True)
    (d / "config.json").write_bytes(CONFIG)
    (d / "model.safetensors").write_bytes(b"w" * 10)
    store = ModelStore(root, use_caches=False)
    [m] = store.scan()
    assert not m.complete and "no download record" in m.problem
    (d / MANIFEST).write_text(json.dumps({"repo": "OpenGVLab/InternVL3-1B", "files": [
        {"path": "config.json", "size": len(CONFIG)}, {"path": "model.safetensors", "size": 11}]}))
    [m] = store.scan()
    assert not m.complete and "model.safetensors has 10 bytes, not 11" in m.problem
    (d / "model.safetensors").write_bytes(b"w" * 11)
    assert store.complete() == {"InternVL3-1B": str(d)}
    # A download left half done inside a folder is never complete either.
    (d / "extra.bin.incomplete").write_bytes(b"")
    assert folder_problem(d) == "a download is not finished in it"
