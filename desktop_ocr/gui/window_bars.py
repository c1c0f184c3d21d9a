"""Bars of the main window: the PDF-text banner and the progress of "Recognise all pages"."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget


class TextLayerBanner(QFrame):
    """Offers a PDF page's own text instead of OCR."""

    def __init__(self, on_use, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("textLayerBanner")
        self.setStyleSheet("QFrame#textLayerBanner { background: #e8f1fb; border: 1px solid #1d4f91;"
                           " border-radius: 4px; } QLabel { color: #1d4f91; }")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 4, 6, 4)
        self.label = QLabel("This page has its own text in the PDF: no OCR needed. "
                            "Recognise (Ctrl+R) still runs OCR if you prefer.")
        self.label.setWordWrap(True)
        layout.addWidget(self.label, 1)
        self.button = QPushButton("Use the PDF's text")
        self.button.clicked.connect(on_use)
        layout.addWidget(self.button)
        self.hide()


class BatchBar(QFrame):
    """Progress of "Recognise all pages": bar, pages done / total, ETA, cancel."""

    def __init__(self, on_cancel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 2)
        self.progress = QProgressBar()
        self.progress.setTextVisible(False)
        layout.addWidget(self.progress, 1)
        self.label = QLabel("")
        layout.addWidget(self.label)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop; the pages already recognised are kept")
        self.cancel_button.clicked.connect(on_cancel)
        layout.addWidget(self.cancel_button)
        self.hide()
