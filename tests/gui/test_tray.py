"""Tray menu and close-to-tray (offscreen has no system tray, so the Tray is attached by hand)."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication

from desktop_ocr.core.settings import Settings
from desktop_ocr.gui.main_window import MainWindow
from desktop_ocr.gui.resources import app_icon
from desktop_ocr.gui.tray import Tray

# The offscreen platform has no system tray and no window stacking; it says so.
pytestmark = pytest.mark.qt_log_ignore("systemTrayWindowChanged", "does not support raise")


@pytest.fixture
def window(qtbot, aloop, notes):
    win = MainWindow(Settings(engine="cpu"), notifications=notes)
    win.show()
    qtbot.waitExposed(win)
    tray = Tray(app_icon(), win.snip_action, win.clipboard_action, win.show_action, win.quit_action, win)
    tray.show()
    win.attach_tray(tray)
    yield win
    tray.hide()
    win.quit_app()
    win.deleteLater()


def test_tray_menu_has_the_quick_actions(window, tmp_path):
    texts = [a.text() for a in window.tray.menu.actions() if not a.isSeparator()]
    assert texts == ["&Snip screen region", "Recognise &clipboard", "Show &window", "&Quit"]
    assert window.close_to_tray_action.isEnabled()
    window.tray.menu.grab().save(str(tmp_path / "tray-menu.png"))


def test_close_to_tray_hides_and_quit_really_closes(window, qtbot):
    closed: list = []
    window.closed.connect(lambda: closed.append(True))
    window.close_to_tray_action.setChecked(True)
    assert window.settings.close_to_tray and Settings.load().close_to_tray  # saved
    window.close()
    assert not window.isVisible() and not closed  # hidden, still running
    window.show_action.trigger()
    assert window.isVisible()
    window.quit_action.trigger()
    assert closed == [True] and not window.isVisible()
    QApplication.processEvents()


def test_close_without_close_to_tray_ends_the_app(window):
    closed: list = []
    window.closed.connect(lambda: closed.append(True))
    window.close()
    assert closed == [True]
