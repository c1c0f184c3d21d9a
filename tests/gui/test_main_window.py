"""The main window with the real CPU engine: drop, stream, cancel, copy, bad input."""

from __future__ import annotations

import shutil

import pytest
from helpers import drop_files, shut_down, wait_run
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel

from desktop_ocr.core.settings import Settings
from desktop_ocr.gui.main_window import EMPTY_TEXT, MainWindow

RECEIPT = "receipt-sroie-003.jpg"


@pytest.fixture
def window(qtbot, aloop, notes):
    win = MainWindow(Settings(engine="cpu"), notifications=notes)
    # Runs before pytest-qt closes and deletes the window (its teardown comes first).
    qtbot.addWidget(win, before_close_func=lambda w: shut_down(w, qtbot, aloop))
    win.show()
    qtbot.waitExposed(win)
    return win


def test_empty_window_says_what_to_do(window):
    # GIVEN a new window THEN the empty state tells the user how to start
    assert window.stack.currentWidget() is window.empty_state
    texts = [lbl.text() for lbl in window.empty_state.findChildren(QLabel)]
    assert EMPTY_TEXT in texts
    assert not window.recognise_action.isEnabled()
    assert window.menuBar().actions() and window.toolbar.actions()


@pytest.mark.slow
def test_drop_image_streams_text_and_copy(window, qtbot, corpus, tmp_path):
    # GIVEN a real receipt scan
    path = tmp_path / RECEIPT
    shutil.copy(corpus / RECEIPT, path)
    chunks: list[str] = []
    window.runs.text.connect(lambda part, text: chunks.append(text))
    # WHEN it is dropped on the window
    assert drop_files(window, [path])
    # THEN it is shown and its text streams in, chunk by chunk, until finished
    _info, summary = wait_run(qtbot, window)
    (result,) = summary.results
    # (the page view sits in the viewer beside the thumbnails; the page renders in the background)
    assert window.stack.currentWidget() is window.viewer and window.page_view.isVisible()
    qtbot.waitUntil(window.page_view.has_image, timeout=10_000)
    assert len(chunks) > 3, "text should arrive progressively, not in one piece"
    text = window.result_view.full_text()
    assert "TAN WOON YANN" in text.upper() and "TOTAL" in text.upper()
    assert text == result.text
    assert "Recognised" in window.state_label.text() and "CPU" in window.engine_label.text()
    # AND the result is kept with where it came from
    assert (result.source, result.engine, result.source_kind) == (str(path), "cpu", "file")
    assert window.session.results(0) == [result]
    # AND Copy puts the text on the clipboard
    window.copy_action.trigger()
    qtbot.waitUntil(lambda: QGuiApplication.clipboard().text() == text, timeout=5_000)


@pytest.mark.slow
def test_cancel_stops_a_running_recognition(window, qtbot, corpus):
    window.open_paths([corpus / RECEIPT])
    with qtbot.waitSignal(window.runs.text, timeout=60_000):
        pass
    assert window.cancel_action.isEnabled() and not window.recognise_all_action.isEnabled()
    with qtbot.waitSignal(window.runs.cancelled, timeout=10_000):
        window.cancel_action.trigger()
    assert not window.runs.busy and not window.cancel_action.isEnabled()
    assert "Cancelled" in window.state_label.text()
    assert window.recognise_action.isEnabled()


@pytest.mark.parametrize("name, words", [
    ("bad-zero-byte.png", "empty"),
    ("bad-text-as.png", "not an image"),
    ("bad-truncated.jpg", "truncated"),
    ("bad-huge-header.png", "too large"),
    ("bad-decompression-bomb.gif", "too large"),
])
def test_bad_input_gives_a_clear_message_and_window_stays_usable(window, qtbot, corpus, notes, name, words):
    with qtbot.waitSignal(window.loader.loadFailed, timeout=10_000):
        assert drop_files(window, [corpus / name])
    qtbot.waitUntil(lambda: bool(window.notification_area.banners()), timeout=5_000)
    message = notes.seen[-1].message
    assert name in message and words in message.lower()
    banner = window.notification_area.banners()[-1]
    assert words in banner.label.text().lower()
    assert window.isVisible() and window.open_action.isEnabled()
    assert window.stack.currentWidget() is window.empty_state


def test_unreadable_path_gives_a_clear_message(window, qtbot, tmp_path, notes):
    with qtbot.waitSignal(window.loader.loadFailed, timeout=10_000):
        window.open_paths([tmp_path / "missing.png"])
    assert "does not exist" in notes.seen[-1].message
