"""Single instance: a second start hands its action to the running app, between real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from xvfb import Driver

from desktop_ocr.gui.single_instance import Message, server_name

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="checks the Unix socket file")


@pytest.fixture
def env(tmp_path, monkeypatch):
    """Child processes share this settings file, hence one server name with the test."""
    config = tmp_path / "settings.json"
    monkeypatch.setenv("DESKTOP_OCR_CONFIG", str(config))
    return dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT),
                XDG_STATE_HOME=str(tmp_path / "state"), DESKTOP_OCR_CONFIG=str(config))


def start_driver(env, *args) -> Driver:
    # Driver() adds DISPLAY/xcb for Xvfb use; the instance tests need no display.
    drv = Driver("", "instance_driver.py", *args, **{k: env[k] for k in
                 ("QT_QPA_PLATFORM", "DESKTOP_OCR_CONFIG", "XDG_STATE_HOME")})
    return drv


def desktop_ocr(env, *args, timeout=20) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "desktop_ocr", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def test_message_round_trip_and_refusal():
    msg = Message("snip", ["/tmp/a.png"])
    assert Message.decode(msg.encode().strip()) == msg
    for bad in (b'{"action": "rm -rf"}', b"[1]", b'{"action": "show", "paths": [1]}'):
        with pytest.raises(ValueError):
            Message.decode(bad)


def test_second_start_hands_snip_and_clipboard_to_the_first(env):
    first = start_driver(env)
    try:
        assert first.event(20)["event"] == "server"
        began = time.perf_counter()
        second = desktop_ocr(env, "--snip")
        elapsed = time.perf_counter() - began
        assert second.returncode == 0, second.stderr
        assert first.event(10, "received")["action"] == "snip"
        assert elapsed < 10
        image = ROOT.parent / "shared" / "corpus" / "files" / "receipt-sroie-003.jpg"
        assert desktop_ocr(env, "--clipboard").returncode == 0
        assert first.event(10, "received")["action"] == "clipboard"
        assert desktop_ocr(env, str(image)).returncode == 0
        got = first.event(10, "received")
        assert got["action"] == "show" and got["paths"] == [str(image.resolve())]
    finally:
        first.proc.terminate()
        first.proc.wait(10)


def test_a_crashed_instance_leaves_nothing_in_the_way(env):
    first = start_driver(env)
    assert first.event(20)["event"] == "server"
    os.kill(first.proc.pid, signal.SIGKILL)
    first.proc.wait(10)
    socket_file = Path(tempfile.gettempdir()) / server_name()
    assert socket_file.exists()  # left behind by the kill
    second = start_driver(env, "snip")
    try:
        assert second.event(20)["event"] == "server"
        third = start_driver(env, "clipboard")
        assert third.event(20)["event"] == "handed"
        assert second.event(10, "received")["action"] == "clipboard"
    finally:
        second.proc.terminate()
        second.proc.wait(10)


def test_garbage_on_the_socket_is_ignored(env):
    first = start_driver(env)
    try:
        assert first.event(20)["event"] == "server"
        code = ("import sys; from PySide6.QtNetwork import QLocalSocket; s = QLocalSocket(); "
                "s.connectToServer(sys.argv[1]); assert s.waitForConnected(2000); "
                "s.write(b'{\"action\": \"format-disk\"}\\n'); s.waitForBytesWritten(2000); "
                "s.waitForReadyRead(2000); print(bytes(s.readAll().data()).decode().strip())")
        out = subprocess.run([sys.executable, "-c", code, server_name()], env=env, capture_output=True,
                             text=True, timeout=20)
        assert out.stdout.strip() == "error", out.stderr
        assert desktop_ocr(env, "--snip").returncode == 0
        assert first.event(10, "received")["action"] == "snip"
    finally:
        first.proc.terminate()
        first.proc.wait(10)


def test_the_real_app_takes_a_second_start(env, tmp_path):
    # The whole app as the first instance; `desktop-ocr --clipboard` as the second.
    app = subprocess.Popen([sys.executable, "-m", "desktop_ocr", "--engine", "cpu"], env=env, cwd=ROOT,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        socket_file = Path(tempfile.gettempdir()) / server_name()
        deadline = time.monotonic() + 30
        while not socket_file.exists() and time.monotonic() < deadline and app.poll() is None:
            time.sleep(0.05)
        assert socket_file.exists(), app.stderr.read() if app.poll() is not None else "no socket"
        second = desktop_ocr(env, "--clipboard")
        assert second.returncode == 0, second.stderr
        log = Path(env["XDG_STATE_HOME"]) / "desktop-ocr" / "log" / "desktop-ocr.log"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            text = log.read_text() if log.exists() else ""
            if "clipboard handed over" in text:
                break
            time.sleep(0.1)
        assert "clipboard handed over by another start" in text
        assert app.poll() is None  # still running
    finally:
        app.terminate()
        app.wait(10)


