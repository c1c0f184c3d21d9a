"""The model manager: which models are on disk, and downloading, pausing, resuming,
cancelling and removing them (View > Engine panel > Models…).

`ModelDownloads` owns the download jobs (engines/model_download.py: each a child
process) so they go on when the dialog closes; the dialog is a view of it and of the
model store. Scanning the disk runs in a worker thread; the jobs report on the event
loop; widgets are touched on the GUI thread only.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import Coroutine
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_ocr.core import catalog
from desktop_ocr.core.notifications import NotificationManager, Severity
from desktop_ocr.core.settings import Settings
from desktop_ocr.engines.model_download import DownloadJob, JobState
from desktop_ocr.engines.model_store import SOURCES, LocalModel, ModelStore, PartialDownload
from desktop_ocr.gui import focus
from desktop_ocr.gui.i18n import localize, sentences, translate

SOURCE_CHOICES: tuple[tuple[str, str], ...] = (
    ("hf", "Hugging Face"),
    ("mirror", QT_TRANSLATE_NOOP("ModelManager", "A Hugging Face mirror (URL)")),
    ("modelscope", QT_TRANSLATE_NOOP("ModelManager", "ModelScope (魔搭)")),
)
COLUMNS = (QT_TRANSLATE_NOOP("ModelManager", "Model"), QT_TRANSLATE_NOOP("ModelManager", "Family"),
           QT_TRANSLATE_NOOP("ModelManager", "Download"),
           QT_TRANSLATE_NOOP("ModelManager", "VRAM needed"),
           QT_TRANSLATE_NOOP("ModelManager", "Engine"), QT_TRANSLATE_NOOP("ModelManager", "Licence"),
           QT_TRANSLATE_NOOP("ModelManager", "On this computer"))


def size_text(n: float) -> str:
    if n >= 1e8:
        return f"{n / 1e9:.1f} GB"
    return f"{n / 1e6:.0f} MB" if n >= 1e6 else f"{max(1, round(n / 1e3))} kB"


class ModelDownloads(QObject):
    """The running and stopped downloads of this session (one job per model)."""

    changed = Signal(object)  # DownloadJob
    finished = Signal(object)  # DownloadJob, in a final state (done, failed, cancelled, paused)

    def __init__(self, settings: Settings, notifications: NotificationManager,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.notifications = notifications
        self.jobs: dict[str, DownloadJob] = {}
        self.env: dict[str, str] | None = None  # tests point the child at the fake hub

    def store(self) -> ModelStore:
        return ModelStore.from_settings(self.settings)

    def job(self, name: str) -> DownloadJob | None:
        return self.jobs.get(name)

    @property
    def active(self) -> DownloadJob | None:
        return next((j for j in self.jobs.values() if j.state == JobState.RUNNING), None)

    def start(self, name: str, source: str) -> DownloadJob:
        """Start or resume `name` from `source` ("hf", "modelscope" or a mirror URL)."""
        job = self.jobs.get(name)
        if job is None or job.source != source or job.state == JobState.DONE:
            job = DownloadJob(name, self.store().root, source=source, on_change=self._on_change, env=self.env)
            self.jobs[name] = job
        job.start()
        return job

    def pause(self, name: str) -> None:
        if (job := self.jobs.get(name)) is not None:
            job.pause()

    def cancel(self, name: str) -> None:
        job = self.jobs.get(name)
        if job is None:  # a download stopped in an earlier session: remove its files
            job = DownloadJob(name, self.store().root, on_change=self._on_change)
            self.jobs[name] = job
        job.cancel()

    def _on_change(self, job: DownloadJob) -> None:
        self.changed.emit(job)
        if job.state in (JobState.DONE, JobState.FAILED, JobState.CANCELLED, JobState.PAUSED):
            self.finished.emit(job)
            if job.state == JobState.DONE:
                self.notifications.notify(translate("ModelManager", "{name} is downloaded and ready "
                                                                    "to use.").format(name=job.name),
                                          Severity.INFO)
            elif job.state == JobState.FAILED:
                self.notifications.notify(translate("ModelManager", "Downloading {name} failed: {why}")
                                          .format(name=job.name,
                                                  why=sentences(localize(job.message), localize(job.hint))),
                                          Severity.ERROR)

    def stop_all(self) -> None:
        """Pause every running download (the partial files stay for a resume)."""
        for job in self.jobs.values():
            if job.running:
                job.pause()


class ModelManagerDialog(QDialog):
    """Which models are on disk, their sizes and VRAM needs; download and remove them."""

    modelsChanged = Signal()

    def __init__(self, downloads: ModelDownloads, notifications: NotificationManager,
                 parent: QWidget | None = None, *, advised: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle(translate("ModelManager", "Models"))
        self.setObjectName("modelManager")
        self.downloads = downloads
        self.settings = downloads.settings
        self.notifications = notifications
        self.advised = advised
        self.catalog = catalog.load()
        self._local: list[LocalModel] = []
        self._partials: dict[str, PartialDownload] = {}
        self._tasks: set[asyncio.Task] = set()
        self._confirm_remove = ""
        self._build()
        downloads.changed.connect(self._on_job)
        downloads.finished.connect(lambda _job: self.refresh())
        self.refresh()

    # ------------------------------------------------------------ construction

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        self.folder_label = QLabel()
        self.folder_label.setWordWrap(True)
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.folder_label)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels([translate("ModelManager", c) for c in COLUMNS])
        self.table.setAccessibleName(translate("ModelManager", "Models"))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        layout.addWidget(self.table, 1)

        source_row = QHBoxLayout()
        source_label = QLabel(translate("ModelManager", "Download &from"))
        source_row.addWidget(source_label)
        self.source_combo = QComboBox()
        self.source_combo.setAccessibleName(translate("ModelManager", "Download from"))
        source_label.setBuddy(self.source_combo)
        for key, label in SOURCE_CHOICES:
            self.source_combo.addItem(translate("ModelManager", label), key)
        self.mirror_edit = QLineEdit()
        self.mirror_edit.setPlaceholderText("https://hf-mirror.com")
        self.mirror_edit.setAccessibleName(translate("ModelManager", "Mirror address"))
        source = self.settings.model_source
        if source.startswith("http"):
            self.source_combo.setCurrentIndex(self.source_combo.findData("mirror"))
            self.mirror_edit.setText(source)
        else:
            self.source_combo.setCurrentIndex(max(0, self.source_combo.findData(source)))
        self.source_combo.currentIndexChanged.connect(self._source_changed)
        self.mirror_edit.editingFinished.connect(self._source_changed)
        source_row.addWidget(self.source_combo)
        source_row.addWidget(self.mirror_edit, 3)
        source_row.addStretch(1)  # takes the room while the URL field is hidden
        layout.addLayout(source_row)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress.setAccessibleName(translate("ModelManager", "Download progress"))
        self.progress_label = QLabel()
        self.progress_label.setWordWrap(True)
        layout.addWidget(self.progress)
        layout.addWidget(self.progress_label)

        buttons = QHBoxLayout()
        self.download_button = QPushButton(translate("ModelManager", "Download"))
        self.download_button.clicked.connect(self.download_selected)
        self.pause_button = QPushButton(translate("ModelManager", "Pause"))
        self.pause_button.clicked.connect(self.pause_selected)
        self.cancel_button = QPushButton(translate("ModelManager", "Cancel download"))
        self.cancel_button.clicked.connect(self.cancel_selected)
        self.remove_button = QPushButton(translate("ModelManager", "Delete from disk"))
        self.remove_button.clicked.connect(self.remove_selected)
        self.add_folder_button = QPushButton(translate("ModelManager", "Add folder…"))
        self.add_folder_button.setToolTip(translate("ModelManager", "A folder that holds models (or "
                                                                    "is one), e.g. downloaded by hand"))
        self.add_folder_button.clicked.connect(lambda: self.add_folder())
        self.open_button = QPushButton(translate("ModelManager", "Open folder"))
        self.open_button.clicked.connect(self.open_selected)
        for b in (self.download_button, self.pause_button, self.cancel_button, self.remove_button,
                  self.open_button, self.add_folder_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        close = QPushButton(translate("ModelManager", "Close"))
        close.clicked.connect(self.accept)
        buttons.addWidget(close)
        layout.addLayout(buttons)
        self._source_changed()
        self.resize(900, 560)

    # ------------------------------------------------------------ helpers

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    @property
    def source(self) -> str:
        key = self.source_combo.currentData()
        if key == "mirror":
            return self.mirror_edit.text().strip().rstrip("/")
        return str(key)

    def selected(self) -> str:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return ""
        item = self.table.item(rows[0].row(), 0)
        return str(item.data(Qt.ItemDataRole.UserRole)) if item is not None else ""

    def select(self, name: str) -> None:
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            if item is not None and item.data(Qt.ItemDataRole.UserRole) == name:
                self.table.selectRow(row)
                self.table.scrollToItem(item)
                return

    def _source_changed(self, *_args: Any) -> None:
        self.mirror_edit.setVisible(self.source_combo.currentData() == "mirror")
        source = self.source
        valid = source in ("hf", "modelscope") or source.startswith(("http://", "https://"))
        if valid and source != self.settings.model_source:
            self.settings.model_source = source  # the next start of the app offers the same
            self._spawn(asyncio.to_thread(_save_copy, self.settings))
        self._update_buttons()

    # ------------------------------------------------------------ the table

    def refresh(self) -> asyncio.Task:
        async def run() -> None:
            store = self.downloads.store()
            try:
                local, partials, free = await asyncio.to_thread(_scan, store)
            except Exception as exc:
                self.notifications.report(exc, translate("ModelManager", "Reading the models folder "
                                                                         "failed"))
                return
            self._local = local
            self._partials = {p.name: p for p in partials}
            self.folder_label.setText(translate(
                "ModelManager", "Models are downloaded to {folder} ({free} free there). Models in the "
                "Hugging Face and ModelScope caches and in added folders are found too.").format(
                folder=store.root, free=size_text(free)))
            self._fill()
            self.modelsChanged.emit()

        return self._spawn(run())

    def _fill(self) -> None:
        keep = self.selected()
        self.table.setRowCount(0)
        names: list[str] = []
        for m in self.catalog.models:
            names.append(m.name)
            fam = self.catalog.family(m.family).title
            size = ("~" if m.weights_estimated else "") + size_text(m.weights_gb * 1e9)
            cells = [m.name + (translate("ModelManager", "  ★ advised") if m.name == self.advised else ""),
                     fam, size, f"{m.need_gib(self.settings.session_len):.1f} GiB", m.backend,
                     m.licence + ("" if m.licence_seen else translate("ModelManager", " (check the card)")),
                     self._status(m.name)]
            self._add_row(m.name, cells, m.note)
        for lm in self._local:
            if lm.entry is None and lm.name not in names:
                names.append(lm.name)
                fam = self.catalog.family_of(str(lm.path))
                self._add_row(lm.name, [lm.name, fam.title if fam else "?", "", "", "", "",
                                        self._status(lm.name)], str(lm.path))
        if keep:
            self.select(keep)
        self._update_buttons()

    def _add_row(self, name: str, cells: list[str], tip: str) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        for col, text in enumerate(cells):
            item = QTableWidgetItem(text)
            if col == 0:
                item.setData(Qt.ItemDataRole.UserRole, name)
            if tip:
                item.setToolTip(tip)
            self.table.setItem(row, col, item)

    def _copies(self, name: str) -> list[LocalModel]:
        return [lm for lm in self._local if lm.name == name]

    def _status(self, name: str) -> str:
        job = self.downloads.job(name)
        if job is not None and job.state in (JobState.RUNNING, JobState.FAILED):
            return (translate("ModelManager", "downloading: {what}") if job.state == JobState.RUNNING
                    else translate("ModelManager", "failed: {what}")).format(what=job.describe())
        done = [c for c in self._copies(name) if c.complete]
        if done:
            c = done[0]
            return translate("ModelManager", "{size} in {path} ({where})").format(
                size=size_text(c.size_bytes), path=c.path, where=SOURCES[c.source])
        part = self._partials.get(name)
        if part is not None:
            return translate("ModelManager", "download stopped at {n} % ({size}): Download resumes "
                                             "it").format(n=f"{100 * part.fraction:.0f}",
                                                          size=size_text(part.done_bytes))
        broken = [c for c in self._copies(name) if not c.complete]
        if broken:
            return translate("ModelManager", "incomplete: {problem} ({path})").format(
                problem=broken[0].problem, path=broken[0].path)
        return "—"

    def _on_job(self, job: DownloadJob) -> None:
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            if item is not None and item.data(Qt.ItemDataRole.UserRole) == job.name:
                cell = self.table.item(row, len(COLUMNS) - 1)
                if cell is not None:
                    cell.setText(self._status(job.name))
        self._show_progress(job)
        self._update_buttons()

    def _show_progress(self, job: DownloadJob | None) -> None:
        self.progress.setVisible(job is not None)
        if job is None:
            self.progress.setValue(0)
            self.progress.setFormat("")
            self.progress_label.setText("")
            return
        self.progress.setValue(int(1000 * job.fraction))
        self.progress.setFormat(f"{job.name}: {100 * job.fraction:.0f} %")
        text = localize(job.describe())
        if job.state == JobState.FAILED and job.hint:
            text = sentences(text, localize(job.hint))
        self.progress_label.setText(text)

    # ------------------------------------------------------------ actions

    def _update_buttons(self) -> None:
        name = self.selected()
        job = self.downloads.job(name) if name else None
        running = job is not None and job.state == JobState.RUNNING
        on_disk = any(c.complete for c in self._copies(name))
        removable = any(c.source in ("app", "hf-cache") for c in self._copies(name)) or name in self._partials
        entry = self.catalog.get(name) if name else None
        source_ok = bool(self.source) and (self.source != "modelscope" or (entry is not None and entry.modelscope))
        busy = self.downloads.active is not None
        self.download_button.setEnabled(bool(name) and entry is not None and not on_disk and not busy and source_ok)
        self.download_button.setText(translate("ModelManager", "Resume")
                                     if name in self._partials or (job and job.state == JobState.PAUSED)
                                     else translate("ModelManager", "Download"))
        self.pause_button.setEnabled(running)
        self.cancel_button.setEnabled(running or name in self._partials)
        self.remove_button.setEnabled(bool(name) and removable and not running)
        if self._confirm_remove != name:
            self.remove_button.setText(translate("ModelManager", "Delete from disk"))
        self.open_button.setEnabled(on_disk)
        if job is not None:
            self._show_progress(job)
        elif not busy:
            self._show_progress(None)

    def download_selected(self) -> None:
        name = self.selected()
        if not name:
            return
        self.start_download(name)

    def start_download(self, name: str) -> DownloadJob | None:
        """Start (or resume) `name` from the chosen source, after a free-disk look."""
        source = self.source
        if not source:
            self.notifications.notify(translate("ModelManager", "Enter the mirror's address first (e.g. "
                                                                "https://hf-mirror.com)."),
                                      Severity.WARNING)
            return None
        entry = self.catalog.get(name)
        root = self.downloads.store().root
        if entry is not None:
            root.mkdir(parents=True, exist_ok=True)
            have = self._partials[name].done_bytes if name in self._partials else 0
            free = shutil.disk_usage(root).free
            if entry.weights_gb * 1e9 - have > free:
                self.notifications.notify(translate(
                    "ModelManager", "{name} needs about {need} more; {folder} has {free} free. Free "
                    "some space first.").format(name=name, need=size_text(entry.weights_gb * 1e9 - have),
                                                folder=root, free=size_text(free)), Severity.WARNING)
                return None
        try:
            job = self.downloads.start(name, source)
        except OSError as exc:
            self.notifications.report(exc, translate("ModelManager", "Starting the download of {name} "
                                                                     "failed").format(name=name))
            return None
        self.select(name)
        self._on_job(job)
        return job

    def pause_selected(self) -> None:
        self.downloads.pause(self.selected())

    def cancel_selected(self) -> None:
        name = self.selected()
        if name:
            self.downloads.cancel(name)
            self.refresh()

    def remove_selected(self) -> None:
        name = self.selected()
        if not name:
            return
        if self._confirm_remove != name:
            # A second click deletes: a dialog box would be one more window for one yes.
            self._confirm_remove = name
            size = sum(c.size_bytes for c in self._copies(name) if c.source in ("app", "hf-cache"))
            self.remove_button.setText(translate("ModelManager", "Click again to delete {size}").format(
                size=size_text(size)))
            QTimer.singleShot(4000, self._reset_remove)
            return
        self._confirm_remove = ""
        self.remove_button.setText(translate("ModelManager", "Delete from disk"))

        async def run() -> None:
            store = self.downloads.store()
            try:
                await asyncio.to_thread(store.remove, name)
            except (PermissionError, OSError) as exc:
                self.notifications.notify(str(exc), Severity.WARNING)
            await self.refresh()

        self._spawn(run())

    def _reset_remove(self) -> None:
        self._confirm_remove = ""
        self.remove_button.setText(translate("ModelManager", "Delete from disk"))

    def add_folder(self, folder: str | None = None) -> None:
        if folder is None:
            with focus.kept(self, self.table):
                folder = QFileDialog.getExistingDirectory(self, translate("ModelManager", "A folder "
                                                                                          "with models"))
        if not folder:
            return
        if folder not in self.settings.model_folders:
            self.settings.model_folders = [*self.settings.model_folders, folder]
            self._spawn(asyncio.to_thread(_save_copy, self.settings))
        self.refresh()

    def open_selected(self) -> None:
        done = [c for c in self._copies(self.selected()) if c.complete]
        if done:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(done[0].path)))

    async def shutdown(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task


def _scan(store: ModelStore) -> tuple[list[LocalModel], list[PartialDownload], int]:
    store.root.mkdir(parents=True, exist_ok=True)
    return store.scan(), store.partials(), shutil.disk_usage(store.root).free


def _save_copy(settings: Settings) -> None:
    import copy

    copy.deepcopy(settings).save()

