"""Help > Keyboard shortcuts: every command of the menus, where it is and its key.

Read from the menu bar itself, so the list is never out of date.
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLineEdit,
    QMenuBar,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_ocr.gui.i18n import translate
from desktop_ocr.gui.window_bars import plain_text as plain


def menu_commands(bar: QMenuBar) -> list[tuple[str, QAction]]:
    """(menu path, action) for every command in the menus, submenus included."""
    out: list[tuple[str, QAction]] = []

    def walk(actions: list[QAction], path: str) -> None:
        for action in actions:
            if action.isSeparator() or action.property("placeholder"):
                continue
            menu = action.menu()
            if menu is not None:
                walk(menu.actions(), f"{path} > {plain(action.text())}" if path else plain(action.text()))
            elif action.text():
                out.append((path, action))

    walk(bar.actions(), "")
    return out


class ShortcutsDialog(QDialog):
    def __init__(self, bar: QMenuBar, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(translate("ShortcutsDialog", "Keyboard shortcuts"))
        self.setObjectName("shortcutsDialog")
        layout = QVBoxLayout(self)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText(translate("ShortcutsDialog", "Find a command…"))
        self.filter.setAccessibleName(translate("ShortcutsDialog", "Find a command"))
        self.filter.setClearButtonEnabled(True)
        layout.addWidget(self.filter)
        rows = menu_commands(bar)
        self.table = QTableWidget(len(rows), 3)
        self.table.setHorizontalHeaderLabels([translate("ShortcutsDialog", "Command"),
                                              translate("ShortcutsDialog", "Keys"),
                                              translate("ShortcutsDialog", "Menu")])
        self.table.setAccessibleName(translate("ShortcutsDialog", "Commands and their keys"))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        for row, (path, action) in enumerate(rows):
            keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText)
                             for k in action.shortcuts())
            for col, text in enumerate((plain(action.text()), keys, path)):
                item = QTableWidgetItem(text)
                if action.statusTip():
                    item.setToolTip(action.statusTip())
                self.table.setItem(row, col, item)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        layout.addWidget(self.table, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.filter.textChanged.connect(self._filter)
        self.resize(620, 520)

    def _filter(self, text: str) -> None:
        needle = text.strip().lower()
        for row in range(self.table.rowCount()):
            cells = (self.table.item(row, col).text().lower() for col in range(3))
            self.table.setRowHidden(row, bool(needle) and not any(needle in c for c in cells))
