"""Non-modal notifications: a stack of dismissable banners at the bottom of the window.

Subscribes to core.notifications.manager; notifications may arrive from any thread, so
they are marshalled onto the GUI thread through a queued signal before any widget is
touched.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_ocr.core.notifications import Notification, NotificationManager, Severity

_COLOURS = {
    Severity.INFO: ("#e8f1fb", "#1d4f91"),
    Severity.WARNING: ("#fff4e0", "#7a4a00"),
    Severity.ERROR: ("#fdecea", "#8a1c13"),
}


class _Bridge(QObject):
    arrived = Signal(object)


class Banner(QFrame):
    def __init__(self, note: Notification, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.note = note
        self.setObjectName("notification")
        bg, fg = _COLOURS[note.severity]
        self.setStyleSheet(
            f"QFrame#notification {{ background: {bg}; border: 1px solid {fg}; border-radius: 4px; }}"
            f" QLabel {{ color: {fg}; }}"
        )
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        self.label = QLabel(note.message)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.label, 1)
        for text, action in note.actions:
            button = QPushButton(text)
            button.clicked.connect(lambda _=False, act=action: self._act(act))
            layout.addWidget(button)
        if note.details:
            details = QPushButton("Details…")
            details.setFlat(True)
            details.clicked.connect(self._show_details)
            layout.addWidget(details)
        close = QPushButton("✕")
        close.setFlat(True)
        close.setFixedWidth(28)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.dismiss)
        layout.addWidget(close)
        if note.severity is Severity.INFO and not note.actions:
            QTimer.singleShot(6000, self.dismiss)

    def _act(self, action) -> None:
        self.dismiss()
        action()

    def _show_details(self) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, "Details", self.note.message, parent=self)
        box.setDetailedText(self.note.details)
        box.setModal(False)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.show()

    def dismiss(self) -> None:
        self.hide()
        self.deleteLater()


class NotificationArea(QWidget):
    """Holds the banners; at most `limit` are shown, newest last."""

    shown = Signal(object)

    def __init__(self, manager: NotificationManager, parent: QWidget | None = None, limit: int = 4) -> None:
        super().__init__(parent)
        self.limit = limit
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(6, 0, 6, 6)
        self._layout.setSpacing(4)
        self._bridge = _Bridge()
        self._bridge.arrived.connect(self._add, Qt.ConnectionType.QueuedConnection)
        self._unsubscribe = manager.subscribe(self._bridge.arrived.emit)
        self.destroyed.connect(lambda *_: self._unsubscribe())

    def banners(self) -> list[Banner]:
        return [w for w in self.findChildren(Banner) if not w.isHidden()]

    def _add(self, note: Notification) -> None:
        while len(self.banners()) >= self.limit:
            self.banners()[0].dismiss()
        banner = Banner(note, self)
        self._layout.addWidget(banner)
        banner.show()
        self.shown.emit(note)

    def detach(self) -> None:
        self._unsubscribe()
