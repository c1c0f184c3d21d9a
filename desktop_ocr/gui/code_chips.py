"""Barcodes and QR codes found in an image, as chips under a result (one per line).

Each chip shows the code's format and content with a Copy button; a code whose whole
content is a web address also gets Open…, which asks first, showing the full address
(a QR code on a poster can point anywhere), and opens it in the browser only on Yes.
Self-contained: `set_codes(codes)` (core.codes.Code objects, e.g. from
engines.codes.read_codes run in a worker) fills it; no codes hides it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QCoreApplication, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop_ocr.core.codes import Code

MAX_SHOWN_CHARS = 60


def ask_to_open(parent: QWidget | None, url: str) -> bool:
    """The default confirmation: a question box naming the whole address, No by default."""
    box = QMessageBox(QMessageBox.Icon.Question, QCoreApplication.translate("CodeChips", "Open web address?"),
                      QCoreApplication.translate("CodeChips", "This code links to:") + f"\n\n{url}\n\n" + QCoreApplication.translate("CodeChips", "Open it in your browser?"),
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, parent)
    box.setDefaultButton(QMessageBox.StandardButton.No)
    box.setObjectName("openCodeUrl")
    return box.exec() == QMessageBox.StandardButton.Yes


class CodeChip(QFrame):
    copied = Signal(str)
    opened = Signal(str)

    def __init__(self, code: Code, confirm: Callable[[QWidget, str], bool],
                 open_url: Callable[[QUrl], object], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.code = code
        self._confirm = confirm
        self._open_url = open_url
        self.setObjectName("codeChip")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 2, 2, 2)
        layout.setSpacing(4)
        kind = QLabel(code.format)
        kind.setObjectName("codeFormat")
        font = kind.font()
        font.setBold(True)
        kind.setFont(font)
        layout.addWidget(kind)
        shown = code.text if len(code.text) <= MAX_SHOWN_CHARS else code.text[:MAX_SHOWN_CHARS - 1] + "…"
        self.content = QLabel(shown.replace("\n", " "))
        self.content.setObjectName("codeText")
        self.content.setToolTip(code.text)
        layout.addWidget(self.content, 1)
        self.copy_button = QPushButton(QCoreApplication.translate("CodeChips", "Copy"))
        self.copy_button.setToolTip(QCoreApplication.translate("CodeChips", "Copy the code's content"))
        self.copy_button.clicked.connect(self.copy)
        layout.addWidget(self.copy_button)
        self.open_button: QPushButton | None = None
        if code.url:
            self.open_button = QPushButton(QCoreApplication.translate("CodeChips", "Open…"))
            self.open_button.setToolTip(QCoreApplication.translate("CodeChips", "Open {url} in the browser (asks first)").format(
                url=code.url))
            self.open_button.clicked.connect(self.open)
            layout.addWidget(self.open_button)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.code.text)
        self.copied.emit(self.code.text)

    def open(self) -> bool:
        url = self.code.url
        if url is None or not self._confirm(self, url):
            return False
        self._open_url(QUrl(url))
        self.opened.emit(url)
        return True


class CodeChips(QWidget):
    """The chips. `confirm(parent, url) -> bool` and `open_url(QUrl)` default to a
    question box and the desktop's browser; tests and the window may pass their own."""

    copied = Signal(str)
    opened = Signal(str)

    def __init__(self, parent: QWidget | None = None, *,
                 confirm: Callable[[QWidget, str], bool] = ask_to_open,
                 open_url: Callable[[QUrl], object] = QDesktopServices.openUrl) -> None:
        super().__init__(parent)
        self._confirm = confirm
        self._open_url = open_url
        self._layout = QVBoxLayout(self)  # one chip per line: long contents stay readable
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(2)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.chips: list[CodeChip] = []
        self.setVisible(False)

    def set_codes(self, codes: Sequence[Code]) -> None:
        for chip in self.chips:
            self._layout.removeWidget(chip)
            chip.deleteLater()
        self.chips = []
        for code in codes:
            chip = CodeChip(code, self._confirm, self._open_url, self)
            chip.copied.connect(self.copied)
            chip.opened.connect(self.opened)
            self._layout.addWidget(chip)
            self.chips.append(chip)
        self.setVisible(bool(self.chips))
