"""xclip: the X11 clipboard through the command-line tool, when Qt's cannot answer
(a Qt build without xcb, XWayland clients whose selection Qt does not see)."""

from __future__ import annotations

import os
import shutil

from desktop_ocr.gui.clipboard import _tools
from desktop_ocr.gui.clipboard.base import (
    CHANGED_MESSAGE,
    IMAGE_MIME_TYPES,
    NO_IMAGE_MESSAGE,
    ClipboardChanged,
    ClipboardContent,
    ClipboardPayload,
    NoImageOnClipboard,
    image_paths,
    is_unix_desktop,
    paths_from_uri_list,
)

NAME = "xclip"
INSTALL_HINT = "Install the package 'xclip' with your system's package manager."
SELECTION = ["-selection", "clipboard"]


def is_compatible() -> bool:
    return is_unix_desktop() and bool(os.environ.get("DISPLAY"))


def is_installed() -> bool:
    return shutil.which("xclip") is not None


async def targets() -> list[str]:
    try:
        out = await _tools.run(["xclip", *SELECTION, "-o", "-t", "TARGETS"])
    except _tools.ToolFailed:
        return []  # nobody owns the clipboard
    return [t.strip() for t in out.decode(errors="replace").splitlines() if t.strip()]


async def read() -> ClipboardContent:
    offered = await targets()
    for kind in IMAGE_MIME_TYPES:
        if kind in offered:
            try:
                data = await _tools.run(["xclip", *SELECTION, "-o", "-t", kind])
            except _tools.ToolFailed:
                data = b""
            if not data:
                raise ClipboardChanged(CHANGED_MESSAGE)
            return ClipboardContent(NAME, data=data, mime=kind)
    if "text/uri-list" in offered:
        out = await _tools.run(["xclip", *SELECTION, "-o", "-t", "text/uri-list"])
        paths = image_paths(paths_from_uri_list(out.decode(errors="replace")))
        if paths:
            return ClipboardContent(NAME, paths=paths)
    raise NoImageOnClipboard(NO_IMAGE_MESSAGE)


async def write(payload: ClipboardPayload) -> None:
    # xclip serves one type per process; plain text is what every program can paste.
    await _tools.run(["xclip", *SELECTION, "-i", "-t", "UTF8_STRING"], payload.text.encode("utf-8"))
