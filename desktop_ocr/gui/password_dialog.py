"""Asks for a PDF's password without blocking the event loop (no nested exec())."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from desktop_ocr.gui import focus, look
from desktop_ocr.gui.i18n import translate


class PasswordDialog(QDialog):
    def __init__(self, name: str, wrong: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(translate("PasswordDialog", "Password needed"))
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        layout = QVBoxLayout(self)
        self.message = QLabel(
            translate("PasswordDialog", "The password is wrong; {name} did not open. Try again.")
            .format(name=name) if wrong else
            translate("PasswordDialog", "{name} is protected by a password.").format(name=name)
        )
        self.message.setWordWrap(True)
        if wrong:
            look.follow_palette(self.message, lambda: self.message.setStyleSheet(
                f"color: {look.css(look.accent('error'))};"))
        layout.addWidget(self.message)
        self.field = QLineEdit()
        self.field.setEchoMode(QLineEdit.EchoMode.Password)
        self.field.setPlaceholderText(translate("PasswordDialog", "Password"))
        self.field.setAccessibleName(translate("PasswordDialog", "Password"))
        layout.addWidget(self.field)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.buttons = buttons


async def ask_password(parent: QWidget, name: str, wrong: bool) -> str | None:
    """Show the dialog window-modal and wait for it; None when cancelled."""
    dialog = PasswordDialog(name, wrong, parent)
    future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()

    def done(result: int) -> None:
        if not future.done():
            accepted = result == QDialog.DialogCode.Accepted
            future.set_result(dialog.field.text() if accepted else None)

    dialog.finished.connect(done)
    focus.after(dialog, parent)  # the keyboard goes back where it was, not nowhere
    dialog.open()
    dialog.field.setFocus()
    try:
        return await future
    except asyncio.CancelledError:
        dialog.reject()
        raise
