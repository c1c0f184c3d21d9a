"""The page view: one page at a time, zoomed and rotated, with the user's regions on it.

Scene coordinates are view pixels of the zoomed, rotated page (its top-left at 0, 0), so
`ViewTransform` (core/regions.py) maps regions between page fractions and the scene.
Pages are rendered at screen resolution for the current zoom in a worker thread
(`render_for_view`, on the view's own one-thread pool); the GUI thread only turns the finished QImage into a QPixmap. While
a new zoom is being rendered the previous pixmap is shown scaled, so zooming feels
immediate and the sharp render replaces it a moment later.

Mouse: left-drag on the page draws a region; drag inside a region moves it, near its
edge or corner resizes it. Middle-drag (or Space + drag) pans; Ctrl+wheel zooms about
the pointer; the wheel scrolls.
"""

from __future__ import annotations

import logging
import math
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum

from PySide6.QtCore import QObject, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPalette,
    QPen,
    QPixmap,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QGraphicsPixmapItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QStyleOptionGraphicsItem,
    QWidget,
)

from desktop_ocr.core.documents import DocumentError, Page
from desktop_ocr.core.regions import Region, ViewTransform
from desktop_ocr.gui import look
from desktop_ocr.gui.i18n import translate
from desktop_ocr.gui.region_models import task_title
from desktop_ocr.gui.thumbnails import pixels_to_qimage

log = logging.getLogger(__name__)

MIN_ZOOM = 0.02
MAX_ZOOM = 16.0
MARGIN = 12  # view pixels around the page
# Above this many pixels a page is drawn from a smaller render scaled up: a 16x zoom of
# an A4 page would otherwise need 1.3 GB.
MAX_RENDER_PIXELS = 40_000_000
MIN_DRAW = 4  # view pixels: a smaller drag is a click, not a region
HANDLE = 7  # view pixels around a region's corners and edges that resize it
ZOOM_RENDER_DELAY_MS = 60
# "Go to page" waits this long for its render before returning to the event loop. PyMuPDF
# holds the GIL while it rasterises, so the GUI thread is stalled during a render either
# way; waiting on it saves the two thread hand-offs (GIL switch interval, queued signal),
# which cost more than the render itself at screen zooms. Slower pages continue in the
# background as before, so the GUI never blocks longer than this.
PAGE_WAIT_S = 0.05


class FitMode(StrEnum):
    NONE = ""
    PAGE = "page"
    WIDTH = "width"


def fit_zoom(mode: FitMode, page_size: tuple[float, float], rotation: int,
             viewport: tuple[int, int], scrollbar: int = 0) -> float:
    """Zoom (view pixels per page unit) that fits the rotated page to the viewport."""
    w, h = page_size
    if rotation in (90, 270):
        w, h = h, w
    vw, vh = max(1, viewport[0] - 2 * MARGIN), max(1, viewport[1] - 2 * MARGIN)
    if mode is FitMode.WIDTH:
        z = vw / w
        if h * z > vh:  # a vertical scroll bar will take some of the width
            z = max(1, vw - scrollbar) / w
    else:
        z = min(vw / w, vh / h)
    return min(max(z, MIN_ZOOM), MAX_ZOOM)


@dataclass
class ViewRender:
    index: int
    size: tuple[float, float]
    zoom: float
    rotation: int
    scale: float  # device pixels per page unit of `image`
    image: QImage


def render_for_view(page: Page, fit: FitMode, zoom: float, rotation: int,
                    viewport: tuple[int, int], scrollbar: int, dpr: float) -> ViewRender:
    """Worker-thread half of showing a page: its size, the zoom, and the pixels."""
    size = page.size
    if fit is not FitMode.NONE:
        zoom = fit_zoom(fit, size, rotation, viewport, scrollbar)
    scale = zoom * dpr
    area = size[0] * size[1] * scale * scale
    if area > MAX_RENDER_PIXELS:
        scale *= math.sqrt(MAX_RENDER_PIXELS / area)
    pixels = page.render_pixels(scale=scale, rotation=rotation)
    return ViewRender(page.index, size, zoom, rotation, scale, pixels_to_qimage(pixels))


class _RenderBridge(QObject):
    done = Signal(int, object, object)  # generation, page, concurrent Future


class RegionItem(QGraphicsRectItem):
    """A region on the page: a tinted box with its reading-order number."""

    COLOUR = QColor(30, 110, 220)
    SELECTED = QColor(230, 120, 0)

    def __init__(self, region: Region) -> None:
        super().__init__()
        self.region = region
        self.selected = False
        self.setZValue(10)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)  # the view handles the mouse

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        colour = self.SELECTED if self.selected else self.COLOUR
        rect = self.rect()
        fill = QColor(colour)
        fill.setAlpha(40)
        painter.setBrush(QBrush(fill))
        pen = QPen(colour, 2.5 if self.selected else 1.5)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.drawRect(rect)
        label = str(self.region.order or "")
        if self.region.task:
            label += f" · {task_title(self.region.task)}"
        font = QFont(painter.font())
        font.setBold(True)
        font.setPixelSize(13)
        painter.setFont(font)
        metrics = painter.fontMetrics()
        badge = QRectF(rect.left(), rect.top(), metrics.horizontalAdvance(label) + 10,
                       metrics.height() + 4)
        painter.fillRect(badge, colour)
        painter.setPen(QColor("white"))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, label)
        if self.selected:
            painter.setBrush(QBrush(QColor("white")))
            painter.setPen(QPen(colour, 1.5))
            r = 3.5
            for corner in (rect.topLeft(), rect.topRight(), rect.bottomLeft(), rect.bottomRight()):
                painter.drawRect(QRectF(corner.x() - r, corner.y() - r, 2 * r, 2 * r))


class PageView(QGraphicsView):
    pageShown = Signal(int)  # a page's pixmap was set (index)
    pagePainted = Signal(int)  # ... and painted on screen
    renderFailed = Signal(int, str)  # index, message
    zoomChanged = Signal(float)
    regionDrawn = Signal(object)  # a new Region
    regionEdited = Signal(object)  # an existing Region moved or resized (same id)
    regionSelected = Signal(str)  # region id, "" for none

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHints(QPainter.RenderHint.SmoothPixmapTransform | QPainter.RenderHint.Antialiasing)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # Around the page: the palette's dark shade (grey on a light theme, near black on a dark one).
        look.follow_palette(self, lambda: self.setBackgroundBrush(
            look.palette().color(QPalette.ColorRole.Dark)))
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setAccessibleName(translate("PageView", "Page"))
        self.setAccessibleDescription(translate("PageView", "Drag to mark a region; Ctrl+wheel zooms"))

        self._paper = QGraphicsRectItem()
        self._paper.setBrush(QColor("white"))
        self._paper.setPen(QPen(Qt.PenStyle.NoPen))
        self._paper.setVisible(False)
        self._pixmap_item = QGraphicsPixmapItem()
        self._pixmap_item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self._pixmap_item.setZValue(1)
        self._message = QGraphicsSimpleTextItem()
        self._message.setZValue(5)
        self._rubber = QGraphicsRectItem()
        pen = QPen(RegionItem.COLOUR, 1.5, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        self._rubber.setPen(pen)
        self._rubber.setZValue(20)
        self._rubber.setVisible(False)
        for item in (self._paper, self._pixmap_item, self._message, self._rubber):
            self.scene().addItem(item)

        self.page: Page | None = None
        self.rotation = 0
        self.zoom = 1.0
        self.fit_mode = FitMode.PAGE
        self.page_size: tuple[float, float] | None = None
        self._sizes: dict[int, tuple[float, float]] = {}
        self._shown: tuple[int, int, float] | None = None  # index, rotation, render scale
        self._items: dict[str, RegionItem] = {}
        self.selected_id = ""
        self._gen = 0
        self._in_flight = False
        self._future: Future | None = None  # the render in flight, until handled
        self._closed = False
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="page-render")
        self._bridge = _RenderBridge(self)
        self._bridge.done.connect(self._render_done, Qt.ConnectionType.QueuedConnection)
        self._paint_pending = -1
        self._drag: tuple | None = None
        self._pan_from: QPointF | None = None
        self._space = False
        self.last_error = ""
        self._render_timer = QTimer(self)
        self._render_timer.setSingleShot(True)
        self._render_timer.setInterval(ZOOM_RENDER_DELAY_MS)
        self._render_timer.timeout.connect(self._request_render)

    # ---------------------------------------------------------------- page

    def set_page(self, page: Page | None, rotation: int = 0) -> None:
        """Show `page` (None: nothing). Rendering happens in the background."""
        if page is None or self.page is None or page.document is not self.page.document:
            self._sizes.clear()
        self.page = page
        self.rotation = rotation % 360
        self.page_size = self._sizes.get(page.index) if page is not None else None
        self._pixmap_item.setPixmap(QPixmap())
        self._shown = None
        self._message.setText("")
        self.last_error = ""
        self.set_regions([])
        if page is None:
            self._paper.setVisible(False)
            self._gen += 1
            return
        if self.page_size is not None:
            if self.fit_mode is not FitMode.NONE:
                self.zoom = self._fit(self.page_size)
            self._layout()
        self._request_render(wait=PAGE_WAIT_S)

    def clear(self) -> None:
        self.set_page(None)

    def paint_now(self) -> None:
        """Paint a page that has arrived but is not on screen yet now, rather than on the
        event loop's next pass; `pagePainted` handlers run inside this call."""
        if self._paint_pending >= 0:
            self.viewport().repaint()

    def has_image(self) -> bool:
        return not self._pixmap_item.pixmap().isNull() and self._pixmap_item.isVisible()

    def displayed_scale(self) -> float:
        """Device pixels per page unit of the pixmap on screen (0 when none)."""
        return self._shown[2] if self._shown else 0.0

    def pixmap(self) -> QPixmap:
        return self._pixmap_item.pixmap()

    def set_rotation(self, rotation: int) -> None:
        rotation %= 360
        if rotation == self.rotation:
            return
        self.rotation = rotation
        self._pixmap_item.setVisible(False)  # wrong way round until the new render arrives
        if self.page_size is not None:
            if self.fit_mode is not FitMode.NONE:
                self.zoom = self._fit(self.page_size)
            self._layout()
        self._request_render()

    def view_transform(self) -> ViewTransform | None:
        if self.page_size is None:
            return None
        return ViewTransform(self.page_size[0], self.page_size[1], self.zoom, self.rotation)

    # ---------------------------------------------------------------- zoom

    def _scrollbar_extent(self) -> int:
        return self.verticalScrollBar().sizeHint().width()

    def _viewport_size(self) -> tuple[int, int]:
        # Fit against the area without scroll bars, or fitting would flip them on and off.
        w = self.viewport().width() + (self.verticalScrollBar().width()
                                       if self.verticalScrollBar().isVisible() else 0)
        h = self.viewport().height() + (self.horizontalScrollBar().height()
                                        if self.horizontalScrollBar().isVisible() else 0)
        return w, h

    def _fit(self, size: tuple[float, float]) -> float:
        return fit_zoom(self.fit_mode, size, self.rotation, self._viewport_size(),
                        self._scrollbar_extent())

    def set_fit(self, mode: FitMode) -> None:
        self.fit_mode = FitMode(mode)
        if self.page_size is not None and self.fit_mode is not FitMode.NONE:
            self._set_zoom(self._fit(self.page_size), None)

    def fit_page(self) -> None:
        self.set_fit(FitMode.PAGE)

    def fit_width(self) -> None:
        self.set_fit(FitMode.WIDTH)

    def fit(self) -> None:
        self.fit_page()

    def actual_size(self) -> None:
        """100 %: a PDF at its physical size on this screen, an image pixel for pixel."""
        zoom = 1.0
        if self.page is not None and not self.page.is_image:
            zoom = self.logicalDpiX() / 72.0
        self.set_zoom(zoom)

    def set_zoom(self, zoom: float, anchor: QPointF | None = None) -> None:
        self.fit_mode = FitMode.NONE
        self._set_zoom(zoom, anchor)

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        self.set_zoom(self.zoom * factor, anchor)

    def zoom_in(self) -> None:
        self.zoom_by(1.25)

    def zoom_out(self) -> None:
        self.zoom_by(0.8)

    def _set_zoom(self, zoom: float, anchor: QPointF | None) -> None:
        zoom = min(max(zoom, MIN_ZOOM), MAX_ZOOM)
        vt = self.view_transform()
        if vt is None:
            self.zoom = zoom
            self.zoomChanged.emit(zoom)
            return
        # Keep the page point under `anchor` (viewport coordinates) where it is.
        if anchor is None:
            anchor = QPointF(self.viewport().rect().center())
        scene_pt = self.mapToScene(anchor.toPoint())
        page_pt = vt.view_to_page(scene_pt.x(), scene_pt.y())
        self.zoom = zoom
        self._layout()
        new = self.view_transform().page_to_view(*page_pt)  # type: ignore[union-attr]
        delta = QPointF(new[0], new[1]) - QPointF(self.mapToScene(anchor.toPoint()))
        h, v = self.horizontalScrollBar(), self.verticalScrollBar()
        h.setValue(h.value() + round(delta.x()))
        v.setValue(v.value() + round(delta.y()))
        self.zoomChanged.emit(zoom)
        if self._needs_render():
            self._render_timer.start()

    def _needs_render(self) -> bool:
        if self.page is None:
            return False
        if self._shown is None:
            return True
        index, rotation, scale = self._shown
        want = self.zoom * self.devicePixelRatioF()
        if self.page_size is not None:
            area = self.page_size[0] * self.page_size[1] * want * want
            if area > MAX_RENDER_PIXELS:
                want *= math.sqrt(MAX_RENDER_PIXELS / area)
        return (index != self.page.index or rotation != self.rotation
                or abs(scale - want) > 0.01 * want)

    # ---------------------------------------------------------------- layout

    def _layout(self) -> None:
        vt = self.view_transform()
        if vt is None:
            return
        w, h = vt.view_size
        self._paper.setRect(QRectF(0, 0, w, h))
        self._paper.setVisible(True)
        self.scene().setSceneRect(QRectF(-MARGIN, -MARGIN, w + 2 * MARGIN, h + 2 * MARGIN))
        if self._shown is not None:
            index, rotation, scale = self._shown
            self._pixmap_item.setScale(self.zoom * self.devicePixelRatioF() / scale)
            self._pixmap_item.setVisible(rotation == self.rotation)
        for item in self._items.values():
            item.setRect(self._view_rect(vt, item.region))
        self._message.setPos(16, 16)

    @staticmethod
    def _view_rect(vt: ViewTransform, region: Region) -> QRectF:
        r = vt.region_to_view(region)
        return QRectF(r.x0, r.y0, r.width, r.height)

    # ---------------------------------------------------------------- rendering

    def _render_args(self) -> tuple:
        return (self.page, self.fit_mode, self.zoom, self.rotation, self._viewport_size(),
                self._scrollbar_extent(), self.devicePixelRatioF())

    def _request_render(self, wait: float = 0.0) -> None:
        self._render_timer.stop()
        self._gen += 1
        if self.page is not None and not self._in_flight:
            self._submit(wait)

    def _submit(self, wait: float = 0.0) -> None:
        # A worker of its own, so the page never waits behind thumbnails in a shared pool,
        # and a queued signal straight back to this thread: one hop, no asyncio wake-ups.
        if self._closed:
            return
        gen, page = self._gen, self.page
        self._in_flight = True
        future = self._future = self._executor.submit(render_for_view, *self._render_args())
        future.add_done_callback(lambda f: self._bridge.done.emit(gen, page, f))
        if wait > 0:
            try:
                future.exception(timeout=wait)
            except (TimeoutError, CancelledError):
                return  # a slow page: its queued signal will deliver it
            self._render_done(gen, page, future)

    def _render_done(self, gen: int, page: Page, future: Future) -> None:
        if future is not self._future:
            return  # already handled when _submit waited for it
        self._future = None
        self._in_flight = False
        current = gen == self._gen and page is self.page
        try:
            result = future.result()
        except DocumentError as exc:
            if current and not page.document.closed:
                self._show_error(page.index, str(exc))
                return
        except Exception as exc:  # noqa: BLE001 - a page that fails must fail alone
            if current:
                log.exception("rendering page %d failed", page.index + 1)
                self._show_error(page.index, translate("PageView", "Page {n} cannot be shown: {error}")
                                 .format(n=page.index + 1, error=exc))
                return
        else:
            if current:
                self._apply(result)
                return
        # Stale (the user moved on meanwhile): render the latest request only, so paging
        # fast wastes at most one render.
        if self.page is not None:
            self._submit()

    @property
    def rendering(self) -> bool:
        return self._in_flight

    def shutdown(self) -> None:
        """Stop rendering (the window is closing)."""
        self._gen += 1
        self.page = None
        self._closed = True
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _apply(self, r: ViewRender) -> None:
        self.page_size = r.size
        self._sizes[r.index] = r.size
        self.rotation = r.rotation
        if self.fit_mode is not FitMode.NONE and abs(r.zoom - self.zoom) > 1e-9:
            self.zoom = r.zoom
            self.zoomChanged.emit(r.zoom)
        pixmap = QPixmap.fromImage(r.image)
        pixmap.setDevicePixelRatio(self.devicePixelRatioF())
        self._pixmap_item.setPixmap(pixmap)
        self._shown = (r.index, r.rotation, r.scale)
        self._layout()
        self._pixmap_item.setVisible(True)
        self._message.setText("")
        self._paint_pending = r.index
        self.viewport().update()
        self.pageShown.emit(r.index)
        if self._needs_render():  # the zoom changed while this one was rendering
            self._render_timer.start()

    def _show_error(self, index: int, message: str) -> None:
        self.last_error = message
        self._pixmap_item.setVisible(False)
        size = self._sizes.get(index) or (595.0, 842.0)
        if self.page_size is None:
            self.page_size = size
        self._layout()
        self._message.setText(message)
        self.renderFailed.emit(index, message)

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().paintEvent(event)
        if self._paint_pending >= 0:
            index, self._paint_pending = self._paint_pending, -1
            self.pagePainted.emit(index)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        if self.page_size is not None and self.fit_mode is not FitMode.NONE:
            zoom = self._fit(self.page_size)
            if abs(zoom - self.zoom) > 1e-6:
                self._set_zoom(zoom, None)

    # ---------------------------------------------------------------- regions

    def set_regions(self, regions: list[Region]) -> None:
        """Show these regions (the page's, from the region model)."""
        keep = {r.id for r in regions}
        for rid in [rid for rid in self._items if rid not in keep]:
            self.scene().removeItem(self._items.pop(rid))
        vt = self.view_transform()
        for region in regions:
            item = self._items.get(region.id)
            if item is None:
                item = self._items[region.id] = RegionItem(region)
                self.scene().addItem(item)
            item.region = region
            item.selected = region.id == self.selected_id
            if vt is not None:
                item.setRect(self._view_rect(vt, region))
            item.update()
        if self.selected_id and self.selected_id not in keep:
            self.selected_id = ""

    def region_items(self) -> dict[str, RegionItem]:
        return dict(self._items)

    def select_region(self, region_id: str) -> None:
        if region_id == self.selected_id:
            return
        self.selected_id = region_id if region_id in self._items else ""
        for rid, item in self._items.items():
            item.selected = rid == self.selected_id
            item.setZValue(11 if item.selected else 10)
            item.update()
        self.regionSelected.emit(self.selected_id)

    def _page_rect(self) -> QRectF:
        return self._paper.rect() if self._paper.isVisible() else QRectF()

    def _hit(self, p: QPointF) -> tuple[str, str] | None:
        """(region id, handle) under scene point `p`; handle is "move" or the edges."""
        items = sorted(self._items.values(), key=lambda it: (not it.selected, -it.region.order))
        for item in items:
            r = item.rect()
            if not r.adjusted(-HANDLE, -HANDLE, HANDLE, HANDLE).contains(p):
                continue
            edges = ""
            if abs(p.y() - r.top()) <= HANDLE:
                edges += "t"
            elif abs(p.y() - r.bottom()) <= HANDLE:
                edges += "b"
            if abs(p.x() - r.left()) <= HANDLE:
                edges += "l"
            elif abs(p.x() - r.right()) <= HANDLE:
                edges += "r"
            if edges:
                return item.region.id, edges
            if r.contains(p):
                return item.region.id, "move"
        return None

    _CURSORS = {
        "move": Qt.CursorShape.SizeAllCursor, "t": Qt.CursorShape.SizeVerCursor,
        "b": Qt.CursorShape.SizeVerCursor, "l": Qt.CursorShape.SizeHorCursor,
        "r": Qt.CursorShape.SizeHorCursor, "tl": Qt.CursorShape.SizeFDiagCursor,
        "br": Qt.CursorShape.SizeFDiagCursor, "tr": Qt.CursorShape.SizeBDiagCursor,
        "bl": Qt.CursorShape.SizeBDiagCursor,
    }

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        button = event.button()
        if button == Qt.MouseButton.MiddleButton or (button == Qt.MouseButton.LeftButton and self._space):
            self._pan_from = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        if button != Qt.MouseButton.LeftButton or self.view_transform() is None:
            super().mousePressEvent(event)
            return
        p = self.mapToScene(event.position().toPoint())
        hit = self._hit(p)
        if hit is not None:
            rid, handle = hit
            self.select_region(rid)
            self._drag = ("edit", rid, handle, p, QRectF(self._items[rid].rect()))
        elif self._page_rect().contains(p):
            self.select_region("")
            self._drag = ("draw", p)
            self._rubber.setRect(QRectF(p, p))
            self._rubber.setVisible(True)
        else:
            self.select_region("")
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            h, v = self.horizontalScrollBar(), self.verticalScrollBar()
            h.setValue(h.value() - round(delta.x()))
            v.setValue(v.value() - round(delta.y()))
            event.accept()
            return
        p = self.mapToScene(event.position().toPoint())
        page = self._page_rect()
        if self._drag is None:
            hit = self._hit(p)
            if hit is not None:
                self.viewport().setCursor(self._CURSORS[hit[1]])
            elif page.contains(p):
                self.viewport().setCursor(Qt.CursorShape.CrossCursor)
            else:
                self.viewport().unsetCursor()
            super().mouseMoveEvent(event)
            return
        if self._drag[0] == "draw":
            self._rubber.setRect(QRectF(self._drag[1], p).normalized().intersected(page))
        else:
            _, rid, handle, start, original = self._drag
            self._items[rid].setRect(self._dragged(original, handle, p - start, page))
        event.accept()

    @staticmethod
    def _dragged(r: QRectF, handle: str, d: QPointF, page: QRectF) -> QRectF:
        if handle == "move":
            dx = min(max(d.x(), page.left() - r.left()), page.right() - r.right())
            dy = min(max(d.y(), page.top() - r.top()), page.bottom() - r.bottom())
            return r.translated(dx, dy)
        left, top, right, bottom = r.left(), r.top(), r.right(), r.bottom()
        if "l" in handle:
            left = min(max(left + d.x(), page.left()), right - MIN_DRAW)
        if "r" in handle:
            right = max(min(right + d.x(), page.right()), left + MIN_DRAW)
        if "t" in handle:
            top = min(max(top + d.y(), page.top()), bottom - MIN_DRAW)
        if "b" in handle:
            bottom = max(min(bottom + d.y(), page.bottom()), top + MIN_DRAW)
        return QRectF(QPointF(left, top), QPointF(right, bottom))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if self._pan_from is not None:
            self._pan_from = None
            self.viewport().unsetCursor()
            event.accept()
            return
        drag, self._drag = self._drag, None
        vt = self.view_transform()
        if drag is None or vt is None:
            super().mouseReleaseEvent(event)
            return
        if drag[0] == "draw":
            rect = self._rubber.rect()
            self._rubber.setVisible(False)
            if rect.width() >= MIN_DRAW and rect.height() >= MIN_DRAW:
                region = vt.region_from_view((rect.left(), rect.top(), rect.right(), rect.bottom()))
                self.regionDrawn.emit(region)
        else:
            _, rid, _, _, original = drag
            item = self._items.get(rid)
            if item is not None:
                rect = item.rect()
                if rect != original:
                    new = vt.update_region(item.region, (rect.left(), rect.top(),
                                                         rect.right(), rect.bottom()))
                    self.regionEdited.emit(new)
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            self.viewport().unsetCursor()
            event.accept()
            return
        super().keyReleaseEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt override
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            steps = event.angleDelta().y() / 120
            if steps:
                self.zoom_by(1.25 ** steps, event.position())
            event.accept()
        else:
            super().wheelEvent(event)

