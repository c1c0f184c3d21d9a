"""The main window: a document's pages on the left, the page with its regions in the
middle, regions and results on the right; menus, toolbar, status bar, notifications.

The window shows a `core.session.Session` (the open document and, per page, rotation,
regions and results) and does layout and wiring. Every recognition is a pipeline run
started through `gui.runs.RunController`; every result is kept in the library by the
pipeline. Quick capture, the tray and the window talk through `gui.bus.Bus`.
"""

from __future__ import annotations

import functools
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QMainWindow

from desktop_ocr import APP_NAME, __version__
from desktop_ocr.core.notifications import NotificationManager, Severity
from desktop_ocr.core.notifications import manager as default_manager
from desktop_ocr.core.settings import Settings
from desktop_ocr.gui.bus import Bus, save_settings
from desktop_ocr.gui.window_parts import EMPTY_TEXT, EmptyState

if TYPE_CHECKING:
    from PySide6.QtCore import QMimeData
    from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent

    from desktop_ocr.core.documents import Document, Page
    from desktop_ocr.core.regions import Region
    from desktop_ocr.core.results import PartResult
    from desktop_ocr.core.tables import Table
    from desktop_ocr.gui.clipboard.base import ClipboardPayload
    from desktop_ocr.gui.images import CapturedImage
    from desktop_ocr.gui.loader import LoadedDocument
    from desktop_ocr.gui.runs import RunInfo
    from desktop_ocr.gui.table_model import TableModel


def _import_the_rest() -> None:
    """Import what the window's first paint (its empty state) does not need.

    About half a second of imports (the pipeline, documents, tables, the page view, the
    engines...) that the start-up figure must not wait for (bench/startup.py): the window
    shows first, then `MainWindow.build()` calls this and builds the rest.
    """
    global asyncio, pl, FinishReason, engine_title, document_from_image, ExportError, export
    global format_for, log_file, Session, get_task, payload_for, ClipboardPayload, EngineHost
    global DocumentLoader, NotificationArea, FitMode, PageView, ask_password, PromptBar
    global QuickCapture, RegionListModel, task_ids, task_title, RegionPanel, ResultView
    global RunController, LiveTables, TableModel, models_for_text, TableTabs, ThumbnailModel
    global ThumbnailStrip, Qt, QTimer, QAction, QKeySequence, QComboBox, QFileDialog, QHBoxLayout
    global QLabel, QMessageBox, QSpinBox, QSplitter, QStackedWidget, QTabWidget, QToolBar
    global QVBoxLayout, QWidget, BatchBar, TextLayerBanner
    import asyncio

    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtGui import QAction, QKeySequence
    from PySide6.QtWidgets import (
        QComboBox,
        QFileDialog,
        QHBoxLayout,
        QLabel,
        QMessageBox,
        QSpinBox,
        QSplitter,
        QStackedWidget,
        QTabWidget,
        QToolBar,
        QVBoxLayout,
        QWidget,
    )

    from desktop_ocr.core import pipeline as pl
    from desktop_ocr.core.contract import FinishReason, engine_title
    from desktop_ocr.core.documents import document_from_image
    from desktop_ocr.core.export import ExportError, export, format_for
    from desktop_ocr.core.logs import log_file
    from desktop_ocr.core.session import Session
    from desktop_ocr.core.tasks import get_task
    from desktop_ocr.gui.clipboard.base import ClipboardPayload
    from desktop_ocr.gui.clipboard.formats import payload_for
    from desktop_ocr.gui.engine_host import EngineHost
    from desktop_ocr.gui.loader import DocumentLoader
    from desktop_ocr.gui.notify_widget import NotificationArea
    from desktop_ocr.gui.page_view import FitMode, PageView
    from desktop_ocr.gui.password_dialog import ask_password
    from desktop_ocr.gui.prompt_bar import PromptBar
    from desktop_ocr.gui.quick_capture import QuickCapture
    from desktop_ocr.gui.region_models import RegionListModel, task_ids, task_title
    from desktop_ocr.gui.region_panel import RegionPanel
    from desktop_ocr.gui.result_view import ResultView
    from desktop_ocr.gui.runs import RunController
    from desktop_ocr.gui.table_model import LiveTables, TableModel, models_for_text
    from desktop_ocr.gui.table_view import TableTabs
    from desktop_ocr.gui.thumbnails import ThumbnailModel, ThumbnailStrip
    from desktop_ocr.gui.window_bars import BatchBar, TextLayerBanner


log = logging.getLogger(__name__)

OPEN_FILTER = (
    "Images and documents (*.png *.jpg *.jpeg *.tif *.tiff *.bmp *.webp *.gif *.pdf *.xps *.epub *.cbz);;"
    "Images (*.png *.jpg *.jpeg *.tif *.tiff *.bmp *.webp *.gif);;PDF (*.pdf);;All files (*)"
)
RECENT_MAX = 10
# Runs that show their text live in the result pane (one page or one captured image).
LIVE_KINDS = ("page", "paste", "snip", "watch")


def local_paths(mime: QMimeData) -> list[Path]:
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]


def with_filter_suffix(path: Path, selected_filter: str) -> Path:
    """`path` with the suffix of the file dialog's chosen filter when it has no known one."""
    try:
        format_for(path)
        return path
    except ExportError:
        pass
    start = selected_filter.find("(*.")
    if start < 0:
        return path.with_name(path.name + ".txt")
    suffix = selected_filter[start + 2:].split(")")[0].split()[0]
    return path.with_name(path.name + suffix)


class MainWindow(QMainWindow):
    closed = Signal()  # the window closed for good (not hidden to the tray)

    def __init__(self, settings: Settings | None = None,
                 notifications: NotificationManager | None = None, *,
                 defer_engine_panel: bool = False, bus: Bus | None = None,
                 library=None, deferred: bool = False) -> None:
        """`deferred`: show the empty window now and call `build()` once it has painted
        (the app's start). `defer_engine_panel`: the caller builds the (hidden) engine panel
        later with `add_engine_panel()`."""
        super().__init__()
        self.settings = settings or Settings.load()
        self.notifications = notifications or default_manager
        self.bus = bus or Bus(self)
        self.library = library
        self.setWindowTitle(APP_NAME)
        self.resize(1280, 800)
        self.setAcceptDrops(True)
        self.empty_state = EmptyState(self.choose_files)
        self.setCentralWidget(self.empty_state)  # all the first paint needs
        self.session = None
        self.built = False
        self._defer_engine_panel = defer_engine_panel
        if not deferred:
            self.build()

    def build(self, library=None) -> None:
        """Everything but the empty state: models, engine, actions, menus, panels.
        `library`: the results library (core.library.AsyncLibrary) every result goes to."""
        if self.built:
            return
        _import_the_rest()
        self.built = True
        if library is not None:
            self.library = library
        self.session: Session | None = None
        self.current_index = -1
        self._started_at = 0.0
        self._text_check: asyncio.Task | None = None
        self._export_task: asyncio.Task | None = None
        self._copy_task: asyncio.Task | None = None
        # A page run in progress: the page and session it is for, and the parts seen.
        self._run_session: Session | None = None
        self._run_page_index = -1
        self._run_multi = False
        self._run_parts_seen = 0
        self._run_replaced = False
        self._auto_run = False  # the run started by itself when an image was opened
        # Table tab: the grids of the session's results by (page index, region id), edits
        # included, and the feeder of the answer streaming now.
        self.page_tables: dict[tuple[int, str], list[TableModel]] = {}
        self._live: LiveTables | None = None
        self._live_models: list[TableModel] = []
        self._live_task = ""
        self._want_table_tab = False
        self.penalty_retry: float | None = None
        self.last_repetition_penalty = self.settings.repetition_penalty

        self.engines = EngineHost(self.settings, self, self.notifications)
        self.runs = RunController(self.engines, self.settings, self.notifications, self,
                                  library=self.library)
        self.runs.password_provider = functools.partial(ask_password, self)
        self.loader = DocumentLoader(self.notifications, self)
        self.loader.password_provider = functools.partial(ask_password, self)
        self.region_model = RegionListModel(self)
        self.thumbnail_model = ThumbnailModel(self)
        self.tray = None  # a Tray, set by the app when the desktop has a system tray
        self._quitting = False
        self.capture = QuickCapture(self.settings, self.notifications, self.bus,
                                    lambda: self.isVisible() and not self.isMinimized(), self)
        self._build_actions()
        self._build_ui()
        self.thumbnail_model.should_wait = lambda: self.page_view.rendering
        self._connect()
        self._update_actions()
        self.engine_panel = None
        self.batch_panel = None
        self.history_panel = None
        self._pending_open: PartResult | None = None  # a History entry whose file is opening
        if not self._defer_engine_panel:
            self.add_engine_panel()

    # ---------------------------------------------------------------- state

    @property
    def document(self) -> Document | None:
        return self.session.document if self.session is not None else None

    @property
    def path(self) -> Path | None:
        return self.session.path if self.session is not None else None

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

    def _toggle(self, text: str, checked: bool, slot, tip: str = "") -> QAction:
        action = QAction(text, self)
        action.setCheckable(True)
        action.setChecked(checked)
        if tip:
            action.setStatusTip(tip)
        action.toggled.connect(slot)
        return action

    def _build_actions(self) -> None:
        a = self._action
        self.open_action = a("&Open…", self.choose_files, QKeySequence.StandardKey.Open,
                             "Open images or PDFs (several files make a batch)")
        self.open_folder_action = a("Open &folder…", self.choose_folder, QKeySequence("Ctrl+Shift+O"),
                                    "Recognise every image and PDF in a folder as a batch")
        self.export_action = a("&Export…", self.choose_export, QKeySequence("Ctrl+E"),
                               "Save the results of the whole document "
                               "(.xlsx, .docx, searchable .pdf, .csv, .txt, .md, .html, .json)")
        self.quit_action = a("&Quit", self.quit_app, QKeySequence.StandardKey.Quit)
        self.recognise_action = a("&Recognise", self.recognise_current, QKeySequence("Ctrl+R"),
                                  "Recognise the current page: each region in order, or the whole page")
        self.recognise_all_action = a("Recognise &all pages", self.recognise_all,
                                      QKeySequence("Ctrl+Shift+R"),
                                      "Recognise every page of the document (pages already done are kept)")
        self.use_text_action = a("Use the PDF's &text", self.use_pdf_text, None,
                                 "Take this page's text from the PDF itself, without OCR")
        self.prefer_text_action = self._toggle(
            "Use PDF text when pages have it", self.settings.prefer_text_layer,
            self._set_prefer_text, "Recognise all pages: take the PDF's own text where a page has "
            "it and run OCR only on scanned pages")
        self.clear_results_action = a("Clear results", self.clear_results, None,
                                      "Forget the results of this document (History keeps them)")
        self.retry_action = a("Retry with stronger repetition &penalty", self.retry_repetition,
                              QKeySequence("Ctrl+Shift+P"),
                              "Run the last recognition again with a higher repetition penalty")
        self.retry_action.setEnabled(False)
        self.cancel_action = a("&Cancel", self.cancel, QKeySequence("Esc"),
                               "Stop the recognition in progress")
        self.copy_action = a("&Copy text", self.copy_result, QKeySequence("Ctrl+Shift+C"),
                             "Copy the result to the clipboard (tables as cells, as edited)")
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
        self.history_action = a("&History", self.toggle_history, QKeySequence("Ctrl+H"),
                                "Every result kept: search, open, copy and export again")
        self.history_action.setEnabled(self.library is not None)
        # Page keys belong to the viewer: in the result editor Home/End move the cursor.
        for action in (self.next_action, self.prev_action, self.first_action, self.last_action,
                       self.delete_region_action):
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        # Clipboard and screen (quick_capture.py does the work).
        self.paste_action = a("&Paste image", self.capture.paste, QKeySequence.StandardKey.Paste,
                              "Recognise the image (or image file) on the clipboard")
        self.clipboard_action = a("Recognise &clipboard", self.capture.paste, None,
                                  "Recognise the image on the clipboard")
        self.snip_action = a("&Snip screen region", self.capture.snip, QKeySequence("Ctrl+Shift+X"),
                             "Select a region of the screen and recognise it")
        self.show_action = a("Show &window", self.show_from_tray)
        self.watch_action = self._toggle("&Watch clipboard for images", self.settings.watch_clipboard,
                                         self.capture.set_watch,
                                         "Recognise every new image copied to the clipboard")
        self.auto_copy_action = self._toggle("Copy result &automatically", self.settings.copy_snip_result,
                                             self.capture.set_auto_copy,
                                             "Put the text of snips and clipboard images on the clipboard")
        self.close_to_tray_action = self._toggle("&Keep running in the tray when closed",
                                                 self.settings.close_to_tray, self._set_close_to_tray)
        self.close_to_tray_action.setEnabled(False)  # until the app finds a system tray
        self.second_reading_action = self._toggle(
            "Check the words with the CPU engine", self.settings.second_reading,
            self._set_second_reading, "After a vision-language engine's answer, the CPU engine "
            "reads the same image in the background: doubtful words are underlined, codes shown")

    def _build_ui(self) -> None:
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        file_menu.addAction(self.open_action)
        file_menu.addAction(self.open_folder_action)
        self.recent_menu = file_menu.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self._fill_recent()
        file_menu.addAction(self.export_action)
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
        view_menu.addSeparator()
        view_menu.addAction(self.history_action)
        self.view_menu = view_menu
        run_menu = menu.addMenu("&Recognise")
        for action in (self.recognise_action, self.recognise_all_action, self.use_text_action,
                       self.prefer_text_action, None, self.snip_action, self.clipboard_action,
                       None, self.second_reading_action, None, self.retry_action,
                       self.cancel_action, self.clear_results_action):
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
        self.task_combo.setAccessibleName("Task")
        for task in task_ids():
            self.task_combo.addItem(task_title(task), task)
            note = get_task(task).cpu.note(self.settings.language)
            if note:
                self.task_combo.setItemData(self.task_combo.count() - 1, f"On the CPU engine: {note}",
                                            Qt.ItemDataRole.ToolTipRole)
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
        self.page_spin.setAccessibleName("Page")
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

        self.takeCentralWidget()  # the empty state the first paint showed: kept, moved
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty_state)
        self.stack.addWidget(self.viewer)

        # Right: regions, custom prompt, batch progress, results
        self.region_panel = RegionPanel(self.region_model)
        self.page_view.addAction(self.delete_region_action)
        self.region_panel.table.addAction(self.delete_region_action)
        self.prompt_bar = PromptBar(self.settings.prompt)
        self.prompt_bar.setVisible(self.settings.task == "custom")
        self.batch_bar = BatchBar(self.cancel)
        self.results_label = QLabel("Results")
        self.result_scope = QComboBox()
        self.result_scope.addItem("This page", "page")
        self.result_scope.addItem("Whole document", "document")
        self.result_scope.setToolTip("Show the results of this page or of every page")
        self.result_scope.setAccessibleName("Results shown")
        head = QHBoxLayout()
        head.addWidget(self.results_label, 1)
        head.addWidget(self.result_scope)
        self.result_view = ResultView()
        self.result_view.setAccessibleName("Result text")
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.region_panel)
        right_layout.addWidget(self.prompt_bar)
        right_layout.addWidget(self.batch_bar)
        right_layout.addLayout(head)
        right_layout.addWidget(self._build_result_tabs(), 1)
        self._build_result_tools(right_layout)
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
        self.engine_label = QLabel(f"Engine: {self.engines.engine_title()}")
        self.time_label = QLabel("")
        status.addWidget(self.state_label, 1)
        status.addPermanentWidget(self.page_label)
        status.addPermanentWidget(self.time_label)
        status.addPermanentWidget(self.engine_label)

        self._elapsed = QTimer(self)
        self._elapsed.setInterval(200)
        self._elapsed.timeout.connect(self._tick)
        # "Whole document" view during a long run: refreshed at most a few times a second.
        self._refresh = QTimer(self)
        self._refresh.setSingleShot(True)
        self._refresh.setInterval(250)
        self._refresh.timeout.connect(self.show_results)
        self._prompt_save = QTimer(self)
        self._prompt_save.setSingleShot(True)
        self._prompt_save.setInterval(800)
        self._prompt_save.timeout.connect(self._save_settings)

    def _connect(self) -> None:
        self.loader.loaded.connect(self._on_loaded)
        self.loader.loadFailed.connect(self._on_load_failed)
        r = self.runs
        r.started.connect(self._on_run_started)
        r.partStarted.connect(self._on_part_started)
        r.text.connect(self._on_text)
        r.waiting.connect(self._on_waiting)
        r.partFinished.connect(self._on_part_finished)
        r.sourceFailed.connect(self._on_source_failed)
        r.progress.connect(self._on_progress)
        r.finished.connect(self._on_run_finished)
        r.failed.connect(self._on_run_failed)
        r.cancelled.connect(self._on_run_cancelled)
        self.engines.engineChanged.connect(self._on_engine_changed)
        b = self.bus
        b.status.connect(self.state_label.setText)
        b.say.connect(self._say)
        b.captured.connect(self.recognise_captured)
        b.hideWindow.connect(self.hide)
        b.restoreWindow.connect(self._restore)
        b.openPaths.connect(self.open_paths)
        b.snipRequested.connect(self.capture.snip)
        b.pasteRequested.connect(self.capture.paste)
        pv = self.page_view
        pv.zoomChanged.connect(lambda z: self.zoom_label.setText(f"{z * 100:.0f} %"))
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
        self.prompt_bar.promptChanged.connect(self._on_prompt_changed)

    def prepare_engine(self) -> asyncio.Task:
        """Resolve `auto` and create the engine in the background, so the status bar says which."""

        async def prepare() -> None:
            try:
                await self.engines.prepare()
            except Exception as exc:
                self.notifications.report(exc, "The recognition engine is not available")

        return asyncio.ensure_future(prepare())

    def _on_engine_changed(self, title: str) -> None:
        self.engine_label.setText(f"Engine: {title}")
        reason = self.engines.engine_reason
        self.engine_label.setToolTip(f"Chosen automatically: {reason}" if reason else "")

    # ---------------------------------------------------------------- settings

    def _save_settings(self) -> None:
        save_settings(self.settings)

    def _on_task_changed(self, _index: int) -> None:
        task = self.task_combo.currentData()
        if task:
            self.settings.task = task
            self.prompt_bar.setVisible(task == "custom")
            self._save_settings()

    def _on_prompt_changed(self, text: str) -> None:
        self.settings.prompt = text
        self._prompt_save.start()  # saved once the typing pauses

    def _set_prefer_text(self, on: bool) -> None:
        self.settings.prefer_text_layer = on
        self._save_settings()

    def _set_close_to_tray(self, on: bool) -> None:
        self.settings.close_to_tray = on
        self._save_settings()

    # ---------------------------------------------------------------- files

    def choose_files(self) -> None:
        self.build()
        paths, _ = QFileDialog.getOpenFileNames(self, "Open images or PDFs", "", OPEN_FILTER)
        if paths:
            self.open_paths([Path(p) for p in paths])

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Recognise every image and PDF in")
        if folder:
            self.open_paths([Path(folder)])

    def open_paths(self, paths: list[Path]) -> None:
        """One file opens in the viewer (an image is recognised at once); several files or
        a folder become a batch: the first is shown, all are recognised in the queue."""
        if not paths:
            return
        files = pl.expand_inputs(paths)
        if len(paths) == 1 and not paths[0].is_dir():
            self.state_label.setText(f"Opening {paths[0].name}…")
            self.loader.open_file(paths[0])
            return
        if not files:
            self.notifications.notify(f"{paths[0].name} holds no images or PDFs.", Severity.INFO)
            return
        self.start_batch(files)

    def start_batch(self, files: list[Path], *, run_id: int | None = None,
                    sources: list[pl.Source] | None = None) -> None:
        if self.runs.busy and self.runs.kind in ("batch", "resume", "document"):
            if not self._confirm_stop("Start a new batch?"):
                return
        sources = sources or [self._file_source(p) for p in files]
        self.add_batch_panel()
        self.state_label.setText(f"Recognising {len(sources)} files…")
        self.loader.open_file(files[0], recognise=False)
        self.runs.start(sources, "resume" if run_id else "batch", f"{len(sources)} files",
                        reuse=run_id is not None, run_id=run_id)

    def _file_source(self, path: Path) -> pl.Source:
        return pl.Source(path=path, task=self.settings.task,
                         use_text_layer=self.settings.prefer_text_layer)

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        recent = [p for p in self.settings.recent_files if isinstance(p, str)]
        for entry in recent[:RECENT_MAX]:
            action = self.recent_menu.addAction(Path(entry).name)
            action.setToolTip(entry)
            action.setStatusTip(entry)
            action.triggered.connect(lambda _=False, p=entry: self.open_paths([Path(p)]))
        if not recent:
            empty = self.recent_menu.addAction("(no recent files)")
            empty.setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear the list", self._clear_recent)

    def _remember(self, path: Path) -> None:
        entry = str(path.resolve())
        recent = [p for p in self.settings.recent_files if p != entry]
        self.settings.recent_files = [entry, *recent][:RECENT_MAX]
        self._save_settings()

    def _clear_recent(self) -> None:
        self.settings.recent_files = []
        self._save_settings()

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
            self.build()  # a drop onto the window of a start that is still building
            self.open_paths(paths)

    def _on_loaded(self, item: LoadedDocument) -> None:
        self._remember(item.path)
        self.show_session(Session(item.document, item.path))
        pending, self._pending_open = self._pending_open, None
        if pending is not None and Path(pending.source) == item.path:
            self._show_stored(pending)
            return
        if item.recognise and item.document.kind == "image" and item.document.page_count == 1:
            self._auto_run = True
            self.recognise_current()

    def show_session(self, session: Session) -> None:
        """Show `session` (the window owns its document from now on and closes it)."""
        self._close_session()
        self.session = session
        document = session.document
        self.page_tables.clear()
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
        self.setWindowTitle(f"{session.name} — {APP_NAME}")
        self.state_label.setText(f"{session.name}: {document.page_count} "
                                 f"{'page' if document.page_count == 1 else 'pages'}")
        self.go_to_page(0)
        self._update_actions()

    def show_document(self, document: Document, path: Path | None = None) -> None:
        self.show_session(Session(document, path))

    def _close_session(self) -> None:
        if self.runs.busy and self.runs.kind in LIVE_KINDS + ("document", "ask") \
                and self._run_uses_session(self.session):
            self.runs.cancel()
        self.result_extras.forget()
        self.ask_box.clear()
        self.loader.cancel()
        self.thumbnail_model.cancel()
        if self._text_check is not None:
            self._text_check.cancel()
        old, self.session = self.session, None
        self.page_view.set_page(None)
        self.thumbnail_model.set_document(None)
        self.region_model.clear()
        self.text_banner.hide()
        if old is not None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                old.document.close()
            else:
                # A worker may be rendering it: close once MuPDF's lock is free, off this
                # thread. Handed to the executor now, not as a task: at quit the loop stops
                # before a task would start (and to_thread then finds no running loop).
                loop.run_in_executor(None, old.document.close)

    def _run_uses_session(self, session: Session | None) -> bool:
        info = self.runs.info
        return session is not None and info is not None and any(
            s.document is session.document for s in info.sources)

    def _on_load_failed(self, path: str, message: str) -> None:
        self.state_label.setText(message)
        self._update_actions()

    # ---------------------------------------------------------------- pages

    def current_page(self) -> Page | None:
        if self.session is None or self.current_index < 0:
            return None
        return self.session.document.pages[self.current_index]

    def go_to_page(self, index: int) -> None:
        session = self.session
        if session is None:
            return
        doc = session.document
        index = min(max(index, 0), doc.page_count - 1)
        if index == self.current_index:
            return
        self.current_index = index
        page = doc.pages[index]
        state = session.page(index)
        self.page_spin.blockSignals(True)
        self.page_spin.setValue(index + 1)
        self.page_spin.blockSignals(False)
        self.page_label.setText(f"Page {index + 1} of {doc.page_count}")
        self.text_banner.hide()
        if self._text_check is not None:
            self._text_check.cancel()
        self.page_view.set_page(page, state.rotation)
        if state.regions or self.region_model.rowCount():  # a reset costs a table relayout
            self.region_model.set_regions(state.regions, state.manual_order)
        self.region_model.manual_order = state.manual_order
        # The page's render usually arrived within set_page: put it on screen before the
        # strip and the results panel catch up (pagePainted handlers run in here, after
        # the label and banner above are reset for this page).
        self.page_view.paint_now()
        self.thumb_strip.show_page(index)
        if not (self.runs.kind in LIVE_KINDS and self._run_session is session):
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
        if self.current_page() is None or self.session is None:
            return
        rotation = self.session.rotate(self.current_index, degrees)
        self.page_view.set_rotation(rotation)

    def _on_page_painted(self, index: int) -> None:
        page = self.current_page()
        if page is None or index != page.index:
            return
        if not self.text_banner.isVisible():
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
        if self.current_index >= 0 and self.session is not None:
            self.session.set_regions(self.current_index, regions, self.region_model.manual_order)
        self.page_view.set_regions(regions)

    def delete_selected_region(self) -> None:
        rid = self.page_view.selected_id or self.region_panel.selected_id()
        if rid:
            self.region_model.remove_region(rid)

    def clear_regions(self) -> None:
        self.region_model.clear()

    # ---------------------------------------------------------------- recognition

    def _overrides(self) -> dict:
        return {"repetition_penalty": self.penalty_retry} if self.penalty_retry else {}

    def _run_label(self) -> str:
        session = self.session
        assert session is not None
        if session.page_count == 1:
            return session.name
        return f"{session.name}, page {self.current_index + 1}"

    def recognise_current(self) -> None:
        """OCR the current page: every region in order (no region: the whole page). Again
        while its run is going: start over with what is chosen now (task, regions)."""
        if self.current_page() is None:
            self.notifications.notify("Open or drop an image first.", Severity.INFO)
            return
        if self.runs.busy and self.runs.kind in ("document", "batch", "resume"):
            self.notifications.notify("A whole document or batch is being recognised; cancel "
                                      "it first.", Severity.INFO)
            return
        self._run_page(use_text=False, ocr=True)

    def use_pdf_text(self) -> None:
        """Take the current page's (or its regions') text from the PDF, no OCR."""
        if self.current_page() is None or self.runs.kind in ("document", "batch", "resume"):
            return
        self._run_page(use_text=True, ocr=False)

    def _run_page(self, *, use_text: bool, ocr: bool) -> None:
        session = self.session
        assert session is not None
        self._run_session = session
        self._run_page_index = self.current_index
        regions = session.page(self.current_index).regions
        self._run_multi = bool(regions)
        self._run_parts_seen = 0
        self._run_replaced = False
        self.result_scope.setCurrentIndex(0)
        kind = "page" if session.kind == "file" else session.kind
        source = session.source([self.current_index], task=self.settings.task,
                                prompt=self.settings.prompt or None, use_text_layer=use_text,
                                ocr=ocr, overrides=self._overrides())
        self.last_repetition_penalty = self.penalty_retry or self.settings.repetition_penalty
        self.runs.start([source], kind, self._run_label())

    def recognise_captured(self, item: CapturedImage) -> None:
        """A paste, a snip or a watched clipboard image: show it, recognise it."""
        document = document_from_image(item.image, name=item.label)
        self.show_session(Session(document, None, kind=item.kind, label=item.label,
                                  image=item.image))
        self._run_page(use_text=False, ocr=True)

    def _note_cpu_limits(self, results: list[PartResult]) -> None:
        """Say once per run when the CPU engine read a task it cannot really do (it gives
        plain text for handwriting, formulas, Markdown and custom prompts)."""
        tasks = {r.task for r in results if r.ok and r.engine == "cpu" and r.origin == "ocr"}
        for task in sorted(tasks):
            preset = get_task(task)
            if preset.cpu.mode in ("text", "unsupported") and preset.id != "text":
                note = preset.cpu.note(self.settings.language)
                self.notifications.notify(
                    f"{preset.title(self.settings.language)}: {note} A vision-language engine "
                    "(InternVL3) does this task properly.", Severity.INFO)

    def recognise_all(self) -> None:
        """Recognise every page not done yet, with progress; cancel keeps what finished."""
        session = self.session
        if session is None:
            self.notifications.notify("Open a document first.", Severity.INFO)
            return
        if self.runs.busy and self.runs.kind in ("document", "batch", "resume"):
            return
        pages = session.pages_to_do()
        if not pages:
            self.notifications.notify("Every page is recognised already. Use Recognise > Clear "
                                      "results to start again.", Severity.INFO)
            return
        source = session.source(pages, task=self.settings.task,
                                prompt=self.settings.prompt or None,
                                use_text_layer=self.prefer_text_action.isChecked(),
                                overrides=self._overrides())
        self._run_session = session
        self.runs.start([source], "document", session.name)

    def clear_results(self) -> None:
        if self.session is not None and not self.runs.busy:
            self.session.clear_results()
            self.page_tables.clear()
            self.thumbnail_model.clear_done()
            self.show_results()
            self._update_actions()

    def cancel(self) -> None:
        self.runs.cancel()

    def retry_repetition(self) -> None:
        """Recognise the page again, as before, with a stronger repetition penalty."""
        from desktop_ocr.engines.loop_guard import retry_penalty

        self.penalty_retry = retry_penalty(self.last_repetition_penalty)
        self.retry_action.setEnabled(False)
        self.recognise_current()

    # ---------------------------------------------------------------- run events

    def _live_run(self, info: RunInfo | None = None) -> bool:
        info = info or self.runs.info
        return info is not None and info.kind in LIVE_KINDS and self._run_session is self.session

    def _on_run_started(self, info: RunInfo) -> None:
        self._started_at = time.perf_counter()
        self._elapsed.start()
        self.time_label.setText("")
        if info.kind in LIVE_KINDS:
            self.result_view.reset()
            self.result_extras.show([])
            self._start_live_tables(info.label, self.settings.task, new_run=True)
            self.results_label.setText(f"Results: {info.label}")
            self.state_label.setText(f"Recognising {info.label}…")
        elif info.kind == "document":
            self.batch_bar.progress.setRange(0, 0)
            self.batch_bar.label.setText("starting…")
            self.batch_bar.show()
            self.state_label.setText(f"Recognising {info.label}…")
        self._update_actions()

    def _on_part_started(self, part: pl.Part) -> None:
        if not self._live_run():
            return
        self._start_live_tables(part.label, part.task)
        if self._run_multi:
            self.result_view.append_text(("\n\n" if self._run_parts_seen else "")
                                         + f"[{part.region_label or 'Page'}]\n")
        self._run_parts_seen += 1

    def _on_text(self, part: pl.Part, text: str) -> None:
        if self._live_run():
            self.result_view.append_text(text)
            if self._live is not None:
                self._live.feed(text)

    def _on_waiting(self, part: pl.Part, seconds: float) -> None:
        if seconds >= 2:
            self.state_label.setText(f"{part.label}: waiting for the server… {seconds:.0f} s")

    def _session_for(self, result: PartResult) -> Session | None:
        """The shown session this result belongs to (by content, or by the document itself)."""
        session = self.session
        if session is None:
            return None
        if self._run_session is session and self.runs.info is not None and any(
                s.document is session.document for s in self.runs.info.sources):
            return session
        if session.path is not None and result.source_kind == "file" and \
                Path(result.source) == session.path:
            return session
        return None

    def _on_part_finished(self, part: pl.Part, result: PartResult) -> None:
        if part.source.question:
            return  # an answer about a result (ask_box.py keeps it with that result)
        if self.history_panel is not None and result.id is not None:
            self.history_panel.widget().result_stored(result)
        session = self._session_for(result)
        live = self._live_run()
        index = result.page - 1
        if session is not None:
            if live and not self._run_replaced:
                # The page's first new part replaces what it showed (History keeps the old).
                session.begin_page(index)
                self._forget_tables(index)
                self._run_replaced = True
            elif not live:
                self._forget_tables(index, result.region_id)
        if live:
            self._keep_live_tables(part, result)
            if not result.ok:
                self.result_view.append_text(f"[{result.error}]")
                self.notifications.notify(f"{result.label}: {result.error}", Severity.ERROR)
        if session is None:
            return
        session.set_result(result)
        self.result_extras.forget(keep=self._in_session)  # results it replaced go unread
        self.result_extras.add(result, session.document)
        self.thumbnail_model.set_done(index, session.page(index).ok)
        if not live and (self.result_scope.currentData() == "document" or index == self.current_index):
            if not self._refresh.isActive():
                self._refresh.start()
        self._update_actions()

    def _on_source_failed(self, event: pl.SourceFailed) -> None:
        if self.runs.kind not in ("batch", "resume"):
            self.notifications.notify(event.result.error, Severity.ERROR)

    def _on_progress(self, progress: pl.Progress) -> None:
        if self.runs.kind != "document":
            return
        from desktop_ocr.gui.batch_panel import format_eta

        total = progress.total
        self.batch_bar.progress.setRange(0, max(total, 1))
        self.batch_bar.progress.setValue(progress.done)
        self.batch_bar.label.setText(f"{progress.done} / {total} parts · "
                                     f"{format_eta(progress.eta)} left"
                                     if progress.done < total else f"{progress.done} / {total} parts")

    def _end_run(self) -> float:
        seconds = self._stop_clock()
        self.result_view.flush()
        self._close_live_tables()
        self.batch_bar.hide()
        self._auto_run = False
        self.penalty_retry = None
        self._update_actions()
        return seconds

    def _on_run_finished(self, info: RunInfo, summary: pl.RunSummary) -> None:
        seconds = self._end_run()
        self.time_label.setText(f"{seconds:.1f} s")
        results = summary.results
        if info.kind == "ask":
            self.state_label.setText(summary.stopped or f"Answered in {seconds:.1f} s")
            return
        if self._live_run(info):
            self._show_result_tools()
        if info.kind == "document":
            pages = len({r.page for r in results if r.ok})
            self.state_label.setText(summary.stopped or
                                     f"Recognised {pages} pages of {info.label} in {seconds:.1f} s")
            if self.session is not None and self._run_session is self.session:
                self.result_scope.setCurrentIndex(1)
                self.show_results()
            return
        if info.kind in ("batch", "resume"):
            done = len({r.source for r in results if r.ok})
            self.state_label.setText(summary.stopped or
                                     f"Recognised {done} of {len(info.sources)} files in {seconds:.1f} s")
            return
        finishes = {r.finish for r in results if r.ok}
        self._note_cpu_limits(results)
        engine = next((r.engine for r in results if r.engine), "")
        message = summary.stopped or (f"Recognised {info.label} in {seconds:.1f} s with "
                                      f"{engine_title(engine) if engine else 'the PDF text'}")
        repetition = FinishReason.REPETITION.value in finishes
        if FinishReason.LENGTH.value in finishes:
            message += " — output cut at the token limit"
            self.notifications.notify("The output was cut at the token limit.", Severity.WARNING)
        elif repetition:
            message += " — stopped a repetition loop"
            self.notifications.notify(
                "The model kept repeating itself, so the result was stopped and is cut. Try "
                "Recognise > Retry with stronger repetition penalty, or a smaller region.",
                Severity.WARNING)
        self.retry_action.setEnabled(repetition)
        if results and not any(r.text.strip() for r in results if r.ok) and not summary.stopped:
            message += " — no text found"
        self.state_label.setText(message)
        if info.kind in ("paste", "snip", "watch"):
            self._copy_task = self.capture.copy_result(info.kind, self.clipboard_payload())

    def _on_run_failed(self, info: RunInfo, message: str) -> None:
        self._end_run()
        self.state_label.setText("Recognition failed")

    def _on_run_cancelled(self, info: RunInfo) -> None:
        seconds = self._end_run()
        if info.kind == "document":
            self.state_label.setText(f"Cancelled after {seconds:.1f} s; the pages done are kept, "
                                     "Recognise all pages resumes")
        elif info.kind not in ("batch", "resume"):
            self.state_label.setText(f"Cancelled after {seconds:.1f} s")

    def _tick(self) -> None:
        self.time_label.setText(f"{time.perf_counter() - self._started_at:.1f} s")

    def _stop_clock(self) -> float:
        self._elapsed.stop()
        return time.perf_counter() - self._started_at

    def _update_actions(self) -> None:
        busy = self.runs.busy
        long_run = busy and self.runs.kind in ("document", "batch", "resume")
        has_doc = self.document is not None
        self.cancel_action.setEnabled(busy)
        # Ctrl+R while a page runs starts it over with what is chosen now.
        self.recognise_action.setEnabled(has_doc and not long_run)
        self.recognise_all_action.setEnabled(has_doc and not busy)
        self.use_text_action.setEnabled(has_doc and not busy and self.text_banner.isVisibleTo(self))
        self.text_banner.button.setEnabled(not busy)
        self.export_action.setEnabled(self.session is not None and bool(self.session.done_pages()))
        self.clear_results_action.setEnabled(has_doc and not busy)
        multi = has_doc and self.document.page_count > 1  # type: ignore[union-attr]
        for action in (self.next_action, self.prev_action, self.first_action, self.last_action):
            action.setEnabled(multi)
        for action in (self.zoom_in_action, self.zoom_out_action, self.fit_action,
                       self.fit_width_action, self.actual_size_action, self.rotate_action,
                       self.rotate_left_action):
            action.setEnabled(has_doc)

    # ---------------------------------------------------------------- results

    def show_results(self) -> None:
        """Show the stored results of the current page, or of the whole document."""
        session = self.session
        if session is None:
            return
        if self.result_scope.currentData() == "document":
            text = session.text()
            self.results_label.setText(f"Results: {len(session.done_pages())} of "
                                       f"{session.page_count} pages")
        else:
            text = session.page_text(self.current_index) if self.current_index >= 0 else ""
            done = bool(session.results(self.current_index))
            self.results_label.setText(f"Results: page {self.current_index + 1}"
                                       + ("" if done else " (not recognised yet)"))
        self.result_view.reset(text)
        self._show_stored_tables()
        self._show_result_tools()

    def clipboard_payload(self) -> ClipboardPayload:
        """What Copy puts on the clipboard: the grids as edited (TSV + HTML) when the
        result holds tables, else the text as shown."""
        text = self.result_view.full_text()
        tables = [m.to_table() for m in self.table_tabs.models() if not m.streaming]
        if tables:
            return ClipboardPayload(
                "\n".join(t.to_tsv().rstrip("\n") for t in tables) + "\n",
                '<html><head><meta charset="utf-8"></head><body>'
                + "".join(t.to_html() for t in tables) + "</body></html>")
        return payload_for(text, self.settings.task)

    def copy_result(self) -> None:
        payload = self.clipboard_payload()
        if not payload.text.strip():
            self.notifications.notify("There is no text to copy yet.", Severity.INFO)
            return
        self._copy_task = asyncio.ensure_future(self.capture.copy(payload))

    # ---------------------------------------------------------------- export

    def choose_export(self) -> None:
        session = self.session
        if session is None or not session.done_pages():
            self.notifications.notify("Nothing to export yet: recognise a page first.", Severity.INFO)
            return
        stem = Path(session.name).stem
        # A document with tables most likely goes to a spreadsheet.
        suffix = ".xlsx" if self._has_tables() else ".txt"
        start = str((session.path.parent if session.path else Path.home()) / f"{stem}{suffix}")
        chosen = "Excel workbook (*.xlsx)" if suffix == ".xlsx" else "Text (*.txt)"
        from desktop_ocr.gui.file_filters import export_filter

        path, selected = QFileDialog.getSaveFileName(self, "Export results", start, export_filter(),
                                                     chosen)
        if path:
            self.export_to(with_filter_suffix(Path(path), selected))

    def export_to(self, path: Path) -> asyncio.Task:
        """Write the whole document's results to `path` in a worker thread; the format
        follows the suffix (core/export.py), and tables are written as edited."""
        session = self.session
        assert session is not None
        self._store_edited_tables()  # read here: the models live on this thread
        items = session.export_items()
        pages = len(session.done_pages())

        async def run() -> None:
            try:
                from desktop_ocr.gui.export_task import export_session

                written = await export_session(session, items, path,
                                               status=self.state_label.setText, library=self.library)
            except ExportError as exc:
                self.notifications.notify(str(exc), Severity.ERROR)
                self.state_label.setText(f"Exporting to {path.name} failed")
                return
            except Exception as exc:
                self.notifications.report(exc, f"Exporting to {path.name} failed")
                return
            self.state_label.setText(f"Exported {pages} pages to {written}")

        self._export_task = asyncio.ensure_future(run())
        return self._export_task

    # ---------------------------------------------------------------- doubtful words, codes, questions

    def _build_result_tools(self, layout: QVBoxLayout) -> None:
        from desktop_ocr.gui.ask_box import AskBox
        from desktop_ocr.gui.result_extras import ResultExtras

        self.result_extras = ResultExtras(self.result_view, self.library, self)
        self.result_extras.reader.set_enabled(self.settings.second_reading)
        self.ask_box = AskBox(self.runs, self.engines, self.library, self.notifications)
        layout.addWidget(self.result_extras.bar)
        layout.addWidget(self.ask_box)

    def _show_result_tools(self) -> None:
        """The doubtful words and codes of the results shown; questions about the page's."""
        session = self.session
        if session is None or self.current_index < 0:
            self.result_extras.show([])
            self.ask_box.clear()
            return
        page = session.results(self.current_index)
        whole = self.result_scope.currentData() == "document"
        self.result_extras.show(session.all_results() if whole else page)
        self.ask_box.set_results(session, page)

    def _in_session(self, result: PartResult) -> bool:
        session = self.session
        return session is not None and any(
            r is result for i in session.done_pages() for r in session.results(i))

    def _set_second_reading(self, on: bool) -> None:
        self.settings.second_reading = on
        self._save_settings()
        self.result_extras.reader.set_enabled(on)
        if on and self.session is not None:
            for result in self.session.all_results():
                self.result_extras.add(result, self.session.document)
        self.result_extras.refresh()

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

    def _close_live_tables(self) -> None:
        if self._live is not None:
            self._live.close()
            self._live = None

    def _keep_live_tables(self, part: pl.Part, result: PartResult) -> None:
        """A part of a page run finished: its grids become the stored ones."""
        live = self._live
        if live is not None:
            live.close()
        self._live = None
        if self._run_session is not self.session or self.session is None:
            return
        if live is not None and result.ok:
            self.page_tables[(result.page - 1, result.region_id)] = live.models

    def _forget_tables(self, index: int, region_id: str | None = None) -> None:
        for key in [k for k in self.page_tables if k[0] == index
                    and (region_id is None or k[1] == region_id)]:
            del self.page_tables[key]

    def _stored_models(self, index: int) -> list[TableModel]:
        assert self.session is not None
        models: list[TableModel] = []
        for result in self.session.results(index):
            if not result.ok:
                continue
            key = (index, result.region_id)
            if key not in self.page_tables:
                if result.tables is not None:
                    self.page_tables[key] = [TableModel(t, title=f"Table {i + 1}", source=result.label)
                                             for i, t in enumerate(result.tables)]
                else:
                    self.page_tables[key] = models_for_text(result.text, result.label)
            models += self.page_tables[key]
        return models

    def _show_stored_tables(self) -> None:
        if self.session is None:
            return
        if self.result_scope.currentData() == "document":
            pages = self.session.done_pages()
        else:
            pages = [self.current_index] if self.session.results(self.current_index) else []
        self._set_table_tab([m for i in pages for m in self._stored_models(i)])

    def _has_tables(self) -> bool:
        return self.session is not None and any(
            self._stored_models(i) for i in self.session.done_pages())

    def edited_tables(self) -> dict[tuple[int, str], list[Table]]:
        """The stored grids as core Tables (by page index and region id)."""
        return {key: [m.to_table() for m in models] for key, models in self.page_tables.items()
                if models and not any(m.streaming for m in models)}

    def _store_edited_tables(self) -> None:
        """The grids as edited go into their results (and so into every export)."""
        if self.session is None:
            return
        edited = self.edited_tables()
        for index in self.session.done_pages():
            for result in self.session.results(index):
                tables = edited.get((index, result.region_id))
                if tables is not None:
                    self.session.set_tables(result, tables)

    # ---------------------------------------------------------------- panels

    def add_engine_panel(self) -> None:
        if self.engine_panel is not None:
            return
        from desktop_ocr.gui.engine_panel import EnginePanel

        self.engine_panel = EnginePanel(self.engines, self.settings, self.notifications, self)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.engine_panel)
        self.engine_panel.hide()  # opened from View > Engine panel
        toggle = self.engine_panel.toggleViewAction()
        toggle.setText("&Engine panel")
        toggle.setShortcut(QKeySequence("Ctrl+Shift+E"))
        toggle.setStatusTip("Choose, start and stop the recognition engine; GPU and CPU meters")
        self.engine_panel_action = toggle
        self.view_menu.addSeparator()
        self.view_menu.addAction(toggle)

    def toggle_history(self) -> None:
        self.add_history_panel()
        if self.history_panel is not None:
            dock = self.history_panel
            dock.setVisible(not dock.isVisible() or not dock.widget().search.hasFocus())
            if dock.isVisible():
                dock.raise_()
                dock.widget().search.setFocus()

    def add_history_panel(self) -> None:
        if self.history_panel is not None or self.library is None:
            return
        from PySide6.QtWidgets import QDockWidget

        from desktop_ocr.gui.history_panel import HistoryPanel

        panel = HistoryPanel(self.library, self.settings, self.notifications)
        panel.openRequested.connect(self.open_result)
        dock = QDockWidget("History", self)
        dock.setObjectName("historyPanel")
        dock.setWidget(panel)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        self.history_panel = dock

    def open_result(self, result: PartResult) -> None:
        """A History entry: its file at its page with the stored result (no OCR again), or
        for a paste or snip (or a file gone) its stored crop with the result."""
        path = Path(result.source) if result.source_kind == "file" else None
        if path is not None and path.is_file():
            if self.session is not None and self.session.path == path:
                self._show_stored(result)
                return
            self._pending_open = result
            self.state_label.setText(f"Opening {path.name}…")
            self.loader.open_file(path, recognise=False)
            return
        from PIL import Image

        try:
            image = Image.open(__import__("io").BytesIO(result.thumbnail)).convert("RGB")
        except Exception:  # noqa: BLE001 - no crop stored: a blank page carries the text
            image = Image.new("RGB", (320, 200), "white")
        document = document_from_image(image, name=result.name)
        self.show_session(Session(document, None, kind=result.source_kind, label=result.name,
                                  image=image))
        self._show_stored(result.with_(page=1, page_count=1))

    def _show_stored(self, result: PartResult) -> None:
        session = self.session
        if session is None:
            return
        index = min(max(result.page - 1, 0), session.page_count - 1)
        shown = result.with_(page=index + 1)
        session.set_result(shown)
        self.result_extras.add(shown, session.document)
        self.thumbnail_model.set_done(index, result.ok)
        self.go_to_page(index)
        self.show_results()
        self.state_label.setText(f"{result.label}: stored result from "
                                 f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(result.created))}")
        self._update_actions()

    async def offer_resume(self, at_once: bool = False) -> None:
        """After a crash or kill mid-batch: offer to finish what was left (what finished is
        taken from the library, not recognised again); `at_once`: resume without asking."""
        if self.library is None:
            return
        try:
            runs = await self.library.unfinished_runs()
        except Exception:  # noqa: BLE001 - a library problem was reported by its notice
            log.info("no unfinished runs", exc_info=True)
            return
        for run in runs:
            if run.kind not in ("batch", "document", "resume"):
                continue
            sources = [pl.Source.from_plan(d) for d in (run.plan or {}).get("sources", [])]
            sources = [s for s in sources if s.path is not None and s.path.exists()]
            if not sources:
                continue
            if at_once:
                self.resume_run(run.id, sources)
                return
            names = ", ".join(s.name for s in sources[:3]) + ("…" if len(sources) > 3 else "")
            self.notifications.notify(
                f"A recognition of {len(sources)} {'file' if len(sources) == 1 else 'files'} "
                f"({names}) did not finish last time.", Severity.INFO,
                actions=(("Resume", functools.partial(self.resume_run, run.id, sources)),))

    def resume_run(self, run_id: int, sources: list[pl.Source]) -> None:
        self.start_batch([s.path for s in sources if s.path is not None], run_id=run_id,
                         sources=sources)

    def add_batch_panel(self) -> None:
        if self.batch_panel is not None:
            return
        from desktop_ocr.gui.batch_panel import BatchPanel

        self.batch_panel = BatchPanel(self.runs, self.notifications, self)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.batch_panel)
        toggle = self.batch_panel.toggleViewAction()
        toggle.setText("&Batch panel")
        toggle.setShortcut(QKeySequence("Ctrl+Shift+B"))
        self.batch_panel_action = toggle
        self.view_menu.addAction(toggle)

    # ---------------------------------------------------------------- misc

    def show_about(self) -> None:
        QMessageBox.about(
            self, f"About {APP_NAME}",
            f"<b>{APP_NAME}</b> {__version__}<br>Text and tables from scans, photos, screenshots and PDFs, "
            "recognised on this computer: nothing leaves the machine.<br><br>"
            f"Log file: {log_file()}",
        )

    def _confirm_stop(self, question: str) -> bool:
        box = QMessageBox(QMessageBox.Icon.Question, APP_NAME,
                          f"A recognition is running ({self.runs.info.label if self.runs.info else ''}). "
                          f"{question}", parent=self)
        box.setInformativeText("What finished is kept in History; the rest can be resumed.")
        stop = box.addButton("Stop it", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return box.clickedButton() is stop

    # ---------------------------------------------------------------- tray

    def _say(self, message: str) -> None:
        """A tray balloon when the tray is up (the window may be hidden), else a notice."""
        if self.tray is not None and self.tray.isVisible():
            self.tray.say(message)
        else:
            self.notifications.notify(message, Severity.INFO)

    def attach_tray(self, tray) -> None:
        self.tray = tray
        self.close_to_tray_action.setEnabled(True)

    def _restore(self, show: bool) -> None:
        # Without a tray a hidden window could not be found again, so it always comes back.
        if show or self.tray is None or not self.tray.isVisible():
            self.show()
            self.setWindowState(self.windowState() & ~Qt.WindowState.WindowMinimized)
            self.raise_()
            self.activateWindow()

    def show_from_tray(self) -> None:
        self._restore(True)

    def quit_app(self) -> None:
        self._quitting = True
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if not self.built:
            super().closeEvent(event)
            self.closed.emit()
            return
        if (self.settings.close_to_tray and not self._quitting and self.tray is not None
                and self.tray.isVisible()):
            event.ignore()
            self.hide()
            self.bus.say.emit("Still running in the tray. Quit from its menu.")
            return
        if self.runs.busy and self.runs.kind in ("document", "batch", "resume") \
                and not self._confirm_stop("Quit anyway?"):
            event.ignore()
            self._quitting = False
            return
        self.runs.cancel()
        self._close_session()
        self.result_extras.shutdown()
        self.page_view.shutdown()
        self.capture.shutdown()
        self.notification_area.detach()
        super().closeEvent(event)
        self.closed.emit()


# FitMode is part of this window's public vocabulary (tests and the bench set it).
__all__ = ["EMPTY_TEXT", "FitMode", "MainWindow"]
