"""Keyboard focus that is never lost: after a dialog closes, a bar hides or a view changes,
the focus goes back where it was, or to the window's main view."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from PySide6.QtWidgets import QApplication, QWidget


def usable(widget: QWidget | None, window: QWidget) -> bool:
    """Whether `widget` can hold the window's focus: alive, shown, enabled, in `window`."""
    if widget is None:
        return False
    try:
        return widget.isVisible() and widget.isEnabled() and widget.window() is window.window()
    except RuntimeError:  # deleted on the C++ side
        return False


def settle(window: QWidget, fallback: QWidget | None, before: QWidget | None = None) -> None:
    """Give the focus back to `before` (or keep the current one) when it can hold it,
    else to `fallback`. Only while `window` is the active window or holds no focus at
    all: a dialog still open keeps its own."""
    app = QApplication.instance()
    if app is None:
        return
    active = QApplication.activeWindow()
    if active is not None and active is not window.window():
        return
    current = QApplication.focusWidget()
    if before is not None and usable(before, window) and current is not before:
        before.setFocus()
        return
    if not usable(current, window) and fallback is not None and usable(fallback, window):
        fallback.setFocus()


@contextlib.contextmanager
def kept(window: QWidget, fallback: QWidget | None = None) -> Iterator[None]:
    """Around a modal dialog: the focus it had before comes back after it."""
    before = QApplication.focusWidget()
    try:
        yield
    finally:
        settle(window, fallback or _fallback(window), before)


def _fallback(window: QWidget) -> QWidget | None:
    pick = getattr(window, "_focus_fallback", None)
    return pick() if callable(pick) else None


def after(dialog, window: QWidget, fallback: QWidget | None = None) -> None:
    """A dialog shown with open() (not exec()): restore the focus when it finishes."""
    before = QApplication.focusWidget()
    dialog.finished.connect(lambda *_: settle(window, fallback or _fallback(window), before))
