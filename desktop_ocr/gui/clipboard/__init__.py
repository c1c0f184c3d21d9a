"""The system clipboard: read an image (or copied image files), write text / TSV / HTML.

Several mechanisms, one small module each (qt, wlclipboard, xclip), each saying whether
it fits this session (`is_compatible`) and whether its tool is present (`is_installed`).
They are tried in order of preference and the next one answers when one cannot.
"""

from __future__ import annotations

import logging
from types import ModuleType

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

from desktop_ocr.gui.clipboard import qt, wlclipboard, xclip
from desktop_ocr.gui.clipboard.base import (
    CHANGED_MESSAGE,
    NO_IMAGE_MESSAGE,
    ClipboardChanged,
    ClipboardContent,
    ClipboardError,
    ClipboardPayload,
    HandlerUnavailable,
    NoImageOnClipboard,
    decode_content,
    is_wayland,
    qimage_to_pil,
)
from desktop_ocr.gui.clipboard.formats import payload_for

__all__ = [
    "CHANGED_MESSAGE", "NO_IMAGE_MESSAGE", "ClipboardChanged", "ClipboardContent",
    "ClipboardError", "ClipboardPayload", "HandlerUnavailable", "NoImageOnClipboard",
    "available_handlers", "decode_content", "payload_for", "qimage_to_pil", "read", "write",
]

log = logging.getLogger(__name__)


def preference() -> list[ModuleType]:
    if is_wayland():
        # Qt may only touch the Wayland clipboard while a window of ours has focus.
        return [wlclipboard, qt, xclip]
    return [qt, xclip, wlclipboard]


def available_handlers() -> list[ModuleType]:
    compatible = [h for h in preference() if h.is_compatible()]
    available = [h for h in compatible if h.is_installed()]
    if compatible and available and compatible[0] is not available[0]:
        log.warning("clipboard: %s would suit this session better. %s",
                    compatible[0].NAME, compatible[0].INSTALL_HINT)
    return available


async def read() -> ClipboardContent:
    """The clipboard's image, from the first mechanism that finds one.

    Raises NoImageOnClipboard (nothing usable), ClipboardChanged (it vanished while
    read) or HandlerUnavailable (no mechanism could read at all).
    """
    errors: list[ClipboardError] = []
    for handler in available_handlers():
        try:
            content = await handler.read()
        except ClipboardError as exc:
            log.info("clipboard: %s: %s", handler.NAME, exc)
            errors.append(exc)
            continue
        except Exception as exc:  # a tool's odd output must not end the search
            log.exception("clipboard: %s failed", handler.NAME)
            errors.append(HandlerUnavailable(str(exc)))
            continue
        if content.has_image:
            return content
    for kind in (ClipboardChanged, NoImageOnClipboard):
        for exc in errors:
            if type(exc) is kind:
                raise exc
    if errors:
        raise errors[0]
    raise HandlerUnavailable(QT_TRANSLATE_NOOP("Capture", "No way to read the clipboard was found "
                                                          "on this system."))


async def write(payload: ClipboardPayload) -> str:
    """Put `payload` on the clipboard with the first mechanism that succeeds; its name."""
    errors: list[str] = []
    for handler in available_handlers():
        try:
            await handler.write(payload)
        except Exception as exc:
            log.warning("clipboard: %s could not write: %s", handler.NAME, exc)
            errors.append(f"{handler.NAME}: {exc}")
            continue
        return handler.NAME
    if errors:
        raise ClipboardError(QCoreApplication.translate(
            "Capture", "The text could not be put on the clipboard ({why}).").format(why="; ".join(errors)))
    raise ClipboardError(QCoreApplication.translate("Capture", "The text could not be put on the clipboard."))
