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
from desktop_ocr.gui.i18n import count, localize, sentences, translate
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
    global asyncio, pl, FinishReason, document_from_image, ExportError, export
    global format_for, log_file, Session, get_task, payload_for, ClipboardPayload, EngineHost
    global DocumentLoader, NotificationArea, FitMode, PageView, ask_password, PromptBar
    global QuickCapture, RegionListModel, task_ids, task_title, RegionPanel, ResultView
    global RunController, LiveTables, TableModel, models_for_text, TableTabs, ThumbnailModel
    global ThumbnailStrip, Qt, QTimer, QAction, QKeySequence, QComboBox, QFileDialog, QHBoxLayout
    global QLabel, QMessageBox, QSpinBox, QSplitter, QStackedWidget, QTabWidget, QToolBar
    global QVBoxLayout, QWidget, BatchBar, TextLayerBanner, QSize, QActionGroup, QMenu, look
    global engine_name, action_tip, focus, plain_text, region_name, result_label
    import asyncio

    from PySide6.QtCore import QSize, Qt, QTimer
    from PySide6.QtGui import QAction, QActionGroup, QKeySequence
    from PySide6.QtWidgets import (
        QComboBox,
        QFileDialog,
        QHBoxLayout,
        QLabel,
        QMenu,
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
    from desktop_ocr.core.contract import FinishReason
    from desktop_ocr.core.documents import document_from_image
    from desktop_ocr.core.export import ExportError, export, format_for
    from desktop_ocr.core.logs import log_file
    from desktop_ocr.core.session import Session
    from desktop_ocr.core.tasks import get_task
    from desktop_ocr.gui import focus, look
    from desktop_ocr.gui.clipboard.base import ClipboardPayload
    from desktop_ocr.gui.clipboard.formats import payload_for
    from desktop_ocr.gui.engine_host import EngineHost
    from desktop_ocr.gui.i18n import engine_name, region_name, result_label
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
    from desktop_ocr.gui.window_bars import BatchBar, TextLayerBanner, action_tip, plain_text


log = logging.getLogger(__name__)

IMAGE_PATTERNS = "*.png *.jpg *.jpeg *.tif *.tiff *.bmp *.webp *.gif"


def open_filter() -> str:
    docs = translate("MainWindow", "Images and documents")
    images = translate("MainWindow", "Images")
    everything = translate("MainWindow", "All files")
    return (f"{docs} ({IMAGE_PATTERNS} *.pdf *.xps *.epub *.cbz);;"
            f"{images} ({IMAGE_PATTERNS});;PDF (*.pdf);;{everything} (*)")


RECENT_MAX = 10
# Runs that show their text live in the result pane (one page or one captured image).
LIVE_KINDS = ("page", "paste", "snip", "watch")


def default_size():
    """1280 × 800, or less where the screen has less room (a laptop at 200 % has 960 × 540
    logical pixels): the whole window, results pane included, must fit on screen."""
    from PySide6.QtCore import QSize
    from PySide6.QtGui import QGuiApplication

    want = QSize(1280, 800)
    screen = QGuiApplication.primaryScreen()
    if screen is None:
        return want
    room = screen.availableGeometry().size()
    return QSize(min(want.width(), int(room.width() * 0.92)),
                 min(want.height(), int(room.height() * 0.92)))


def standard_key(key, fallback: str):
    """The platform's key for a standard command, or `fallback` where the platform has
    none (Quit has no standard key on some Linux desktops and off screen)."""
    from PySide6.QtGui import QKeySequence

    keys = QKeySequence.keyBindings(key)
    return keys[0] if keys else QKeySequence(fallback)


def label_of(part) -> str:
    """A pipeline part's label ("scan.pdf, page 3, Region 2") in the window's language."""
    from desktop_ocr.gui.i18n import part_label

    return part_label(part.source.name, part.page + 1, part.page_count, part.region_label)


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
        self.resize(default_size())
        self.setAcceptDrops(True)
        self.empty_state = EmptyState(self.choose_files)
        self.setCentralWidget(self.empty_state)  # all the first paint needs
        self.session = None
        self.built = False
        self.restart_requested = False  # quit, then start again (a new language)
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
        look.follow_palette(self, self._refresh_icons)
        self._report_settings_problem()

    # ---------------------------------------------------------------- state

    @property
    def language(self) -> str:
        """The language the window speaks ("en" or "zh_CN"): task names follow it."""
        from desktop_ocr.gui.i18n import current_language

        return current_language()

    @property
    def document(self) -> Document | None:
        return self.session.document if self.session is not None else None

    @property
    def path(self) -> Path | None:
        return self.session.path if self.session is not None else None

    # ---------------------------------------------------------------- construction

    def _action(self, text: str, slot, shortcut=None, tip: str = "", icon: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
        if tip:
            action.setStatusTip(tip)
        action.setToolTip(action_tip(action))
        if icon:
            self._icons[action] = icon
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

    def _refresh_icons(self) -> None:
        """The icons for the palette now shown (a light or dark theme, or the desktop's)."""
        for action, name in self._icons.items():
            action.setIcon(look.icon(name))

    def _build_actions(self) -> None:
        a = self._action
        self._icons: dict[QAction, str] = {}
        self.open_action = a(translate("MainWindow", "&Open…"), self.choose_files, QKeySequence.StandardKey.Open,
                             translate("MainWindow", "Open images or PDFs (several files make a batch)"), "open")
        self.open_folder_action = a(translate("MainWindow", "Open &folder…"), self.choose_folder, QKeySequence("Ctrl+Shift+O"),
                                    translate("MainWindow", "Recognise every image and PDF in a folder as a batch"),
                                    "open-folder")
        self.export_action = a(translate("MainWindow", "&Export…"), self.choose_export, QKeySequence("Ctrl+E"),
                               translate("MainWindow", "Save the results of the whole document (.xlsx, .csv, .txt, .md, "
                                 ".html, .json, .docx, .pdf)"), "export")
        self.quit_action = a(translate("MainWindow", "&Quit"), self.quit_app,
                             standard_key(QKeySequence.StandardKey.Quit, "Ctrl+Q"))
        self.recognise_action = a(translate("MainWindow", "&Recognise"), self.recognise_current, QKeySequence("Ctrl+R"),
                                  translate("MainWindow", "Recognise the current page: each region in order, or the whole "
                                    "page"), "recognise")
        self.recognise_all_action = a(translate("MainWindow", "Recognise &all pages"), self.recognise_all,
                                      QKeySequence("Ctrl+Shift+R"),
                                      translate("MainWindow", "Recognise every page of the document (pages already done are "
                                        "kept)"), "recognise-all")
        self.use_text_action = a(translate("MainWindow", "Use the PDF's &text"), self.use_pdf_text, QKeySequence("Ctrl+Shift+T"),
                                 translate("MainWindow", "Take this page's text from the PDF itself, without OCR"))
        self.prefer_text_action = self._toggle(
            translate("MainWindow", "Use PDF text when pages have it"), self.settings.prefer_text_layer,
            self._set_prefer_text, translate("MainWindow", "Recognise all pages: take the PDF's own text where a page has "
                                     "it and run OCR only on scanned pages"))
        self.clear_results_action = a(translate("MainWindow", "Clear results"), self.clear_results, None,
                                      translate("MainWindow", "Forget the results of this document (History keeps them)"))
        self.retry_action = a(translate("MainWindow", "Retry with stronger repetition &penalty"), self.retry_repetition,
                              QKeySequence("Ctrl+Shift+P"),
                              translate("MainWindow", "Run the last recognition again with a higher repetition penalty"))
        self.retry_action.setEnabled(False)
        self.cancel_action = a(translate("MainWindow", "&Cancel"), self.cancel, QKeySequence("Esc"),
                               translate("MainWindow", "Stop the recognition in progress"), "cancel")
        self.copy_action = a(translate("MainWindow", "&Copy text"), self.copy_result, QKeySequence("Ctrl+Shift+C"),
                             translate("MainWindow", "Copy the result to the clipboard (tables as cells, as edited)"), "copy")
        self.zoom_in_action = a(translate("MainWindow", "Zoom &in"), lambda: self.page_view.zoom_in(),
                                QKeySequence.StandardKey.ZoomIn, "", "zoom-in")
        self.zoom_out_action = a(translate("MainWindow", "Zoom &out"), lambda: self.page_view.zoom_out(),
                                 QKeySequence.StandardKey.ZoomOut, "", "zoom-out")
        self.fit_action = a(translate("MainWindow", "Fit &page"), lambda: self.page_view.fit_page(), QKeySequence("Ctrl+0"),
                            translate("MainWindow", "Show the whole page"), "fit-page")
        self.fit_width_action = a(translate("MainWindow", "Fit &width"), lambda: self.page_view.fit_width(),
                                  QKeySequence("Ctrl+2"), translate("MainWindow", "Fit the page's width to the window"),
                                  "fit-width")
        self.actual_size_action = a(translate("MainWindow", "&100 %"), lambda: self.page_view.actual_size(),
                                    QKeySequence("Ctrl+1"), translate("MainWindow", "Show the page at its actual size"),
                                    "actual-size")
        self.rotate_action = a(translate("MainWindow", "Rotate &right"), lambda: self.rotate_page(90), QKeySequence("Ctrl+]"),
                               translate("MainWindow", "Turn the page 90° clockwise"), "rotate-right")
        self.rotate_left_action = a(translate("MainWindow", "Rotate &left"), lambda: self.rotate_page(-90),
                                    QKeySequence("Ctrl+["), translate("MainWindow", "Turn the page 90° counter-clockwise"),
                                    "rotate-left")
        self.next_action = a(translate("MainWindow", "&Next page"), self.next_page, QKeySequence(Qt.Key.Key_PageDown), "",
                             "next")
        self.prev_action = a(translate("MainWindow", "&Previous page"), self.previous_page, QKeySequence(Qt.Key.Key_PageUp),
                             "", "previous")
        self.first_action = a(translate("MainWindow", "&First page"), self.first_page, QKeySequence(Qt.Key.Key_Home))
        self.last_action = a(translate("MainWindow", "&Last page"), self.last_page, QKeySequence(Qt.Key.Key_End))
        self.go_to_action = a(translate("MainWindow", "&Go to page…"), self.focus_page_number, QKeySequence("Ctrl+G"),
                              translate("MainWindow", "Type the number of the page to show"))
        self.delete_region_action = a(translate("MainWindow", "&Delete region"), self.delete_selected_region,
                                      QKeySequence(Qt.Key.Key_Delete), translate("MainWindow", "Delete the selected region"))
        self.clear_regions_action = a(translate("MainWindow", "Clear regions"), self.clear_regions, None,
                                      translate("MainWindow", "Delete every region on this page"))
        self.about_action = a(translate("MainWindow", "&About"), self.show_about)
        self.shortcuts_action = a(translate("MainWindow", "&Keyboard shortcuts"), self.show_shortcuts,
                                  standard_key(QKeySequence.StandardKey.HelpContents, "F1"),
                                  translate("MainWindow", "Every command and its key"))
        self.preferences_action = a(translate("MainWindow", "&Preferences…"), self.show_preferences, QKeySequence("Ctrl+,"),
                                    translate("MainWindow", "Engine, task, language, theme, clipboard, limits, history"),
                                    "preferences")
        self.preferences_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        self.history_action = a(translate("MainWindow", "&History"), self.toggle_history, QKeySequence("Ctrl+H"),
                                translate("MainWindow", "Every result kept: search, open, copy and export again"), "history")
        self.history_action.setEnabled(self.library is not None)
        # Page keys belong to the viewer: in the result editor Home/End move the cursor.
        for action in (self.next_action, self.prev_action, self.first_action, self.last_action,
                       self.delete_region_action):
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        # Clipboard and screen (quick_capture.py does the work).
        self.paste_action = a(translate("MainWindow", "&Paste image"), self.capture.paste, QKeySequence.StandardKey.Paste,
                              translate("MainWindow", "Recognise the image (or image file) on the clipboard"), "paste")
        self.clipboard_action = a(translate("MainWindow", "Recognise &clipboard"), self.capture.paste, None,
                                  translate("MainWindow", "Recognise the image on the clipboard"))
        self.snip_action = a(translate("MainWindow", "&Snip screen region"), self.capture.snip, QKeySequence("Ctrl+Shift+X"),
                             translate("MainWindow", "Select a region of the screen and recognise it"), "snip")
        self.show_action = a(translate("MainWindow", "Show &window"), self.show_from_tray)
        self.watch_action = self._toggle(translate("MainWindow", "&Watch clipboard for images"), self.settings.watch_clipboard,
                                         self.capture.set_watch,
                                         translate("MainWindow", "Recognise every new image copied to the clipboard"))
        self.auto_copy_action = self._toggle(translate("MainWindow", "Copy result &automatically"), self.settings.copy_snip_result,
                                             self.capture.set_auto_copy,
                                             translate("MainWindow", "Put the text of snips and clipboard images on the "
                                               "clipboard"))
        self.close_to_tray_action = self._toggle(translate("MainWindow", "&Keep running in the tray when closed"),
                                                 self.settings.close_to_tray, self._set_close_to_tray)
        self.close_to_tray_action.setEnabled(False)  # until the app finds a system tray
        self.second_reading_action = self._toggle(
            translate("MainWindow", "Check the words with the CPU engine"), self.settings.second_reading,
            self._set_second_reading, translate("MainWindow", "After a vision-language engine's answer, the "
                                                "CPU engine reads the same image in the background: doubtful "
                                                "words are underlined, codes shown"))
        self._refresh_icons()

    def _build_ui(self) -> None:
        menu = self.menuBar()
        file_menu = menu.addMenu(translate("MainWindow", "&File"))
        file_menu.addAction(self.open_action)
        file_menu.addAction(self.open_folder_action)
        self.recent_menu = file_menu.addMenu(translate("MainWindow", "Open &recent"))
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self._fill_recent()
        file_menu.addAction(self.export_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        self.file_menu = file_menu
        edit_menu = menu.addMenu(translate("MainWindow", "&Edit"))
        for action in (self.copy_action, self.paste_action, self.delete_region_action,
                       self.clear_regions_action):
            edit_menu.addAction(action)
        edit_menu.addSeparator()
        for action in (self.auto_copy_action, self.watch_action, self.close_to_tray_action):
            edit_menu.addAction(action)
        edit_menu.addSeparator()
        edit_menu.addAction(self.preferences_action)
        self.edit_menu = edit_menu
        view_menu = menu.addMenu(translate("MainWindow", "&View"))
        for action in (self.zoom_in_action, self.zoom_out_action, self.fit_action,
                       self.fit_width_action, self.actual_size_action, None, self.rotate_action,
                       self.rotate_left_action, None, self.prev_action, self.next_action,
                       self.first_action, self.last_action, self.go_to_action):
            if action is None:
                view_menu.addSeparator()
            else:
                view_menu.addAction(action)
        view_menu.addSeparator()
        view_menu.addAction(self.history_action)
        # The engine and batch panels' toggles go in here, above the language (add_*_panel).
        self._panels_end = view_menu.addSeparator()
        self.language_menu = view_menu.addMenu(translate("MainWindow", "&Language"))
        self._build_language_menu()
        self.view_menu = view_menu
        run_menu = menu.addMenu(translate("MainWindow", "&Recognise"))
        self.task_menu = QMenu(translate("MainWindow", "&Task"), run_menu)
        for action in (self.recognise_action, self.recognise_all_action, self.task_menu,
                       self.use_text_action, self.prefer_text_action, None, self.snip_action,
                       self.clipboard_action, None, self.second_reading_action, None,
                       self.retry_action, self.cancel_action, self.clear_results_action):
            if action is None:
                run_menu.addSeparator()
            elif isinstance(action, QMenu):
                run_menu.addMenu(action)
            else:
                run_menu.addAction(action)
        self.run_menu = run_menu
        help_menu = menu.addMenu(translate("MainWindow", "&Help"))
        help_menu.addAction(self.shortcuts_action)
        help_menu.addAction(self.about_action)
        self.help_menu = help_menu

        # One compact toolbar: open and capture, the task and what runs it, the result, the page.
        toolbar = QToolBar(translate("MainWindow", "Main"), self)
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        toolbar.setIconSize(QSize(20, 20))
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        for action in (self.open_action, self.paste_action, self.snip_action):
            toolbar.addAction(action)
        toolbar.addSeparator()
        self.task_combo = QComboBox()
        self.task_combo.setAccessibleName(translate("MainWindow", "Task"))
        self.task_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.task_actions = QActionGroup(self)
        language = self.language
        for task in task_ids():
            title = task_title(task, language)
            self.task_combo.addItem(title, task)
            note = get_task(task).cpu.note(language)
            if note:
                self.task_combo.setItemData(self.task_combo.count() - 1,
                                            translate("MainWindow", "On the CPU engine: {note}").format(note=note),
                                            Qt.ItemDataRole.ToolTipRole)
            choose = self.task_menu.addAction(title)
            choose.setCheckable(True)
            choose.setData(task)
            self.task_actions.addAction(choose)
        self.task_actions.triggered.connect(
            lambda act: self.task_combo.setCurrentIndex(self.task_combo.findData(act.data())))
        i = self.task_combo.findData(self.settings.task)
        self.task_combo.setCurrentIndex(max(i, 0))
        self._check_task_action()
        self.task_combo.setToolTip(translate("MainWindow", "What to extract (regions can have their own task)"))
        toolbar.addWidget(self.task_combo)
        for action in (self.recognise_action, self.recognise_all_action, self.cancel_action):
            toolbar.addAction(action)
        # The main command says its name; the rest are icons with tooltips.
        self.recognise_action.setIconText(plain_text(self.recognise_action.text()))
        toolbar.widgetForAction(self.recognise_action).setToolButtonStyle(
            Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        toolbar.addSeparator()
        for action in (self.copy_action, self.export_action):
            toolbar.addAction(action)
        toolbar.addSeparator()
        toolbar.addAction(self.prev_action)
        self.page_spin = QSpinBox()
        self.page_spin.setMinimum(1)
        self.page_spin.setMaximum(1)
        self.page_spin.setKeyboardTracking(False)
        self.page_spin.setToolTip(translate("MainWindow", "Go to page (Ctrl+G)"))
        self.page_spin.setAccessibleName(translate("MainWindow", "Page number"))
        toolbar.addWidget(self.page_spin)
        self.page_count_label = QLabel(translate("MainWindow", " of {n} ").format(n=0))
        toolbar.addWidget(self.page_count_label)
        toolbar.addAction(self.next_action)
        toolbar.addSeparator()
        toolbar.addAction(self.zoom_out_action)
        self.zoom_label = QLabel("100 %")
        self.zoom_label.setMinimumWidth(52)
        self.zoom_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.zoom_label.setAccessibleName(translate("MainWindow", "Zoom"))
        toolbar.addWidget(self.zoom_label)
        for action in (self.zoom_in_action, self.fit_width_action, self.fit_action,
                       self.rotate_left_action, self.rotate_action):
            toolbar.addAction(action)
        self.addToolBar(toolbar)
        self.toolbar = toolbar

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
        self.results_label = QLabel(translate("MainWindow", "Results"))
        self.result_scope = QComboBox()
        self.result_scope.addItem(translate("MainWindow", "This page"), "page")
        self.result_scope.addItem(translate("MainWindow", "Whole document"), "document")
        self.result_scope.setToolTip(translate("MainWindow", "Show the results of this page or of every page"))
        self.result_scope.setAccessibleName(translate("MainWindow", "Results shown"))
        head = QHBoxLayout()
        head.addWidget(self.results_label, 1)
        head.addWidget(self.result_scope)
        self.result_view = ResultView()
        self.result_view.setAccessibleName(translate("MainWindow", "Result text"))
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
        for view, name in ((self.page_view, "pageView"), (self.result_view, "resultView"),
                           (self.thumb_strip, "thumbStrip"), (self.region_panel.table, "regionTable")):
            look.focus_ring(view, name)

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
        self.state_label = QLabel(translate("MainWindow", "Ready"))
        self.page_label = QLabel("")
        self.engine_label = QLabel(translate("MainWindow", "Engine: {name}").format(name=self.engines.engine_title()))
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
        self._tables_save = QTimer(self)  # edited grids go to their result and the library
        self._tables_save.setSingleShot(True)
        self._tables_save.setInterval(600)
        self._tables_save.timeout.connect(self._save_edited_tables)
        self._edited_keys: set[tuple[int, str]] = set()
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
                self.notifications.report(exc, translate("MainWindow", "The recognition engine "
                                                                       "is not available"))

        return asyncio.ensure_future(prepare())

    def _on_engine_changed(self, title: str) -> None:
        self.engine_label.setText(translate("MainWindow", "Engine: {name}").format(name=title))
        reason = self.engines.engine_reason
        self.engine_label.setToolTip(translate("MainWindow", "Chosen automatically: {reason}")
                                     .format(reason=reason) if reason else "")

    # ---------------------------------------------------------------- settings

    def _save_settings(self) -> None:
        save_settings(self.settings)

    def _on_task_changed(self, _index: int) -> None:
        task = self.task_combo.currentData()
        self._check_task_action()
        if task:
            self.settings.task = task
            self.prompt_bar.setVisible(task == "custom")
            self._save_settings()

    def _check_task_action(self) -> None:
        task = self.task_combo.currentData()
        for action in self.task_actions.actions():
            action.setChecked(action.data() == task)

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
        with focus.kept(self):
            paths, _ = QFileDialog.getOpenFileNames(
                self, translate("MainWindow", "Open images or PDFs"), "", open_filter())
        if paths:
            self.open_paths([Path(p) for p in paths])

    def choose_folder(self) -> None:
        with focus.kept(self):
            folder = QFileDialog.getExistingDirectory(
                self, translate("MainWindow", "Recognise every image and PDF in"))
        if folder:
            self.open_paths([Path(folder)])

    def open_paths(self, paths: list[Path]) -> None:
        """One file opens in the viewer (an image is recognised at once); several files or
        a folder become a batch: the first is shown, all are recognised in the queue."""
        if not paths:
            return
        files = pl.expand_inputs(paths)
        if len(paths) == 1 and not paths[0].is_dir():
            self.state_label.setText(translate("MainWindow", "Opening {name}…").format(
                name=paths[0].name))
            self.loader.open_file(paths[0])
            return
        if not files:
            self.notifications.notify(translate("MainWindow", "{name} holds no images or PDFs.")
                                      .format(name=paths[0].name), Severity.INFO)
            return
        self.start_batch(files)

    def start_batch(self, files: list[Path], *, run_id: int | None = None,
                    sources: list[pl.Source] | None = None) -> None:
        if self.runs.busy and self.runs.kind in ("batch", "resume", "document"):
            if not self._confirm_stop(translate("MainWindow", "Start a new batch?")):
                return
        sources = sources or [self._file_source(p) for p in files]
        self.add_batch_panel()
        self.state_label.setText(translate("MainWindow", "Recognising {n} files…").format(
            n=len(sources)))
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
            empty = self.recent_menu.addAction(translate("MainWindow", "(no recent files)"))
            empty.setProperty("placeholder", True)  # not a command (Help > Keyboard shortcuts)
            empty.setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction(translate("MainWindow", "Clear the list"), self._clear_recent)

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
        self.page_count_label.setText(translate("MainWindow", " of {n} ").format(
            n=document.page_count))
        self.result_view.reset()
        self.result_scope.setCurrentIndex(0)
        with focus.leaving(self.empty_state, self.page_view):  # its Open button had it, maybe
            self.stack.setCurrentWidget(self.viewer)
        if self.settings.page_cache_mb > 0:
            document.cache.max_bytes = self.settings.page_cache_mb * 1024 * 1024
        self.thumb_strip.setVisible(document.page_count > 1)
        self.setWindowTitle(f"{session.name} — {APP_NAME}")
        self.state_label.setText(f"{session.name}: " + count(
            document.page_count, translate("MainWindow", "1 page"),
            translate("MainWindow", "{n} pages")))
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
        self.page_label.setText(translate("MainWindow", "Page {n} of {total}").format(
            n=index + 1, total=doc.page_count))
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
        self.page_label.setText(translate("MainWindow", "Page {n} of {total}").format(
            n=index + 1, total=page.document.page_count) + f" · {w:.0f} × {h:.0f} {unit}")

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
        return translate("MainWindow", "{name}, page {n}").format(name=session.name,
                                                                   n=self.current_index + 1)

    def recognise_current(self) -> None:
        """OCR the current page: every region in order (no region: the whole page). Again
        while its run is going: start over with what is chosen now (task, regions)."""
        if self.current_page() is None:
            self.notifications.notify(translate("MainWindow", "Open or drop an image first."),
                                      Severity.INFO)
            return
        if self.runs.busy and self.runs.kind in ("document", "batch", "resume"):
            self.notifications.notify(translate("MainWindow", "A whole document or batch is being "
                                                "recognised; cancel it first."), Severity.INFO)
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
                note = preset.cpu.note(self.language)
                self.notifications.notify(
                    f"{preset.title(self.language)}: {note} " + translate(
                        "MainWindow", "A vision-language engine (InternVL3) does this task "
                        "properly."), Severity.INFO)

    def recognise_all(self) -> None:
        """Recognise every page not done yet, with progress; cancel keeps what finished."""
        session = self.session
        if session is None:
            self.notifications.notify(translate("MainWindow", "Open a document first."),
                                      Severity.INFO)
            return
        if self.runs.busy and self.runs.kind in ("document", "batch", "resume"):
            return
        pages = session.pages_to_do()
        if not pages:
            self.notifications.notify(translate("MainWindow", "Every page is recognised already. "
                                                "Use Recognise > Clear results to start again."),
                                      Severity.INFO)
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
            self.results_label.setText(translate("MainWindow", "Results: {what}").format(
                what=info.label))
            self.state_label.setText(translate("MainWindow", "Recognising {what}…").format(
                what=info.label))
        elif info.kind == "document":
            self.batch_bar.progress.setRange(0, 0)
            self.batch_bar.label.setText(translate("MainWindow", "starting…"))
            self.batch_bar.show()
            self.state_label.setText(translate("MainWindow", "Recognising {what}…").format(
                what=info.label))
        self._update_actions()

    def _on_part_started(self, part: pl.Part) -> None:
        if not self._live_run():
            return
        self._start_live_tables(label_of(part), part.task)
        if self._run_multi:
            self.result_view.append_text(("\n\n" if self._run_parts_seen else "")
                                         + f"[{region_name(part.region_label) or translate('MainWindow', 'Page')}]\n")
        self._run_parts_seen += 1

    def _on_text(self, part: pl.Part, text: str) -> None:
        if self._live_run():
            self.result_view.append_text(text)
            if self._live is not None:
                self._live.feed(text)

    def _on_waiting(self, part: pl.Part, seconds: float) -> None:
        if seconds >= 2:
            self.state_label.setText(translate("MainWindow", "{what}: waiting for the server… {s} s")
                                     .format(what=label_of(part), s=f"{seconds:.0f}"))

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
                self.result_view.append_text(f"[{localize(result.error)}]")
                self.notifications.notify(f"{result_label(result)}: {localize(result.error)}",
                                          Severity.ERROR)
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
            self.notifications.notify(event.result.error, Severity.ERROR)  # localised when shown

    def _on_progress(self, progress: pl.Progress) -> None:
        if self.runs.kind != "document":
            return
        from desktop_ocr.gui.batch_panel import format_eta

        total = progress.total
        self.batch_bar.progress.setRange(0, max(total, 1))
        self.batch_bar.progress.setValue(progress.done)
        parts = translate("MainWindow", "{done} / {total} parts").format(done=progress.done,
                                                                          total=total)
        self.batch_bar.label.setText(
            parts + " · " + translate("MainWindow", "{eta} left").format(eta=format_eta(progress.eta))
            if progress.done < total else parts)

    def _end_run(self) -> float:
        seconds = self._stop_clock()
        self.result_view.flush()
        self._close_live_tables()
        # The bar's Cancel had the focus, maybe: the keyboard goes back to the page.
        with focus.leaving(self.batch_bar, self._focus_fallback()):
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
            self.state_label.setText(localize(summary.stopped) or translate(
                "MainWindow", "Answered in {s} s").format(s=f"{seconds:.1f}"))
            return
        if self._live_run(info):
            self._show_result_tools()
        if info.kind == "document":
            pages = len({r.page for r in results if r.ok})
            self.state_label.setText(localize(summary.stopped) or translate(
                "MainWindow", "Recognised {n} pages of {what} in {s} s").format(
                n=pages, what=info.label, s=f"{seconds:.1f}"))
            if self.session is not None and self._run_session is self.session:
                self.result_scope.setCurrentIndex(1)
                self.show_results()
            return
        if info.kind in ("batch", "resume"):
            done = len({r.source for r in results if r.ok})
            self.state_label.setText(localize(summary.stopped) or translate(
                "MainWindow", "Recognised {n} of {total} files in {s} s").format(
                n=done, total=len(info.sources), s=f"{seconds:.1f}"))
            return
        finishes = {r.finish for r in results if r.ok}
        self._note_cpu_limits(results)
        engine = next((r.engine for r in results if r.engine), "")
        message = localize(summary.stopped) or translate(
            "MainWindow", "Recognised {what} in {s} s with {engine}").format(
            what=info.label, s=f"{seconds:.1f}",
            engine=engine_name(engine) if engine else translate("MainWindow", "the PDF text"))
        repetition = FinishReason.REPETITION.value in finishes
        if FinishReason.LENGTH.value in finishes:
            message += translate("MainWindow", " — output cut at the token limit")
            self.notifications.notify(translate("MainWindow", "The output was cut at the token limit."),
                                      Severity.WARNING)
        elif repetition:
            message += translate("MainWindow", " — stopped a repetition loop")
            self.notifications.notify(translate(
                "MainWindow", "The model kept repeating itself, so the result was stopped and is "
                "cut. Try Recognise > Retry with stronger repetition penalty, or a smaller region."),
                Severity.WARNING)
        self.retry_action.setEnabled(repetition)
        if results and not any(r.text.strip() for r in results if r.ok) and not summary.stopped:
            message += translate("MainWindow", " — no text found")
        self.state_label.setText(message)
        if info.kind in ("paste", "snip", "watch"):
            self._copy_task = self.capture.copy_result(info.kind, self.clipboard_payload())

    def _on_run_failed(self, info: RunInfo, message: str) -> None:
        self._end_run()
        self.state_label.setText(translate("MainWindow", "Recognition failed"))

    def _on_run_cancelled(self, info: RunInfo) -> None:
        seconds = self._end_run()
        if info.kind == "document":
            self.state_label.setText(translate(
                "MainWindow", "Cancelled after {s} s; the pages done are kept, Recognise all pages "
                "resumes").format(s=f"{seconds:.1f}"))
        elif info.kind not in ("batch", "resume"):
            self.state_label.setText(translate("MainWindow", "Cancelled after {s} s").format(
                s=f"{seconds:.1f}"))

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
            self.results_label.setText(translate("MainWindow", "Results: {n} of {total} pages").format(
                n=len(session.done_pages()), total=session.page_count))
        else:
            text = session.page_text(self.current_index) if self.current_index >= 0 else ""
            done = bool(session.results(self.current_index))
            self.results_label.setText(
                (translate("MainWindow", "Results: page {n}") if done else
                 translate("MainWindow", "Results: page {n} (not recognised yet)")).format(
                    n=self.current_index + 1))
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
            self.notifications.notify(translate("MainWindow", "There is no text to copy yet."),
                                      Severity.INFO)
            return
        self._copy_task = asyncio.ensure_future(self.capture.copy(payload))

    # ---------------------------------------------------------------- export

    def choose_export(self) -> None:
        session = self.session
        if session is None or not session.done_pages():
            self.notifications.notify(translate("MainWindow", "Nothing to export yet: recognise a "
                                                "page first."), Severity.INFO)
            return
        stem = Path(session.name).stem
        # A document with tables most likely goes to a spreadsheet.
        suffix = ".xlsx" if self._has_tables() else ".txt"
        start = str((session.path.parent if session.path else Path.home()) / f"{stem}{suffix}")
        from desktop_ocr.gui.file_filters import export_filter, filter_for

        chosen = filter_for(suffix[1:])
        with focus.kept(self):
            path, selected = QFileDialog.getSaveFileName(
                self, translate("MainWindow", "Export results"), start, export_filter(), chosen)
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
                self.state_label.setText(translate("MainWindow", "Exporting to {name} failed")
                                         .format(name=path.name))
                return
            except Exception as exc:
                self.notifications.report(exc, translate("MainWindow", "Exporting to {name} failed")
                                          .format(name=path.name))
                return
            self.state_label.setText(count(pages, translate("MainWindow", "Exported 1 page to {path}"),
                                           translate("MainWindow", "Exported {n} pages to {path}"))
                                     .replace("{path}", str(written)))

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
        tabs.addTab(self.result_view, translate("MainWindow", "Text"))
        tabs.addTab(self.table_tabs, translate("MainWindow", "Table"))
        tabs.setTabToolTip(1, translate("MainWindow", "The answer's tables as editable grids; export "
                                                      "and copy use them as edited"))
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
            self._keep_tables((result.page - 1, result.region_id), live.models or models_for_text(
                result.text, result.label, task=result.task))

    def _keep_tables(self, key: tuple[int, str], models: list[TableModel]) -> None:
        """The grids of a stored result; an edit in one of them is saved with the result
        (and in the library) once the editing pauses."""
        self.page_tables[key] = models
        for model in models:
            model.undo_stack.indexChanged.connect(
                lambda _i, key=key, models=models: self._tables_edited(key, models))

    def _tables_edited(self, key: tuple[int, str], models: list[TableModel]) -> None:
        import shiboken6

        # Undo stacks emit while a closing window deletes its models: nothing to save then.
        if not shiboken6.isValid(self) or not shiboken6.isValid(self._tables_save):
            return
        if self.page_tables.get(key) is models:
            self._edited_keys.add(key)
            self._tables_save.start()

    def _save_edited_tables(self) -> None:
        session, keys = self.session, self._edited_keys
        self._edited_keys = set()
        if session is None:
            return
        for index, region_id in keys:
            models = self.page_tables.get((index, region_id))
            result = next((r for r in session.results(index) if r.region_id == region_id), None)
            if not models or result is None or any(m.streaming for m in models):
                continue
            tables = [m.to_table() for m in models]
            session.set_tables(result, tables)
            if self.library is not None and result.id is not None:
                self._library_task = asyncio.ensure_future(
                    self.library.update_tables(result.id, tables))

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
                    self._keep_tables(key, [TableModel(t, title=translate("TableView", "Table {n}")
                                                       .format(n=i + 1), source=result_label(result))
                                            for i, t in enumerate(result.tables)])
                else:
                    self._keep_tables(key, models_for_text(result.text, result_label(result),
                                                           task=result.task))
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
        toggle.setText(translate("MainWindow", "&Engine panel"))
        toggle.setShortcut(QKeySequence("Ctrl+Shift+E"))
        toggle.setStatusTip(translate("MainWindow", "Choose, start and stop the recognition engine; "
                                                    "GPU and CPU meters"))
        self._icons[toggle] = "engine"
        toggle.setIcon(look.icon("engine"))
        self.engine_panel_action = toggle
        self.view_menu.insertAction(self._panels_end, toggle)

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
        dock = QDockWidget(translate("MainWindow", "History"), self)
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
            self.state_label.setText(translate("MainWindow", "Opening {name}…").format(name=path.name))
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
        self.state_label.setText(translate("MainWindow", "{what}: stored result from {when}").format(
            what=result_label(result),
            when=time.strftime('%Y-%m-%d %H:%M', time.localtime(result.created))))
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
                count(len(sources),
                      translate("MainWindow", "A recognition of 1 file ({names}) did not finish "
                                "last time."),
                      translate("MainWindow", "A recognition of {n} files ({names}) did not finish "
                                "last time.")).replace("{names}", names), Severity.INFO,
                actions=((translate("MainWindow", "Resume"),
                          functools.partial(self.resume_run, run.id, sources)),))

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
        toggle.setText(translate("MainWindow", "&Batch panel"))
        toggle.setShortcut(QKeySequence("Ctrl+Shift+B"))
        self.batch_panel_action = toggle
        self.view_menu.insertAction(self._panels_end, toggle)

    # ---------------------------------------------------------------- language, preferences, keys

    def _build_language_menu(self) -> None:
        from desktop_ocr.gui.i18n import LANGUAGE_NAMES

        group = QActionGroup(self)
        for code, name in LANGUAGE_NAMES:
            action = self.language_menu.addAction(name or translate("MainWindow", "System"))
            action.setCheckable(True)
            action.setData(code)
            action.setChecked(code == self.settings.language)
            group.addAction(action)
        group.triggered.connect(lambda action: self.set_language(str(action.data())))
        self.language_actions = group

    def set_language(self, code: str) -> None:
        """Choose the window's (and the prompts') language; offers the restart it takes."""
        from desktop_ocr.gui.i18n import ui_language

        for action in self.language_actions.actions():
            action.setChecked(action.data() == code)
        if code == self.settings.language:
            return
        self.settings.language = code
        self._save_settings()
        self.bus.settingsChanged.emit()
        if ui_language(code) != self.language:
            self.offer_restart()

    def offer_restart(self) -> QMessageBox:
        """The new language shows after a restart: now (what runs is stopped cleanly), or later."""
        box = QMessageBox(QMessageBox.Icon.Question, APP_NAME, translate(
            "MainWindow", "The new language is used from the next start of {app}.").format(
            app=APP_NAME), parent=self)
        box.setInformativeText(translate("MainWindow", "Restart now? Open files can be opened "
                                                       "again; results are kept in History."))
        now = box.addButton(translate("MainWindow", "Restart now"), QMessageBox.ButtonRole.AcceptRole)
        box.addButton(translate("MainWindow", "Later"), QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(now)

        def done(_code: int) -> None:
            if box.clickedButton() is now:
                self.restart()
            box.deleteLater()

        box.finished.connect(done)
        focus.after(box, self)
        box.open()
        self.restart_box = box
        return box

    def restart(self) -> None:
        """Quit as File > Quit does (asking first if a batch runs), then start again."""
        self.restart_requested = True
        self.quit_app()
        if self.isVisible():  # the user kept the window (a batch is running)
            self.restart_requested = False

    def show_preferences(self) -> None:
        from desktop_ocr.gui.preferences import PreferencesDialog

        dialog = PreferencesDialog(self.settings, self)
        dialog.accepted.connect(lambda: self.apply_preferences(dialog.values))
        dialog.finished.connect(dialog.deleteLater)
        focus.after(dialog, self)
        dialog.open()
        self.preferences_dialog = dialog

    def apply_preferences(self, values: Settings) -> None:
        """Take the settings the Preferences dialog returned; what can change now does."""
        from desktop_ocr.gui.preferences import ENGINE_KEYS, apply_changes

        changed = apply_changes(self.settings, values)
        if not changed:
            return
        if "theme" in changed:
            look.apply_theme(self.settings.theme)
        for key, action in (("copy_snip_result", self.auto_copy_action),
                            ("watch_clipboard", self.watch_action),
                            ("close_to_tray", self.close_to_tray_action),
                            ("prefer_text_layer", self.prefer_text_action)):
            if key in changed:
                action.setChecked(getattr(self.settings, key))
        if "task" in changed:
            self.task_combo.setCurrentIndex(max(self.task_combo.findData(self.settings.task), 0))
        if "page_cache_mb" in changed and self.document is not None:
            self.document.cache.max_bytes = self.settings.page_cache_mb * 1024 * 1024
        if {"history_keep_days", "history_max_entries"} & changed and self.library is not None:
            if self.history_panel is not None:
                self.history_panel.widget().show_keep(self.settings.history_keep_days)
            asyncio.ensure_future(self.library.set_retention(self.settings.history_keep_days,
                                                             self.settings.history_max_entries))
        if ENGINE_KEYS & changed:
            self._engine_settings_changed()
        self._save_settings()
        self.bus.settingsChanged.emit()
        if "language" in changed:
            from desktop_ocr.gui.i18n import ui_language

            for action in self.language_actions.actions():
                action.setChecked(action.data() == self.settings.language)
            if ui_language(self.settings.language) != self.language:
                self.offer_restart()

    def _engine_settings_changed(self) -> None:
        """The engine is built again from the new settings (at once when it is idle)."""
        if self.engine_panel is not None:
            self.engine_panel.settings_changed_elsewhere()
        elif self.engines.engine is not None and not self.engines.busy:
            asyncio.ensure_future(self.engines.switch_engine(self.settings.engine))

    def _report_settings_problem(self) -> None:
        problem = getattr(self.settings, "problem", None)
        if problem is None:
            return
        if problem.keys:
            message = translate("MainWindow", "Some settings in {path} could not be used ({keys}); "
                                "they are back to their defaults.").format(
                path=problem.path, keys=", ".join(problem.keys))
        else:
            message = translate("MainWindow", "The settings file {path} could not be read, so the "
                                "defaults are used.").format(path=problem.path)
            if problem.kept is not None:
                message = sentences(message, translate("MainWindow", "The damaged file was kept as "
                                                                     "{name}.").format(name=problem.kept.name))
        self.notifications.notify(message, Severity.WARNING, problem.reason)

    def focus_page_number(self) -> None:
        self.page_spin.setFocus()
        self.page_spin.selectAll()

    def _focus_fallback(self) -> QWidget:
        """Where the keyboard goes when what had it is gone: the page, or the Open button."""
        return self.page_view if self.stack.currentWidget() is self.viewer else self.empty_state.button

    def show_shortcuts(self) -> None:
        from desktop_ocr.gui.shortcuts_dialog import ShortcutsDialog

        dialog = ShortcutsDialog(self.menuBar(), self)
        dialog.finished.connect(dialog.deleteLater)
        focus.after(dialog, self)
        dialog.open()
        self.shortcuts_dialog = dialog

    # ---------------------------------------------------------------- misc

    def show_about(self) -> None:
        with focus.kept(self):
            QMessageBox.about(
                self, translate("MainWindow", "About {app}").format(app=APP_NAME),
                f"<b>{APP_NAME}</b> {__version__}<br>" + translate(
                    "MainWindow", "Text and tables from scans, photos, screenshots and PDFs, "
                    "recognised on this computer: nothing leaves the machine.") + "<br><br>"
                + translate("MainWindow", "Log file: {path}").format(path=log_file()),
            )

    def _confirm_stop(self, question: str) -> bool:
        box = QMessageBox(QMessageBox.Icon.Question, APP_NAME,
                          sentences(translate("MainWindow", "A recognition is running ({what}).").format(
                              what=self.runs.info.label if self.runs.info else ""), question),
                          parent=self)
        box.setInformativeText(translate("MainWindow", "What finished is kept in History; the rest "
                                                       "can be resumed."))
        stop = box.addButton(translate("MainWindow", "Stop it"), QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        with focus.kept(self):
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
            self.bus.say.emit(translate("MainWindow", "Still running in the tray. Quit from its menu."))
            return
        if self.runs.busy and self.runs.kind in ("document", "batch", "resume") \
                and not self._confirm_stop(translate("MainWindow", "Quit anyway?")):
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
