"""Edit > Preferences: the settings a user sets, applied and saved once, atomically; a
damaged settings file gives one notice; a new language offers a restart that happens."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from helpers import shut_down
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop_ocr.core.library import AsyncLibrary
from desktop_ocr.core.notifications import Severity
from desktop_ocr.core.settings import Settings
from desktop_ocr.gui import look
from desktop_ocr.gui.app import restart_command
from desktop_ocr.gui.main_window import MainWindow
from desktop_ocr.gui.preferences import PREFERENCE_KEYS, PreferencesDialog


@pytest.fixture
def library(tmp_path, aloop, qtbot):
    lib = AsyncLibrary(tmp_path / "library.sqlite3")
    yield lib
    task = aloop.create_task(lib.close())
    qtbot.waitUntil(task.done, timeout=10_000)


@pytest.fixture
def window(qtbot, aloop, notes, app_dirs, library, qapp):
    win = MainWindow(Settings(engine="cpu"), notifications=notes, library=library)
    qtbot.addWidget(win, before_close_func=lambda w: shut_down(w, qtbot, aloop))
    win.show()
    qtbot.waitExposed(win)
    yield win
    look.apply_theme("system", qapp)


def _open(window, qtbot) -> PreferencesDialog:
    window.preferences_action.trigger()
    qtbot.waitUntil(lambda: getattr(window, "preferences_dialog", None) is not None
                    and window.preferences_dialog.isVisible(), timeout=2_000)
    return window.preferences_dialog


def _set(dialog: PreferencesDialog, key: str, value) -> None:
    widget = dialog.fields[key]
    if hasattr(widget, "setChecked"):
        widget.setChecked(value)
    elif hasattr(widget, "findData") and not widget.isEditable():
        widget.setCurrentIndex(widget.findData(value))
    elif hasattr(widget, "setEditText"):
        widget.setEditText(value)
    elif hasattr(widget, "setValue"):
        widget.setValue(value)
    else:
        widget.setText(value)


def test_every_preference_is_a_setting_with_a_field(qapp):
    # The dialog edits settings that exist, each with a field (a typo would be a dead field).
    dialog = PreferencesDialog(Settings())
    assert set(dialog.fields) == set(PREFERENCE_KEYS)
    assert all(hasattr(Settings(), key) for key in PREFERENCE_KEYS)
    dialog.deleteLater()


def test_preferences_apply_at_once_and_are_saved(window, qtbot, qapp, library, aloop):
    # GIVEN the Preferences dialog, opened from Edit > Preferences… (Ctrl+,)
    assert window.preferences_action.shortcut().toString() == "Ctrl+,"
    assert window.preferences_action in window.edit_menu.actions()
    dialog = _open(window, qtbot)
    # WHEN the user picks a dark theme, the table task, no auto-copy, 8 requests at once,
    # a 45 s time limit, 30 days of history and a remote server, and presses OK
    for key, value in (("theme", "dark"), ("task", "table"), ("copy_snip_result", False),
                       ("max_in_flight", 8), ("timeout", 45), ("history_keep_days", 30),
                       ("engine", "openai"), ("endpoint", "http://127.0.0.1:9"),
                       ("page_cache_mb", 64)):
        _set(dialog, key, value)
    dialog.accept()
    # THEN each applies now: the theme, the task in the toolbar, the Edit menu's check,
    s = window.settings
    assert look.is_dark(QApplication.palette())
    assert window.task_combo.currentData() == "table" and not window.auto_copy_action.isChecked()
    # ... the engine, rebuilt from the new settings (idle, so at once; not started)
    qtbot.waitUntil(lambda: window.engines.engine is not None and window.engines.engine.name == "openai",
                    timeout=10_000)
    assert window.engines.engine.timeout == 45
    # ... and the library's retention
    qtbot.waitUntil(lambda: library._lib is not None and library._lib.keep_days == 30, timeout=5_000)
    # AND the file holds them all (one atomic save)
    saved = json.loads(Settings.path().read_text())
    assert (saved["theme"], saved["task"], saved["copy_snip_result"], saved["max_in_flight"],
            saved["timeout"], saved["history_keep_days"], saved["engine"], saved["page_cache_mb"]) == \
        ("dark", "table", False, 8, 45, 30, "openai", 64)
    assert (s.theme, s.max_in_flight, s.endpoint) == ("dark", 8, "http://127.0.0.1:9")


def test_cancel_changes_nothing_and_defaults_wait_for_ok(window, qtbot):
    before = json.dumps(window.settings.__dict__, default=str, sort_keys=True)
    dialog = _open(window, qtbot)
    _set(dialog, "theme", "dark")
    _set(dialog, "max_in_flight", 2)
    dialog.reject()
    assert json.dumps(window.settings.__dict__, default=str, sort_keys=True) == before
    assert not Settings.path().exists()  # nothing was written
    # Restore defaults fills the form with the defaults; only OK takes them
    window.settings.max_in_flight = 9
    dialog = _open(window, qtbot)
    assert dialog.fields["max_in_flight"].value() == 9
    dialog.restore_defaults()
    assert dialog.fields["max_in_flight"].value() == Settings().max_in_flight
    assert window.settings.max_in_flight == 9
    dialog.reject()


def test_a_damaged_settings_file_gives_one_notice(qtbot, aloop, notes, app_dirs):
    # GIVEN a settings file cut short by a crash
    path = Settings.path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"engine": "cpu", "task": "tab')
    settings = Settings.load()
    # WHEN the window starts with it
    win = MainWindow(settings, notifications=notes)
    qtbot.addWidget(win, before_close_func=lambda w: shut_down(w, qtbot, aloop))
    win.show()
    qtbot.waitUntil(lambda: bool(win.notification_area.banners()), timeout=5_000)
    # THEN one notice says what happened and where the old file is; the defaults are used
    warnings = [n for n in notes.seen if n.severity is Severity.WARNING]
    assert len(warnings) == 1
    assert str(path) in warnings[0].message and "settings.json.damaged-" in warnings[0].message
    assert win.settings.task == Settings().task
    assert len(win.notification_area.banners()) == 1


def test_a_new_language_offers_a_restart(window, qtbot):
    # GIVEN the window in English
    assert window.language == "en"
    # WHEN View > Language > 简体中文 is chosen
    zh = next(a for a in window.language_actions.actions() if a.data() == "zh_CN")
    assert zh in window.language_menu.actions()
    zh.trigger()
    # THEN the choice is saved and a restart is offered
    assert json.loads(Settings.path().read_text())["language"] == "zh_CN"
    box = window.restart_box
    qtbot.waitUntil(box.isVisible, timeout=2_000)
    later = next(b for b in box.buttons() if box.buttonRole(b) == QMessageBox.ButtonRole.RejectRole)
    later.click()
    assert not window.restart_requested and window.isVisible()
    # WHEN it is chosen again with Restart now, the window closes to start again
    window.set_language("")
    window.set_language("zh_CN")
    box = window.restart_box
    qtbot.waitUntil(box.isVisible, timeout=2_000)
    now = next(b for b in box.buttons() if box.buttonRole(b) == QMessageBox.ButtonRole.AcceptRole)
    with qtbot.waitSignal(window.closed, timeout=5_000):
        now.click()
    assert window.restart_requested


def test_the_restart_command_is_the_start_command(monkeypatch):
    # GIVEN the app started as `python -X utf8 -m desktop_ocr old.pdf --snip`
    monkeypatch.setattr(sys, "orig_argv", ["python3", "-X", "utf8", "-m", "desktop_ocr", "old.pdf",
                                           "--snip"])
    monkeypatch.setattr(sys, "argv", ["/x/desktop_ocr/__main__.py", "old.pdf", "--snip"])
    # THEN a restart runs the same interpreter and module with only the open file
    assert restart_command(["/d/scan.pdf"]) == ["python3", "-X", "utf8", "-m", "desktop_ocr",
                                                "/d/scan.pdf"]
    monkeypatch.setattr(sys, "orig_argv", ["/venv/bin/python", "/venv/bin/desktop-ocr"])
    monkeypatch.setattr(sys, "argv", ["/venv/bin/desktop-ocr"])
    assert restart_command([]) == ["/venv/bin/python", "/venv/bin/desktop-ocr"]


RESTART = textwrap.dedent("""
    import json, os, sys
    from PySide6.QtCore import QTimer
    from desktop_ocr.core.settings import Settings
    from desktop_ocr.gui import app, i18n
    from desktop_ocr.gui.main_window import MainWindow

    starts = int(os.environ.get("STARTS", "0")) + 1
    os.environ["STARTS"] = str(starts)
    real_build = MainWindow.build

    def build(self, library=None):
        real_build(self, library)
        print(json.dumps({"start": starts, "pid": os.getpid(), "language": i18n.current_language(),
                          "menu": self.menuBar().actions()[0].text()}), flush=True)
        if starts == 1:
            QTimer.singleShot(0, lambda: self.set_language("zh_CN"))
            QTimer.singleShot(50, self.restart)
        else:
            QTimer.singleShot(0, self.quit_app)

    MainWindow.build = build
    sys.exit(app.run(Settings.load(), []))
""")


def test_the_app_restarts_in_the_new_language(tmp_path):
    # GIVEN the real app (its start and clean quit), started in English
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", LANG="en_US.UTF-8", LANGUAGE="en",
               DESKTOP_OCR_CONFIG=str(tmp_path / "settings.json"),
               XDG_STATE_HOME=str(tmp_path / "state"), XDG_DATA_HOME=str(tmp_path / "data"),
               XDG_CACHE_HOME=str(tmp_path / "cache"), XDG_RUNTIME_DIR=str(tmp_path / "run"))
    (tmp_path / "run").mkdir(mode=0o700)
    env.pop("STARTS", None)
    Settings(engine="cpu").save(tmp_path / "settings.json")
    # WHEN the user picks Chinese and restarts
    out = subprocess.run([sys.executable, "-c", RESTART], capture_output=True, text=True,
                         timeout=120, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    starts = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    # THEN it quits cleanly and starts again (the same process, a new interpreter), in Chinese
    assert [s["start"] for s in starts] == [1, 2]
    assert starts[0]["pid"] == starts[1]["pid"]
    assert (starts[0]["language"], starts[0]["menu"]) == ("en", "&File")
    assert (starts[1]["language"], starts[1]["menu"]) == ("zh_CN", "文件(&F)")
