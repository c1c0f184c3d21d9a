"""The window's look: palette colours in light and dark, icons that follow the palette, a
window that fits a small screen at 200 %, notices that fold, details in one click, the
keyboard focus never lost, and an engine panel that says what it found."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers import ReplayEngine, shut_down
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPalette
from PySide6.QtWidgets import QApplication, QPlainTextEdit

from desktop_ocr.core.notifications import Severity
from desktop_ocr.core.settings import Settings
from desktop_ocr.gui import look
from desktop_ocr.gui.main_window import MainWindow
from desktop_ocr.gui.notify_widget import DetailsDialog
from desktop_ocr.gui.password_dialog import PasswordDialog


def contrast(a: QColor, b: QColor) -> float:
    """WCAG 2 contrast ratio of two colours."""
    def lum(c: QColor) -> float:
        def ch(v: float) -> float:
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
        return 0.2126 * ch(c.redF()) + 0.7152 * ch(c.greenF()) + 0.0722 * ch(c.blueF())
    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def ink(image: QImage) -> float:
    """Mean lightness (0-255) of the opaque pixels of an icon."""
    total = n = 0
    for y in range(image.height()):
        for x in range(image.width()):
            c = image.pixelColor(x, y)
            if c.alpha() > 128:
                total += c.lightness()
                n += 1
    assert n, "the icon drew nothing"
    return total / n


@pytest.fixture
def theme(qapp):
    """Switch the app's theme; back to the desktop's afterwards."""
    yield lambda name: look.apply_theme(name, qapp)
    look.apply_theme("system", qapp)


@pytest.fixture
def window(qtbot, aloop, notes, app_dirs):
    win = MainWindow(Settings(engine="cpu"), notifications=notes)
    qtbot.addWidget(win, before_close_func=lambda w: shut_down(w, qtbot, aloop))
    win.show()
    qtbot.waitExposed(win)
    return win


@pytest.mark.parametrize("name", ["light", "dark"])
def test_tints_and_marks_read_on_both_palettes(theme, name):
    # GIVEN the light or the dark theme
    theme(name)
    pal = QApplication.palette()
    assert look.is_dark(pal) == (name == "dark")
    for kind in ("info", "warning", "error"):
        t = look.tone(kind, pal)
        # THEN the text on every tinted box is readable (WCAG AA for body text)
        assert contrast(t.text, t.background) >= 4.5, (kind, t)
        # AND the box is a tint of this palette's window, not a fixed light colour
        window = pal.color(QPalette.ColorRole.Window)
        assert abs(t.background.lightness() - window.lightness()) < 60, (kind, t)
    # AND coloured marks (state dots, failures, doubtful words) stand out from the window
    for kind in ("ok", "warning", "error", "muted"):
        assert contrast(look.accent(kind, pal), pal.color(QPalette.ColorRole.Window)) >= 2.5, kind


def test_banners_and_icons_follow_a_theme_switch(window, theme, notes, qtbot):
    # GIVEN the window with a notice, in the light theme
    theme("light")
    notes.notify("The clipboard holds no image.", Severity.ERROR, details="trace")
    qtbot.waitUntil(lambda: bool(window.notification_area.banners()), timeout=5_000)
    banner = window.notification_area.banners()[-1]
    qtbot.waitUntil(lambda: banner.isVisible(), timeout=2_000)

    def background() -> QColor:
        image = banner.grab().toImage()
        return image.pixelColor(4, image.height() // 2)

    light_bg = background()
    light_icon = ink(window.recognise_action.icon().pixmap(20, 20).toImage())
    light_close = ink(banner.close_button.icon().pixmap(16, 16).toImage())
    # WHEN the theme turns dark while the window is open
    theme("dark")
    qtbot.waitUntil(lambda: background().lightness() < 100, timeout=2_000)
    # THEN the notice is a dark tint, and its × and the toolbar's icons are drawn light
    assert light_bg.lightness() > 180
    assert light_icon < 110 and ink(window.recognise_action.icon().pixmap(20, 20).toImage()) > 150
    assert light_close < 110 and ink(banner.close_button.icon().pixmap(16, 16).toImage()) > 150
    # AND the PDF-text banner is tinted from the palette too
    style = window.text_banner.styleSheet()
    assert look.css(look.tone("info").background) in style


def _fit_script(config: Path) -> str:
    return textwrap.dedent(f"""
        import asyncio, json, os, sys
        os.environ["QT_QPA_PLATFORM"] = "offscreen:configfile={config}"
        import qasync
        from PySide6.QtWidgets import QApplication
        app = QApplication(sys.argv[:1])
        asyncio.set_event_loop(qasync.QEventLoop(app))
        from desktop_ocr.core.settings import Settings
        from desktop_ocr.gui.main_window import MainWindow
        win = MainWindow(Settings(engine="cpu", task="custom"), deferred=True)
        win.show()
        app.processEvents()
        first = win.frameGeometry()
        win.build()
        win.engine_panel.setVisible(True)
        for _ in range(20):
            app.processEvents()
        room = win.screen().availableGeometry()
        g = win.frameGeometry()
        print(json.dumps({{"room": [room.width(), room.height()], "first": [first.width(), first.height()],
                          "built": [g.width(), g.height()], "dpr": win.screen().devicePixelRatio()}}))
        win.engine_panel.poller.set_active(False)
    """)


def test_the_window_fits_a_small_screen_at_200_percent(tmp_path):
    # GIVEN a 1920 × 1080 screen at a scale factor of 2 (960 × 540 logical pixels)
    config = tmp_path / "screen.json"
    config.write_text(json.dumps({"screens": [{"name": "laptop", "x": 0, "y": 0, "width": 960,
                                               "height": 540, "logicalDpi": 96, "logicalBpi": 96,
                                               "dpr": 2}]}))
    env = dict(os.environ, DESKTOP_OCR_CONFIG=str(tmp_path / "settings.json"),
               XDG_STATE_HOME=str(tmp_path / "state"))
    # WHEN the window opens there, built, with the custom prompt and the engine panel shown
    out = subprocess.run([sys.executable, "-c", _fit_script(config)], capture_output=True,
                         text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    sizes = json.loads(out.stdout.strip().splitlines()[-1])
    # THEN it opens within the screen, and stays within it once everything is built
    assert sizes["dpr"] == 2  # the screen's: the scale factor is in force
    room_w, room_h = sizes["room"]
    for key in ("first", "built"):
        w, h = sizes[key]
        assert w <= room_w and h <= room_h, sizes


def test_notices_stack_at_most_three_and_fold_the_rest(window, notes, qtbot):
    area = window.notification_area
    # WHEN six problems arrive at once
    for i in range(6):
        notes.notify(f"problem {i}", Severity.ERROR)
    qtbot.waitUntil(lambda: len(area._banners) == 6, timeout=5_000)
    # THEN the newest three show and the rest fold into one button
    assert [b.note.message for b in area.banners()] == ["problem 3", "problem 4", "problem 5"]
    assert area.more.isVisible() and area.more.text() == "+3 more"
    # WHEN the user opens the fold, all show; folding again shows three
    qtbot.mouseClick(area.more, Qt.MouseButton.LeftButton)
    assert len(area.banners()) == 6 and area.more.text() == "Show fewer"
    qtbot.mouseClick(area.more, Qt.MouseButton.LeftButton)
    assert len(area.banners()) == 3
    # WHEN one shown notice is dismissed, the next folded one comes up
    qtbot.mouseClick(area.banners()[-1].close_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(area._banners) == 5, timeout=2_000)
    assert [b.note.message for b in area.banners()] == ["problem 2", "problem 3", "problem 4"]
    assert area.more.text() == "+2 more"


def test_details_open_in_one_click(window, notes, qtbot):
    # GIVEN an error with a traceback
    notes.notify("Recognising scan.png failed: boom", Severity.ERROR,
                 details="Traceback (most recent call last):\n  ValueError: boom")
    qtbot.waitUntil(lambda: bool(window.notification_area.banners()), timeout=5_000)
    banner = window.notification_area.banners()[-1]
    # WHEN Details is clicked once
    qtbot.mouseClick(banner.details_button, Qt.MouseButton.LeftButton)
    # THEN the details are on screen at once, not behind another button
    dialog = banner.details_dialog
    assert isinstance(dialog, DetailsDialog)
    qtbot.waitUntil(dialog.isVisible, timeout=2_000)
    shown = dialog.findChild(QPlainTextEdit)
    assert shown.isVisible() and "ValueError: boom" in shown.toPlainText()
    dialog.close()


def _active(qtbot, win) -> None:
    win.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win, timeout=5_000)


def test_focus_comes_back_after_the_password_dialog(window, qtbot, corpus):
    # GIVEN the keyboard on the empty state's Open button
    _active(qtbot, window)
    window.empty_state.button.setFocus()
    # WHEN an encrypted PDF asks for its password and it is given
    window.open_paths([corpus / "pdf-encrypted-secret.pdf"])
    qtbot.waitUntil(lambda: any(d.isVisible() for d in window.findChildren(PasswordDialog)),
                    timeout=5_000)
    dialog = next(d for d in window.findChildren(PasswordDialog) if d.isVisible())
    dialog.field.setText("secret")
    with qtbot.waitSignal(window.loader.loaded, timeout=10_000):
        dialog.accept()
    # THEN the window is active again and the keyboard is on the page (the Open button it
    # had is gone with the empty state)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5_000)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.page_view, timeout=5_000)


def test_focus_comes_back_after_cancel(window, qtbot, corpus):
    # GIVEN a whole document being recognised by a slow engine, Cancel pressed with the mouse
    window.engines.use(ReplayEngine(["word "] * 200, delay=0.05))
    with qtbot.waitSignal(window.loader.loaded, timeout=20_000):
        window.open_paths([corpus / "pdf-47-pages.pdf"])
    _active(qtbot, window)
    window.recognise_all()
    qtbot.waitUntil(lambda: window.batch_bar.isVisible(), timeout=10_000)
    button = window.batch_bar.cancel_button
    button.setFocus()
    assert QApplication.focusWidget() is button
    with qtbot.waitSignal(window.runs.cancelled, timeout=20_000):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    # THEN the bar is gone and the keyboard is on the page, not nowhere
    assert not window.batch_bar.isVisible()
    assert QApplication.focusWidget() is window.page_view
