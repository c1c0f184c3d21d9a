"""Logging to a rotating file in the platform's log directory."""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

import platformdirs

from desktop_ocr import APP_ID


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_ID, appauthor=False))


def log_file() -> Path:
    return log_dir() / "desktop-ocr.log"


def setup_logging(level: int = logging.INFO) -> Path | None:
    """Send the app's log records to log_file(); return its path (None if not writable).

    A read-only home or a full disk must not stop the app, so failure to open the file
    only costs us the file.
    """
    root = logging.getLogger("desktop_ocr")
    root.setLevel(level)
    path = log_file()
    for handler in root.handlers:
        if isinstance(handler, logging.FileHandler) and Path(handler.baseFilename) == path:
            return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=2_000_000, backupCount=3, encoding="utf-8", delay=True
        )
    except OSError:
        return None
    handler.setFormatter(logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s [%(process)d:%(threadName)s] %(message)s"))
    root.addHandler(handler)
    if os.environ.get("DESKTOP_OCR_DEBUG"):
        root.setLevel(logging.DEBUG)
    return path
