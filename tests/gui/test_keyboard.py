"""Keyboard and accessibility: every command has a key or a menu path (and the standard
keys), no two commands share a key, every control has a name a screen reader can say,
and the keyboard's place is visible."""

from __future__ import annotations

import pytest
from helpers import shut_down
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QImage, QKeySequence
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QTabBar,
    QTextEdit,
    QWidget,
)

from desktop_ocr.core.library import AsyncLibrary
from desktop_ocr.core.settings import Settings
from desktop_ocr.gui.main_window import MainWindow
from desktop_ocr.gui.shortcuts_dialog import ShortcutsDialog, menu_commands

STANDARD = {
    "open_action": (QKeySequence.StandardKey.Open, "Ctrl+O"),
    "quit_action": (QKeySequence.StandardKey.Quit, "Ctrl+Q"),
    "paste_action": (QKeySequence.StandardKey.Paste, "Ctrl+V"),
    "zoom_in_action": (QKeySequence.StandardKey.ZoomIn, "Ctrl++"),
    "zoom_out_action": (QKeySequence.StandardKey.ZoomOut, "Ctrl+-"),
    "shortcuts_action": (QKeySequence.StandardKey.HelpContents, "F1"),
}


@pytest.fixture
def library(tmp_path, aloop, qtbot):
    lib = AsyncLibrary(tmp_path / "library.sqlite3")
    yield lib
    task = aloop.create_task(lib.close())
    qtbot.waitUntil(task.done, timeout=10_000)


@pytest.fixture
def window(qtbot, aloop, notes, app_dirs, library):
    win = MainWindow(Settings(engine="cpu"), notifications=notes, library=library)
    qtbot.addWidget(win, before_close_func=lambda w: shut_down(w, qtbot, aloop))
    win.add_batch_panel()
    win.add_history_panel()
    win.show()
    qtbot.waitExposed(win)
    return win


def test_every_command_has_a_key_or_a_menu_path(window):
    # GIVEN every action of the built window (panels included)
    in_menus = {id(action) for _, action in menu_commands(window.menuBar())}
    tray_only = {id(window.show_action)}  # "Show window" is the tray's
    actions = [a for a in window.findChildren(QAction)
               if a.text() and not a.isSeparator() and a.menu() is None and id(a) not in tray_only
               and (a.parent() is window or a in window.toolbar.actions())]
    assert len(actions) > 30
    # THEN each is in a menu (Alt and the arrows reach it) or has a key of its own
    unreachable = [a.text() for a in actions if id(a) not in in_menus and a.shortcut().isEmpty()]
    assert unreachable == []
    # AND the toolbar's own controls have a way in: the task is a menu too, the page Ctrl+G
    tasks = [a.data() for a in window.task_menu.actions()]
    assert tasks == [window.task_combo.itemData(i) for i in range(window.task_combo.count())]
    window.task_menu.actions()[2].trigger()
    assert window.task_combo.currentIndex() == 2 and window.task_menu.actions()[2].isChecked()
    assert window.go_to_action.shortcut() == QKeySequence("Ctrl+G")


def test_standard_keys_and_no_key_used_twice(window):
    for name, (standard, usual) in STANDARD.items():
        # the platform's standard key, or the usual one where the platform has none
        key = getattr(window, name).shortcut()
        assert not key.isEmpty(), name
        assert key in (QKeySequence.keyBindings(standard) or [QKeySequence(usual)]), name
    assert window.preferences_action.shortcut() == QKeySequence("Ctrl+,")
    # Two window-wide commands on one key would both be dead (Qt calls it ambiguous).
    keys: dict[str, str] = {}
    for action in window.findChildren(QAction):
        if action.shortcutContext() not in (Qt.ShortcutContext.WindowShortcut,
                                            Qt.ShortcutContext.ApplicationShortcut):
            continue
        for key in action.shortcuts():
            text = key.toString()
            assert text not in keys, f"{text}: {keys.get(text)} and {action.text()}"
            keys[text] = action.text()


def test_the_shortcuts_dialog_lists_every_command(window, qtbot):
    window.shortcuts_action.trigger()
    dialog = window.shortcuts_dialog
    assert isinstance(dialog, ShortcutsDialog)
    qtbot.waitUntil(dialog.isVisible, timeout=2_000)
    rows = {dialog.table.item(r, 0).text(): dialog.table.item(r, 1).text()
            for r in range(dialog.table.rowCount())}
    assert rows["Recognise"] == "Ctrl+R" and rows["Open…"] == "Ctrl+O" and rows["Quit"] == "Ctrl+Q"
    assert "(no recent files)" not in rows  # a placeholder, not a command
    assert "Engine panel" in rows and "Preferences…" in rows
    # typing filters the list
    qtbot.keyClicks(dialog.filter, "zoom")
    shown = [dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())
             if not dialog.table.isRowHidden(r)]
    assert shown == ["Zoom in", "Zoom out"]
    dialog.close()


INTERACTIVE = (QAbstractButton, QComboBox, QLineEdit, QAbstractSpinBox, QAbstractItemView,
               QPlainTextEdit, QTextEdit, QProgressBar)


def _named(w: QWidget) -> bool:
    if w.accessibleName().strip():
        return True
    if isinstance(w, QAbstractButton) and (w.text().replace("&", "").strip() or w.toolTip()):
        return True
    # A form label's buddy: screen readers read the label
    return any(lbl.buddy() is w and lbl.text().strip() for lbl in w.window().findChildren(QLabel))


def _controls(root: QWidget) -> list[QWidget]:
    out = []
    for w in root.findChildren(QWidget):
        if not isinstance(w, INTERACTIVE) or isinstance(w, QTabBar):
            continue
        # Qt's own insides: a spin box's line edit, a combo box's popup list, a line
        # edit's clear button, a header
        ancestors = []
        p = w.parentWidget()
        while p is not None:
            ancestors.append(p)
            p = p.parentWidget()
        if w.objectName().startswith("qt_") or any(
                isinstance(a, (QComboBox, QAbstractSpinBox)) for a in ancestors) or \
                isinstance(w.parentWidget(), QLineEdit):
            continue
        if type(w).__name__ in ("QHeaderView", "QScrollBar"):
            continue
        out.append(w)
    return out


def test_every_control_has_an_accessible_name(window, qtbot):
    # GIVEN the window, its panels and its dialogs
    window.engine_panel.show()
    window.show_preferences()
    roots = [window, window.preferences_dialog]
    controls = [w for root in roots for w in _controls(root)]
    assert len(controls) > 40
    # THEN each control has a name a screen reader says
    nameless = [f"{type(w).__name__} {w.objectName()!r} in {type(w.parentWidget()).__name__}"
                for w in controls if not _named(w)]
    assert nameless == [], "\n".join(nameless)
    window.preferences_dialog.reject()


def _changed(widget: QWidget, before: QImage) -> int:
    after = widget.grab().toImage()
    return sum(1 for y in range(0, after.height(), 2) for x in range(0, after.width(), 2)
               if after.pixel(x, y) != before.pixel(x, y))


def test_the_keyboard_focus_is_visible(window, qtbot):
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5_000)
    window.stack.setCurrentWidget(window.viewer)
    # The views (page, text, pages, regions) draw a frame in the highlight colour
    highlight = window.palette().highlight().color()
    for view in (window.page_view, window.result_view, window.thumb_strip, window.region_panel.table):
        window.menuBar().setFocus()
        before = view.grab().toImage()
        assert before.pixelColor(0, before.height() // 2) != highlight
        view.setFocus(Qt.FocusReason.TabFocusReason)
        assert _changed(view, before) > 50, view.objectName()
        after = view.grab().toImage()
        assert after.pixelColor(0, after.height() // 2) == highlight, view.objectName()
    # The controls show the style's own focus mark once the keyboard moves (Tab)
    window.show_preferences()
    dialog = window.preferences_dialog
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog, timeout=5_000)
    language, theme = dialog.fields["language"], dialog.fields["theme"]
    language.setFocus()
    before = theme.grab().toImage()
    qtbot.keyClick(language, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is theme
    assert _changed(theme, before) > 20
    dialog.reject()
