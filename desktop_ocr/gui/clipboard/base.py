"""What every clipboard mechanism shares: the content read, the payload written, the errors.

Each mechanism (Qt's QClipboard, wl-clipboard, xclip) is a small module next to this one
exposing `NAME`, `INSTALL_HINT`, `is_compatible()`, `is_installed()`, `async read()` and
`async write(payload)`. `clipboard/__init__.py` tries them in order of preference and falls
back to the next when one cannot answer.

Reading copies the bytes off the clipboard in one go (the platform's mime data may be
freed the moment the clipboard changes); decoding and validating the image happens later
in a worker thread, through `core.imaging`, so a huge or broken image never blocks the
GUI thread.
"""

from __future__ import annotations

import hashlib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlparse

from PIL import Image
from PySide6.QtCore import QT_TRANSLATE_NOOP
from PySide6.QtGui import QImage

from desktop_ocr.core.imaging import IMAGE_SUFFIXES, ImageError, check_size, load_image
from desktop_ocr.gui.i18n import translate

# Encoded image types worth asking for, best first: lossless and cheap to decode.
IMAGE_MIME_TYPES = ("image/png", "image/bmp", "image/x-bmp", "image/tiff", "image/webp",
                    "image/jpeg", "image/gif")


class ClipboardError(Exception):
    """The clipboard could not be read or written; `str()` is the message for the user."""


class NoImageOnClipboard(ClipboardError):
    pass


class ClipboardChanged(ClipboardError):
    """The owner announced an image but the data was gone when we asked for it."""


class HandlerUnavailable(ClipboardError):
    """This mechanism cannot answer here (tool missing, no display, timed out)."""


NO_IMAGE_MESSAGE = QT_TRANSLATE_NOOP(
    "Capture", "The clipboard holds no image. Copy a screenshot or an image file first "
               "(Print Screen, or Copy in an image viewer or file manager).")
CHANGED_MESSAGE = QT_TRANSLATE_NOOP(
    "Capture", "The clipboard changed while it was being read. Copy the image again and retry.")


@dataclass
class ClipboardContent:
    """An image as it came off the clipboard, not yet decoded."""

    source: str  # the mechanism that read it
    data: bytes = b""  # an encoded image (PNG, JPEG, ...) as the owner offered it
    mime: str = ""
    qimage: QImage | None = None  # already decoded by the platform (Windows DIB, macOS)
    paths: list[Path] = field(default_factory=list)  # image files copied in a file manager

    @property
    def has_image(self) -> bool:
        return bool(self.data) or bool(self.paths) or (self.qimage is not None and not self.qimage.isNull())

    def fingerprint(self) -> str:
        """Identity of the content, to notice the same image announced twice."""
        h = hashlib.blake2b(digest_size=16)
        if self.data:
            h.update(self.data)
        elif self.paths:
            for p in self.paths:
                h.update(os.fsencode(p))
                try:
                    h.update(str(p.stat().st_mtime_ns).encode())
                except OSError:
                    pass
        elif self.qimage is not None:
            h.update(f"{self.qimage.width()}x{self.qimage.height()}:{self.qimage.cacheKey()}".encode())
        return h.hexdigest()

    def label(self) -> str:
        if self.paths:
            return self.paths[0].name
        return translate("Capture", "Clipboard image")


@dataclass(frozen=True)
class ClipboardPayload:
    """What the app puts on the clipboard: plain text, and HTML when it is a table."""

    text: str
    html: str = ""


class Handler(Protocol):
    NAME: str
    INSTALL_HINT: str

    def is_compatible(self) -> bool: ...

    def is_installed(self) -> bool: ...

    async def read(self) -> ClipboardContent: ...

    async def write(self, payload: ClipboardPayload) -> None: ...


# ---------------------------------------------------------------- shared helpers


def is_wayland() -> bool:
    from PySide6.QtGui import QGuiApplication

    platform = QGuiApplication.platformName() if QGuiApplication.instance() else ""
    if platform:
        return platform.startswith("wayland")
    return bool(os.environ.get("WAYLAND_DISPLAY"))


def is_unix_desktop() -> bool:
    return sys.platform.startswith("linux") or "bsd" in sys.platform


def paths_from_uri_list(text: str) -> list[Path]:
    """Local image files from a text/uri-list (comments and remote URLs skipped)."""
    paths: list[Path] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        url = urlparse(line)
        if url.scheme == "file" and url.netloc in ("", "localhost"):
            paths.append(Path(unquote(url.path)))
        elif not url.scheme and line.startswith("/"):
            paths.append(Path(line))
    return paths


def image_paths(paths: list[Path]) -> list[Path]:
    return [p for p in paths if p.suffix.lower() in IMAGE_SUFFIXES]


def qimage_to_pil(qimage: QImage) -> Image.Image:
    """Copy a QImage into an RGB Pillow image. Safe in a worker thread (QImage is not QPixmap)."""
    check_size(qimage.width(), qimage.height())
    img = qimage
    if img.hasAlphaChannel():
        # Transparent screenshots (macOS window shadows) go onto white, as in imaging.normalize.
        flat = QImage(img.size(), QImage.Format.Format_RGB888)
        flat.fill(0xFFFFFFFF)
        from PySide6.QtGui import QPainter

        painter = QPainter(flat)
        painter.drawImage(0, 0, img)
        painter.end()
        img = flat
    elif img.format() != QImage.Format.Format_RGB888:
        img = img.convertToFormat(QImage.Format.Format_RGB888)
    width, height, stride = img.width(), img.height(), img.bytesPerLine()
    buffer = bytes(img.constBits())
    return Image.frombuffer("RGB", (width, height), buffer, "raw", "RGB", stride, 1).copy()


def decode_content(content: ClipboardContent) -> Image.Image:
    """Decode and validate clipboard content into an RGB image (call in a worker thread).

    Raises ImageError with a plain message: too large (checked from the header, before
    any pixel is decoded), damaged, or not an image at all.
    """
    if content.data:
        return load_image(content.data)
    if content.paths:
        return load_image(content.paths[0])
    if content.qimage is not None and not content.qimage.isNull():
        return qimage_to_pil(content.qimage)
    raise ImageError(NO_IMAGE_MESSAGE)
