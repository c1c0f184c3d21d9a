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
    else to `fallback`; and the window back its activation when a dialog that closed left
    no window active. Nothing while another window of the app (a dialog still open) is
    active: it keeps its own focus."""
    if QApplication.instance() is None:
        return
    top = window.window()
    active = QApplication.activeWindow()
    if active is not None and active is not top:
        return
    if active is None and top.isVisible():
        top.activateWindow()
    current = top.focusWidget()  # the window's own, also while it is not active yet
    if before is not None and usable(before, window):
        if current is not before:
            before.setFocus()
        return
    if not usable(current, window) and fallback is not None and usable(fallback, window):
        fallback.setFocus()


@contextlib.contextmanager
def kept(window: QWidget, fallback: QWidget | None = None) -> Iterator[None]:
    """Around a modal dialog: the focus it had before comes back after it."""
    before = window.window().focusWidget()
    try:
        yield
    finally:
        settle(window, fallback or _fallback(window), before)


def _fallback(window: QWidget) -> QWidget | None:
    pick = getattr(window, "_focus_fallback", None)
    return pick() if callable(pick) else None


@contextlib.contextmanager
def leaving(part: QWidget, to: QWidget) -> Iterator[None]:
    """Around hiding `part` (a bar, the empty state): if the keyboard was in it, it goes
    to `to` afterwards (Qt would hand it to whatever comes next in the tab order)."""
    current = part.window().focusWidget()
    inside = current is not None and (current is part or part.isAncestorOf(current))
    try:
        yield
    finally:
        if inside and usable(to, to):
            to.setFocus()


def after(dialog, window: QWidget, fallback: QWidget | None = None) -> None:
    """A dialog shown with open() (not exec()): restore the focus when it finishes."""
    before = window.window().focusWidget()
    dialog.finished.connect(lambda *_: settle(window, fallback or _fallback(window), before))
