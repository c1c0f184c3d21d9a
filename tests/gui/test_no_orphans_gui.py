"""The real app (offscreen), recognising with a local server that runs several workers, is
sent SIGTERM, SIGHUP or SIGKILL: within a few seconds no process of the server is left.
TERM and HUP quit the way File > Quit does (the window closes, the engine stops)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from engine_helpers import make_model_folder, wait_dead
from PIL import Image

pytestmark = pytest.mark.skipif(sys.platform.startswith("win"), reason="POSIX signals")


def _wait_for(condition, timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGKILL])
def test_signalled_app_leaves_no_server_process(tmp_path, fake_lmdeploy, monkeypatch, sig):
    # GIVEN the app recognising an image on a local server that only sends keep-alives
    # (so it is mid-request when the signal comes), with 3 workers and a grandchild
    image = tmp_path / "scan.png"
    Image.new("RGB", (200, 80), "white").save(image)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", DESKTOP_OCR_ENGINE="lmdeploy",
               DESKTOP_OCR_LMDEPLOY_COMMAND=str(fake_lmdeploy.exe),
               DESKTOP_OCR_MODEL=str(make_model_folder(tmp_path / "InternVL3-1B")),
               FAKE_LMDEPLOY_WORKERS="3",
               FAKE_LMDEPLOY_STREAM="keepalive")
    server_log = Path(env["XDG_STATE_HOME"]) / "desktop-ocr" / "log" / "lmdeploy-server.log"
    app_log = Path(env["XDG_STATE_HOME"]) / "desktop-ocr" / "log" / "desktop-ocr.log"
    app = subprocess.Popen([sys.executable, "-m", "desktop_ocr", str(image)], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: server_log.exists() and "POST /v1/chat/completions" in server_log.read_text(),
                  what="the app's request to reach the server")
        tree = psutil.Process(app.pid).children(recursive=True)
        assert len(tree) >= 6  # server leader, 3 workers, a grandchild, the watchdog
        # WHEN the app gets `sig`
        os.kill(app.pid, sig)
        app.wait(30)
        # THEN TERM / HUP ran the window's clean quit, and nothing of the server is left
        if sig != signal.SIGKILL:
            assert app.returncode == 0, app.stderr.read()
            assert "quitting on " + signal.Signals(sig).name in app_log.read_text()
            assert "exited cleanly" in app_log.read_text()
        left = wait_dead([p.pid for p in tree], 5)
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        assert left == []
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()
        app.stderr.close()
