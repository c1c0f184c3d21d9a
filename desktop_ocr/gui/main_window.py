"""The main window: a document's pages on the left, the page with its regions in the
middle, regions and results on the right; menus, toolbar, status bar, notifications.

Any file opens as a Document (core/documents.py): an image is a one-page document, a
multi-frame TIFF or a PDF has several pages. Regions, rotation and results are kept per
page for as long as the document is open.
"""

from __future__ import annotations

import asyncio
import functools
import logging
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
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from desktop_ocr import APP_NAME, __version__
from desktop_ocr.core.contract import FinishReason
from desktop_ocr.core.documents import Document, Page, document_from_image
from desktop_ocr.core.export import ExportError
from desktop_ocr.core.logs import log_file
from desktop_ocr.core.notifications import NotificationManager, Severity
from desktop_ocr.core.notifications import manager as default_manager
from desktop_ocr.core.regions import Region
from desktop_ocr.core.settings import Settings
from desktop_ocr.core.tables import Table
from desktop_ocr.gui.batch import BatchRunner, format_eta
from desktop_ocr.gui.doc_results import (
    EXPORT_FILTER,
    DocumentResults,
    PartResult,
    export_results,
    with_filter_suffix,
)
from desktop_ocr.gui.notify_widget import NotificationArea
from desktop_ocr.gui.page_view import FitMode, PageView
from desktop_ocr.gui.password_dialog import ask_password
from desktop_ocr.gui.quick_capture import QuickCapture
from desktop_ocr.gui.recognizer import LoadedDocument, LoadedImage, Part, Recognizer, RunResult
from desktop_ocr.gui.region_models import RegionListModel, task_ids, task_title
from desktop_ocr.gui.region_panel import RegionPanel
from desktop_ocr.gui.result_view import ResultView
from desktop_ocr.gui.table_model import LiveTables, TableModel, models_for_text
from desktop_ocr.gui.table_view import TableTabs
from desktop_ocr.gui.thumbnails import ThumbnailModel, ThumbnailStrip

log = logging.getLogger(__name__)

OPEN_FILTER = (
    "Images and documents (*.png *.jpg *.jpeg *.tif *.tiff *.bmp *.webp *.gif *.pdf *.xps *.epub *.cbz);;"
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


class TextLayerBanner(QFrame):
    """Offers a PDF page's own text instead of OCR."""

    def __init__(self, on_use, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("textLayerBanner")
        self.setStyleSheet("QFrame#textLayerBanner { background: #e8f1fb; border: 1px solid #1d4f91;"
                           " border-radius: 4px; } QLabel { color: #1d4f91; }")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 4, 6, 4)
        self.label = QLabel("This page has its own text in the PDF: no OCR needed. "
                            "Recognise (Ctrl+R) still runs OCR if you prefer.")
        self.label.setWordWrap(True)
        layout.addWidget(self.label, 1)
        self.button = QPushButton("Use the PDF's text")
        self.button.clicked.connect(on_use)
        layout.addWidget(self.button)
        self.hide()


class BatchBar(QFrame):
    """Progress of "Recognise all pages": bar, pages done / total, ETA, cancel."""

    def __init__(self, on_cancel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 2)
        self.progress = QProgressBar()
        self.progress.setTextVisible(False)
        layout.addWidget(self.progress, 1)
        self.label = QLabel("")
        layout.addWidget(self.label)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop; the pages already recognised are kept")
        self.cancel_button.clicked.connect(on_cancel)
        layout.addWidget(self.cancel_button)
        self.hide()


class MainWindow(QMainWindow):
    closed = Signal()  # the window closed for good (not hidden to the tray)

    def __init__(self, settings: Settings | None = None,
                 notifications: NotificationManager | None = None, *,
                 defer_engine_panel: bool = False) -> None:
        """`defer_engine_panel`: the caller builds the (hidden) engine panel later with
        `add_engine_panel()`, after the window is on screen (app start: ~40 ms sooner)."""
        super().__init__()
        self.settings = settings or Settings.load()
        self.notifications = notifications or default_manager
        self.setWindowTitle(APP_NAME)
        self.resize(1280, 800)
        self.setAcceptDrops(True)
        self.document: Document | None = None
        self.current: LoadedImage | None = None  # the pasted or snipped image being shown
        self.path: Path | None = None
        self.results: DocumentResults | None = None
        self.current_index = -1
        self.rotations: dict[int, int] = {}
        self.page_regions: dict[int, tuple[list[Region], bool]] = {}
        self._started_at = 0.0
        self._parts_seen = 0
        self._text_check: asyncio.Task | None = None
        self._export_task: asyncio.Task | None = None
        # Table tab: the grids of stored results by (page index, part key), edits included,
        # and the feeder of the answer streaming now.
        self.page_tables: dict[tuple[int, str], list[TableModel]] = {}
        self._live: LiveTables | None = None
        self._live_models: list[TableModel] = []
        self._live_task = ""
        self._want_table_tab = False

        self.recognizer = Recognizer(self.settings, self, self.notifications)
        self.recognizer.password_provider = functools.partial(ask_password, self)
        self.batch = BatchRunner(self.recognizer, self.notifications, self)
        self.region_model = RegionListModel(self)
        self.thumbnail_model = ThumbnailModel(self)
        self.tray = None  # a Tray, set by the app when the desktop has a system tray
        self._quitting = False
        self.capture = QuickCapture(self)
        self._build_actions()
        self._build_ui()
        self.thumbnail_model.should_wait = lambda: self.page_view.rendering
        self._connect()
        self._update_actions()
        self.engine_panel = None
        if not defer_engine_panel:
            self.add_engine_panel()

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
        a = self._action
        self.open_action = a("&Open…", self.choose_files, QKeySequence.StandardKey.Open,
                             "Open images or PDFs")
        self.export_action = a("&Export…", self.choose_export, QKeySequence("Ctrl+E"),
                               "Save the results of the whole document "
                               "(.xlsx, .csv, .txt, .md, .html, .json)")
        self.quit_action = a("&Quit", self.close, QKeySequence.StandardKey.Quit)
        self.recognise_action = a("&Recognise", self.recognise_current, QKeySequence("Ctrl+R"),
                                  "Recognise the current page: each region in order, or the whole page")
        self.recognise_all_action = a("Recognise &all pages", self.recognise_all,
                                      QKeySequence("Ctrl+Shift+R"),
                                      "Recognise every page of the document (pages already done are kept)")
        self.use_text_action = a("Use the PDF's &text", self.use_pdf_text, None,
                                 "Take this page's text from the PDF itself, without OCR")
        self.prefer_text_action = a("Use PDF text when pages have it", lambda: None, None,
                                    "Recognise all pages: take the PDF's own text where a page has "
                                    "it and run OCR only on scanned pages")
        self.prefer_text_action.setCheckable(True)
        self.prefer_text_action.setChecked(True)
        self.clear_results_action = a("Clear results", self.clear_results, None,
                                      "Forget the results of this document")
        self.retry_action = a("Retry with stronger repetition &penalty", self.retry_repetition,
                              QKeySequence("Ctrl+Shift+P"),
                              "Run the last recognition again with a higher repetition penalty")
        self.retry_action.setEnabled(False)
        self.cancel_action = a("&Cancel", self.cancel, QKeySequence("Esc"),
                               "Stop the recognition in progress")
        self.copy_action = a("&Copy text", self.copy_result, QKeySequence("Ctrl+Shift+C"),
                             "Copy the recognised text to the clipboard")
        self.zoom_in_action = a("Zoom &in", lambda: self.page_view.zoom_in(),
                                QKeySequence.StandardKey.ZoomIn)
        self.zoom_out_action = a("Zoom &out", lambda: self.page_view.zoom_out(),
                                 QKeySequence.StandardKey.ZoomOut)
        self.fit_action = a("Fit &page", lambda: self.page_view.fit_page(), QKeySequence("Ctrl+0"),
                            "Show the whole page")
        self.fit_width_action = a("Fit &width", lambda: self.page_view.fit_width(),
                                  QKeySequence("Ctrl+2"), "Fit the page's width to the window")
        self.actual_size_action = a("&100 %", lambda: self.page_view.actual_size(),
                                    QKeySequence("Ctrl+1"), "Show the page at its actual size")
        self.rotate_action = a("Rotate &right", lambda: self.rotate_page(90), QKeySequence("Ctrl+]"),
                               "Turn the page 90° clockwise")
        self.rotate_left_action = a("Rotate &left", lambda: self.rotate_page(-90),
                                    QKeySequence("Ctrl+["), "Turn the page 90° counter-clockwise")
        self.next_action = a("&Next page", self.next_page, QKeySequence(Qt.Key.Key_PageDown))
        self.prev_action = a("&Previous page", self.previous_page, QKeySequence(Qt.Key.Key_PageUp))
        self.first_action = a("&First page", self.first_page, QKeySequence(Qt.Key.Key_Home))
        self.last_action = a("&Last page", self.last_page, QKeySequence(Qt.Key.Key_End))
        self.delete_region_action = a("&Delete region", self.delete_selected_region,
                                      QKeySequence(Qt.Key.Key_Delete), "Delete the selected region")
        self.clear_regions_action = a("Clear regions", self.clear_regions, None,
                                      "Delete every region on this page")
        self.about_action = a("&About", self.show_about)
        # Page keys belong to the viewer: in the result editor Home/End move the cursor.
        for action in (self.next_action, self.prev_action, self.first_action, self.last_action,
                       self.delete_region_action):
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
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
        for action in (self.open_action, self.export_action):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        self.file_menu = file_menu
        edit_menu = menu.addMenu("&Edit")
        for action in (self.copy_action, self.paste_action, self.delete_region_action,
                       self.clear_regions_action):
            edit_menu.addAction(action)
        edit_menu.addSeparator()
        for action in (self.auto_copy_action, self.watch_action, self.close_to_tray_action):
            edit_menu.addAction(action)
        self.edit_menu = edit_menu
        view_menu = menu.addMenu("&View")
        for action in (self.zoom_in_action, self.zoom_out_action, self.fit_action,
                       self.fit_width_action, self.actual_size_action, None, self.rotate_action,
                       self.rotate_left_action, None, self.prev_action, self.next_action,
                       self.first_action, self.last_action):
            if action is None:
                view_menu.addSeparator()
            else:
                view_menu.addAction(action)
        self.view_menu = view_menu
        run_menu = menu.addMenu("&Recognise")
        for action in (self.recognise_action, self.recognise_all_action, self.use_text_action,
                       self.prefer_text_action, None, self.snip_action, self.clipboard_action,
                       None, self.retry_action, self.cancel_action, self.clear_results_action):
            if action is None:
                run_menu.addSeparator()
            else:
                run_menu.addAction(action)
        self.run_menu = run_menu
        help_menu = menu.addMenu("&Help")
        help_menu.addAction(self.about_action)

        toolbar = QToolBar("Main", self)
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for action in (self.open_action, self.paste_action, self.snip_action, self.recognise_action,
                       self.recognise_all_action, self.cancel_action, self.copy_action, self.export_action):
            toolbar.addAction(action)
        toolbar.addSeparator()
        self.task_combo = QComboBox()
        for task in task_ids():
            self.task_combo.addItem(task_title(task), task)
        i = self.task_combo.findData(self.settings.task)
        self.task_combo.setCurrentIndex(max(i, 0))
        self.task_combo.setToolTip("What to extract (regions can have their own task)")
        toolbar.addWidget(self.task_combo)
        self.addToolBar(toolbar)
        self.toolbar = toolbar

        nav = QToolBar("Page", self)
        nav.setObjectName("pageToolbar")
        nav.setMovable(False)
        nav.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        nav.addAction(self.prev_action)
        self.page_spin = QSpinBox()
        self.page_spin.setMinimum(1)
        self.page_spin.setMaximum(1)
        self.page_spin.setKeyboardTracking(False)
        self.page_spin.setToolTip("Go to page")
        nav.addWidget(self.page_spin)
        self.page_count_label = QLabel(" of 0 ")
        nav.addWidget(self.page_count_label)
        nav.addAction(self.next_action)
        nav.addSeparator()
        for action in (self.zoom_out_action, self.zoom_in_action):
            nav.addAction(action)
        self.zoom_label = QLabel("100 %")
        self.zoom_label.setMinimumWidth(52)
        self.zoom_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        nav.addWidget(self.zoom_label)
        for action in (self.fit_width_action, self.fit_action, self.actual_size_action,
                       self.rotate_left_action, self.rotate_action):
            nav.addAction(action)
        self.addToolBarBreak()
        self.addToolBar(nav)
        self.page_toolbar = nav

        # Middle: thumbnails | (text-layer banner over the page view)
        self.thumb_strip = ThumbnailStrip(self.thumbnail_model)
        self.page_view = PageView()
        self.text_banner = TextLayerBanner(self.use_pdf_text)
        centre = QWidget()
        centre_layout = QVBoxLayout(centre)
        centre_layout.setContentsMargins(0, 0, 0, 0)
        centre_layout.setSpacing(4)
        centre_layout.addWidget(self.text_banner)
        centre_layout.addWidget(self.page_view, 1)
        self.viewer = QWidget()
        viewer_layout = QHBoxLayout(self.viewer)
        viewer_layout.setContentsMargins(0, 0, 0, 0)
        viewer_layout.setSpacing(4)
        viewer_layout.addWidget(self.thumb_strip)
        viewer_layout.addWidget(centre, 1)
        for action in (self.next_action, self.prev_action, self.first_action, self.last_action):
            self.viewer.addAction(action)

        self.empty_state = EmptyState(self.choose_files)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty_state)
        self.stack.addWidget(self.viewer)

        # Right: regions, batch progress, results
        self.region_panel = RegionPanel(self.region_model)
        self.page_view.addAction(self.delete_region_action)
        self.region_panel.table.addAction(self.delete_region_action)
        self.batch_bar = BatchBar(self.cancel)
        self.results_label = QLabel("Results")
        self.result_scope = QComboBox()
        self.result_scope.addItem("This page", "page")
        self.result_scope.addItem("Whole document", "document")
        self.result_scope.setToolTip("Show the results of this page or of every page")
        head = QHBoxLayout()
        head.addWidget(self.results_label, 1)
        head.addWidget(self.result_scope)
        self.result_view = ResultView()
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.region_panel)
        right_layout.addWidget(self.batch_bar)
        right_layout.addLayout(head)
        right_layout.addWidget(self._build_result_tabs(), 1)
        self.right_pane = right

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.stack)
        self.splitter.addWidget(right)
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
        self.page_label = QLabel("")
        self.engine_label = QLabel(f"Engine: {self.recognizer.engine_title()}")
        self.time_label = QLabel("")
        status.addWidget(self.state_label, 1)
        status.addPermanentWidget(self.page_label)
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
        r.chunk.connect(self._feed_tables)
        r.finished.connect(self._close_live_tables)
        r.failed.connect(self._close_live_tables)
        r.cancelled.connect(self._close_live_tables)
        r.partStarted.connect(self._on_part_started)
        r.partFinished.connect(self._on_part_finished)
        r.finished.connect(self._on_finished)
        r.failed.connect(self._on_failed)
        r.cancelled.connect(self._on_cancelled)
        r.engineChanged.connect(self._on_engine_changed)
        b = self.batch
        b.started.connect(self._on_batch_started)
        b.pageFinished.connect(self._on_batch_page)
        b.progress.connect(self._on_batch_progress)
        b.finished.connect(self._on_batch_finished)
        pv = self.page_view
        pv.zoomChanged.connect(lambda z: self.zoom_label.setText(f"{z * 100:.0f} %"))
        pv.pageShown.connect(self._on_page_shown)
        pv.pagePainted.connect(self._on_page_painted)
        pv.renderFailed.connect(self._on_render_failed)
        pv.regionDrawn.connect(self._on_region_drawn)
        pv.regionEdited.connect(self.region_model.update_region)
        pv.regionSelected.connect(self.region_panel.select)
        self.region_panel.regionSelected.connect(pv.select_region)
        self.region_model.regionsChanged.connect(self._on_regions_changed)
        self.thumb_strip.pageActivated.connect(self.go_to_page)
        self.page_spin.valueChanged.connect(lambda n: self.go_to_page(n - 1))
        self.task_combo.currentIndexChanged.connect(self._on_task_changed)
        self.result_scope.currentIndexChanged.connect(lambda _: self.show_results())

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

    def _on_task_changed(self, _index: int) -> None:
        task = self.task_combo.currentData()
        if task:
            self.settings.task = task

    # ---------------------------------------------------------------- files

    def choose_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Open images or PDFs", "", OPEN_FILTER)
        if paths:
            self.open_paths([Path(p) for p in paths])

    def open_paths(self, paths: list[Path]) -> None:
        if not paths:
            return
        if len(paths) > 1:
            self.notifications.notify(f"Opened {paths[0].name}; open the other {len(paths) - 1} "
                                      "files one at a time.", Severity.INFO)
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

    def _on_loaded(self, item: LoadedDocument) -> None:
        self.show_document(item.document, item.path)
        if item.recognise and item.document.kind == "image" and item.document.page_count == 1:
            self.recognise_current()

    def show_document(self, document: Document, path: Path | None = None) -> None:
        """Show `document` (the window owns it from now on and closes it)."""
        self._close_document()
        self.current = None
        self.document = document
        self.path = path
        self.results = DocumentResults(document.name, document.page_count)
        self.page_tables.clear()
        self.rotations.clear()
        self.page_regions.clear()
        self.current_index = -1
        self.thumbnail_model.set_document(document)
        self.page_spin.blockSignals(True)
        self.page_spin.setMaximum(document.page_count)
        self.page_spin.setValue(1)
        self.page_spin.blockSignals(False)
        self.page_count_label.setText(f" of {document.page_count} ")
        self.result_view.reset()
        self.result_scope.setCurrentIndex(0)
        self.stack.setCurrentWidget(self.viewer)
        self.thumb_strip.setVisible(document.page_count > 1)
        self.setWindowTitle(f"{document.name} — {APP_NAME}")
        self.state_label.setText(f"{document.name}: {document.page_count} "
                                 f"{'page' if document.page_count == 1 else 'pages'}")
        self.go_to_page(0)
        self._update_actions()

    def _close_document(self) -> None:
        self.batch.cancel()
        self.recognizer.cancel()
        self.thumbnail_model.cancel()
        if self._text_check is not None:
            self._text_check.cancel()
        old, self.document = self.document, None
        self.page_view.set_page(None)
        self.thumbnail_model.set_document(None)
        self.region_model.clear()
        self.text_banner.hide()
        if old is not None:
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                old.close()
            else:
                # A worker may be rendering it: close once MuPDF's lock is free, off this thread.
                asyncio.ensure_future(asyncio.to_thread(old.close))

    def _on_load_failed(self, path: str, message: str) -> None:
        self.state_label.setText(message)
        self._update_actions()

    # ---------------------------------------------------------------- pages

    def current_page(self) -> Page | None:
        if self.document is None or self.current_index < 0:
            return None
        return self.document.pages[self.current_index]

    def go_to_page(self, index: int) -> None:
        doc = self.document
        if doc is None:
            return
        index = min(max(index, 0), doc.page_count - 1)
        if index == self.current_index:
            return
        self.current_index = index
        page = doc.pages[index]
        self.page_spin.blockSignals(True)
        self.page_spin.setValue(index + 1)
        self.page_spin.blockSignals(False)
        self.page_label.setText(f"Page {index + 1} of {doc.page_count}")
        self.text_banner.hide()
        if self._text_check is not None:
            self._text_check.cancel()
        self.page_view.set_page(page, self.rotations.get(index, 0))
        regions, manual = self.page_regions.get(index, ([], False))
        if regions or self.region_model.rowCount():  # a reset costs a table relayout
            self.region_model.set_regions(regions, manual)
        self.region_model.manual_order = manual
        # The page's render usually arrived within set_page: put it on screen before the
        # strip and the results panel catch up (pagePainted handlers run in here, after
        # the label and banner above are reset for this page).
        self.page_view.paint_now()
        self.thumb_strip.show_page(index)
        if not self.recognizer.busy:
            self.show_results()
        self._update_actions()

    def next_page(self) -> None:
        self.go_to_page(self.current_index + 1)

    def previous_page(self) -> None:
        self.go_to_page(self.current_index - 1)

    def first_page(self) -> None:
        self.go_to_page(0)

    def last_page(self) -> None:
        if self.document is not None:
            self.go_to_page(self.document.page_count - 1)

    def rotate_page(self, degrees: int = 90) -> None:
        if self.current_page() is None:
            return
        rotation = (self.rotations.get(self.current_index, 0) + degrees) % 360
        self.rotations[self.current_index] = rotation
        self.page_view.set_rotation(rotation)

    def _on_page_shown(self, index: int) -> None:
        page = self.current_page()
        if page is None or index != page.index:
            return

    def _on_page_painted(self, index: int) -> None:
        page = self.current_page()
        if page is not None and index == page.index and not self.text_banner.isVisible():
            # Only once the page is on screen: text extraction would hold up its render.
            self._check_text_layer(page)
        w, h = self.page_view.page_size or (0, 0)
        unit = "px" if page.is_image else "pt"
        self.page_label.setText(f"Page {index + 1} of {page.document.page_count} · "
                                f"{w:.0f} x {h:.0f} {unit}")

    def _on_render_failed(self, index: int, message: str) -> None:
        self.notifications.notify(message, Severity.ERROR)

    def _check_text_layer(self, page: Page) -> None:
        if self._text_check is not None:
            self._text_check.cancel()
        if page.is_image:
            return

        async def check() -> None:
            try:
                has_text = await asyncio.to_thread(lambda: page.has_text_layer)
            except Exception:  # noqa: BLE001 - a page without readable text just gets OCR
                log.info("no text layer for page %d", page.number, exc_info=True)
                return
            if has_text and self.current_page() is page:
                self.text_banner.show()
                self._update_actions()

        self._text_check = asyncio.ensure_future(check())

    # ---------------------------------------------------------------- regions

    def regions(self) -> list[Region]:
        """The current page's regions, in reading (or the user's) order."""
        return self.region_model.regions()

    def _on_region_drawn(self, region: Region) -> None:
        added = self.region_model.add_region(region)
        self.page_view.select_region(added.id)
        self.region_panel.select(added.id)

    def _on_regions_changed(self) -> None:
        regions = self.region_model.regions()
        if self.current_index >= 0 and self.document is not None:
            self.page_regions[self.current_index] = (regions, self.region_model.manual_order)
        self.page_view.set_regions(regions)

    def delete_selected_region(self) -> None:
        rid = self.page_view.selected_id or self.region_panel.selected_id()
        if rid:
            self.region_model.remove_region(rid)

    def clear_regions(self) -> None:
        self.region_model.clear()

    # ---------------------------------------------------------------- recognition

    def parts_for(self, index: int, *, use_text: bool = False, ocr: bool = True) -> list[Part]:
        """What to run for page `index`: its regions in order, or the whole page. With
        `use_text` the PDF's own text is used where there is some; with `ocr` pages
        without it are recognised (without: they give "")."""
        assert self.document is not None
        doc = self.document
        page = doc.pages[index]
        rotation = self.rotations.get(index, 0)
        regions, _ = self.page_regions.get(index, ([], False))
        text_ok = use_text and not page.is_image
        if not regions:
            label = doc.name if doc.page_count == 1 else f"Page {index + 1}"
            return [Part("page", label,
                         render=functools.partial(page.render_for_engine, None, rotation=rotation)
                         if ocr else None,
                         text=page.text_layer if text_ok else None)]
        return [Part(r.id, r.display_label,
                     render=functools.partial(page.render_for_engine, r, rotation=rotation)
                     if ocr else None,
                     task=r.task,
                     text=functools.partial(page.text_layer, r) if text_ok else None)
                for r in regions]

    def _run_label(self) -> str:
        doc = self.document
        assert doc is not None
        return doc.name if doc.page_count == 1 else f"{doc.name}, page {self.current_index + 1}"

    def recognise_current(self) -> None:
        """OCR the current page: every region in order (no region: the whole page)."""
        if self.current_page() is None:
            self.notifications.notify("Open or drop an image first.", Severity.INFO)
            return
        if self.batch.busy:
            self.notifications.notify("The whole document is being recognised; cancel it first.",
                                      Severity.INFO)
            return
        self._run_page(self.parts_for(self.current_index))

    def use_pdf_text(self) -> None:
        """Take the current page's (or its regions') text from the PDF, no OCR."""
        if self.current_page() is None or self.batch.busy:
            return
        self._run_page(self.parts_for(self.current_index, use_text=True, ocr=False))

    def _run_page(self, parts: list[Part]) -> None:
        self._run_index = self.current_index
        self._run_doc = self.document
        self._run_parts: list[PartResult] = []
        self._parts_seen = 0
        self._multi = len(parts) > 1 or parts[0].key != "page"
        self.result_scope.setCurrentIndex(0)
        self.recognizer.recognize_parts(parts, self._run_label())

    def _on_part_started(self, part: Part) -> None:
        self._start_live_tables(part.label, part.task or self.settings.task)
        if self._multi:
            self.result_view.append_text(("\n\n" if self._parts_seen else "") + f"[{part.label}]\n")
        self._parts_seen += 1

    def _on_part_finished(self, result: PartResult) -> None:
        self._run_parts.append(result)
        self._keep_live_tables(result)
        if not result.ok:
            self.result_view.append_text(f"[{result.error}]")
        if (self._run_doc is self.document and self.results is not None):
            self.results.set_page(self._run_index, self._run_parts)
            self.thumbnail_model.set_done(self._run_index, self.results.page_ok(self._run_index))
            self._update_actions()

    def recognise_all(self) -> None:
        """Recognise every page not done yet, with progress; cancel keeps what finished."""
        doc, results = self.document, self.results
        if doc is None or results is None:
            self.notifications.notify("Open a document first.", Severity.INFO)
            return
        if self.batch.busy:
            return
        self.recognizer.cancel()
        pages = [i for i in range(doc.page_count) if not results.page_ok(i)]
        if not pages:
            self.notifications.notify("Every page is recognised already. Use Recognise > Clear "
                                      "results to start again.", Severity.INFO)
            return
        use_text = self.prefer_text_action.isChecked()
        self._batch_doc = doc
        self.batch.start(pages, lambda i: self.parts_for(i, use_text=use_text))

    def clear_results(self) -> None:
        if self.results is not None and not self.batch.busy:
            self.results.clear()
            self.page_tables.clear()
            self.thumbnail_model.clear_done()
            self.show_results()
            self._update_actions()

    def cancel(self) -> None:
        self.batch.cancel()
        self.recognizer.cancel()

    def show_results(self) -> None:
        """Show the stored results of the current page, or of the whole document."""
        if self.results is None:
            return
        if self.result_scope.currentData() == "document":
            text = self.results.text()
            self.results_label.setText(f"Results: {len(self.results)} of "
                                       f"{self.results.page_count} pages")
        else:
            text = self.results.page_text(self.current_index) if self.current_index >= 0 else ""
            done = self.results.has_page(self.current_index)
            self.results_label.setText(f"Results: page {self.current_index + 1}"
                                       + ("" if done else " (not recognised yet)"))
        self.result_view.reset(text)
        self._show_stored_tables()

    def _on_batch_started(self, total: int) -> None:
        self.batch_bar.progress.setRange(0, total)
        self.batch_bar.progress.setValue(0)
        self.batch_bar.label.setText(f"0 / {total} pages")
        self.batch_bar.show()
        self._started_at = time.perf_counter()
        self._elapsed.start()
        self.state_label.setText(f"Recognising {total} pages…")
        self._update_actions()

    def _on_batch_page(self, index: int, parts: list[PartResult]) -> None:
        if self.results is None or self.document is not self._batch_doc:
            return
        self._forget_tables(index)
        self.results.set_page(index, parts)
        self.thumbnail_model.set_done(index, self.results.page_ok(index))
        if self.result_scope.currentData() == "document" or index == self.current_index:
            self.show_results()

    def _on_batch_progress(self, done: int, total: int, eta: float) -> None:
        self.batch_bar.progress.setValue(done)
        self.batch_bar.label.setText(f"{done} / {total} pages · {format_eta(eta)} left"
                                     if done < total else f"{done} / {total} pages")

    def _on_batch_finished(self, done: int, total: int, cancelled: bool) -> None:
        seconds = self._stop_clock()
        self.batch_bar.hide()
        if cancelled:
            self.state_label.setText(f"Cancelled after {seconds:.1f} s: {done} of {total} pages "
                                     "done and kept; Recognise all pages resumes")
        else:
            self.state_label.setText(f"Recognised {done} of {total} pages in {seconds:.1f} s")
        if self.document is self._batch_doc and self.results is not None:
            self.result_scope.setCurrentIndex(1)
            self.show_results()
        self._update_actions()

    def copy_result(self) -> None:
        text = self.result_view.full_text()
        if not text.strip():
            self.notifications.notify("There is no text to copy yet.", Severity.INFO)
            return
        QGuiApplication.clipboard().setText(text)
        self.state_label.setText(f"Copied {len(text):,} characters")

    def show_image(self, item: LoadedImage) -> None:
        """Show an image that did not come from a file (a paste, a snip) as a one-page document."""
        self.show_document(document_from_image(item.image, name=item.path.name))
        self.current = item

    # ---------------------------------------------------------------- export

    def choose_export(self) -> None:
        if self.results is None or not len(self.results):
            self.notifications.notify("Nothing to export yet: recognise a page first.", Severity.INFO)
            return
        stem = Path(self.results.name).stem
        # A document with tables most likely goes to a spreadsheet.
        suffix = ".xlsx" if self._has_tables() else ".txt"
        start = str((self.path.parent if self.path else Path.home()) / f"{stem}{suffix}")
        chosen = "Excel workbook (*.xlsx)" if suffix == ".xlsx" else "Text (*.txt)"
        path, selected = QFileDialog.getSaveFileName(self, "Export results", start, EXPORT_FILTER,
                                                     chosen)
        if path:
            self.export_to(with_filter_suffix(Path(path), selected))

    def export_to(self, path: Path) -> asyncio.Task:
        """Write the whole document's results to `path` in a worker thread. The one
        place the GUI exports; the format follows the suffix (core/export.py), and tables
        are written as edited in the Table tab."""
        results = self.results
        assert results is not None
        source = str(self.path) if self.path is not None else results.name
        tables = self.edited_tables()  # read here: the models live on this thread

        async def run() -> None:
            try:
                written = await asyncio.to_thread(export_results, path, results, source=source,
                                                  tables=tables)
            except ExportError as exc:
                self.notifications.notify(str(exc), Severity.ERROR)
                self.state_label.setText(f"Exporting to {path.name} failed")
                return
            except Exception as exc:
                self.notifications.report(exc, f"Exporting to {path.name} failed")
                return
            self.state_label.setText(f"Exported {len(results)} pages to {written}")

        self._export_task = asyncio.ensure_future(run())
        return self._export_task

    # ---------------------------------------------------------------- table tab
    # Tables of the answer fill editable grids as their rows arrive (table_view.py); the
    # grids of stored results are kept, edits included, and exported as edited.

    def _build_result_tabs(self) -> QTabWidget:
        self.table_tabs = TableTabs()
        tabs = QTabWidget()
        tabs.setDocumentMode(True)
        tabs.addTab(self.result_view, "Text")
        tabs.addTab(self.table_tabs, "Table")
        tabs.setTabToolTip(1, "The answer's tables as editable grids; export and copy use "
                              "them as edited")
        tabs.setTabVisible(1, False)
        self.result_tabs = tabs
        return tabs

    def _set_table_tab(self, models: list[TableModel]) -> None:
        self.table_tabs.set_models(models)
        self.result_tabs.setTabVisible(1, bool(models))

    def _start_live_tables(self, label: str, task: str, new_run: bool = False) -> None:
        if self._live is not None:
            self._live.close()
        if new_run:
            self._want_table_tab = self.result_tabs.currentIndex() == 1
            self._live_models = []
            self._set_table_tab([])
        self._live_task = task
        self._live = LiveTables(label, first_number=len(self._live_models) + 1)
        self._live.tableStarted.connect(self._on_live_table)

    def _on_live_table(self, model: TableModel) -> None:
        self._live_models.append(model)
        self.table_tabs.add_model(model)
        self.result_tabs.setTabVisible(1, True)
        if self._want_table_tab or self._live_task == "table":
            self.result_tabs.setCurrentIndex(1)
            self._want_table_tab = False

    def _feed_tables(self, chunk: str) -> None:
        if self._live is not None:
            self._live.feed(chunk)

    def _close_live_tables(self, *_args) -> None:
        if self._live is not None:
            self._live.close()
            self._live = None

    def _keep_live_tables(self, result: PartResult) -> None:
        """A part of a page run finished: its grids become the stored ones (the page's
        older grids go when its first new part arrives, as its results do)."""
        live = self._live
        if live is not None:
            live.close()
        self._live = None
        if self._run_doc is not self.document or self.results is None:
            return
        if len(self._run_parts) == 1:
            self._forget_tables(self._run_index)
        if live is not None and result.ok:
            self.page_tables[(self._run_index, result.key)] = live.models or models_for_text(
                result.text, result.label, task=result.task)

    def _forget_tables(self, index: int) -> None:
        for key in [k for k in self.page_tables if k[0] == index]:
            del self.page_tables[key]

    def _stored_models(self, index: int) -> list[TableModel]:
        assert self.results is not None
        models: list[TableModel] = []
        for part in self.results.page(index):
            if not part.ok:
                continue
            key = (index, part.key)
            if key not in self.page_tables:
                self.page_tables[key] = models_for_text(part.text, part.label, task=part.task)
            models += self.page_tables[key]
        return models

    def _show_stored_tables(self) -> None:
        if self.results is None:
            return
        if self.result_scope.currentData() == "document":
            pages = self.results.done_pages()
        else:
            pages = [self.current_index] if self.results.has_page(self.current_index) else []
        self._set_table_tab([m for i in pages for m in self._stored_models(i)])

    def _has_tables(self) -> bool:
        return self.results is not None and any(
            self._stored_models(i) for i in self.results.done_pages())

    def edited_tables(self) -> dict[tuple[int, str], list[Table]]:
        """The stored grids as core Tables, for export."""
        return {key: [m.to_table() for m in models] for key, models in self.page_tables.items()
                if models and not any(m.streaming for m in models)}

    # ---------------------------------------------------------------- run state

    def _on_started(self, label: str) -> None:
        self.result_view.reset()
        self._start_live_tables(label, self.settings.task, new_run=True)
        self.results_label.setText(f"Results: {label}")
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
            self.notifications.notify(
                "The model kept repeating itself, so the result was stopped and is cut. Try "
                "Recognise > Retry with stronger repetition penalty, or a smaller region.",
                Severity.WARNING)
        self.retry_action.setEnabled(result.finish is FinishReason.REPETITION)
        self.recognizer.penalty_retry = None
        if not result.text.strip():
            message += " — no text found"
        self.state_label.setText(message)
        self._update_actions()

    def retry_repetition(self) -> None:
        """Recognise the page again, as before, with a stronger repetition penalty."""
        from desktop_ocr.engines.loop_guard import retry_penalty

        self.recognizer.penalty_retry = retry_penalty(self.recognizer.last_repetition_penalty)
        self.retry_action.setEnabled(False)
        self.recognise_current()

    def _on_failed(self, message: str) -> None:
        self.recognizer.penalty_retry = None
        self._stop_clock()
        self.state_label.setText("Recognition failed")
        self._update_actions()

    def _on_cancelled(self) -> None:
        self.recognizer.penalty_retry = None
        seconds = self._stop_clock()
        self.result_view.flush()
        self.state_label.setText(f"Cancelled after {seconds:.1f} s")
        self._update_actions()

    def _update_actions(self) -> None:
        busy = self.recognizer.busy or self.batch.busy
        has_doc = self.document is not None
        self.cancel_action.setEnabled(busy)
        self.recognise_action.setEnabled(has_doc and not busy)
        self.recognise_all_action.setEnabled(has_doc and not busy)
        self.use_text_action.setEnabled(has_doc and not busy and self.text_banner.isVisibleTo(self))
        self.text_banner.button.setEnabled(not busy)
        self.export_action.setEnabled(self.results is not None and len(self.results) > 0)
        multi = has_doc and self.document.page_count > 1  # type: ignore[union-attr]
        for action in (self.next_action, self.prev_action, self.first_action, self.last_action):
            action.setEnabled(multi)
        for action in (self.zoom_in_action, self.zoom_out_action, self.fit_action,
                       self.fit_width_action, self.actual_size_action, self.rotate_action,
                       self.rotate_left_action):
            action.setEnabled(has_doc)

    # ---------------------------------------------------------------- engine panel

    def add_engine_panel(self) -> None:
        if self.engine_panel is not None:
            return
        from desktop_ocr.gui.engine_panel import EnginePanel

        self.engine_panel = EnginePanel(self.recognizer, self.settings, self.notifications, self)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.engine_panel)
        self.engine_panel.hide()  # opened from View > Engine panel
        toggle = self.engine_panel.toggleViewAction()
        toggle.setText("&Engine panel")
        toggle.setShortcut(QKeySequence("Ctrl+Shift+E"))
        toggle.setStatusTip("Choose, start and stop the recognition engine; GPU and CPU meters")
        self.engine_panel_action = toggle
        self.view_menu.addSeparator()
        self.view_menu.addAction(toggle)

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
        self._close_document()
        self.page_view.shutdown()
        self.capture.shutdown()
        self.notification_area.detach()
        super().closeEvent(event)
        self.closed.emit()


# FitMode is part of this window's public vocabulary (tests and the bench set it).
__all__ = ["EMPTY_TEXT", "FitMode", "MainWindow"]
