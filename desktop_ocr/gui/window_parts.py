"""What a new window shows: the empty state (all the first paint needs, so it imports as
little of Qt as it can; the start-up figure waits for it)."""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, Qt
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from desktop_ocr.gui.i18n import translate

# The English source text (tests look for it; the window shows its translation).
EMPTY_TEXT = QT_TRANSLATE_NOOP("EmptyState", "Drop images or PDFs here, or paste a screenshot")


class EmptyState(QWidget):
    """What a new window shows: what to do, and a button to do it."""

    def __init__(self, on_open, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        title = QLabel(translate("EmptyState", EMPTY_TEXT))
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        title.setWordWrap(True)
        font = title.font()
        font.setPointSize(font.pointSize() + 5)
        title.setFont(font)
        layout.addWidget(title)
        hint = QLabel(translate("EmptyState", "PNG, JPEG, TIFF, BMP, WebP and PDF. Ctrl+O opens "
                                              "a file, Ctrl+V pastes."))
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint.setWordWrap(True)  # a narrow window (a small screen at 200 %) wraps it
        hint.setEnabled(False)
        layout.addWidget(hint)
        button = QPushButton(translate("EmptyState", "Open a file…"))
        button.clicked.connect(on_open)
        button.setMinimumWidth(180)
        self.button = button
        layout.addWidget(button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(1)
        self.setObjectName("emptyState")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet("QWidget#emptyState { border: 2px dashed palette(mid); border-radius: 12px; }")
