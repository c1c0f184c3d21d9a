"""Doubtful words underlined in a text view, with the CPU's reading on hover."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QHelpEvent, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QApplication, QTextEdit, QToolTip

from desktop_ocr.core.doubt import find_doubts
from desktop_ocr.core.layout import Layout
from desktop_ocr.gui.doubt_marks import clear_doubts, count_text, doubt_at, mark_doubts

CPU = Layout.of((800, 120), [("Total 59.00 EUR", (0, 0, 700, 40), 0.99),
                             ("發票 𠀋 total", (0, 60, 700, 100), 0.99)])
TEXT = "Total 58.00 EUR\n發票 𠀋 tota1"


@pytest.fixture
def edit(qtbot):
    widget = QTextEdit()
    qtbot.addWidget(widget)
    widget.setPlainText(TEXT)
    widget.resize(500, 200)
    return widget


def test_doubts_are_underlined_with_the_cpu_reading_as_tooltip(edit):
    doubts = find_doubts(TEXT, CPU)
    assert [d.vlm for d in doubts] == ["58.00", "tota1"]
    # WHEN the doubts are marked
    assert mark_doubts(edit.document(), doubts) == 2
    # THEN those words (and only they) are underlined, even after a character beyond the
    # BMP (two UTF-16 units in Qt) earlier in the text
    doc = edit.document()
    for d in doubts:
        start = len(TEXT[:d.start].encode("utf-16-le")) // 2
        assert "59.00" in doubt_at(doc, start) or "total" in doubt_at(doc, start)
        cursor = QTextCursor(doc)
        cursor.setPosition(start + 1)
        assert cursor.charFormat().underlineStyle() == QTextCharFormat.UnderlineStyle.WaveUnderline
    assert doubt_at(doc, 1) == ""  # "Total" is fine
    assert count_text(len(doubts)) == "2 doubtful words" and count_text(1) == "1 doubtful word"


@pytest.mark.qt_log_ignore("This plugin does not support raise")
def test_hovering_a_mark_shows_the_cpu_reading(edit, qtbot):
    edit.show()
    qtbot.waitExposed(edit)
    mark_doubts(edit.document(), find_doubts(TEXT, CPU))
    cursor = QTextCursor(edit.document())
    cursor.setPosition(8)  # inside "58.00"
    pos = edit.cursorRect(cursor).center()
    event = QHelpEvent(QEvent.Type.ToolTip, pos, edit.viewport().mapToGlobal(pos))
    QApplication.sendEvent(edit.viewport(), event)
    qtbot.waitUntil(QToolTip.isVisible)
    assert "59.00" in QToolTip.text()
    QToolTip.hideText()


def test_clearing_removes_only_the_marks(edit):
    doc = edit.document()
    bold = QTextCursor(doc)
    bold.setPosition(0)
    bold.setPosition(5, QTextCursor.MoveMode.KeepAnchor)
    fmt = QTextCharFormat()
    fmt.setFontWeight(700)
    bold.mergeCharFormat(fmt)
    mark_doubts(doc, find_doubts(TEXT, CPU))
    assert clear_doubts(doc) == 2
    assert doubt_at(doc, 7) == "" and edit.toPlainText() == TEXT
    probe = QTextCursor(doc)
    probe.setPosition(8)
    assert probe.charFormat().underlineStyle() == QTextCharFormat.UnderlineStyle.NoUnderline
    assert probe.charFormat().background().style() == Qt.BrushStyle.NoBrush
    probe.setPosition(2)
    assert probe.charFormat().fontWeight() == 700  # the user's own format stays


def test_a_result_further_down_the_view_is_marked_at_its_offset(edit):
    edit.setPlainText("Result 1\n" + TEXT)
    doubts = find_doubts(TEXT, CPU)
    assert mark_doubts(edit.document(), doubts, offset=len("Result 1\n")) == 2
    assert "59.00" in doubt_at(edit.document(), len("Result 1\n") + 7)
