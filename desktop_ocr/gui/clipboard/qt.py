"""Qt's own clipboard (QClipboard): native on Windows, macOS and X11.

On Wayland a client may only read the clipboard while one of its windows has focus, so
there it comes after wl-clipboard (a snip started from a shortcut has no focused window).
Runs on the GUI thread; it only copies bytes, decoding happens later in a worker thread.
"""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QMimeData
from PySide6.QtGui import QClipboard, QGuiApplication

from desktop_ocr.gui.clipboard.base import (
    CHANGED_MESSAGE,
    IMAGE_MIME_TYPES,
    NO_IMAGE_MESSAGE,
    ClipboardChanged,
    ClipboardContent,
    ClipboardPayload,
    HandlerUnavailable,
    NoImageOnClipboard,
    image_paths,
)

NAME = "qt"
INSTALL_HINT = ""


def is_compatible() -> bool:
    return QGuiApplication.instance() is not None


def is_installed() -> bool:
    return True


def clipboard() -> QClipboard:
    return QGuiApplication.clipboard()


def owns_clipboard() -> bool:
    """True when this process put the current clipboard content there (X11, Windows, macOS)."""
    return clipboard().ownsClipboard()


def read_now() -> ClipboardContent:
    """Copy the image off the clipboard synchronously: no await between asking and copying,
    because the QMimeData we are handed is freed as soon as the clipboard changes."""
    mime = clipboard().mimeData(QClipboard.Mode.Clipboard)
    if mime is None:
        raise HandlerUnavailable(QT_TRANSLATE_NOOP("Capture", "The clipboard cannot be read."))
    formats = set(mime.formats())
    announced_but_empty = False
    for kind in IMAGE_MIME_TYPES:
        if kind in formats:
            data = bytes(mime.data(kind).data())
            if data:
                return ClipboardContent(NAME, data=data, mime=kind)
            announced_but_empty = True
    if mime.hasUrls():
        files = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]
        if files:
            from pathlib import Path

            images = image_paths([Path(f) for f in files])
            if images:
                return ClipboardContent(NAME, paths=images)
            raise NoImageOnClipboard(
                QT_TRANSLATE_NOOP("Capture", "The copied files are not images (PNG, JPEG, TIFF, BMP, "
                                             "WebP, GIF).")
            )
    if mime.hasImage():
        # Only reached where the platform decodes for us (a Windows DIB, a macOS TIFF
        # without an encoded form); that conversion is a memory copy, not a decode.
        image = mime.imageData()
        if image is not None and not image.isNull():
            return ClipboardContent(NAME, qimage=image, mime="application/x-qt-image")
        announced_but_empty = True
    if announced_but_empty:
        raise ClipboardChanged(CHANGED_MESSAGE)
    raise NoImageOnClipboard(NO_IMAGE_MESSAGE)


async def read() -> ClipboardContent:
    return read_now()


def write_now(payload: ClipboardPayload) -> None:
    mime = QMimeData()
    mime.setText(payload.text)
    if payload.html:
        # Office suites paste text/html (CF_HTML on Windows) as a real table.
        mime.setHtml(payload.html)
    clipboard().setMimeData(mime, QClipboard.Mode.Clipboard)


async def write(payload: ClipboardPayload) -> None:
    write_now(payload)
