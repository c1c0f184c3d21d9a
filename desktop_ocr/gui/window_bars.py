"""Bars of the main window: the PDF-text banner and the progress of "Recognise all pages";
and the tooltip an action's button shows."""

from __future__ import annotations

import re

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from desktop_ocr.gui import look
from desktop_ocr.gui.i18n import translate


def plain_text(text: str) -> str:
    """A menu text without its mnemonic: "&Open…" -> "Open…", "打开(&O)…" -> "打开…"."""
    text = re.sub(r"\s?\(&[^&\s]\)", "", text)
    return text.replace("&&", "\x00").replace("&", "").replace("\x00", "&")


def action_tip(action: QAction) -> str:
    """"Open… (Ctrl+O)" and, below, what it does: an icon-only button's tooltip."""
    name = plain_text(action.text())
    keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
    tip = f"{name} ({keys})" if keys else name
    return f"{tip}\n{action.statusTip()}" if action.statusTip() else tip


class TextLayerBanner(QFrame):
    """Offers a PDF page's own text instead of OCR."""

    def __init__(self, on_use, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("textLayerBanner")
        look.follow_palette(self, lambda: self.setStyleSheet(
            look.box_style("QFrame#textLayerBanner", "info")))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 4, 6, 4)
        self.label = QLabel(translate("TextLayerBanner",
                                      "This page has its own text in the PDF: no OCR needed. "
                                      "Recognise (Ctrl+R) still runs OCR if you prefer."))
        self.label.setWordWrap(True)
        layout.addWidget(self.label, 1)
        self.button = QPushButton(translate("TextLayerBanner", "Use the PDF's text"))
        self.button.setToolTip(translate("TextLayerBanner", "Take this page's text from the PDF "
                                                            "itself, without OCR (Ctrl+Shift+T)"))
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
        self.progress.setAccessibleName(translate("BatchBar", "Progress"))
        layout.addWidget(self.progress, 1)
        self.label = QLabel("")
        layout.addWidget(self.label)
        self.cancel_button = QPushButton(translate("BatchBar", "Cancel"))
        self.cancel_button.setToolTip(translate("BatchBar", "Stop; the pages already recognised "
                                                            "are kept (Esc)"))
        self.cancel_button.clicked.connect(on_cancel)
        layout.addWidget(self.cancel_button)
        self.hide()
