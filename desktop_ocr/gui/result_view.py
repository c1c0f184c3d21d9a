"""The result pane: recognised text streams in here.

Chunks can arrive thousands of times a second from a fast server; inserting each into
the document at once would stall the event loop, so text is buffered and flushed to
the editor at most once per frame.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QFont, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QPlainTextEdit, QWidget

from desktop_ocr.gui.i18n import translate

FLUSH_MS = 16


class ResultView(QPlainTextEdit):
    textFlushed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setPlaceholderText(translate("ResultView", "Recognised text appears here."))
        font = QFont()
        font.setStyleHint(QFont.StyleHint.SansSerif)
        font.setPointSize(11)
        self.setFont(font)
        self._pending: list[str] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(FLUSH_MS)
        self._timer.timeout.connect(self.flush)

    def append_text(self, text: str) -> None:
        """Queue `text` to be appended at the end (not at the cursor the user may have moved)."""
        if not text:
            return
        self._pending.append(text)
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        if not self._pending:
            return
        text = "".join(self._pending)
        self._pending.clear()
        bar = self.verticalScrollBar()
        at_bottom = bar.value() >= bar.maximum() - 4
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text, QTextCharFormat())  # not a doubtful word's underline
        if at_bottom:
            bar.setValue(bar.maximum())
        self.textFlushed.emit()

    def full_text(self) -> str:
        self.flush()
        return self.toPlainText()

    def reset(self, text: str = "") -> None:
        self._pending.clear()
        self._timer.stop()
        self.setPlainText(text)
