"""The batch queue: several files or a folder, each with its progress; pause, cancel, export.

Fed by the run controller's signals while a batch runs (kind "batch" or "resume"); what
finished stays listed (and in the library) after a cancel. Export writes the whole batch
to one workbook (a sheet per table and a Sources sheet) or one file per input into a
folder, from the results as recognised, without OCR again.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop_ocr.core import pipeline as pl
from desktop_ocr.core.export import ExportError
from desktop_ocr.core.notifications import NotificationManager, Severity
from desktop_ocr.core.results import PartResult
from desktop_ocr.gui import focus, look
from desktop_ocr.gui.export_task import export_results
from desktop_ocr.gui.i18n import count, localize, translate

_Index = QModelIndex | QPersistentModelIndex
COLUMNS = (QT_TRANSLATE_NOOP("BatchPanel", "File"), QT_TRANSLATE_NOOP("BatchPanel", "Status"),
           QT_TRANSLATE_NOOP("BatchPanel", "Pages"))
STATUS = {
    "queued": QT_TRANSLATE_NOOP("BatchPanel", "queued"),
    "running": QT_TRANSLATE_NOOP("BatchPanel", "running"),
    "done": QT_TRANSLATE_NOOP("BatchPanel", "done"),
    "failed": QT_TRANSLATE_NOOP("BatchPanel", "failed"),
    "stopped": QT_TRANSLATE_NOOP("BatchPanel", "stopped"),
}


def format_eta(seconds: float | None) -> str:
    if seconds is None or seconds < 0:
        return translate("BatchPanel", "estimating…")
    seconds = round(seconds)
    if seconds < 60:
        return translate("BatchPanel", "{n} s").format(n=seconds)
    minutes, s = divmod(seconds, 60)
    if minutes < 60:
        return translate("BatchPanel", "{m}:{s} min").format(m=minutes, s=f"{s:02d}")
    hours, m = divmod(minutes, 60)
    return translate("BatchPanel", "{h}:{m} h").format(h=hours, m=f"{m:02d}")


@dataclass
class BatchRow:
    source: pl.Source
    status: str = "queued"  # queued | running | done | failed | stopped
    pages_total: int = 0
    pages_done: set[int] = field(default_factory=set)
    parts_total: int = 0
    parts_done: int = 0
    failed: int = 0
    message: str = ""
    results: list[PartResult] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.source.name


class BatchModel(QAbstractTableModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[BatchRow] = []

    def reset(self, sources: list[pl.Source]) -> None:
        self.beginResetModel()
        self.rows = [BatchRow(s) for s in sources]
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008 - Qt API
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008 - Qt API
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802 - Qt API
                   role: int = Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal \
                and 0 <= section < len(COLUMNS):
            return translate("BatchPanel", COLUMNS[section])
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        row = self.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return row.name
            if col == 1:
                if row.failed and row.status == "done":
                    return translate("BatchPanel", "done, {n} failed").format(n=row.failed)
                return translate("BatchPanel", STATUS.get(row.status, row.status))
            if col == 2:
                return f"{len(row.pages_done)} / {row.pages_total}" if row.pages_total else ""
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == 0 and row.source.path is not None:
                return str(row.source.path)
            if row.message:
                return localize(row.message)
        return None

    def changed(self, row: int) -> None:
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))


class BatchPanel(QDockWidget):
    def __init__(self, runs, notifications: NotificationManager, parent: QWidget | None = None) -> None:
        super().__init__(translate("BatchPanel", "Batch"), parent)
        self.setObjectName("batchPanel")
        self.runs = runs
        self.notifications = notifications
        self.model = BatchModel(self)
        self._active = False
        self._began = 0.0
        self._export_task: asyncio.Task | None = None
        body = QWidget()
        layout = QVBoxLayout(body)
        self.summary = QLabel(translate("BatchPanel", "No batch yet. Drop several files or a folder "
                                                      "on the window."))
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.bar = QProgressBar()
        self.bar.setTextVisible(False)
        self.bar.setAccessibleName(translate("BatchPanel", "Batch progress"))
        layout.addWidget(self.bar)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setAccessibleName(translate("BatchPanel", "Batch files"))
        look.focus_ring(self.table, "batchTable")
        layout.addWidget(self.table, 1)
        buttons = QHBoxLayout()
        self.pause_button = QPushButton(translate("BatchPanel", "Pause"))
        self.pause_button.setToolTip(translate("BatchPanel", "Start no new page; the ones running "
                                                             "finish"))
        self.pause_button.clicked.connect(self.toggle_pause)
        self.cancel_button = QPushButton(translate("BatchPanel", "Cancel"))
        self.cancel_button.setToolTip(translate("BatchPanel", "Stop; what finished is kept (Esc)"))
        self.cancel_button.clicked.connect(runs.cancel)
        self.export_button = QPushButton(translate("BatchPanel", "Export…"))
        menu = QMenu(self.export_button)
        self.export_one_action = menu.addAction(translate("BatchPanel", "One file (a workbook, a searchable PDF…)…"),
                                                self.choose_workbook)
        self.export_folder_action = menu.addAction(translate("BatchPanel", "One file per input, "
                                                                           "into a folder…"),
                                                   self.choose_folder)
        self.export_button.setMenu(menu)
        for b in (self.pause_button, self.cancel_button, self.export_button):
            buttons.addWidget(b)
        layout.addLayout(buttons)
        self.setWidget(body)
        runs.started.connect(self._on_started)
        runs.sourceOpened.connect(self._on_opened)
        runs.sourceFailed.connect(self._on_failed)
        runs.partStarted.connect(self._on_part_started)
        runs.partFinished.connect(self._on_part_finished)
        runs.progress.connect(self._on_progress)
        runs.finished.connect(lambda info, summary: self._on_end(info, summary.stopped))
        runs.cancelled.connect(lambda info: self._on_end(info, "cancelled"))
        runs.failed.connect(lambda info, message: self._on_end(info, message))
        runs.pausedChanged.connect(self._on_paused)
        self._update_buttons()

    # ---------------------------------------------------------------- run events

    def _mine(self, info) -> bool:
        return info.kind in ("batch", "resume")

    def _on_started(self, info) -> None:
        if not self._mine(info):
            return
        self._active = True
        self._began = time.monotonic()
        self.model.reset(list(info.sources))
        self.bar.setRange(0, 0)
        self.summary.setText(count(len(info.sources), translate("BatchPanel", "1 file queued…"),
                                   translate("BatchPanel", "{n} files queued…")))
        self.show()
        self.raise_()
        self._update_buttons()

    def _on_opened(self, event: pl.SourceOpened) -> None:
        if not self._active or event.source_index >= len(self.model.rows):
            return
        row = self.model.rows[event.source_index]
        row.pages_total, row.parts_total = event.pages, event.parts
        row.status = "queued" if event.parts else "done"
        self.model.changed(event.source_index)

    def _on_failed(self, event: pl.SourceFailed) -> None:
        if not self._active or event.source_index >= len(self.model.rows):
            return
        row = self.model.rows[event.source_index]
        row.status, row.message = "failed", event.message
        row.results.append(event.result)
        self.model.changed(event.source_index)

    def _on_part_started(self, part: pl.Part) -> None:
        if self._active and part.source_index < len(self.model.rows):
            row = self.model.rows[part.source_index]
            if row.status == "queued":
                row.status = "running"
                self.model.changed(part.source_index)

    def _on_part_finished(self, part: pl.Part, result: PartResult) -> None:
        if not self._active or part.source_index >= len(self.model.rows):
            return
        row = self.model.rows[part.source_index]
        row.results.append(result)
        row.parts_done += 1
        row.pages_done.add(part.page)
        if not result.ok:
            row.failed += 1
            row.message = result.error
        if row.parts_done >= row.parts_total:
            row.status = "done" if row.failed < row.parts_total else "failed"
        self.model.changed(part.source_index)
        self.export_button.setEnabled(True)

    def _on_progress(self, progress: pl.Progress) -> None:
        if not self._active:
            return
        total = progress.total + progress.sources_left  # an unopened file counts as one
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(progress.done)
        pages_done = sum(len(r.pages_done) for r in self.model.rows)
        pages_total = sum(r.pages_total for r in self.model.rows)
        files_done = sum(r.status in ("done", "failed") for r in self.model.rows)
        more = translate("BatchPanel", " (+{n} files to open)").format(
            n=progress.sources_left) if progress.sources_left else ""
        if progress.done >= progress.total and not progress.sources_left:
            eta = ""
        elif progress.sources_left:  # parts of files not opened yet are not counted
            eta = f" · {format_eta(None)}"
        else:
            eta = " · " + translate("BatchPanel", "{eta} left").format(eta=format_eta(progress.eta))
        reused = " · " + translate("BatchPanel", "{n} reused").format(
            n=progress.reused) if progress.reused else ""
        self.summary.setText(translate("BatchPanel", "{done} / {total} files · {pages_done} / "
                                       "{pages_total} pages").format(
            done=files_done, total=len(self.model.rows), pages_done=pages_done,
            pages_total=pages_total) + f"{more}{eta}{reused}")

    def _on_end(self, info, why: str) -> None:
        if not self._mine(info) or not self._active:
            return
        self._active = False
        for i, row in enumerate(self.model.rows):
            if row.status in ("queued", "running"):
                row.status = "stopped"
                self.model.changed(i)
        seconds = time.monotonic() - self._began
        done = sum(r.status in ("done", "failed") for r in self.model.rows)
        if why == "cancelled":
            self.summary.setText(translate("BatchPanel", "Cancelled after {s} s: {done} of {total} "
                                           "files done; what finished is kept.").format(
                s=f"{seconds:.0f}", done=done, total=len(self.model.rows)))
        elif why:
            self.summary.setText(translate("BatchPanel", "Stopped: {why}").format(why=localize(why)))
        else:
            self.summary.setText(translate("BatchPanel", "Done: {n} files in {s} s.").format(
                n=len(self.model.rows), s=f"{seconds:.0f}"))
        self.bar.setRange(0, 1)
        self.bar.setValue(1 if not why else 0)
        self._update_buttons()
        focus.settle(self.window(), self.table)  # Pause or Cancel had it, and are disabled now

    def _on_paused(self, paused: bool) -> None:
        self.pause_button.setText(translate("BatchPanel", "Resume") if paused else
                                  translate("BatchPanel", "Pause"))
        if paused:
            self.summary.setText(self.summary.text() + translate("BatchPanel", " · paused"))

    def toggle_pause(self) -> None:
        if self.runs.paused:
            self.runs.resume()
        else:
            self.runs.pause()

    def _update_buttons(self) -> None:
        self.pause_button.setEnabled(self._active)
        self.cancel_button.setEnabled(self._active)
        self.export_button.setEnabled(bool(self.results()))
        if not self._active:
            self.pause_button.setText(translate("BatchPanel", "Pause"))

    # ---------------------------------------------------------------- export

    def results(self) -> list[PartResult]:
        return [r for row in self.model.rows for r in sorted(row.results, key=_order)]

    def choose_workbook(self) -> None:
        from desktop_ocr.gui.file_filters import export_filter, filter_for, with_suffix_of

        with focus.kept(self.window(), self.table):
            path, chosen = QFileDialog.getSaveFileName(
                self, translate("BatchPanel", "Export the batch"), str(Path.home() / "batch.xlsx"),
                export_filter(), filter_for("xlsx"))
        if path:
            self.export_to(with_suffix_of(Path(path), chosen))

    def choose_folder(self) -> None:
        with focus.kept(self.window(), self.table):
            folder = QFileDialog.getExistingDirectory(
                self, translate("BatchPanel", "Export one file per input into"))
        if folder:
            self.export_to(Path(folder), per_input=True)

    def export_to(self, target: Path, *, per_input: bool = False, fmt: str | None = None
                  ) -> asyncio.Task:
        """The whole batch, as recognised (no OCR again): one file, or one per input."""
        results = self.results()

        async def run() -> None:
            summary = self.summary.text()
            try:
                # a searchable PDF reads where the text sits first (CPU engine, per page)
                written = await export_results(results, target, per_input=per_input, fmt=fmt,
                                               status=self.summary.setText)
            except ExportError as exc:
                self.notifications.notify(str(exc), Severity.ERROR)
                return
            finally:
                self.summary.setText(summary)
            where = written[0] if len(written) == 1 else target
            self.notifications.notify(count(len(written),
                                            translate("BatchPanel", "Exported the batch to 1 file: "
                                                                    "{where}"),
                                            translate("BatchPanel", "Exported the batch to {n} "
                                                                    "files: {where}"))
                                      .replace("{where}", str(where)), Severity.INFO)

        self._export_task = asyncio.ensure_future(run())
        return self._export_task


def _order(result: PartResult) -> tuple[int, str]:
    return result.page, result.region_label
