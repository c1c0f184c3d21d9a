"""Logging to a rotating file in the platform's log directory, readable by the user only.

Logs hold file names, recognised text in tracebacks and server messages: like
settings.json they are created 0600 (an older log left 0644 is tightened on first use).
Library warnings (Pillow, httpx, `warnings.warn`) go to the same file, never raw to the
terminal: the user sees one plain line from the app, the details are here.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

import platformdirs

from desktop_ocr import APP_ID

PRIVATE = 0o600
LOG_NAME = "desktop-ocr.log"
_active: Path | None = None


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_ID, appauthor=False))


def log_file(name: str = LOG_NAME) -> Path:
    return log_dir() / name


def active_log_file() -> Path | None:
    """The log file this process writes, or None (then no message may point at one)."""
    return _active


def open_private(path: Path, mode: str = "a", encoding: str = "utf-8"):
    """Open a log file for writing, created (or tightened to) 0600."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in mode else os.O_TRUNC)
    fd = os.open(path, flags, PRIVATE)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, PRIVATE)
        return os.fdopen(fd, mode, encoding=encoding)
    except BaseException:
        os.close(fd)
        raise


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """RotatingFileHandler whose files (the rotated ones too) are 0600."""

    def _open(self):  # type: ignore[override]
        return open_private(Path(self.baseFilename), self.mode, self.encoding or "utf-8")


def setup_logging(level: int = logging.INFO, name: str = LOG_NAME) -> Path | None:
    """Send log records (the app's at `level`, other libraries' warnings) to `name` in
    log_dir(); return its path (None if not writable).

    A read-only home or a full disk must not stop the app, so failure to open the file
    only costs us the file.
    """
    global _active
    ours = logging.getLogger("desktop_ocr")
    ours.setLevel(logging.DEBUG if os.environ.get("DESKTOP_OCR_DEBUG") else level)
    root = logging.getLogger()
    path = log_file(name)
    for handler in root.handlers:
        if isinstance(handler, logging.FileHandler) and Path(handler.baseFilename) == path:
            return path
    logging.captureWarnings(True)  # warnings.warn (Pillow's "Truncated File Read", ...)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = PrivateRotatingFileHandler(path, maxBytes=2_000_000, backupCount=3,
                                             encoding="utf-8", delay=True)
        handler.stream = handler._open()  # open now: a message may name this file
    except OSError:
        # No log then, but still no raw library lines on the terminal (Python's last-resort
        # handler prints to stderr when a record finds no handler at all).
        if not root.handlers:
            root.addHandler(logging.NullHandler())
        return None
    handler.setFormatter(logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s [%(process)d:%(threadName)s] %(message)s"))
    # On the root logger: third-party warnings land here instead of on stderr (Python's
    # last-resort handler prints them raw when no handler is found).
    root.addHandler(handler)
    _active = path
    return path
