"""The tray icon: Snip, Recognise clipboard, Show window, Quit; and where "copied" is said."""

from __future__ import annotations

from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QMenu, QSystemTrayIcon, QWidget

from desktop_ocr import APP_NAME
from desktop_ocr.gui.i18n import localize

MESSAGE_MS = 3000


class Tray(QSystemTrayIcon):
    def __init__(self, icon: QIcon, snip: QAction, clipboard: QAction, show_window: QAction,
                 quit_app: QAction, parent: QWidget | None = None) -> None:
        super().__init__(icon, parent)
        self.setToolTip(APP_NAME)
        menu = QMenu(parent)
        for action in (snip, clipboard):
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(show_window)
        menu.addSeparator()
        menu.addAction(quit_app)
        self.menu = menu
        self.setContextMenu(menu)
        self._show_window = show_window
        self.activated.connect(self._on_activated)

    @staticmethod
    def available() -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable()

    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        # A left click shows the window; the menu is on the right button everywhere.
        if reason in (QSystemTrayIcon.ActivationReason.Trigger,
                      QSystemTrayIcon.ActivationReason.DoubleClick):
            self._show_window.trigger()

    def say(self, message: str) -> None:
        """A desktop notification (the tray's balloon / the desktop's notification service)."""
        self.showMessage(APP_NAME, localize(message), QSystemTrayIcon.MessageIcon.Information,
                         MESSAGE_MS)
