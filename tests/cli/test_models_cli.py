"""`desktop-ocr models ...` as a user runs it: a real subprocess against the fake hub."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engines"))
from hub_helpers import child_env, hashes, make_repo, start_fake_hub  # noqa: E402

REPO = "tiny-org/TinyVL-1B"


@pytest.fixture
def env(tmp_path):
    e = child_env(tmp_path, DESKTOP_OCR_CONFIG=str(tmp_path / "settings.json"),
                  DESKTOP_OCR_MODELS_DIR=str(tmp_path / "models"),
                  MODELSCOPE_CACHE=str(tmp_path / "ms-cache"))
    return e


@pytest.fixture
def hub(tmp_path):
    repos = tmp_path / "repos"
    expected = make_repo(repos, REPO, 2_000_000)
    server = start_fake_hub(repos, tmp_path / "hub.jsonl", "--rate", "1500000")
    server.expected = expected  # type: ignore[attr-defined]
    yield server
    server.stop()


def models(env, *args, timeout=60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "desktop_ocr", "models", *args], env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_list_json_shows_the_catalog_with_needs_and_nothing_on_disk(env):
    proc = models(env, "list", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    by_name = {r["name"]: r for r in rows}
    assert {"InternVL3-8B", "InternVL3.5-8B", "Qwen2.5-VL-7B"} <= by_name.keys()
    r = by_name["Qwen2.5-VL-7B"]
    assert r["backend"] == "pytorch" and r["hf"] == "Qwen/Qwen2.5-VL-7B-Instruct" and r["vram_gib"] > r["weights_gb"] * 0.9
    assert all(r["on_disk"] == [] for r in rows)
    assert not any(r["advised"] for r in rows)  # no GPU here


def test_pull_path_list_rm_round_trip(env, hub):
    # WHEN a model is pulled from a mirror URL
    proc = models(env, "pull", REPO, "--source", hub.url)
    assert proc.returncode == 0, proc.stderr
    folder = Path(proc.stdout.strip())
    assert hashes(folder) == hub.expected
    # THEN `path` prints its folder, `list` shows it on disk
    assert models(env, "path", REPO).stdout.strip() == str(folder)
    rows = [json.loads(line) for line in models(env, "list", "--json").stdout.splitlines()]
    mine = [r for r in rows if r["on_disk"] and r["on_disk"][0]["path"] == str(folder)]
    assert mine and mine[0]["on_disk"][0]["bytes"] > 2_000_000
    # WHEN it is removed, THEN it is gone and `path` says how to get it back
    rm = models(env, "rm", REPO)
    assert rm.returncode == 0 and str(folder) in rm.stdout and not folder.exists()
    gone = models(env, "path", REPO)
    assert gone.returncode == 1 and f"desktop-ocr models pull {REPO}" in gone.stderr


def test_pull_failures_are_one_clear_line(env, hub):
    missing = models(env, "pull", "tiny-org/Nothing", "--source", hub.url)
    assert missing.returncode == 1 and "tiny-org/Nothing was not found" in missing.stderr
    assert "Traceback" not in missing.stderr
    unknown = models(env, "pull", "InternVL3-3B")
    assert unknown.returncode == 64 and "not in the catalog" in unknown.stderr
    assert models(env, "path", "InternVL3-8B").returncode == 1


def test_ctrl_c_pauses_and_the_same_command_resumes(env, hub):
    # GIVEN a pull under way
    proc = subprocess.Popen([sys.executable, "-m", "desktop_ocr", "models", "pull", REPO, "--source", hub.url],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    partial = Path(env["DESKTOP_OCR_MODELS_DIR"]) / ".partial" / "tiny-org--TinyVL-1B"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not any(p.stat().st_size > 0 for p in partial.glob("*.incomplete")):
        time.sleep(0.05)
    # WHEN Ctrl+C arrives
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    # THEN it pauses with how to resume, and the same command finishes the download
    assert proc.returncode == 130, err
    assert "resume" in err and partial.is_dir()
    again = models(env, "pull", REPO, "--source", hub.url)
    assert again.returncode == 0, again.stderr
    assert hashes(Path(again.stdout.strip())) == hub.expected
    assert not partial.exists()
    assert os.path.isdir(again.stdout.strip())
