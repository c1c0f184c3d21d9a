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


def run(settings: Settings, paths: list[Path] | None = None) -> int:
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

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    install_asyncgen_hooks(loop)
    notifications.install(loop)

    window = MainWindow(settings)
    window.show()
    window.prepare_engine()
    if paths:
        window.open_paths(paths)

    closed = asyncio.Event()
    app.aboutToQuit.connect(closed.set)
    with loop:
        loop.run_until_complete(closed.wait())
        # No engine server may outlive the window.
        loop.run_until_complete(window.recognizer.shutdown())
        loop.run_until_complete(loop.shutdown_asyncgens())
    notifications.uninstall()
    log.info("exited cleanly")
    return 0
