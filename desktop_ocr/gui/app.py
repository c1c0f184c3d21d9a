"""Start the GUI: QApplication + qasync event loop + main window."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

from desktop_ocr import APP_ID, APP_NAME, __version__
from desktop_ocr.core.logs import setup_logging
from desktop_ocr.core.notifications import manager as notifications
from desktop_ocr.core.settings import Settings

log = logging.getLogger(__name__)


def run(settings: Settings, paths: list[Path] | None = None, action: str = "show") -> int:
    """Start the app, or hand `action` ("show", "snip", "clipboard") and `paths` to the
    instance already running and return at once."""
    from desktop_ocr.gui.single_instance import Message, claim, hand_over

    message = Message(action, [str(p.resolve()) for p in paths or []])
    # Before any window-system connection: a second start should cost as little as possible.
    if hand_over(message):
        return 0

    import qasync
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from desktop_ocr.gui.eventloop import install_asyncgen_hooks
    from desktop_ocr.gui.main_window import MainWindow
    from desktop_ocr.gui.resources import app_icon

    setup_logging()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setOrganizationName(APP_ID)
    app.setDesktopFileName(APP_ID)
    icon: QIcon = app_icon()
    app.setWindowIcon(icon)
    # The server needs the application's event dispatcher, hence after QApplication.
    instance = claim(message)
    if instance is None:
        return 0

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    install_asyncgen_hooks(loop)
    notifications.install(loop)

    window = MainWindow(settings, defer_engine_panel=True)
    tray = _start_tray(app, window, icon)
    # Hidden windows (tray) and snip overlays closing must not end the app: it ends when
    # the main window closes for good.
    app.setQuitOnLastWindowClosed(False)
    window.closed.connect(app.quit)

    def handle(message: Message) -> None:
        if message.paths:
            window.show_from_tray()
            window.open_paths([Path(p) for p in message.paths])
        if message.action == "snip":
            window.capture.snip()
        elif message.action == "clipboard":
            window.show_from_tray()
            window.capture.paste()
        elif not message.paths:
            window.show_from_tray()

    instance.received.connect(handle)
    # SIGTERM / SIGHUP / Ctrl+C: the same clean quit as File > Quit (no server left behind).
    from desktop_ocr.gui.signals import SignalQuit

    on_signal = SignalQuit(window.quit_app)
    window.prepare_engine()
    handle(Message(action, []))  # a first start with --snip shows the window after the snip
    # The engine panel starts hidden: build it once the window is on screen.
    _after_first_paint(window, window.add_engine_panel)
    if paths:
        window.open_paths(paths)

    closed = asyncio.Event()
    app.aboutToQuit.connect(closed.set)
    with loop:
        loop.run_until_complete(closed.wait())
        # No engine server may outlive the window.
        loop.run_until_complete(window.recognizer.shutdown())
        loop.run_until_complete(loop.shutdown_asyncgens())
    on_signal.restore()
    instance.close()
    if tray is not None:
        tray.hide()
    notifications.uninstall()
    log.info("exited cleanly")
    return 0


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
