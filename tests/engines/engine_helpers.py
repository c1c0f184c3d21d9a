"""Helpers shared by the engine tests (kept out of conftest.py: tests/conftest.py is
also a module named `conftest`)."""

from __future__ import annotations

import asyncio
import json
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

STANDIN = Path(__file__).resolve().parent.parent / "standin"
API_KEY = "sk-test-key"


def run(coro):
    """Run one coroutine on a fresh event loop (no pytest-asyncio in this project)."""
    return asyncio.run(coro)


@dataclass
class Standin:
    proc: subprocess.Popen[str]
    port: int
    api_key: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stats(self) -> dict[str, int]:
        import httpx

        return httpx.get(self.url + "/_standin/stats", trust_env=False).json()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()


def start_standin(*args: str, api_key: str = API_KEY, port: int = 0, wait: bool = True) -> Standin:
    cmd = [sys.executable, str(STANDIN / "server.py"), "--port", str(port), *args]
    if api_key:
        cmd += ["--api-keys", api_key]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    if not wait:
        return Standin(proc, port, api_key)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("LISTENING"):
        proc.kill()
        proc.wait()
        raise RuntimeError(f"stand-in did not start: {line!r}")
    return Standin(proc, int(line.split()[1]), api_key)


@dataclass
class FakeLMDeploy:
    exe: Path
    argv_file: Path
    pids_file: Path

    def argv(self) -> list[str]:
        return json.loads(self.argv_file.read_text())

    def pids(self) -> list[int]:
        if not self.pids_file.exists():
            return []
        return [int(x) for x in self.pids_file.read_text().split()]


def pid_alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def wait_dead(pids: list[int], timeout: float = 5.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = [p for p in pids if pid_alive(p)]
        if not alive:
            return []
        time.sleep(0.05)
    return [p for p in pids if pid_alive(p)]


def make_image(size: tuple[int, int] = (640, 480)):
    """A small RGB page with some 'text' strokes (flat colours: PNG path)."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    for y in range(20, size[1] - 20, 30):
        draw.text((20, y), "Invoice 2024-0042  Total 59.00 EUR", fill="black")
    return img


def install_fake_lmdeploy(tmp_path: Path, monkeypatch) -> FakeLMDeploy:
    """The fake `lmdeploy` as an executable file (shebang: this interpreter), set to start fine."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "lmdeploy"
    source = (STANDIN / "fake_lmdeploy").read_text().split("\n", 1)[1]
    exe.write_text(f"#!{sys.executable}\n{source}")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    fake = FakeLMDeploy(exe, tmp_path / "argv.json", tmp_path / "pids.txt")
    monkeypatch.setenv("FAKE_LMDEPLOY_STANDIN", str(STANDIN))
    monkeypatch.setenv("FAKE_LMDEPLOY_ARGV", str(fake.argv_file))
    monkeypatch.setenv("FAKE_LMDEPLOY_PIDS", str(fake.pids_file))
    monkeypatch.setenv("FAKE_LMDEPLOY_SCENARIO", "ok")
    monkeypatch.setenv("FAKE_LMDEPLOY_DELAY", "0.3")
    monkeypatch.setenv("FAKE_LMDEPLOY_INIT", "0.3")
    return fake


def make_model_folder(path: Path, architecture: str = "InternVLChatModel") -> Path:
    """A folder the app accepts as a complete model (config.json and a weight file)."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "config.json").write_text(json.dumps({"architectures": [architecture]}))
    (path / "model.safetensors").write_bytes(b"\0" * 64)
    return path
