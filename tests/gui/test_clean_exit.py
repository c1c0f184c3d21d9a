"""The real app quits cleanly after a recognition: exit status 0, nothing but "exited
cleanly" at the end of its log (every exit after a recognition used to log
"RuntimeError: no running event loop": a document closed by a task the stopped loop
never ran)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from engine_helpers import make_image


@pytest.mark.slow
@pytest.mark.skipif(sys.platform.startswith("win"), reason="POSIX signals")
def test_quitting_after_a_recognition_logs_no_error(tmp_path):
    # GIVEN the app started on an image (recognised at once, CPU engine), its folders in tmp
    image = tmp_path / "page.png"
    make_image((480, 320)).save(image)
    state = tmp_path / "state"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", DESKTOP_OCR_ENGINE="cpu",
               DESKTOP_OCR_CONFIG=str(tmp_path / "settings.json"), XDG_STATE_HOME=str(state),
               DESKTOP_OCR_LIBRARY=str(tmp_path / "library.sqlite3"))
    log = state / "desktop-ocr" / "log" / "desktop-ocr.log"
    app = subprocess.Popen([sys.executable, "-m", "desktop_ocr", str(image)], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while "run 'page.png' finished" not in (log.read_text() if log.exists() else ""):
            assert app.poll() is None, app.stderr.read()
            assert time.monotonic() < deadline, "the recognition did not finish"
            time.sleep(0.2)
        # WHEN it is asked to quit (SIGTERM runs the same clean stop as File > Quit)
        app.send_signal(signal.SIGTERM)
        rc = app.wait(30)
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()
    # THEN it exits 0 and its log ends cleanly, with no error after the recognition
    text = log.read_text()
    assert rc == 0, app.stderr.read()
    after = text.split("run 'page.png' finished", 1)[1]
    assert "ERROR" not in after and "Traceback" not in after, after
    assert after.rstrip().endswith("exited cleanly")
