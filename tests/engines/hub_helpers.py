"""The fake hub (tests/standin/fake_hub.py) as a real process on 127.0.0.1, and small
repositories for it to serve."""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

STANDIN = Path(__file__).resolve().parent.parent / "standin"


@dataclass
class FakeHub:
    proc: subprocess.Popen[str]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def requests(self) -> list[dict]:
        if not self.log_path.exists():
            return []
        return [json.loads(line) for line in self.log_path.read_text().splitlines() if line.strip()]

    def ranges(self, file: str) -> list[str]:
        return [r["range"] for r in self.requests() if r["path"].endswith("/" + file) and r["method"] == "GET"]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()


def start_fake_hub(repos: Path, log_path: Path, *args: str) -> FakeHub:
    cmd = [sys.executable, str(STANDIN / "fake_hub.py"), "--repos", str(repos), "--log", str(log_path), *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("PORT"):
        proc.kill()
        proc.wait()
        raise RuntimeError(f"fake hub did not start: {line!r}")
    return FakeHub(proc, int(line.split()[1]), log_path)


def make_repo(repos: Path, repo_id: str, weight_bytes: int = 3_000_000, *, shards: int = 1,
              architecture: str = "InternVLChatModel") -> dict[str, str]:
    """A small model repository: config.json, safetensors shards (+ index), a tokenizer.

    Returns path -> sha256 of every file, to compare with what was downloaded.
    """
    root = repos / repo_id
    root.mkdir(parents=True, exist_ok=True)
    rnd = random.Random(repo_id)
    (root / "config.json").write_text(json.dumps({"architectures": [architecture]}))
    (root / "tokenizer.json").write_text(json.dumps({"model": "tiny"}))
    if shards == 1:
        (root / "model.safetensors").write_bytes(rnd.randbytes(weight_bytes))
    else:
        names = [f"model-{i + 1:05d}-of-{shards:05d}.safetensors" for i in range(shards)]
        for n in names:
            (root / n).write_bytes(rnd.randbytes(weight_bytes // shards))
        (root / "model.safetensors.index.json").write_text(
            json.dumps({"weight_map": {f"w{i}": n for i, n in enumerate(names)}}))
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in root.rglob("*") if p.is_file()}


def hashes(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".desktop-ocr")}


def child_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The download child's environment: no real hub, no user token or cache."""
    env = dict(os.environ)
    for key in ("HF_ENDPOINT", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE"):
        env.pop(key, None)
    env["HF_HOME"] = str(tmp_path / "hf-home")
    env.update(extra)
    return env
