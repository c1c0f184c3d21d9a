"""The History panel: every result the library keeps, newest first, searchable as you type.

Self-contained: the window puts it in a dock and wires `openRequested` (open the source at
that page and region) and `result_stored` (a result the pipeline just stored). Every
library call is awaited on the library's own thread (core/library/ `AsyncLibrary`);
thumbnails are decoded in a worker thread; the GUI thread only turns them into pixmaps for
the rows on screen. Rows come a page at a time (`fetchMore`), so a library of 100,000
results opens as fast as one of ten.

    panel = HistoryPanel(library, settings, notifications, parent)
    panel.openRequested.connect(window.open_result)       # PartResult
    pipeline stores a result -> panel.result_stored(result_with_id)
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QImage,
    QKeySequence,
    QPainter,
    QPixmap,
    QShortcut,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QMessageBox,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_ocr.core.export import ExportError, ExportItem
from desktop_ocr.core.library import AsyncLibrary, Hit, query_terms, readable_text, snippet
from desktop_ocr.core.notifications import NotificationManager, Severity, user_message
from desktop_ocr.core.results import PartResult
from desktop_ocr.core.settings import Settings
from desktop_ocr.core.tables import Table
from desktop_ocr.gui import focus, look
from desktop_ocr.gui.export_task import export_results
from desktop_ocr.gui.file_filters import export_filters, filter_for
from desktop_ocr.gui.i18n import count, engine_name, localize, region_name, result_label, translate
from desktop_ocr.gui.region_models import task_title

log = logging.getLogger(__name__)

ModelIndex = QModelIndex | QPersistentModelIndex
PAGE_SIZE = 100
SEARCH_DELAY_MS = 200  # typing pauses this long before a query goes to the library
THUMB = 56  # thumbnail box in the list, px
KEEP_CHOICES = [(QT_TRANSLATE_NOOP("HistoryPanel", "Forever"), 0),
                (QT_TRANSLATE_NOOP("HistoryPanel", "1 year"), 365),
                (QT_TRANSLATE_NOOP("HistoryPanel", "6 months"), 182),
                (QT_TRANSLATE_NOOP("HistoryPanel", "90 days"), 90),
                (QT_TRANSLATE_NOOP("HistoryPanel", "30 days"), 30),
                (QT_TRANSLATE_NOOP("HistoryPanel", "7 days"), 7)]


def when(result: PartResult) -> str:
    return dt.datetime.fromtimestamp(result.created).strftime("%Y-%m-%d %H:%M")


def meta_line(result: PartResult) -> str:
    parts = [when(result), task_title(result.task) if result.task else ""]
    if result.engine:
        parts.append(engine_name(result.engine) + (f" · {result.model}" if result.model else ""))
    return " · ".join(p for p in parts if p)


def failed_text(error: str) -> str:
    return translate("HistoryPanel", "Failed: {error}").format(error=localize(error))


def _decode(blobs: Sequence[bytes]) -> list[QImage | None]:
    """Thumbnails to QImages, in a worker thread (QImage, unlike QPixmap, may be made there)."""
    out: list[QImage | None] = []
    for blob in blobs:
        img = QImage.fromData(blob) if blob else QImage()
        out.append(None if img.isNull() else img)
    return out


def _matches(result: PartResult, terms: list[str]) -> bool:
    """Whether a new result belongs in the list the current query shows (as the library's
    search decides: every term in the file name, text or edited cells)."""
    if not terms:
        return True
    cells = "\n".join("\t".join(row) for t in result.tables or [] for row in t.to_grid())
    hay = f"{result.name}\n{result.text}\n{cells}".lower()
    return all(t in hay for t in terms)


# ====================================================================== model

@dataclass
class _Row:
    hit: Hit
    image: QImage | None
    pixmap: QPixmap | None = None


class HistoryModel(QAbstractListModel):
    """Stored results matching a query, newest first, one page at a time from the library."""

    ResultRole = Qt.ItemDataRole.UserRole + 1  # the PartResult
    SnippetRole = Qt.ItemDataRole.UserRole + 2  # (snippet, [(start, end), ...])
    IdRole = Qt.ItemDataRole.UserRole + 3
    pageLoaded = Signal()  # a page of rows arrived (or the query found nothing)
    loadFailed = Signal(str)

    def __init__(self, library: AsyncLibrary, page_size: int = PAGE_SIZE, parent=None) -> None:
        super().__init__(parent)
        self.library = library
        self.page_size = page_size
        self._rows: list[_Row] = []
        self._query = ""
        self._more = False
        self._generation = 0
        self._task: asyncio.Task | None = None
        self._placeholder = self._blank()

    @staticmethod
    def _blank() -> QPixmap:
        pm = QPixmap(THUMB, THUMB)
        pm.fill(QColor(0, 0, 0, 0))
        painter = QPainter(pm)
        painter.setPen(QColor("#9a9a9a"))
        painter.drawRect(8, 4, THUMB - 17, THUMB - 9)
        painter.end()
        return pm

    # ---------------------------------------------------------------- loading

    @property
    def query(self) -> str:
        return self._query

    @property
    def loading(self) -> bool:
        return self._task is not None

    def set_query(self, query: str) -> None:
        """Show the results matching `query` (all when empty), from the first page."""
        self._generation += 1
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self.beginResetModel()
        self._query = query
        self._rows = []
        self._more = True
        self.endResetModel()
        self._fetch()

    def canFetchMore(self, parent: ModelIndex = QModelIndex()) -> bool:  # noqa: N802, B008
        return not parent.isValid() and self._more and self._task is None

    def fetchMore(self, parent: ModelIndex = QModelIndex()) -> None:  # noqa: N802, B008
        if self.canFetchMore(parent):
            self._fetch()

    def _fetch(self) -> None:
        before = self._rows[-1].hit.result.id if self._rows else None
        self._task = asyncio.ensure_future(self._load(self._generation, self._query, before))

    async def _load(self, generation: int, query: str, before: int | None) -> None:
        try:
            hits = await self.library.search(query, self.page_size, before)
            images = await asyncio.to_thread(_decode, [h.result.thumbnail for h in hits])
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("history: loading failed")
            if generation == self._generation:
                self._task = None
                self._more = False
                self.loadFailed.emit(user_message(exc))
            return
        if generation != self._generation:
            return
        self._task = None
        self._more = len(hits) == self.page_size
        known = {row.hit.result.id for row in self._rows}
        fresh = [_Row(h, img) for h, img in zip(hits, images, strict=True)
                 if h.result.id not in known]
        if fresh:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
            self._rows.extend(fresh)
            self.endInsertRows()
        self.pageLoaded.emit()

    # ---------------------------------------------------------------- changes

    def insert_result(self, result: PartResult, image: QImage | None = None) -> bool:
        """A result just stored: at the top, if the query shows it. Returns whether it did."""
        if result.id is None or not _matches(result, query_terms(self._query)):
            return False
        if any(row.hit.result.id == result.id for row in self._rows):
            return False
        self.beginInsertRows(QModelIndex(), 0, 0)
        self._rows.insert(0, _Row(Hit(result, *snippet(readable_text(result), query_terms(self._query))),
                                  image))
        self.endInsertRows()
        return True

    def remove_ids(self, ids: set[int]) -> None:
        for row in range(len(self._rows) - 1, -1, -1):
            if self._rows[row].hit.result.id in ids:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._rows[row]
                self.endRemoveRows()

    def result_at(self, row: int) -> PartResult | None:
        return self._rows[row].hit.result if 0 <= row < len(self._rows) else None

    # ---------------------------------------------------------------- Qt model

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        result = row.hit.result
        if role == Qt.ItemDataRole.DisplayRole:
            return result_label(result)
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = f"{result_label(result)}\n{meta_line(result)}"
            if result.source_kind == "file":
                tip += f"\n{result.source}"
            return tip + (f"\n{failed_text(result.error)}" if result.error else "")
        if role == Qt.ItemDataRole.DecorationRole:
            if row.pixmap is None and row.image is not None:
                row.pixmap = QPixmap.fromImage(row.image)
            return row.pixmap or self._placeholder
        if role == self.ResultRole:
            return result
        if role == self.SnippetRole:
            return (row.hit.snippet, row.hit.spans)
        if role == self.IdRole:
            return result.id
        return None


# ====================================================================== delegate

class HistoryDelegate(QStyledItemDelegate):
    """A row: thumbnail; label (bold); date, task and engine; the snippet, hits in bold."""

    PAD = 4

    def sizeHint(self, option: QStyleOptionViewItem, index: ModelIndex) -> QSize:  # noqa: N802
        fm = QFontMetrics(option.font)
        return QSize(240, max(THUMB, 3 * fm.height() + 4) + 2 * self.PAD)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: ModelIndex) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        style = opt.widget.style() if opt.widget is not None else None
        opt.text = ""
        opt.icon = type(opt.icon)()
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        result: PartResult = index.data(HistoryModel.ResultRole)
        snippet_text, spans = index.data(HistoryModel.SnippetRole)
        pixmap: QPixmap = index.data(Qt.ItemDataRole.DecorationRole)
        rect = option.rect.adjusted(self.PAD, self.PAD, -self.PAD, -self.PAD)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        pal = option.palette
        text_color = pal.highlightedText().color() if selected else pal.text().color()
        dim = QColor(text_color)
        dim.setAlphaF(0.65)
        painter.save()
        if pixmap is not None and not pixmap.isNull():
            scaled = pixmap.size().scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(rect.left() + (THUMB - scaled.width()) // 2,
                           rect.top() + (rect.height() - scaled.height()) // 2,
                           scaled.width(), scaled.height())
            painter.drawPixmap(target, pixmap)
        x = rect.left() + THUMB + 2 * self.PAD
        width = max(10, rect.right() - x)
        fm = QFontMetrics(option.font)
        line = fm.height()
        y = rect.top() + max(0, (rect.height() - 3 * line) // 2)
        bold = QFont(option.font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(text_color)
        painter.drawText(QRect(x, y, width, line), Qt.AlignmentFlag.AlignVCenter,
                         QFontMetrics(bold).elidedText(result_label(result), Qt.TextElideMode.ElideMiddle,
                                                       width))
        painter.setFont(option.font)
        painter.setPen(dim)
        painter.drawText(QRect(x, y + line, width, line), Qt.AlignmentFlag.AlignVCenter,
                         fm.elidedText(meta_line(result), Qt.TextElideMode.ElideRight, width))
        if result.error:
            painter.setPen(look.accent("error", pal) if not selected else text_color)
            painter.drawText(QRect(x, y + 2 * line, width, line), Qt.AlignmentFlag.AlignVCenter,
                             fm.elidedText(failed_text(result.error), Qt.TextElideMode.ElideRight, width))
        else:
            self._paint_snippet(painter, option.font, bold, text_color, x, y + 2 * line, width,
                                line, snippet_text, spans)
        painter.restore()

    @staticmethod
    def _paint_snippet(painter: QPainter, font: QFont, bold: QFont, color: QColor, x: int, y: int,
                       width: int, height: int, text: str, spans: list[tuple[int, int]]) -> None:
        pieces: list[tuple[str, bool]] = []
        at = 0
        for start, end in spans:
            if start < at:
                continue
            if start > at:
                pieces.append((text[at:start], False))
            pieces.append((text[start:end], True))
            at = end
        if at < len(text):
            pieces.append((text[at:], False))
        painter.setPen(color)
        right = x + width
        for piece, hit in pieces:
            f = bold if hit else font
            fm = QFontMetrics(f)
            room = right - x
            if room <= fm.horizontalAdvance("…"):
                break
            shown = fm.elidedText(piece, Qt.TextElideMode.ElideRight, room)
            painter.setFont(f)
            painter.drawText(QRect(x, y, room, height), Qt.AlignmentFlag.AlignVCenter, shown)
            x += fm.horizontalAdvance(shown)
            if shown != piece:
                break


# ====================================================================== detail

class HistoryDetail(QWidget):
    """The entry opened: its image, where it came from, and the result (edited tables)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image = QLabel()
        self.image.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter)
        self.image.setMinimumWidth(120)
        self.title = QLabel()
        self.title.setWordWrap(True)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.meta = QLabel()
        self.meta.setWordWrap(True)
        self.meta.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.body = QTextBrowser()
        self.body.setOpenLinks(False)
        self.body.setPlaceholderText(translate("HistoryPanel", "Choose a result to see it here."))
        self.body.setAccessibleName(translate("HistoryPanel", "Stored result"))
        top = QHBoxLayout()
        top.addWidget(self.image)
        info = QVBoxLayout()
        info.addWidget(self.title)
        info.addWidget(self.meta)
        info.addStretch(1)
        top.addLayout(info, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.body, 1)
        self.result: PartResult | None = None
        self.show_result(None)

    def show_result(self, result: PartResult | None) -> None:
        self.result = result
        if result is None:
            self.image.clear()
            self.title.setText("")
            self.meta.setText("")
            self.body.clear()
            return
        pixmap = QPixmap()
        if result.thumbnail and pixmap.loadFromData(result.thumbnail):
            self.image.setPixmap(pixmap)
        else:
            self.image.setText(translate("HistoryPanel", "(no image)"))
        self.title.setText(result.name)
        self.title.setToolTip(result_label(result))
        self.meta.setText(details_html(result))
        self.body.setHtml(result_html(result))


def region_text(result: PartResult) -> str:
    page = translate("HistoryPanel", "Page {n} of {total}; ").format(
        n=result.page, total=result.page_count) if result.page_count > 1 else ""
    if result.region is None:
        where = page + (translate("HistoryPanel", "whole page") if page else translate("HistoryPanel", "Whole page"))
    else:
        x, y, w, h = result.region
        where = page + translate("HistoryPanel", "{region}: from {x} across, {y} down, {w} × {h} of the "
                         "page").format(region=region_name(result.region_label) or
                                        translate("HistoryPanel", "Region"),
                                        x=f"{x:.0%}", y=f"{y:.0%}", w=f"{w:.0%}", h=f"{h:.0%}")
    if result.rotation:
        where += translate("HistoryPanel", "; page turned {degrees}°").format(degrees=result.rotation)
    return where


def details_html(result: PartResult) -> str:
    e = html.escape
    lines = [e(region_text(result)), e(meta_line(result))]
    if result.source_kind == "file":
        lines.append(e(result.source))
    if result.origin == "pdf-text":
        lines.append(e(translate("HistoryPanel", "From the PDF's own text")))
    elif result.seconds > 0:
        took = translate("HistoryPanel", "Took {s} s").format(s=f"{result.seconds:.1f}")
        if result.attempts > 1:
            took += translate("HistoryPanel", ", {n} attempts").format(n=result.attempts)
        lines.append(e(took))
    notes = {"length": translate("HistoryPanel", "The answer was cut at the token limit."),
             "repetition": translate("HistoryPanel", "A repeating tail was cut off."),
             "cancelled": translate("HistoryPanel", "Cancelled before the end.")}
    if result.finish in notes:
        lines.append(e(notes[result.finish]))
    if result.error:
        lines.append(f'<span style="color:{look.css(look.accent("error"))}">'
                     f'{e(failed_text(result.error))}</span>')
    return "<br>".join(lines)


def result_html(result: PartResult) -> str:
    """The result as the export sees it: text, and the tables as edited."""
    item = ExportItem(source=result.source, task=result.task, text=result.text, tables=result.tables)
    parts = []
    for seg in item.document().segments:
        if isinstance(seg, Table):
            parts.append(seg.to_html())
        elif seg.text.strip():
            parts.append(f'<p style="white-space:pre-wrap">{html.escape(seg.text.strip())}</p>')
    style = "<style>table{border-collapse:collapse}td,th{border:1px solid #888;padding:2px 6px}</style>"
    return style + "".join(parts)


def copy_payload(results: Sequence[PartResult]):
    """What Copy puts on the clipboard: one table result as TSV + HTML (edited grids),
    anything else as text."""
    from desktop_ocr.gui.clipboard import payload_for

    if len(results) == 1:
        r = results[0]
        if r.tables:
            return payload_for("\n".join(t.to_html() for t in r.tables), "table")
        return payload_for(r.text, r.task)
    return payload_for("\n\n".join(r.text.strip() for r in results if r.text.strip()), "text")


# ====================================================================== panel

class HistoryPanel(QWidget):
    """Search box, the list, the entry opened, and what can be done with entries."""

    openRequested = Signal(object)  # PartResult: open its source at that page and region
    countChanged = Signal(int)  # results in the library

    def __init__(self, library: AsyncLibrary, settings: Settings,
                 notifications: NotificationManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("historyPanel")
        self.library = library
        self.settings = settings
        self.notifications = notifications
        self.total = 0
        self._tasks: set[asyncio.Future] = set()

        self.search = QLineEdit()
        self.search.setPlaceholderText(translate("HistoryPanel", "Search history (any language)…"))
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName(translate("HistoryPanel", "Search history"))
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(SEARCH_DELAY_MS)
        self._debounce.timeout.connect(self._apply_search)
        self.search.textChanged.connect(lambda _t: self._debounce.start())
        self.search.returnPressed.connect(self._apply_search)

        self.notice = QLabel()
        self.notice.setWordWrap(True)
        self.notice.setObjectName("historyNotice")

        def tint() -> None:
            tone = look.tone("warning")
            self.notice.setStyleSheet(
                f"QLabel#historyNotice {{ background: {look.css(tone.background)}; color: "
                f"{look.css(tone.text)}; border: 1px solid {look.css(tone.border)}; padding: 4px;"
                " border-radius: 3px; }")

        look.follow_palette(self.notice, tint)
        self.notice.hide()

        self.model = HistoryModel(library, parent=self)
        self.model.pageLoaded.connect(self._update_status)
        self.model.loadFailed.connect(lambda msg: self.notifications.notify(msg, Severity.ERROR))
        self.list = QListView()
        self.list.setModel(self.model)
        self.list.setItemDelegate(HistoryDelegate(self.list))
        self.list.setUniformItemSizes(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._context_menu)
        self.list.activated.connect(lambda index: self.open_result(self.model.result_at(index.row())))
        self.list.selectionModel().currentChanged.connect(
            lambda cur, _prev: self.detail.show_result(self.model.result_at(cur.row())))
        self.list.selectionModel().selectionChanged.connect(lambda *_: self._update_actions())
        self.list.setAccessibleName(translate("HistoryPanel", "Stored results"))
        look.focus_ring(self.list, "historyList")

        self.detail = HistoryDetail()
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.list)
        split.addWidget(self.detail)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setChildrenCollapsible(False)

        def button(text: str, tip: str, slot) -> QToolButton:
            b = QToolButton()
            b.setText(text)
            b.setToolTip(tip)
            b.setAutoRaise(True)
            b.clicked.connect(slot)
            return b
        self.open_button = button(translate("HistoryPanel", "Open"),
                                  translate("HistoryPanel", "Open the source at this page and region (Enter)"),
                                  lambda: self.open_result(self.current_result()))
        self.copy_button = button(translate("HistoryPanel", "Copy"),
                                  translate("HistoryPanel", "Copy the result; tables paste as cells (Ctrl+C)"),
                                  lambda: self.copy_selected())
        self.export_button = button(translate("HistoryPanel", "Re-export…"),
                                    translate("HistoryPanel", "Export the chosen results again, without "
                                                      "recognising them again"),
                                    lambda: self.choose_export())
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        menu = QMenu(self.export_button)
        menu.addAction(translate("HistoryPanel", "One file…"), lambda: self.choose_export())
        menu.addAction(translate("HistoryPanel", "One file per input, into a folder…"),
                       lambda: self.choose_export(per_input=True))
        self.export_button.setMenu(menu)
        self.delete_button = button(translate("HistoryPanel", "Delete"),
                                    translate("HistoryPanel", "Delete the chosen results (Del)"),
                                    lambda: self.delete_selected())
        self.clear_button = button(translate("HistoryPanel", "Clear all…"),
                                   translate("HistoryPanel", "Delete every stored result"),
                                   lambda: self.clear_all())
        self.keep = QComboBox()
        self.keep.setToolTip(translate("HistoryPanel", "How long the library keeps results"))
        self.keep.setAccessibleName(translate("HistoryPanel", "Keep results"))
        self._fill_keep(settings.history_keep_days)
        self.keep.currentIndexChanged.connect(self._keep_changed)

        actions = QHBoxLayout()
        actions.setSpacing(2)
        for b in (self.open_button, self.copy_button, self.export_button, self.delete_button,
                  self.clear_button):
            actions.addWidget(b)
        actions.addStretch(1)
        keep_label = QLabel(translate("HistoryPanel", "&Keep:"))
        keep_label.setBuddy(self.keep)
        actions.addWidget(keep_label)
        actions.addWidget(self.keep)
        self.status = QLabel(translate("HistoryPanel", "Opening the library…"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addWidget(self.notice)
        layout.addWidget(split, 1)
        layout.addLayout(actions)
        layout.addWidget(self.status)

        for keys, slot in ((QKeySequence.StandardKey.Delete, self.delete_selected),
                           (QKeySequence.StandardKey.Copy, self.copy_selected),
                           (QKeySequence.StandardKey.Find, self.search.setFocus)):
            sc = QShortcut(QKeySequence(keys), self.list if keys != QKeySequence.StandardKey.Find else self)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(slot)
        self._update_actions()
        self.started = self._spawn(self._start())

    # ---------------------------------------------------------------- plumbing

    def _spawn(self, coro) -> asyncio.Task:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _start(self) -> None:
        await self.library.ready()
        self.show_notice(self.library.notice)
        await self._refresh_count()
        self.model.set_query(self.search.text().strip())

    def _fill_keep(self, days: int) -> None:
        self.keep.blockSignals(True)
        self.keep.clear()
        choices = [(translate("HistoryPanel", label), d) for label, d in KEEP_CHOICES]
        if days not in [d for _, d in choices]:
            choices.append((translate("HistoryPanel", "{n} days").format(n=days), days))
        for label, d in choices:
            self.keep.addItem(label, d)
        self.keep.setCurrentIndex(self.keep.findData(days))
        self.keep.blockSignals(False)

    def show_keep(self, days: int) -> None:
        """The retention was changed elsewhere (Preferences): show it, delete nothing here."""
        self._fill_keep(days)

    def show_notice(self, message: str) -> None:
        """A line about the library itself (damaged, locked, memory only); "" hides it."""
        self.notice.setText(message)
        self.notice.setVisible(bool(message))

    async def _refresh_count(self) -> None:
        self.total = await self.library.count()
        self.countChanged.emit(self.total)
        self._update_status()

    def _update_status(self) -> None:
        shown = self.model.rowCount()
        if self.model.query:
            more = "+" if self.model.canFetchMore() else ""
            self.status.setText(translate("HistoryPanel", "{shown} found of {total}").format(
                shown=f"{shown}{more}", total=f"{self.total:,}") if shown else
                (translate("HistoryPanel", "Searching…") if self.model.loading else
                 translate("HistoryPanel", "Nothing found")))
        else:
            self.status.setText(count(self.total, translate("HistoryPanel", "1 result"),
                                      translate("HistoryPanel", "{n} results"))
                                if self.total else translate("HistoryPanel", "No results yet: what you "
                                                                             "recognise is kept here."))
        self._update_actions()

    def _update_actions(self) -> None:
        chosen = bool(self.list.selectionModel().selectedRows()) or self.current_result() is not None
        for b in (self.open_button, self.copy_button, self.export_button, self.delete_button):
            b.setEnabled(chosen)
        self.clear_button.setEnabled(self.total > 0)

    def _apply_search(self) -> None:
        self._debounce.stop()
        query = self.search.text().strip()
        if query != self.model.query:
            self.model.set_query(query)
            self._update_status()

    def refresh(self) -> asyncio.Task:
        """Load again from the library (after changes made elsewhere, e.g. the CLI)."""
        async def run() -> None:
            await self._refresh_count()
            self.model.set_query(self.search.text().strip())

        return self._spawn(run())

    def result_stored(self, result: PartResult) -> None:
        """A result the pipeline has just stored (with its id): shown at the top at once."""
        self.total += 1
        self.countChanged.emit(self.total)
        if result.thumbnail:
            async def with_image() -> None:
                [image] = await asyncio.to_thread(_decode, [result.thumbnail])
                self.model.insert_result(result, image)
                self._update_status()

            self._spawn(with_image())
        else:
            self.model.insert_result(result)
        self._update_status()

    # ---------------------------------------------------------------- choosing

    def current_result(self) -> PartResult | None:
        return self.model.result_at(self.list.currentIndex().row())

    def selected_results(self) -> list[PartResult]:
        rows = sorted(i.row() for i in self.list.selectionModel().selectedRows())
        chosen = [r for r in (self.model.result_at(row) for row in rows) if r is not None]
        if not chosen and self.current_result() is not None:
            chosen = [self.current_result()]  # type: ignore[list-item]
        return chosen

    def open_result(self, result: PartResult | None) -> None:
        if result is not None:
            self.detail.show_result(result)
            self.openRequested.emit(result)

    def _context_menu(self, pos) -> None:
        if not self.list.indexAt(pos).isValid():
            return
        menu = QMenu(self)
        menu.addAction(translate("HistoryPanel", "Open"), lambda: self.open_result(self.current_result()))
        menu.addAction(translate("HistoryPanel", "Copy"), lambda: self.copy_selected())
        menu.addAction(translate("HistoryPanel", "Re-export…"), lambda: self.choose_export())
        menu.addAction(translate("HistoryPanel", "Re-export, one file per input…"),
                       lambda: self.choose_export(per_input=True))
        menu.addSeparator()
        menu.addAction(translate("HistoryPanel", "Delete"), lambda: self.delete_selected())
        menu.popup(self.list.viewport().mapToGlobal(pos))

    # ---------------------------------------------------------------- actions

    def copy_selected(self) -> asyncio.Task | None:
        results = self.selected_results()
        if not results:
            return None
        payload = copy_payload(results)

        async def run() -> None:
            from desktop_ocr.gui import clipboard

            try:
                await clipboard.write(payload)
            except Exception as exc:
                self.notifications.notify(user_message(exc), Severity.ERROR)
                return
            self.status.setText(count(len(results), translate("HistoryPanel", "Copied 1 result"),
                                      translate("HistoryPanel", "Copied {n} results")))

        return self._spawn(run())

    def choose_export(self, per_input: bool = False) -> QFileDialog | None:
        """Ask where to (not modal: the window keeps working), then export_to()."""
        results = self.selected_results()
        if not results:
            return None
        first = results[0]
        start = Path(first.source).parent if first.source_kind == "file" else Path.home()
        dialog = QFileDialog(self, translate("HistoryPanel", "Export results again into a folder")
                             if per_input else translate("HistoryPanel", "Export results again"))
        dialog.setDirectory(str(start if start.is_dir() else Path.home()))
        if per_input:
            dialog.setFileMode(QFileDialog.FileMode.Directory)
            dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        else:
            dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
            dialog.setNameFilters(export_filters())
            has_tables = any(r.tables or r.task in ("table", "fields") for r in results)
            dialog.selectNameFilter(filter_for("xlsx" if has_tables else "txt"))
            stem = Path(first.name).stem if len(results) == 1 else "history"
            dialog.selectFile(f"{stem}.{'xlsx' if has_tables else 'txt'}")

        def chosen(path: str) -> None:
            target = Path(path)
            if not per_input and not target.suffix:
                target = target.with_suffix("." + dialog.selectedNameFilter().split("*.")[1].rstrip(")"))
            self.export_to(target, results, per_input=per_input)

        dialog.fileSelected.connect(chosen)
        dialog.finished.connect(dialog.deleteLater)
        focus.after(dialog, self.window(), self.list)
        dialog.open()
        return dialog

    def export_to(self, path: Path, results: Sequence[PartResult] | None = None, *,
                  per_input: bool = False) -> asyncio.Task:
        """Export stored results again (no OCR) in a worker thread; says how it went."""
        chosen = list(results if results is not None else self.selected_results())

        async def run() -> None:
            status = self.status.text()
            try:
                # a searchable PDF reads where the text sits first (CPU engine, per page)
                written = await export_results(chosen, path, per_input=per_input,
                                               status=self.status.setText, library=self.library)
            except ExportError as exc:
                self.notifications.notify(str(exc), Severity.ERROR)
                return
            except Exception as exc:
                self.notifications.report(exc, translate("HistoryPanel", "Exporting to {name} failed")
                                          .format(name=path.name))
                return
            finally:
                self.status.setText(status)
            where = str(written[0]) if len(written) == 1 else translate(
                "HistoryPanel", "{n} files in {folder}").format(n=len(written), folder=path)
            self.notifications.notify(count(len(chosen),
                                            translate("HistoryPanel", "Exported 1 result to {where}"),
                                            translate("HistoryPanel", "Exported {n} results to {where}"))
                                      .replace("{where}", where), Severity.INFO)

        return self._spawn(run())

    def _confirm(self, title: str, text: str, action: str, then, otherwise=None) -> QMessageBox:
        """Ask without blocking: `then()` runs if the user chose `action`, else `otherwise()`."""
        box = QMessageBox(QMessageBox.Icon.Warning, title, text,
                          QMessageBox.StandardButton.Cancel, self)
        go = box.addButton(action, QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)

        def done(_code: int) -> None:
            if box.clickedButton() is go:
                then()
            elif otherwise is not None:
                otherwise()
            box.deleteLater()

        box.finished.connect(done)
        focus.after(box, self.window(), self.list)
        box.open()
        return box

    def delete_selected(self) -> asyncio.Task | QMessageBox | None:
        """Delete the chosen results (several: after a confirmation)."""
        results = self.selected_results()
        if not results:
            return None
        ids = [r.id for r in results if r.id is not None]
        if len(ids) > 1:
            return self._confirm(translate("HistoryPanel", "Delete results"),
                                 translate("HistoryPanel", "Delete the {n} chosen results from the "
                                                           "history?").format(n=len(ids)),
                                 translate("HistoryPanel", "Delete"), lambda: self._delete(ids))
        return self._delete(ids)

    def _delete(self, ids: list[int]) -> asyncio.Task:
        async def run() -> None:
            await self.library.delete(ids)
            self.model.remove_ids(set(ids))
            if self.detail.result is not None and self.detail.result.id in ids:
                self.detail.show_result(None)
            await self._refresh_count()

        return self._spawn(run())

    def clear_all(self) -> QMessageBox:
        """Delete every stored result, once the user confirms."""
        def go() -> None:
            async def run() -> None:
                await self.library.clear()
                self.detail.show_result(None)
                await self._refresh_count()
                self.model.set_query(self.search.text().strip())

            self.cleared = self._spawn(run())

        return self._confirm(translate("HistoryPanel", "Clear history"),
                             translate("HistoryPanel", "Delete all {n} stored results? This cannot "
                                                       "be undone.").format(n=f"{self.total:,}"),
                             translate("HistoryPanel", "Delete all"), go)

    def _keep_changed(self, _index: int) -> None:
        days = int(self.keep.currentData())
        old = self.settings.history_keep_days

        def apply() -> None:
            self.settings.history_keep_days = days
            self.retention = self._spawn(self._apply_retention(days))

        def revert() -> None:
            self.keep.blockSignals(True)
            self.keep.setCurrentIndex(self.keep.findData(old))
            self.keep.blockSignals(False)

        if days and (not old or days < old):
            self.keep_box = self._confirm(
                translate("HistoryPanel", "Keep results"),
                translate("HistoryPanel", "Results older than {age} will be deleted now, and from "
                                          "now on.").format(age=self.keep.currentText()),
                translate("HistoryPanel", "Delete older"), apply, revert)
        else:
            apply()

    async def _apply_retention(self, days: int) -> None:
        try:
            await asyncio.to_thread(self.settings.save)
        except Exception as exc:
            self.notifications.notify(translate("HistoryPanel", "The setting was not saved: {why}")
                                      .format(why=user_message(exc)), Severity.WARNING)
        deleted = await self.library.set_retention(days, self.settings.history_max_entries)
        if deleted:
            await self._refresh_count()
            self.model.set_query(self.search.text().strip())
