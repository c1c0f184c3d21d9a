"""The window against a remote OpenAI-compatible server (the LMDeploy stand-in, a real
process on 127.0.0.1): a repetition loop is stopped, marked, and can be retried with a
stronger repetition penalty."""

from __future__ import annotations

import httpx
import pytest
from engine_helpers import API_KEY, start_standin
from helpers import shut_down

from desktop_ocr.core.contract import FinishReason
from desktop_ocr.core.settings import Settings
from desktop_ocr.gui.main_window import MainWindow


@pytest.fixture
def repeating_server():
    server = start_standin("--scenario", "repeat")
    yield server
    server.stop()


@pytest.fixture
def window(qtbot, aloop, notes, app_dirs, repeating_server):
    settings = Settings(engine="openai", endpoint=repeating_server.url, api_key=API_KEY, max_tokens=2000)
    win = MainWindow(settings, notifications=notes)
    qtbot.addWidget(win, before_close_func=lambda w: shut_down(w, qtbot, aloop))
    win.show()
    qtbot.waitExposed(win)
    return win


def _last_penalty(server) -> float:
    return httpx.get(f"{server.url}/_standin/stats").json()["last_repetition_penalty"]


def test_repetition_loop_is_cut_marked_and_retried_stronger(window, qtbot, notes, corpus, repeating_server):
    # GIVEN a server whose model repeats a table row forever
    # WHEN a receipt is opened and recognised
    with qtbot.waitSignal(window.runs.finished, timeout=30_000) as first:
        window.open_paths([corpus / "receipt-sroie-003.jpg"])
    # THEN the stream is stopped by the guard, the user is told, and a retry is offered
    assert first.args[1].results[0].finish == FinishReason.REPETITION
    assert "repetition loop" in window.state_label.text()
    assert any("repeating itself" in n.message for n in notes.seen)
    assert window.retry_action.isEnabled()
    before = _last_penalty(repeating_server)
    # WHEN the user retries
    with qtbot.waitSignal(window.runs.finished, timeout=30_000):
        window.retry_action.trigger()
    # THEN the server got the same request with a stronger penalty, and only for that run
    after = _last_penalty(repeating_server)
    assert after > before
    assert window.penalty_retry is None
