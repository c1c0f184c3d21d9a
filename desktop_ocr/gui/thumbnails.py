"""The thumbnail strip: one row per page, thumbnails rendered in the background and
only for rows the user can see (a 1,000-page PDF renders a dozen, not a thousand).

Rendering and the QImage conversion happen in a worker thread; the GUI thread only turns
the QImage into a QPixmap. The model never touches the document on the GUI thread:
MuPDF work holds a process-wide lock, and a page size asked for here would wait for
whatever a worker is rendering.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListView, QWidget

from desktop_ocr.core.documents import Document, DocumentError, PageError
from desktop_ocr.gui.i18n import translate

log = logging.getLogger(__name__)

ModelIndex = QModelIndex | QPersistentModelIndex
THUMB_SIDE = 120
# Pixmaps kept in the model: enough for several screens of scrolling back and forth.
MAX_PIXMAPS = 300


def pixels_to_qimage(pixels) -> QImage:
    """A QImage that owns its memory, from core Pixels (safe in a worker thread)."""
    img = QImage(pixels.data, pixels.width, pixels.height, pixels.stride,
                 QImage.Format.Format_RGB888)
    # Converting copies out of `pixels.data` and gives the format screens paint fastest.
    return img.convertToFormat(QImage.Format.Format_RGB32)


def render_thumbnail(document: Document, index: int, side: int) -> QImage:
    page = document.pages[index]
    w, h = page.size
    return pixels_to_qimage(page.render_pixels(scale=side / max(w, h)))


class ThumbnailModel(QAbstractListModel):
    """Pages of a document. Decoration: the thumbnail once rendered, else a blank page."""

    PageRole = Qt.ItemDataRole.UserRole + 1
    StateRole = Qt.ItemDataRole.UserRole + 2  # "", "rendering", "ready", "failed"
    thumbnailReady = Signal(int)

    def __init__(self, parent=None, side: int = THUMB_SIDE) -> None:
        super().__init__(parent)
        self.side = side
        self.document: Document | None = None
        self._pixmaps: OrderedDict[int, QPixmap] = OrderedDict()
        self._failed: dict[int, str] = {}
        self._done: set[int] = set()  # pages with a result (a tick on the thumbnail)
        self._wanted: list[int] = []
        self._pending: set[int] = set()
        self._worker: asyncio.Task | None = None
        self._placeholder = self._blank()
        self.rendered = 0  # thumbnails rendered since the document was set (tests, benches)
        # Says when the page view is rendering: thumbnails wait, so they never hold the
        # MuPDF lock while the page the user asked for is being drawn.
        self.should_wait: Callable[[], bool] = lambda: False

    def _blank(self) -> QPixmap:
        pm = QPixmap(int(self.side * 0.72), self.side)
        pm.fill(QColor("#f4f4f4"))
        painter = QPainter(pm)
        painter.setPen(QColor("#c8c8c8"))
        painter.drawRect(0, 0, pm.width() - 1, pm.height() - 1)
        painter.end()
        return pm

    def set_document(self, document: Document | None) -> None:
        self.beginResetModel()
        self.document = document
        self._pixmaps.clear()
        self._failed.clear()
        self._done.clear()
        self._wanted = []
        self._pending.clear()
        self.rendered = 0
        self.endResetModel()

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        if parent.isValid() or self.document is None:
            return 0
        return self.document.page_count

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or self.document is None:
            return None
        row = index.row()
        if not 0 <= row < self.document.page_count:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            mark = " ✓" if row in self._done else (" ⚠" if row in self._failed else "")
            return f"{row + 1}{mark}"
        if role == Qt.ItemDataRole.DecorationRole:
            return self._pixmaps.get(row, self._placeholder)
        if role == Qt.ItemDataRole.ToolTipRole:
            if row in self._failed:
                return self._failed[row]
            return (translate("Thumbnails", "Page {n} (recognised)") if row in self._done else
                    translate("Thumbnails", "Page {n}")).format(n=row + 1)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        if role == self.PageRole:
            return row
        if role == self.StateRole:
            if row in self._failed:
                return "failed"
            if row in self._pixmaps:
                return "ready"
            return "rendering" if row in self._pending else ""
        return None

    def has_thumbnail(self, row: int) -> bool:
        return row in self._pixmaps

    def set_done(self, row: int, done: bool = True) -> None:
        (self._done.add if done else self._done.discard)(row)
        idx = self.index(row, 0)
        self.dataChanged.emit(idx, idx, [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole])

    def clear_done(self) -> None:
        rows = sorted(self._done)
        self._done.clear()
        for row in rows:
            idx = self.index(row, 0)
            self.dataChanged.emit(idx, idx, [Qt.ItemDataRole.DisplayRole])

    def request(self, rows: list[int]) -> None:
        """Render these rows' thumbnails (those not done yet), in this order. Replaces
        the previous request: rows scrolled out of sight are not rendered."""
        if self.document is None:
            return
        self._wanted = [r for r in rows if r not in self._pixmaps and r not in self._failed]
        if self._wanted and (self._worker is None or self._worker.done()):
            self._worker = asyncio.ensure_future(self._work(self.document))

    async def _work(self, document: Document) -> None:
        while self._wanted and self.document is document:
            while self.should_wait():
                await asyncio.sleep(0.01)
            if not self._wanted or self.document is not document:
                return
            row = self._wanted.pop(0)
            if row in self._pixmaps or row in self._failed:
                continue
            self._pending.add(row)
            try:
                image = await asyncio.to_thread(render_thumbnail, document, row, self.side)
            except (PageError, DocumentError) as exc:
                self._pending.discard(row)
                if self.document is not document or document.closed:
                    return
                self._failed[row] = str(exc)
                self._changed(row)
                continue
            self._pending.discard(row)
            if self.document is not document:
                return
            self._pixmaps[row] = QPixmap.fromImage(image)
            self.rendered += 1
            while len(self._pixmaps) > MAX_PIXMAPS:
                old, _ = self._pixmaps.popitem(last=False)
                self._changed(old)
            self._changed(row)
            self.thumbnailReady.emit(row)

    def _changed(self, row: int) -> None:
        idx = self.index(row, 0)
        self.dataChanged.emit(idx, idx)

    def cancel(self) -> None:
        self._wanted = []
        if self._worker is not None and not self._worker.done():
            self._worker.cancel()


class ThumbnailStrip(QListView):
    """A vertical strip of page thumbnails; asks the model only for the visible ones."""

    pageActivated = Signal(int)

    def __init__(self, model: ThumbnailModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModel(model)
        side = model.side
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.TopToBottom)
        self.setWrapping(False)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(True)  # no size query per row: 1,000 pages stay cheap
        self.setIconSize(QSize(side, side))
        self.setGridSize(QSize(side + 24, side + 26))
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFixedWidth(side + 24 + self.verticalScrollBar().sizeHint().width() + 6)
        self.setAccessibleName(translate("Thumbnails", "Pages"))
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(30)
        self._timer.timeout.connect(self.request_visible)
        self.verticalScrollBar().valueChanged.connect(lambda _: self._timer.start())
        model.modelReset.connect(self._timer.start)
        self.clicked.connect(lambda idx: self.pageActivated.emit(idx.row()))
        self.activated.connect(lambda idx: self.pageActivated.emit(idx.row()))

    def thumbnail_model(self) -> ThumbnailModel:
        return self.model()  # type: ignore[return-value]

    def visible_rows(self) -> list[int]:
        n = self.model().rowCount()
        if n == 0:
            return []
        vp = self.viewport().rect()
        first = self.indexAt(QPoint(vp.center().x(), vp.top() + 2))
        last = self.indexAt(QPoint(vp.center().x(), vp.bottom() - 2))
        lo = first.row() if first.isValid() else 0
        if last.isValid():
            hi = last.row()
        else:
            # Below the last row there is empty space, or the grid ends between rows.
            step = max(1, self.gridSize().height())
            hi = min(n - 1, lo + vp.height() // step + 1)
        return list(range(lo, hi + 1))

    def request_visible(self) -> None:
        rows = self.visible_rows()
        if not rows:
            return
        current = self.currentIndex().row()
        # The page being shown first, then what is on screen, then one row either side.
        extra = [r for r in (rows[0] - 1, rows[-1] + 1) if 0 <= r < self.model().rowCount()]
        order = ([current] if current in rows else []) + rows + extra
        self.thumbnail_model().request(list(dict.fromkeys(order)))

    def show_page(self, row: int) -> None:
        idx = self.model().index(row, 0)
        if idx.isValid():
            self.setCurrentIndex(idx)
            self.scrollTo(idx)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._timer.start()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self._timer.start()
