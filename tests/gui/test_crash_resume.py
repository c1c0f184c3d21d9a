"""The real app, killed with SIGKILL in the middle of a batch, resumes it on the next start
without recognising again what had finished (the results library keeps every part)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from engine_helpers import API_KEY, start_standin
from PIL import Image, ImageDraw

from desktop_ocr.core.library import Library

FILES = 6


def _wait(predicate, timeout: float, what: str, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the app exited ({proc.returncode}) before {what}")
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _stored(path: Path) -> list:
    lib = Library.open(path, check=False)
    try:
        return [r for r in lib.recent(limit=100) if r.ok]
    finally:
        lib.close()


def _runs(path: Path) -> list:
    lib = Library.open(path, check=False)
    try:
        return lib.runs()
    finally:
        lib.close()


@pytest.mark.slow
def test_a_killed_app_resumes_its_batch_without_redoing_finished_parts(tmp_path):
    # GIVEN a slow server, six images and the app's own folders under tmp_path
    server = start_standin("--chunk-delay", "0.01")
    files = []
    for i in range(FILES):
        path = tmp_path / f"page-{i}.png"
        image = Image.new("RGB", (300 + 10 * i, 200), "white")
        ImageDraw.Draw(image).text((20, 80), f"page {i}", fill="black")
        image.save(path)
        files.append(path)
    library = tmp_path / "library.sqlite3"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", DESKTOP_OCR_LIBRARY=str(library),
               DESKTOP_OCR_CONFIG=str(tmp_path / "settings.json"),
               XDG_STATE_HOME=str(tmp_path / "state"), XDG_DATA_HOME=str(tmp_path / "data"),
               DESKTOP_OCR_ENGINE="openai", DESKTOP_OCR_ENDPOINT=server.url,
               DESKTOP_OCR_API_KEY=API_KEY, DESKTOP_OCR_MAX_IN_FLIGHT="1")
    app = [sys.executable, "-m", "desktop_ocr"]
    first = second = None
    try:
        # WHEN the app recognises them as a batch and is killed after two have finished
        first = subprocess.Popen([*app, *map(str, files)], env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, text=True)
        _wait(lambda: library.exists() and len(_stored(library)) >= 2, 120,
              "two stored results", first)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        done = {Path(r.source).name for r in _stored(library)}
        asked_before = server.stats()["requests"]
        assert 2 <= len(done) < FILES and [r.state for r in _runs(library)] == ["running"]

        # WHEN it starts again and resumes the batch
        second = subprocess.Popen([*app, "--resume"], env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True)
        _wait(lambda: _runs(library)[0].state == "done", 120, "the resumed run to finish",
              second)
        # THEN every file has its result, and only the ones that had not finished were asked
        names = {Path(r.source).name for r in _stored(library)}
        assert names == {p.name for p in files}
        asked_again = server.stats()["requests"] - asked_before
        assert asked_again == FILES - len(done)
        assert len(_stored(library)) == FILES  # reused results are not stored twice
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        server.stop()
