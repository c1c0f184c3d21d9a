"""Where the custom task's prompt is written: a text box, the saved prompts, save and delete.

Shown under the toolbar while the custom task is chosen. The prompt is the `prompt`
setting (also `--prompt` on the command line); saved prompts live in core/tasks.py's
CustomPromptStore, beside the settings file.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_ocr.core.tasks import CustomPromptStore
from desktop_ocr.gui import focus
from desktop_ocr.gui.i18n import translate


class PromptBar(QFrame):
    promptChanged = Signal(str)

    def __init__(self, prompt: str = "", store: CustomPromptStore | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("promptBar")
        self.store = store or CustomPromptStore()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 4)
        layout.setSpacing(4)
        head = QHBoxLayout()
        title = QLabel(translate("PromptBar", "Custom &prompt:"))
        head.addWidget(title)
        self.saved = QComboBox()
        self.saved.setToolTip(translate("PromptBar", "Prompts you saved"))
        self.saved.setAccessibleName(translate("PromptBar", "Saved prompts"))
        self.saved.setMinimumContentsLength(10)
        self.saved.activated.connect(self._use_saved)
        head.addWidget(self.saved, 1)
        self.save_button = QPushButton(translate("PromptBar", "Save…"))
        self.save_button.setToolTip(translate("PromptBar", "Keep this prompt under a name"))
        self.save_button.clicked.connect(self.save_prompt)
        head.addWidget(self.save_button)
        self.delete_button = QPushButton(translate("PromptBar", "Delete"))
        self.delete_button.setToolTip(translate("PromptBar", "Forget the chosen saved prompt"))
        self.delete_button.clicked.connect(self.delete_prompt)
        head.addWidget(self.delete_button)
        layout.addLayout(head)
        self.editor = QPlainTextEdit()
        self.editor.setPlaceholderText(translate(
            "PromptBar", "Ask anything about the image, e.g. “List every date on this page, one "
            "per line.”"))
        self.editor.setAccessibleName(translate("PromptBar", "Custom prompt"))
        title.setBuddy(self.editor)
        self.editor.setFixedHeight(self.editor.fontMetrics().lineSpacing() * 3 + 12)
        self.editor.setPlainText(prompt)
        self.editor.textChanged.connect(lambda: self.promptChanged.emit(self.prompt()))
        layout.addWidget(self.editor)
        self.reload()

    def prompt(self) -> str:
        return self.editor.toPlainText().strip()

    def set_prompt(self, text: str) -> None:
        self.editor.setPlainText(text)

    def reload(self) -> None:
        self.saved.clear()
        prompts = self.store.load()
        self.saved.addItem(translate("PromptBar", "(saved prompts)") if prompts else
                           translate("PromptBar", "(none saved yet)"), None)
        for p in prompts:
            self.saved.addItem(p.name, p.prompt)
        self.delete_button.setEnabled(False)

    def _use_saved(self, index: int) -> None:
        text = self.saved.itemData(index)
        self.delete_button.setEnabled(text is not None)
        if text:
            self.set_prompt(text)

    def save_prompt(self) -> None:
        text = self.prompt()
        if not text:
            return
        with focus.kept(self.window(), self.editor):
            name, ok = QInputDialog.getText(self, translate("PromptBar", "Save prompt"),
                                            translate("PromptBar", "Name:"),
                                            text=text.splitlines()[0][:40])
        self.editor.setFocus()
        if ok and name.strip():
            self.store.add(name.strip(), text)
            self.reload()
            self.saved.setCurrentIndex(max(self.saved.findText(name.strip()), 0))

    def delete_prompt(self) -> None:
        name = self.saved.currentText()
        if self.saved.currentData() is not None and self.store.remove(name):
            self.reload()
