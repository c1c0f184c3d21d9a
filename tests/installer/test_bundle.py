"""The PyInstaller bundle, built for real (conftest.py) and run as a user runs it: no Python,
no venv, only dist/desktop-ocr/."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import psutil
import pytest
from bundle_helpers import run_ocr, scores
from engine_helpers import install_fake_lmdeploy, make_image, make_model_folder
from PyInstaller.archive.readers import CArchiveReader

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

GPU_STACK = ("torch", "lmdeploy", "transformers", "triton", "nvidia")


def bundled_modules(exe: Path) -> set[str]:
    """Every Python module frozen into the program's PYZ archive."""
    archive = CArchiveReader(str(exe))
    return set(archive.open_embedded_archive("PYZ.pyz").toc)


def test_bundle_has_the_cpu_engine_and_its_models_but_no_gpu_stack(built):
    # GIVEN the bundle installer/build.sh made
    modules = bundled_modules(built.exe)
    files = [p.relative_to(built.app) for p in built.app.rglob("*")]
    # THEN the app, the CPU engine, the NVML binding (to see a GPU) are frozen in ...
    assert {"desktop_ocr.cli", "desktop_ocr.engines.cpu", "desktop_ocr.gui.main_window", "pynvml"} <= modules
    # ... the OCR models ship as files (whichever OCR wheel is installed) ...
    assert any(p.suffix == ".onnx" for p in files)
    assert "build: CPU engine models from" in built.log
    # ... and nothing of torch, lmdeploy or transformers, as a module or as a file.
    assert not {m for m in modules if m.split(".")[0] in GPU_STACK}
    assert not [p for p in files if any(part.lower().startswith(GPU_STACK) for part in p.parts)]


@pytest.mark.parametrize(("name", "max_cer_ci"), [
    # The in-process engine reads these at cer_ci 0.028 and 0.043: the bounds are loose on
    # purpose, they catch a missing model or dictionary (garbage), not a regression.
    ("receipt-sroie-590.jpg", 0.10),
    ("zh-pdfpage-chinese-tables.png", 0.15),  # the Chinese dictionary is inside too
])
def test_bundled_ocr_prints_the_text(built, corpus, name, max_cer_ci):
    # WHEN the bundled program recognises a corpus image headless
    done = run_ocr(built.exe, str(corpus / name), "--engine", "cpu")
    # THEN it prints its text
    assert done.returncode == 0, done.stderr
    got = scores(done.stdout, name)
    assert got["cer_ci"] < max_cer_ci, got


def test_bundled_json_names_the_engine_and_a_bad_file_gets_one_line(built, corpus, tmp_path):
    # GIVEN a good image and a file that is not an image
    bad = tmp_path / "notes.png"
    bad.write_text("not a picture")
    # WHEN both go through the bundle with --json
    done = run_ocr(built.exe, str(corpus / "receipt-sroie-590.jpg"), str(bad), "--engine", "cpu", "--json")
    # THEN one object per input, the bad one with its error, and exit status 1 (some failed)
    assert done.returncode == 1, done.stderr
    good, failed = (json.loads(line) for line in done.stdout.splitlines())
    assert good["engine"].lower().startswith("cpu") and "TOTAL" in good["text"].upper()
    assert failed["error"] and "notes.png" in failed["file"]
    assert len([line for line in done.stderr.splitlines() if "notes.png" in line]) == 1
    assert "Traceback" not in done.stderr


def test_bundle_starts_the_gpu_engine_outside_itself(built, tmp_path, monkeypatch):
    # GIVEN an lmdeploy outside the bundle (the fake one, on the test's Python), configured
    # as a command that first records the environment it was started with
    fake = install_fake_lmdeploy(tmp_path, monkeypatch)
    env_dump = tmp_path / "lmdeploy-env.txt"
    wrapper = tmp_path / "bin" / "lmdeploy-wrapper"
    wrapper.write_text(f'#!/bin/sh\nenv > "{env_dump}"\nexec "{fake.exe}" "$@"\n')
    wrapper.chmod(0o755)
    image = tmp_path / "page.png"
    make_image().save(image)
    model = make_model_folder(tmp_path / "InternVL3-1B")  # the server starts on a local folder only
    # WHEN the bundle recognises with the local engine
    done = run_ocr(built.exe, str(image), "--engine", "lmdeploy", "--lmdeploy-command", str(wrapper),
                   "--model", str(model), env=dict(os.environ, LD_LIBRARY_PATH="/opt/user-libs"))
    # THEN the server it started streamed the answer back ...
    assert done.returncode == 0, done.stderr
    assert "Invoice No. 2024-0042" in done.stdout
    assert fake.argv()[:3] == ["serve", "api_server", str(model)]
    # ... and it ran with the user's library path, not the bundle's libraries before its own
    child_env = dict(line.split("=", 1) for line in env_dump.read_text().splitlines() if "=" in line)
    assert child_env.get("LD_LIBRARY_PATH") == "/opt/user-libs"
    assert "LD_LIBRARY_PATH_ORIG" not in child_env
    # ... and no server outlived the command
    assert fake.pids() and not [pid for pid in fake.pids() if _alive(pid)]


def test_bundled_doctor_sees_nvml_and_the_configured_lmdeploy(built, tmp_path, monkeypatch):
    # GIVEN the same fake lmdeploy, configured through the environment this time
    fake = install_fake_lmdeploy(tmp_path, monkeypatch)
    env = dict(os.environ, DESKTOP_OCR_LMDEPLOY_COMMAND=str(fake.exe))
    # WHEN the bundle's doctor runs
    done = subprocess.run([str(built.exe), "doctor"], capture_output=True, text=True, env=env, timeout=60)
    # THEN it found lmdeploy where it was configured, and asked the driver about GPUs (the NVML
    # binding is inside: no "nvidia-ml-py is not installed" on a machine without a GPU)
    assert done.returncode == 0, done.stderr
    assert f"found, configured executable {fake.exe}" in done.stdout
    assert "nvidia-ml-py is not installed" not in done.stdout


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
