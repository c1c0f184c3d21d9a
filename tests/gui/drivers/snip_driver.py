"""Drives the snip overlay on a fake two-screen desktop (offscreen platform, config file).

Screens come from QT_QPA_PLATFORM=offscreen:configfile=...; each screen's grab is a
synthetic pattern at its physical size (logical size x device pixel ratio), so an
offset or scale mistake changes the cropped pixels. Prints one JSON line per drag.
Usage: snip_driver.py OUT_DIR  (drags are read as JSON from argv[2])
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QGuiApplication, QImage, QMouseEvent
from PySide6.QtWidgets import QApplication

from desktop_ocr.gui.clipboard.base import qimage_to_pil
from desktop_ocr.gui.images import pil_to_qimage
from desktop_ocr.gui.snip import ScreenGrab, SnipSession


def pattern(width: int, height: int, seed: int) -> Image.Image:
    img = Image.new("RGB", (width, height))
    img.putdata([((x * 3 + seed) % 256, (y * 5) % 256, ((x ^ y) + seed) % 256)
                 for y in range(height) for x in range(width)])
    return img


def send(widget, kind: QEvent.Type, pos: QPointF, buttons) -> None:
    button = Qt.MouseButton.LeftButton if kind != QEvent.Type.MouseMove else Qt.MouseButton.NoButton
    event = QMouseEvent(kind, pos, widget.mapToGlobal(pos), button, buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def main() -> int:
    out = Path(sys.argv[1])
    drags = json.loads(sys.argv[2])
    app = QApplication(sys.argv[:1])
    pictures: dict[str, Image.Image] = {}
    grabs = []
    for i, screen in enumerate(QGuiApplication.screens()):
        g = screen.geometry()
        dpr = screen.devicePixelRatio()
        img = pattern(round(g.width() * dpr), round(g.height() * dpr), 40 * i)
        pictures[screen.name()] = img
        grabs.append(ScreenGrab(screen.name(), g, pil_to_qimage(img)))
    print(json.dumps({"event": "screens", "screens": [
        {"name": s.name(), "geometry": s.geometry().getRect(), "dpr": s.devicePixelRatio()}
        for s in QGuiApplication.screens()]}), flush=True)
    for n, drag in enumerate(drags):
        session = SnipSession(grabs)
        results: list = []
        session.done.connect(results.append)
        session.cancelled.connect(lambda m, results=results: results.append(("cancelled", m)))
        session.start()
        app.processEvents()
        overlay = next(o for o in session.overlays if o.grab_.name == drag["screen"])
        a, b = QPointF(*drag["from"]), QPointF(*drag["to"])
        send(overlay, QEvent.Type.MouseButtonPress, a, Qt.MouseButton.LeftButton)
        send(overlay, QEvent.Type.MouseMove, b, Qt.MouseButton.LeftButton)
        overlay.grab().save(str(out / f"overlay-{n}-{drag['screen']}.png"))
        label_size = overlay.selection_pixels()
        if drag.get("escape"):
            from PySide6.QtGui import QKeyEvent

            QApplication.sendEvent(overlay, QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Escape,
                                                      Qt.KeyboardModifier.NoModifier))
        else:
            send(overlay, QEvent.Type.MouseButtonRelease, b, Qt.MouseButton.NoButton)
        app.processEvents()
        result = results[0]
        if isinstance(result, tuple):
            print(json.dumps({"event": "cancelled", "message": result[1],
                              "overlays_left": len(session.overlays)}), flush=True)
            continue
        crop = qimage_to_pil(result.image)
        left, top, right, bottom = result.box
        expected = pictures[result.screen].crop((left, top, right, bottom))
        print(json.dumps({
            "event": "done", "screen": result.screen, "box": result.box, "label": label_size,
            "md5": hashlib.md5(crop.tobytes()).hexdigest(),
            "expected_md5": hashlib.md5(expected.tobytes()).hexdigest(),
            "overlays_left": len(session.overlays),
        }), flush=True)
    QImage()  # keep the import used on every path
    os._exit(0)  # skip PySide's teardown of offscreen screens


if __name__ == "__main__":
    sys.exit(main())
