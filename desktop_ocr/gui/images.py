"""Images that never were files (a paste, a snip), and the one Pillow → Qt conversion."""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image
from PySide6.QtGui import QImage


def pil_to_qimage(img: Image.Image) -> QImage:
    """Copy an RGB Pillow image into a QImage (safe in a worker thread; QPixmap is not)."""
    rgb = img if img.mode == "RGB" else img.convert("RGB")
    data = rgb.tobytes("raw", "RGB")
    qimg = QImage(data, rgb.width, rgb.height, rgb.width * 3, QImage.Format.Format_RGB888)
    return qimg.copy()  # detach from `data`, which Python frees


@dataclass
class CapturedImage:
    """An image from the clipboard, a snip or the clipboard watcher, ready to recognise."""

    label: str  # what the user calls it: "Snip 2 (640 × 480 px)", a pasted file's name
    image: Image.Image
    qimage: QImage
    kind: str  # "paste" | "snip" | "watch"
