"""PySide6 6.12.0 on Python < 3.12 drops a reference to None on every void Qt call; after a
few thousand calls the process dies with "Fatal Python error: none_dealloc". pyproject.toml
keeps PySide6 below 6.12 there; this test fails if an installed PySide6 has the bug."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QWidget

CALLS = 5000


def test_void_qt_calls_do_not_change_none_refcount(qapp):
    widget = QWidget()
    before = sys.getrefcount(None)
    for _ in range(CALLS):
        widget.setEnabled(True)  # returns void
        widget.setToolTip("x")  # returns void
    after = sys.getrefcount(None)
    # Other code may create or drop a few references meanwhile; the bug loses 2 * CALLS.
    assert abs(after - before) < 100, f"None refcount moved by {after - before} over {2 * CALLS} void calls"
