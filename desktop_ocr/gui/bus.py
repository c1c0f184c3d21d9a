"""One signal hub for the parts of the app that must not know each other.

The window, quick capture (paste, snip, clipboard watch), the tray and the single-instance
server talk only through these signals, wired in one place (gui/app.py for the app, the
window for what it owns), so none imports another or reaches into its internals. NormCap's
`Communicate` is the model.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

from desktop_ocr.core.settings import Settings

log = logging.getLogger(__name__)


class Bus(QObject):
    status = Signal(str)  # a line for the window's status bar
    say = Signal(str)  # tell the user (a tray balloon when the tray is up, else a notice)
    captured = Signal(object)  # gui.images.CapturedImage: show it and recognise it
    hideWindow = Signal()  # get out of the way of a screen grab
    restoreWindow = Signal(bool)  # True: bring the window back even if it was hidden
    openPaths = Signal(list)  # list[Path]: open (several: a batch)
    snipRequested = Signal()
    pasteRequested = Signal()
    settingsChanged = Signal()  # a setting changed and was saved


def save_settings(settings: Settings) -> bool:
    """Save the settings now; a failure is logged (the app goes on with them in memory)."""
    try:
        settings.save()
    except OSError as exc:
        log.warning("settings not saved: %s", exc)
        return False
    return True
