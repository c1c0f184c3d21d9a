"""The main window: menu, toolbar, page view, result pane, status bar, notifications."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from PySide6.QtCore import QMimeData, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from desktop_ocr import APP_NAME, __version__
from desktop_ocr.core.logs import log_file
from desktop_ocr.core.notifications import NotificationManager, Severity
from desktop_ocr.core.notifications import manager as default_manager
from desktop_ocr.core.settings import Settings
from desktop_ocr.engines.base import FinishReason
from desktop_ocr.gui.notify_widget import NotificationArea
from desktop_ocr.gui.page_view import PageView
from desktop_ocr.gui.quick_capture import QuickCapture
from desktop_ocr.gui.recognizer import LoadedImage, Recognizer, RunResult
from desktop_ocr.gui.result_view import ResultView

OPEN_FILTER = (
    "Images and PDFs (*.png *.jpg *.jpeg *.tif *.tiff *.bmp *.webp *.gif *.pdf);;"
    "Images (*.png *.jpg *.jpeg *.tif *.tiff *.bmp *.webp *.gif);;PDF (*.pdf);;All files (*)"
)
EMPTY_TEXT = "Drop images or PDFs here, or paste a screenshot"


def local_paths(mime: QMimeData) -> list[Path]:
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]


class EmptyState(QWidget):
    """What a new window shows: what to do, and a button to do it."""

    def __init__(self, on_open, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        title = QLabel(EMPTY_TEXT)
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        title.setWordWrap(True)
        font = title.font()
        font.setPointSize(font.pointSize() + 5)
        title.setFont(font)
        layout.addWidget(title)
        hint = QLabel("PNG, JPEG, TIFF, BMP, WebP and PDF. Ctrl+O opens a file, Ctrl+V pastes.")
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint.setEnabled(False)
        layout.addWidget(hint)
        button = QPushButton("Open a file…")
        button.clicked.connect(on_open)
        button.setFixedWidth(180)
        layout.addWidget(button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(1)
        self.setObjectName("emptyState")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet("QWidget#emptyState { border: 2px dashed palette(mid); border-radius: 12px; }")


class MainWindow(QMainWindow):
    closed = Signal()  # the window closed for good (not hidden to the tray)

    def __init__(self, settings: Settings | None = None,
                 notifications: NotificationManager | None = None) -> None:
        super().__init__()
        self.settings = settings or Settings.load()
        self.notifications = notifications or default_manager
        self.setWindowTitle(APP_NAME)
        self.resize(1280, 800)
        self.setAcceptDrops(True)
        self.current: LoadedImage | None = None
        self._started_at = 0.0

        self.recognizer = Recognizer(self.settings, self, self.notifications)
        self.tray = None  # a Tray, set by the app when the desktop has a system tray
        self._quitting = False
        self.capture = QuickCapture(self)
        self._build_actions()
        self._build_ui()
        self._connect()
        self._update_actions()

    # ---------------------------------------------------------------- construction

    def _action(self, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.triggered.connect(slot)
        return action

    def _build_actions(self) -> None:
        self.open_action = self._action("&Open…", self.choose_files, QKeySequence.StandardKey.Open,
                                        "Open images or PDFs")
        self.quit_action = self._action("&Quit", self.close, QKeySequence.StandardKey.Quit)
        self.recognise_action = self._action("&Recognise", self.recognise_current, QKeySequence("Ctrl+R"),
                                             "Recognise the current image")
        self.cancel_action = self._action("&Cancel", self.cancel, QKeySequence("Esc"),
                                          "Stop the recognition in progress")
        self.copy_action = self._action("&Copy text", self.copy_result, QKeySequence("Ctrl+Shift+C"),
                                        "Copy the recognised text to the clipboard")
        self.fit_action = self._action("&Fit to window", lambda: self.page_view.fit(), QKeySequence("Ctrl+0"))
        self.zoom_in_action = self._action("Zoom &in", lambda: self.page_view.zoom(1.25),
                                           QKeySequence.StandardKey.ZoomIn)
        self.zoom_out_action = self._action("Zoom &out", lambda: self.page_view.zoom(0.8),
                                            QKeySequence.StandardKey.ZoomOut)
        self.about_action = self._action("&About", self.show_about)
        self._build_capture_actions()

    def _build_capture_actions(self) -> None:
        # Clipboard and screen (quick_capture.py does the work).
        self.paste_action = self._action("&Paste image", self.capture.paste, QKeySequence.StandardKey.Paste,
                                         "Recognise the image (or image file) on the clipboard")
        self.clipboard_action = self._action("Recognise &clipboard", self.capture.paste, None,
                                             "Recognise the image on the clipboard")
        self.snip_action = self._action("&Snip screen region", self.capture.snip, QKeySequence("Ctrl+Shift+X"),
                                        "Select a region of the screen and recognise it")
        self.show_action = self._action("Show &window", self.show_from_tray)
        self.quit_action.triggered.disconnect()
        self.quit_action.triggered.connect(self.quit_app)
        self.watch_action = self._toggle("&Watch clipboard for images", self.settings.watch_clipboard,
                                         self.capture.set_watch,
                                         "Recognise every new image copied to the clipboard")
        self.auto_copy_action = self._toggle("Copy result &automatically", self.settings.copy_snip_result,
                                             self.capture.set_auto_copy,
                                             "Put the text of snips and clipboard images on the clipboard")
        self.close_to_tray_action = self._toggle("&Keep running in the tray when closed",
                                                 self.settings.close_to_tray, self._set_close_to_tray)
        self.close_to_tray_action.setEnabled(False)  # until the app finds a system tray

    def _toggle(self, text: str, checked: bool, slot, tip: str = "") -> QAction:
        action = QAction(text, self)
        action.setCheckable(True)
        action.setChecked(checked)
        if tip:
            action.setStatusTip(tip)
        action.toggled.connect(slot)
        return action

    def _build_ui(self) -> None:
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        file_menu.addAction(self.open_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        self.file_menu = file_menu
        edit_menu = menu.addMenu("&Edit")
        edit_menu.addAction(self.copy_action)
        edit_menu.addAction(self.paste_action)
        edit_menu.addSeparator()
        for action in (self.auto_copy_action, self.watch_action, self.close_to_tray_action):
            edit_menu.addAction(action)
        self.edit_menu = edit_menu
        view_menu = menu.addMenu("&View")
        for action in (self.zoom_in_action, self.zoom_out_action, self.fit_action):
            view_menu.addAction(action)
        self.view_menu = view_menu
        run_menu = menu.addMenu("&Recognise")
        run_menu.addAction(self.recognise_action)
        run_menu.addAction(self.snip_action)
        run_menu.addAction(self.clipboard_action)
        run_menu.addAction(self.cancel_action)
        self.run_menu = run_menu
        help_menu = menu.addMenu("&Help")
        help_menu.addAction(self.about_action)

        toolbar = QToolBar("Main", self)
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for action in (self.open_action, self.paste_action, self.snip_action, self.recognise_action,
                       self.cancel_action, self.copy_action):
            toolbar.addAction(action)
        self.addToolBar(toolbar)
        self.toolbar = toolbar

        self.page_view = PageView()
        self.empty_state = EmptyState(self.choose_files)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty_state)
        self.stack.addWidget(self.page_view)

        self.result_view = ResultView()
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.stack)
        self.splitter.addWidget(self.result_view)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 0)
        layout.addWidget(self.splitter, 1)
        self.notification_area = NotificationArea(self.notifications, central)
        layout.addWidget(self.notification_area)
        self.setCentralWidget(central)

        status = self.statusBar()
        self.state_label = QLabel("Ready")
        self.engine_label = QLabel(f"Engine: {self.recognizer.engine_title()}")
        self.time_label = QLabel("")
        status.addWidget(self.state_label, 1)
        status.addPermanentWidget(self.time_label)
        status.addPermanentWidget(self.engine_label)

        self._elapsed = QTimer(self)
        self._elapsed.setInterval(200)
        self._elapsed.timeout.connect(self._tick)

    def _connect(self) -> None:
        r = self.recognizer
        r.loaded.connect(self._on_loaded)
        r.loadFailed.connect(self._on_load_failed)
        r.started.connect(self._on_started)
        r.chunk.connect(self.result_view.append_text)
        r.finished.connect(self._on_finished)
        r.failed.connect(self._on_failed)
        r.cancelled.connect(self._on_cancelled)
        r.engineChanged.connect(self._on_engine_changed)

    def prepare_engine(self) -> asyncio.Task:
        """Resolve `auto` and create the engine in the background, so the status bar says which."""

        async def prepare() -> None:
            try:
                await self.recognizer.prepare()
            except Exception as exc:
                self.notifications.report(exc, "The recognition engine is not available")

        return asyncio.ensure_future(prepare())

    def _on_engine_changed(self, title: str) -> None:
        self.engine_label.setText(f"Engine: {title}")
        reason = self.recognizer.engine_reason
        self.engine_label.setToolTip(f"Chosen automatically: {reason}" if reason else "")

    # ---------------------------------------------------------------- files

    def choose_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Open images or PDFs", "", OPEN_FILTER)
        if paths:
            self.open_paths([Path(p) for p in paths])

    def open_paths(self, paths: list[Path]) -> None:
        if not paths:
            return
        # Several files: the first is shown; the page strip of a later version lists them all.
        self.state_label.setText(f"Opening {paths[0].name}…")
        self.recognizer.open_file(paths[0])

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if local_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802 - Qt override
        if local_paths(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        paths = local_paths(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.open_paths(paths)

    # ---------------------------------------------------------------- recognition

    def recognise_current(self) -> None:
        if self.current is None:
            self.notifications.notify("Open or drop an image first.", Severity.INFO)
            return
        self.recognizer.recognize(self.current.image, self.current.path.name)

    def cancel(self) -> None:
        self.recognizer.cancel()

    def copy_result(self) -> None:
        text = self.result_view.full_text()
        if not text.strip():
            self.notifications.notify("There is no text to copy yet.", Severity.INFO)
            return
        QGuiApplication.clipboard().setText(text)
        self.state_label.setText(f"Copied {len(text):,} characters")

    def show_image(self, item: LoadedImage) -> None:
        """Show an image that did not come from a file (a paste, a snip)."""
        self._on_loaded(item)

    def _on_loaded(self, item: LoadedImage) -> None:
        self.current = item
        self.page_view.set_image(item.qimage)
        self.stack.setCurrentWidget(self.page_view)
        self.setWindowTitle(f"{item.path.name} — {APP_NAME}")
        self.state_label.setText(f"{item.path.name}: {item.image.width} x {item.image.height} px")
        self._update_actions()

    def _on_load_failed(self, path: str, message: str) -> None:
        self.state_label.setText(message)
        self._update_actions()

    def _on_started(self, label: str) -> None:
        self.result_view.reset()
        self._started_at = time.perf_counter()
        self.state_label.setText(f"Recognising {label}…")
        self.time_label.setText("")
        self._elapsed.start()
        self._update_actions()

    def _tick(self) -> None:
        self.time_label.setText(f"{time.perf_counter() - self._started_at:.1f} s")

    def _stop_clock(self) -> float:
        self._elapsed.stop()
        return time.perf_counter() - self._started_at

    def _on_finished(self, result: RunResult) -> None:
        self._stop_clock()
        self.result_view.flush()
        self.time_label.setText(f"{result.seconds:.1f} s")
        message = f"Recognised {result.label} in {result.seconds:.1f} s with {result.engine}"
        if result.finish is FinishReason.LENGTH:
            message += " — output cut at the token limit"
            self.notifications.notify("The output was cut at the token limit.", Severity.WARNING)
        elif result.finish is FinishReason.REPETITION:
            message += " — stopped a repetition loop"
        if not result.text.strip():
            message += " — no text found"
        self.state_label.setText(message)
        self._update_actions()

    def _on_failed(self, message: str) -> None:
        self._stop_clock()
        self.state_label.setText("Recognition failed")
        self._update_actions()

    def _on_cancelled(self) -> None:
        seconds = self._stop_clock()
        self.result_view.flush()
        self.state_label.setText(f"Cancelled after {seconds:.1f} s")
        self._update_actions()

    def _update_actions(self) -> None:
        busy = self.recognizer.busy
        self.cancel_action.setEnabled(busy)
        self.recognise_action.setEnabled(self.current is not None and not busy)

    # ---------------------------------------------------------------- misc

    def show_about(self) -> None:
        QMessageBox.about(
            self, f"About {APP_NAME}",
            f"<b>{APP_NAME}</b> {__version__}<br>Text and tables from scans, photos, screenshots and PDFs, "
            "recognised on this computer: nothing leaves the machine.<br><br>"
            f"Log file: {log_file()}",
        )

    # ---------------------------------------------------------------- tray

    def attach_tray(self, tray) -> None:
        self.tray = tray
        self.capture.tray = tray
        self.close_to_tray_action.setEnabled(True)

    def _set_close_to_tray(self, on: bool) -> None:
        self.settings.close_to_tray = on
        self.capture._save()

    def show_from_tray(self) -> None:
        self.capture._restore(True)

    def quit_app(self) -> None:
        self._quitting = True
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if (self.settings.close_to_tray and not self._quitting and self.tray is not None
                and self.tray.isVisible()):
            event.ignore()
            self.hide()
            self.tray.say("Still running in the tray. Quit from its menu.")
            return
        self.recognizer.cancel()
        self.capture.shutdown()
        self.notification_area.detach()
        super().closeEvent(event)
        self.closed.emit()
