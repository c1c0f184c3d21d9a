"""Start the GUI: QApplication + qasync event loop + main window."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from desktop_ocr import APP_ID, APP_NAME, __version__
from desktop_ocr.core.notifications import manager as notifications
from desktop_ocr.core.settings import Settings

log = logging.getLogger(__name__)


def run(settings: Settings, paths: list[Path] | None = None, action: str = "show", *,
        resume: bool = False) -> int:
    """Start the app, or hand `action` ("show", "snip", "clipboard") and `paths` to the
    instance already running and return at once. `resume`: finish an unfinished batch
    without asking (else the window offers it)."""
    from desktop_ocr.gui.single_instance import Message, claim, hand_over

    message = Message(action, [str(p.resolve()) for p in paths or []])
    # Before any window-system connection: a second start should cost as little as possible.
    if hand_over(message):
        return 0

    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from desktop_ocr.gui.bus import Bus
    from desktop_ocr.gui.main_window import MainWindow
    from desktop_ocr.gui.resources import app_icon

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setOrganizationName(APP_ID)
    app.setDesktopFileName(APP_ID)
    icon: QIcon = app_icon()
    app.setWindowIcon(icon)
    # The language and the theme before the first widget: its texts and colours are final.
    from desktop_ocr.gui import i18n

    i18n.install(settings.language, app)
    if settings.theme in ("light", "dark"):
        from desktop_ocr.gui.look import apply_theme

        apply_theme(settings.theme, app)
    # The server needs the application's event dispatcher, hence after QApplication.
    instance = claim(message)
    if instance is None:
        return 0

    # The window first, with its empty state; the rest (the event loop, the pipeline, the
    # engines, the menus and panels) is imported and built once it is on screen.
    bus = Bus()
    window = MainWindow(settings, defer_engine_panel=True, bus=bus, deferred=True)
    if action != "snip":  # a first start with --snip shows the window after the snip
        window.show()
        _wait_first_paint(app, window)

    import asyncio

    import qasync

    from desktop_ocr.core.library import AsyncLibrary
    from desktop_ocr.core.logs import setup_logging
    from desktop_ocr.core.notifications import Severity
    from desktop_ocr.gui.eventloop import install_asyncgen_hooks

    setup_logging()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    install_asyncgen_hooks(loop)
    notifications.install(loop)
    # A damaged or locked library gets a fresh one beside it and one line for the user
    # (on_notice runs on the library's thread; notices are thread-safe).
    library = AsyncLibrary(keep_days=settings.history_keep_days,
                           max_entries=settings.history_max_entries,
                           on_notice=lambda m: notifications.notify(m, Severity.WARNING))
    window.build(library=library)
    tray = _start_tray(app, window, icon)
    # Hidden windows (tray) and snip overlays closing must not end the app: it ends when
    # the main window closes for good.
    app.setQuitOnLastWindowClosed(False)
    window.closed.connect(app.quit)

    def handle(message: Message) -> None:
        if message.paths:
            bus.restoreWindow.emit(True)
            bus.openPaths.emit([Path(p) for p in message.paths])
        if message.action == "snip":
            bus.snipRequested.emit()
        elif message.action == "clipboard":
            bus.restoreWindow.emit(True)
            bus.pasteRequested.emit()
        elif not message.paths:
            bus.restoreWindow.emit(True)

    instance.received.connect(handle)
    # SIGTERM / SIGHUP / Ctrl+C: the same clean quit as File > Quit (no server left behind).
    from desktop_ocr.gui.signals import SignalQuit

    on_signal = SignalQuit(window.quit_app)
    window.prepare_engine()
    handle(Message(action, []))  # a first start with --snip shows the window after the snip
    # The engine panel starts hidden: build it once the window is on screen.
    _after_first_paint(window, window.add_engine_panel)
    if paths:
        bus.openPaths.emit(list(paths))
    asyncio.ensure_future(window.offer_resume(at_once=resume))

    closed = asyncio.Event()
    app.aboutToQuit.connect(closed.set)
    with loop:
        loop.run_until_complete(closed.wait())
        # No engine server may outlive the window.
        loop.run_until_complete(window.runs.cancel_and_wait())
        loop.run_until_complete(window.engines.shutdown())
        loop.run_until_complete(library.close())
        loop.run_until_complete(loop.shutdown_asyncgens())
    on_signal.restore()
    instance.close()
    if tray is not None:
        tray.hide()
    notifications.uninstall()
    log.info("exited cleanly")
    if window.restart_requested:
        reopen = [str(window.path)] if window.path is not None else []
        return _restart(restart_command(reopen))
    return 0


def restart_command(paths: list[str]) -> list[str]:
    """The command line that started this app, with `paths` as its files (and no --snip,
    --clipboard or --resume: a restart only reopens what was open)."""
    if getattr(sys, "frozen", False):
        return [sys.executable, *paths]
    # sys.orig_argv: the interpreter, its options and the script or -m module, then the
    # app's own arguments (sys.argv[1:]).
    own = len(sys.argv) - 1
    prefix = list(sys.orig_argv[:len(sys.orig_argv) - own] if own else sys.orig_argv)
    return [*prefix, *paths]


def _restart(command: list[str]) -> int:
    """Start again once everything is closed (the single-instance server too, or the new
    process would hand itself over to this one)."""
    import os
    import subprocess

    log.info("restarting: %s", command)
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name == "posix":
        os.execv(sys.executable, command)  # the same process, a fresh interpreter
    subprocess.Popen(command, close_fds=True)
    return 0


def _wait_first_paint(app, widget, timeout: float = 2.0) -> None:
    """Process events until `widget` has painted once (or `timeout` passed): before the
    event loop exists, so that nothing else delays the first frame."""
    import time

    from PySide6.QtCore import QEvent, QEventLoop, QObject

    painted = []

    class Watch(QObject):
        def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt override
            if event.type() == QEvent.Type.Paint:
                painted.append(True)
            return False

    watch = Watch()
    widget.installEventFilter(watch)
    deadline = time.monotonic() + timeout
    while not painted and time.monotonic() < deadline:
        app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents, 20)
    widget.removeEventFilter(watch)


def _after_first_paint(widget, fn) -> None:
    """Call `fn` from the event loop once `widget` has painted (a zero timer set before
    the window shows can fire before its first expose); at once if it is hidden (tray)."""
    from PySide6.QtCore import QEvent, QObject, QTimer

    if not widget.isVisible():
        QTimer.singleShot(0, fn)
        return

    class Watch(QObject):
        def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt override
            if event.type() == QEvent.Type.Paint:
                widget.removeEventFilter(self)
                QTimer.singleShot(0, fn)
                self.deleteLater()
            return False

    widget.installEventFilter(Watch(widget))


def _start_tray(app, window, icon):
    from desktop_ocr.gui.tray import Tray

    if not Tray.available():
        return None
    tray = Tray(icon, window.snip_action, window.clipboard_action, window.show_action,
                window.quit_action, window)
    tray.show()
    window.attach_tray(tray)
    return tray

