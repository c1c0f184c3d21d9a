"""wl-clipboard (wl-paste / wl-copy): the Wayland clipboard without a focused window."""

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

NAME = "wl-clipboard"
INSTALL_HINT = "Install the package 'wl-clipboard' with your system's package manager."


def is_compatible() -> bool:
    return is_unix_desktop() and bool(os.environ.get("WAYLAND_DISPLAY"))


def is_installed() -> bool:
    return shutil.which("wl-paste") is not None and shutil.which("wl-copy") is not None


async def read() -> ClipboardContent:
    try:
        out = await _tools.run(["wl-paste", "--list-types"])
    except _tools.ToolFailed:
        raise NoImageOnClipboard(NO_IMAGE_MESSAGE) from None  # empty clipboard
    offered = [t.strip() for t in out.decode(errors="replace").splitlines() if t.strip()]
    for kind in IMAGE_MIME_TYPES:
        if kind in offered:
            try:
                data = await _tools.run(["wl-paste", "--no-newline", "--type", kind])
            except _tools.ToolFailed:
                data = b""
            if not data:
                raise ClipboardChanged(CHANGED_MESSAGE)
            return ClipboardContent(NAME, data=data, mime=kind)
    if "text/uri-list" in offered:
        out = await _tools.run(["wl-paste", "--no-newline", "--type", "text/uri-list"])
        paths = image_paths(paths_from_uri_list(out.decode(errors="replace")))
        if paths:
            return ClipboardContent(NAME, paths=paths)
    raise NoImageOnClipboard(NO_IMAGE_MESSAGE)


async def write(payload: ClipboardPayload) -> None:
    # wl-copy serves one type per call. Plain text pastes everywhere, and a table's text is
    # tab-separated, which spreadsheets split into cells.
    await _tools.run(["wl-copy", "--type", "text/plain;charset=utf-8"], payload.text.encode("utf-8"))


def watch_command() -> list[str]:
    """A process that prints a line at every clipboard change (Qt does not see them
    on Wayland while the app is in the background)."""
    return ["wl-paste", "--watch", "echo", "changed"]
