"""Screen snip: crop geometry (pure), the overlay offscreen, two screens with a DPR of 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import shut_down
from PIL import Image
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QGuiApplication, QKeyEvent, QMouseEvent
from PySide6.QtWidgets import QApplication

from desktop_ocr.core.settings import Settings
from desktop_ocr.gui import quick_capture, snip
from desktop_ocr.gui.clipboard.base import qimage_to_pil
from desktop_ocr.gui.images import pil_to_qimage
from desktop_ocr.gui.main_window import MainWindow
from desktop_ocr.gui.snip import (
    EMPTY_SELECTION_MESSAGE,
    ScreenGrab,
    SnipSession,
    crop_box,
    normalized,
    pick_screen,
    split_desktop,
)

ROOT = Path(__file__).resolve().parents[2]
# Offscreen windows cannot be raised; the overlay asks to be, as it must on a real desktop.
pytestmark = pytest.mark.qt_log_ignore("does not support raise", "does not support activateWindow")

# A 1920x1080 monitor at 100 % and, to its right, a 4K one at 200 % (1920x1080 logical).
LEFT = (0.0, 0.0, 1920.0, 1080.0)
RIGHT = (1920.0, 0.0, 1920.0, 1080.0)


# ---------------------------------------------------------------- geometry (pure)


def test_dpr_two_doubles_every_edge():
    assert crop_box((10, 20, 100, 50), (0, 0, 640, 400), (1280, 800)) == (20, 40, 220, 140)


def test_two_screens_mixed_dpi():
    # A selection on the right (200 %) monitor, in global logical coordinates.
    sel = (2000.0, 100.0, 300.0, 40.0)
    assert pick_screen(sel, [LEFT, RIGHT]) == 1
    assert crop_box(sel, RIGHT, (3840, 2160)) == (160, 200, 760, 280)
    # The same logical rectangle on the left (100 %) one.
    sel = (80.0, 100.0, 300.0, 40.0)
    assert pick_screen(sel, [LEFT, RIGHT]) == 0
    assert crop_box(sel, LEFT, (1920, 1080)) == (80, 100, 380, 140)


def test_screen_left_of_and_above_the_primary():
    # Negative virtual-desktop coordinates (a monitor placed left of the primary).
    screen = (-1280.0, -200.0, 1280.0, 1024.0)
    assert crop_box((-1200, -100, 100, 100), screen, (2560, 2048)) == (160, 200, 360, 400)


def test_fractional_scale_rounds_to_the_nearest_pixel():
    # 150 %: logical 11 px -> 16.5 physical; edges round, the size stays proportional.
    left, top, right, bottom = crop_box((1, 1, 11, 11), (0, 0, 100, 100), (150, 150))
    assert (left, top) == (2, 2) and (right, bottom) == (18, 18)


def test_selection_across_two_screens_goes_to_the_larger_part_and_is_clipped():
    sel = (1800.0, 10.0, 400.0, 100.0)  # 120 px on the left monitor, 280 on the right
    assert pick_screen(sel, [LEFT, RIGHT]) == 1
    assert crop_box(sel, RIGHT, (3840, 2160)) == (0, 20, 560, 220)
    assert pick_screen((5000.0, 0.0, 10.0, 10.0), [LEFT, RIGHT]) is None


def test_drag_in_any_direction():
    assert normalized((300, 200), (100, 50)) == (100, 50, 200, 150)


def test_portal_image_of_the_whole_desktop_splits_per_screen():
    # The portal returns one image of the whole desktop, here at 2x the logical size.
    boxes = split_desktop((7680, 2160), (0, 0, 3840, 1080), [LEFT, RIGHT])
    assert boxes == [(0, 0, 3840, 2160), (3840, 0, 7680, 2160)]


def test_portal_response_uri_from_a_plain_dict():
    assert snip._results_uri({"uri": "file:///tmp/Screenshot%201.png"}) == "file:///tmp/Screenshot%201.png"
    assert snip._results_uri({}) == ""


# ---------------------------------------------------------------- the overlay, offscreen


def pattern(width: int, height: int) -> Image.Image:
    img = Image.new("RGB", (width, height))
    img.putdata([((x * 3) % 256, (y * 5) % 256, (x ^ y) % 256) for y in range(height) for x in range(width)])
    return img


def mouse(widget, kind, x, y, buttons=Qt.MouseButton.LeftButton):
    pos = QPointF(x, y)
    button = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else Qt.MouseButton.LeftButton
    QApplication.sendEvent(widget, QMouseEvent(kind, pos, widget.mapToGlobal(pos), button, buttons,
                                               Qt.KeyboardModifier.NoModifier))


def drag(widget, a, b):
    mouse(widget, QEvent.Type.MouseButtonPress, *a)
    mouse(widget, QEvent.Type.MouseMove, *b)
    mouse(widget, QEvent.Type.MouseButtonRelease, *b, buttons=Qt.MouseButton.NoButton)


@pytest.fixture
def grabs(qapp):
    screen = QGuiApplication.primaryScreen()
    g = screen.geometry()
    # As a 200 % screen would be grabbed: twice the logical size in pixels.
    img = pattern(g.width() * 2, g.height() * 2)
    return img, [ScreenGrab(screen.name(), g, pil_to_qimage(img))]


def test_overlay_crops_exactly_at_dpr_two(qtbot, grabs, tmp_path):
    img, shots = grabs
    session = SnipSession(shots)
    session.start()
    overlay = session.overlays[0]
    assert overlay.geometry() == shots[0].geometry
    mouse(overlay, QEvent.Type.MouseButtonPress, 30, 40)
    mouse(overlay, QEvent.Type.MouseMove, 130, 90)
    assert overlay.selection_pixels() == (200, 100)  # what the size label shows
    overlay.grab().save(str(tmp_path / "overlay.png"))
    with qtbot.waitSignal(session.done, timeout=2_000) as done:
        mouse(overlay, QEvent.Type.MouseButtonRelease, 130, 90, Qt.MouseButton.NoButton)
    result = done.args[0]
    assert result.box == (60, 80, 260, 180)
    crop = qimage_to_pil(result.image)
    assert crop.tobytes() == img.crop(result.box).tobytes()
    assert not session.overlays


def test_escape_cancels_and_closes_every_overlay(qtbot, grabs):
    _, shots = grabs
    session = SnipSession(shots)
    session.start()
    overlay = session.overlays[0]
    mouse(overlay, QEvent.Type.MouseButtonPress, 10, 10)
    with qtbot.waitSignal(session.cancelled, timeout=2_000) as cancelled:
        QApplication.sendEvent(overlay, QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Escape,
                                                  Qt.KeyboardModifier.NoModifier))
    assert cancelled.args[0] == "" and not session.overlays


def test_a_click_without_drag_is_an_empty_selection(qtbot, grabs):
    _, shots = grabs
    session = SnipSession(shots)
    session.start()
    with qtbot.waitSignal(session.cancelled, timeout=2_000) as cancelled:
        drag(session.overlays[0], (50, 50), (51, 52))
    assert cancelled.args[0] == EMPTY_SELECTION_MESSAGE and not session.overlays


@pytest.fixture
def window(qtbot, aloop, notes):
    win = MainWindow(Settings(engine="cpu"), notifications=notes)
    win.show()
    qtbot.waitExposed(win)
    yield win
    shut_down(win, qtbot, aloop)
    win.close()
    win.deleteLater()


def test_snip_from_the_window_recognises_the_region(window, qtbot, grabs, monkeypatch):
    img, shots = grabs

    async def fake_grab():  # the offscreen platform has no screen content to grab
        return shots

    monkeypatch.setattr(quick_capture, "grab_screens", fake_grab)
    monkeypatch.setattr(quick_capture, "HIDE_BEFORE_GRAB_S", 0.0)
    window.snip_action.trigger()
    qtbot.waitUntil(lambda: window.capture.session is not None and bool(window.capture.session.overlays),
                    timeout=5_000)
    assert not window.isVisible()  # out of the way of the grab
    overlay = window.capture.session.overlays[0]
    with qtbot.waitSignal(window.capture.imageReady, timeout=5_000) as ready:
        drag(overlay, (10, 10), (60, 35))
    assert "100 × 50 px" in ready.args[0]
    assert window.isVisible() and window.session.image.tobytes() == img.crop((20, 20, 120, 70)).tobytes()


def test_cancelled_snip_brings_the_window_back(window, qtbot, grabs, monkeypatch, notes):
    _, shots = grabs

    async def fake_grab():
        return shots

    monkeypatch.setattr(quick_capture, "grab_screens", fake_grab)
    monkeypatch.setattr(quick_capture, "HIDE_BEFORE_GRAB_S", 0.0)
    window.snip_action.trigger()
    qtbot.waitUntil(lambda: window.capture.session is not None and bool(window.capture.session.overlays),
                    timeout=5_000)
    with qtbot.waitSignal(window.capture.snipFinished, timeout=5_000) as finished:
        drag(window.capture.session.overlays[0], (10, 10), (10, 10))
    assert finished.args[0] is False
    assert window.isVisible() and window.session is None
    assert notes.seen[-1].message == EMPTY_SELECTION_MESSAGE


def test_grab_failure_is_a_clear_message(window, qtbot, monkeypatch, notes):
    async def no_grab():
        raise snip.SnipError("The screen could not be captured on this desktop.")

    monkeypatch.setattr(quick_capture, "grab_screens", no_grab)
    monkeypatch.setattr(quick_capture, "HIDE_BEFORE_GRAB_S", 0.0)
    with qtbot.waitSignal(window.capture.snipFinished, timeout=5_000):
        window.snip_action.trigger()
    assert "could not be captured" in notes.seen[-1].message and window.isVisible()


# ---------------------------------------------------------------- two screens, DPR 2, own process


def test_two_screens_with_dpr_two_in_a_real_overlay(tmp_path):
    # The offscreen platform can fake several screens with their own device pixel ratio;
    # a QApplication reads that once, hence a separate process.
    config = tmp_path / "screens.json"
    config.write_text(json.dumps({"screens": [
        {"name": "left", "x": 0, "y": 0, "width": 800, "height": 600,
         "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1},
        {"name": "right", "x": 800, "y": 0, "width": 640, "height": 400,
         "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 2},
    ]}))
    drags = [
        {"screen": "right", "from": [10, 20], "to": [110, 70]},
        {"screen": "left", "from": [300, 200], "to": [100, 50]},
        {"screen": "right", "from": [600, 350], "to": [700, 450]},  # dragged off the edge
        {"screen": "right", "from": [5, 5], "to": [6, 6]},
    ]
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={config}", PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, str(ROOT / "tests/gui/drivers/snip_driver.py"), str(tmp_path),
                           json.dumps(drags)], env=env, capture_output=True, text=True, timeout=60, cwd=ROOT)
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert proc.returncode == 0 and len(events) == 5, proc.stderr
    screens = {s["name"]: s for s in events[0]["screens"]}
    assert screens["right"]["dpr"] == 2.0 and screens["right"]["geometry"] == [800, 0, 640, 400]
    right, left, edge, empty = events[1:]
    assert right["screen"] == "right" and right["box"] == [20, 40, 220, 140] and right["label"] == [200, 100]
    assert left["screen"] == "left" and left["box"] == [100, 50, 300, 200] and left["label"] == [200, 150]
    assert edge["box"] == [1200, 700, 1280, 800]  # clipped to the right screen's 1280x800 pixels
    for ev in (right, left, edge):
        assert ev["md5"] == ev["expected_md5"] and ev["overlays_left"] == 0
    assert empty["event"] == "cancelled" and empty["message"] == EMPTY_SELECTION_MESSAGE
    assert (tmp_path / "overlay-0-right.png").stat().st_size > 1000


