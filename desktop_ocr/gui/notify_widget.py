"""Non-modal notifications: a short stack of dismissable banners at the bottom of the window.

Subscribes to core.notifications.manager; notifications may arrive from any thread, so
they are marshalled onto the GUI thread through a queued signal before any widget is
touched. At most `limit` banners show (the newest); the older ones fold into one
"+N more" button, so a burst of problems never squeezes the page view away. A banner's
colours come from the palette (gui/look.py), in light and dark alike; Details opens the
details at once, in one click.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_ocr.core.notifications import Notification, NotificationManager, Severity
from desktop_ocr.gui import look
from desktop_ocr.gui.i18n import localize, translate

KEEP = 50  # notices kept folded at most (the oldest go)
TONES = {Severity.INFO: "info", Severity.WARNING: "warning", Severity.ERROR: "error"}


class _Bridge(QObject):
    arrived = Signal(object)


class DetailsDialog(QDialog):
    """A notice's message and its details (a traceback, a server's last lines), shown at
    once, selectable, with Copy."""

    def __init__(self, note: Notification, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(translate("Notices", "Details"))
        self.setObjectName("noticeDetails")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        layout = QVBoxLayout(self)
        message = QLabel(localize(note.message))
        message.setWordWrap(True)
        message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(message)
        self.text = QPlainTextEdit(note.details)
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setAccessibleName(translate("Notices", "Details"))
        layout.addWidget(self.text, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = buttons.addButton(translate("Notices", "Copy"), QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(
            f"{localize(note.message)}\n\n{note.details}"))
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(640, 360)


class Banner(QFrame):
    dismissed = Signal(object)  # self

    def __init__(self, note: Notification, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.note = note
        self.setObjectName("notification")
        self.setAccessibleName(translate("Notices", "Notice"))
        self.setAccessibleDescription(localize(note.message))
        look.follow_palette(self, self._restyle)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 4, 4, 4)
        self.label = QLabel(localize(note.message))
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.label, 1)
        for text, action in note.actions:
            button = QPushButton(text)
            button.clicked.connect(lambda _=False, act=action: self._act(act))
            layout.addWidget(button)
        self.details_button: QPushButton | None = None
        if note.details:
            details = QPushButton(translate("Notices", "Details…"))
            details.setToolTip(translate("Notices", "What exactly happened (for a bug report)"))
            details.clicked.connect(self.show_details)
            layout.addWidget(details)
            self.details_button = details
        close = QToolButton()
        close.setIcon(look.icon("close"))
        close.setAutoRaise(True)
        close.setToolTip(translate("Notices", "Dismiss"))
        close.setAccessibleName(translate("Notices", "Dismiss"))
        close.clicked.connect(self.dismiss)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.close_button = close
        self.details_dialog: DetailsDialog | None = None
        if note.severity is Severity.INFO and not note.actions:
            QTimer.singleShot(6000, self.dismiss)

    def _restyle(self) -> None:
        self.setStyleSheet(look.box_style("QFrame#notification", TONES[self.note.severity]))
        if hasattr(self, "close_button"):
            self.close_button.setIcon(look.icon("close"))

    def _act(self, action) -> None:
        self.dismiss()
        action()

    def show_details(self) -> DetailsDialog:
        dialog = DetailsDialog(self.note, self.window())
        dialog.show()
        self.details_dialog = dialog
        return dialog

    def dismiss(self) -> None:
        if self.isHidden() and self.property("dismissed"):
            return
        self.setProperty("dismissed", True)
        self.hide()
        self.dismissed.emit(self)
        self.deleteLater()


class NotificationArea(QWidget):
    """Holds the banners: the newest `limit` shown, the rest behind "+N more"."""

    shown = Signal(object)

    def __init__(self, manager: NotificationManager, parent: QWidget | None = None, limit: int = 3) -> None:
        super().__init__(parent)
        self.limit = limit
        self.expanded = False
        self._banners: list[Banner] = []  # oldest first
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(6, 0, 6, 6)
        self._layout.setSpacing(4)
        self.more = QPushButton()
        self.more.setFlat(True)
        self.more.clicked.connect(self.toggle_expanded)
        self.more.setAccessibleName(translate("Notices", "More notices"))
        self._layout.addWidget(self.more, 0, Qt.AlignmentFlag.AlignLeft)
        self.more.hide()
        self._bridge = _Bridge()
        self._bridge.arrived.connect(self._add, Qt.ConnectionType.QueuedConnection)
        self._unsubscribe = manager.subscribe(self._bridge.arrived.emit)
        self.destroyed.connect(lambda *_: self._unsubscribe())

    def banners(self) -> list[Banner]:
        """The banners on screen, oldest first."""
        return [b for b in self._banners if not b.isHidden()]

    def folded(self) -> int:
        return len(self._banners) - len(self.banners())

    def _add(self, note: Notification) -> None:
        banner = Banner(note, self)
        banner.dismissed.connect(self._gone)
        self._banners.append(banner)
        while len(self._banners) > KEEP:
            self._banners[0].dismiss()
        self._layout.insertWidget(self._layout.count() - 1, banner)
        self._arrange()
        self.shown.emit(note)

    def _gone(self, banner: Banner) -> None:
        if banner in self._banners:
            self._banners.remove(banner)
        self._arrange()

    def toggle_expanded(self) -> None:
        self.expanded = not self.expanded
        self._arrange()

    def _arrange(self) -> None:
        shown = self._banners if self.expanded else self._banners[-self.limit:]
        for banner in self._banners:
            banner.setVisible(banner in shown)
        hidden = len(self._banners) - len(shown)
        if hidden:
            self.more.setText(translate("Notices", "+{n} more").format(n=hidden))
            self.more.setToolTip(translate("Notices", "Show the older notices too"))
        elif self.expanded and len(self._banners) > self.limit:
            self.more.setText(translate("Notices", "Show fewer"))
            self.more.setToolTip("")
        else:
            self.expanded = False
        self.more.setVisible(bool(hidden) or (self.expanded and len(self._banners) > self.limit))
        self.more.setAccessibleName(self.more.text() or translate("Notices", "More notices"))

    def dismiss_all(self) -> None:
        for banner in list(self._banners):
            banner.dismiss()

    def detach(self) -> None:
        self._unsubscribe()


__all__ = ["Banner", "DetailsDialog", "NotificationArea"]
