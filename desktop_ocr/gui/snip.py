"""Screen snip: grab every monitor, let the user drag a rectangle, crop it exactly.

One overlay window per screen shows that screen's grab with a crosshair and the size
of the selection; Esc cancels. The crop is made in the grab's own pixels: each screen's
scale is its image width over its logical width, so a 4K monitor at 200 % beside a
1080p one at 100 % (or a portal image of the whole desktop) crops exactly.

Grabbing: Qt's QScreen.grabWindow on X11, Windows and macOS; on Wayland, where clients
may not read the screen, the xdg-desktop-portal Screenshot interface over QtDBus, and
Qt's grab when the portal is missing.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from PySide6.QtCore import QT_TRANSLATE_NOOP, QObject, QPoint, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QGuiApplication,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QScreen,
)
from PySide6.QtWidgets import QWidget

from desktop_ocr.gui.i18n import translate

log = logging.getLogger(__name__)

Rect = tuple[float, float, float, float]  # x, y, width, height
Box = tuple[int, int, int, int]  # left, top, right, bottom (right/bottom exclusive)

# A click, or a drag shorter than this in either direction, selects nothing.
MIN_SELECTION = 3
EMPTY_SELECTION_MESSAGE = QT_TRANSLATE_NOOP(
    "Capture", "Nothing was selected: drag a rectangle around the text. The snip was cancelled.")


# ---------------------------------------------------------------- geometry (pure)


def overlap(a: Rect, b: Rect) -> float:
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return w * h if w > 0 and h > 0 else 0.0


def pick_screen(selection: Rect, screens: list[Rect]) -> int | None:
    """The screen holding most of `selection` (global logical coordinates), or None."""
    areas = [overlap(selection, s) for s in screens]
    if not areas or max(areas) <= 0:
        return None
    return areas.index(max(areas))


def _round(v: float) -> int:
    return math.floor(v + 0.5)


def crop_box(selection: Rect, screen: Rect, image_size: tuple[int, int]) -> Box:
    """Pixel box in a screen's grab for a selection in global logical coordinates.

    The scale is measured, not taken from the device pixel ratio: a portal image of a
    scaled desktop, or a grab the platform returned at another size, crops right too.
    The box is clipped to the screen.
    """
    sx0, sy0, sw, sh = screen
    iw, ih = image_size
    scale_x, scale_y = iw / sw, ih / sh
    x0, y0 = selection[0] - sx0, selection[1] - sy0
    x1, y1 = x0 + selection[2], y0 + selection[3]
    left = min(max(_round(x0 * scale_x), 0), iw)
    top = min(max(_round(y0 * scale_y), 0), ih)
    right = min(max(_round(x1 * scale_x), 0), iw)
    bottom = min(max(_round(y1 * scale_y), 0), ih)
    return left, top, right, bottom


def normalized(a: tuple[float, float], b: tuple[float, float]) -> Rect:
    """The rectangle between two drag points, whichever way the user dragged."""
    x, y = min(a[0], b[0]), min(a[1], b[1])
    return x, y, abs(a[0] - b[0]), abs(a[1] - b[1])


def split_desktop(image_size: tuple[int, int], desktop: Rect, screens: list[Rect]) -> list[Box]:
    """Where each screen lies in one image of the whole desktop (what the portal returns)."""
    return [crop_box(s, desktop, image_size) for s in screens]


# ---------------------------------------------------------------- grabbing


@dataclass
class ScreenGrab:
    name: str
    geometry: QRect  # logical, in the virtual desktop's coordinates
    image: QImage  # the screen's pixels

    @property
    def rect(self) -> Rect:
        g = self.geometry
        return float(g.x()), float(g.y()), float(g.width()), float(g.height())


class SnipError(Exception):
    """The screen could not be grabbed; `str()` is the message for the user."""


def grab_with_qt() -> list[ScreenGrab]:
    grabs = []
    for screen in QGuiApplication.screens():
        pixmap = screen.grabWindow(0)
        image = pixmap.toImage()
        if image.isNull() or image.width() == 0:
            continue
        grabs.append(ScreenGrab(screen.name(), screen.geometry(), image))
    if not grabs:
        raise SnipError(QT_TRANSLATE_NOOP("Capture", "The screen could not be captured on this desktop."))
    return grabs


def is_wayland() -> bool:
    return QGuiApplication.platformName().startswith("wayland")


PORTAL_SERVICE = "org.freedesktop.portal.Desktop"
PORTAL_PATH = "/org/freedesktop/portal/desktop"
SCREENSHOT_INTERFACE = "org.freedesktop.portal.Screenshot"
REQUEST_INTERFACE = "org.freedesktop.portal.Request"
# The portal says nothing when it refuses (a permission dialog dismissed elsewhere),
# so an answer that does not come in this time counts as a refusal.
PORTAL_TIMEOUT_S = 20.0


def portal_available() -> bool:
    from PySide6.QtDBus import QDBusConnection, QDBusInterface, QDBusReply

    bus = QDBusConnection.sessionBus()
    if not bus.isConnected():
        return False
    probe = QDBusInterface(PORTAL_SERVICE, PORTAL_PATH, "org.freedesktop.DBus.Introspectable", bus)
    probe.setTimeout(2000)
    if not probe.isValid():
        return False
    reply = QDBusReply(probe.call("Introspect"))
    return reply.isValid() and SCREENSHOT_INTERFACE in str(reply.value())


def _unwrap(value) -> str:
    inner = getattr(value, "variant", None)
    return str(inner() if callable(inner) else value)


def _results_uri(results) -> str:
    """The `uri` from a portal Response's a{sv}, which PySide6 may hand over unconverted."""
    if isinstance(results, dict):
        value = results.get("uri", "")
        return _unwrap(value) if value else ""
    from PySide6.QtDBus import QDBusArgument

    if isinstance(results, QDBusArgument):
        results.beginMap()
        try:
            while not results.atEnd():
                results.beginMapEntry()
                key = results.asVariant()
                value = results.asVariant()
                results.endMapEntry()
                if key == "uri":
                    return _unwrap(value)
        finally:
            results.endMap()
    return ""


async def grab_with_portal() -> list[ScreenGrab]:
    """Ask xdg-desktop-portal for a screenshot of the whole desktop, split it per screen."""
    from PySide6.QtDBus import (
        QDBusConnection,
        QDBusInterface,
        QDBusMessage,
        QDBusObjectPath,
        QDBusReply,
    )

    bus = QDBusConnection.sessionBus()
    if not bus.isConnected():
        raise SnipError(QT_TRANSLATE_NOOP("Capture", "No D-Bus session bus."))
    token = "desktop_ocr_" + secrets.token_hex(6)
    sender = bus.baseService().lstrip(":").replace(".", "_")
    request_path = f"{PORTAL_PATH}/request/{sender}/{token}"
    loop = asyncio.get_running_loop()
    answer: asyncio.Future = loop.create_future()

    class Receiver(QObject):
        def on_response(self, message: QDBusMessage) -> None:
            if not answer.done():
                answer.set_result(message.arguments())

    receiver = Receiver()
    # Subscribe before asking, so a fast answer is not missed.
    if not bus.connect(PORTAL_SERVICE, request_path, REQUEST_INTERFACE, "Response",
                       receiver, "on_response(QDBusMessage)"):
        raise SnipError(QT_TRANSLATE_NOOP("Capture", "Cannot listen to the desktop portal."))
    try:
        portal = QDBusInterface(PORTAL_SERVICE, PORTAL_PATH, SCREENSHOT_INTERFACE, bus)
        portal.setTimeout(5000)
        reply = QDBusReply(portal.call("Screenshot", "", {"handle_token": token, "interactive": False}))
        if not reply.isValid():
            raise SnipError(translate("Capture", "The desktop portal refused the screenshot ({why}).").format(
                why=reply.error().message()))
        if not isinstance(reply.value(), QDBusObjectPath):
            raise SnipError(QT_TRANSLATE_NOOP("Capture", "The desktop portal gave no request handle."))
        try:
            args = await asyncio.wait_for(answer, PORTAL_TIMEOUT_S)
        except TimeoutError:
            raise SnipError(QT_TRANSLATE_NOOP("Capture", "The desktop portal did not answer; was the screenshot permission refused?")) from None
    finally:
        bus.disconnect(PORTAL_SERVICE, request_path, REQUEST_INTERFACE, "Response",
                       receiver, "on_response(QDBusMessage)")
    code = int(args[0]) if args else 2
    if code == 1:
        raise SnipError(QT_TRANSLATE_NOOP("Capture", "The screenshot was cancelled."))
    if code != 0:
        raise SnipError(QT_TRANSLATE_NOOP("Capture", "The desktop refused the screenshot (permission denied)."))
    uri = _results_uri(args[1] if len(args) > 1 else {})
    if not uri:
        raise SnipError(QT_TRANSLATE_NOOP("Capture", "The desktop portal returned no screenshot."))
    path = Path(unquote(urlparse(uri).path))
    image = await asyncio.to_thread(QImage, str(path))
    try:
        path.unlink()  # the portal saves into the user's Pictures; do not leave it there
    except OSError as exc:
        log.info("could not remove the portal's screenshot %s: %s", path, exc)
    if image.isNull():
        raise SnipError(QT_TRANSLATE_NOOP("Capture", "The desktop portal's screenshot could not be read."))
    return split_grab(image)


def split_grab(image: QImage) -> list[ScreenGrab]:
    screens = QGuiApplication.screens()
    desktop = screens[0].virtualGeometry()
    rects = [(float(s.geometry().x()), float(s.geometry().y()),
              float(s.geometry().width()), float(s.geometry().height())) for s in screens]
    d = (float(desktop.x()), float(desktop.y()), float(desktop.width()), float(desktop.height()))
    grabs = []
    for screen, (left, top, right, bottom) in zip(screens, split_desktop(
            (image.width(), image.height()), d, rects), strict=True):
        grabs.append(ScreenGrab(screen.name(), screen.geometry(),
                                image.copy(QRect(left, top, right - left, bottom - top))))
    return grabs


async def grab_screens() -> list[ScreenGrab]:
    """Every screen's pixels, by the best means this session has."""
    if is_wayland() or os.environ.get("DESKTOP_OCR_SNIP_PORTAL") == "1":
        try:
            if portal_available():
                return await grab_with_portal()
            log.info("snip: no xdg-desktop-portal Screenshot; falling back to Qt's grab")
        except SnipError as exc:
            log.warning("snip: portal: %s; falling back to Qt's grab", exc)
    return grab_with_qt()


# ---------------------------------------------------------------- the overlay


class SnipOverlay(QWidget):
    """Covers one screen with its own grab; the user drags a rectangle on it."""

    selected = Signal(QRectF)  # global logical coordinates
    cancelled = Signal(str)

    DIM = QColor(0, 0, 0, 110)
    ACCENT = QColor(0, 163, 255)

    def __init__(self, grab: ScreenGrab, screen: QScreen | None = None) -> None:
        super().__init__(None, Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint
                         | Qt.WindowType.Tool)
        self.grab_ = grab
        self._image = QImage(grab.image)
        # Drawn at the screen's logical size in the screen's real pixels: sharp at any scale.
        self._image.setDevicePixelRatio(grab.image.width() / max(1, grab.geometry.width()))
        self._start: QPointF | None = None
        self._end: QPointF | None = None
        self._cursor: QPointF | None = None
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.setMouseTracking(True)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setWindowTitle(translate("Capture", "Snip"))
        if screen is not None:
            self.setScreen(screen)
        self.setGeometry(grab.geometry)

    # -- state

    def selection_local(self) -> QRectF | None:
        if self._start is None or self._end is None:
            return None
        x, y, w, h = normalized((self._start.x(), self._start.y()), (self._end.x(), self._end.y()))
        return QRectF(x, y, w, h)

    def selection_pixels(self) -> tuple[int, int]:
        sel = self.selection_local()
        if sel is None:
            return 0, 0
        g = self.grab_.geometry
        left, top, right, bottom = crop_box(
            (sel.x() + g.x(), sel.y() + g.y(), sel.width(), sel.height()),
            self.grab_.rect, (self.grab_.image.width(), self.grab_.image.height()))
        return right - left, bottom - top

    # -- events

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if event.key() == Qt.Key.Key_Escape:
            self.cancelled.emit("")
            return
        super().keyPressEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if event.button() == Qt.MouseButton.LeftButton:
            self._start = self._end = event.position()
            self.update()
        elif event.button() == Qt.MouseButton.RightButton:
            self.cancelled.emit("")

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        self._cursor = event.position()
        if self._start is not None and event.buttons() & Qt.MouseButton.LeftButton:
            self._end = event.position()
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if event.button() != Qt.MouseButton.LeftButton or self._start is None:
            return
        self._end = event.position()
        sel = self.selection_local()
        self._start = self._end = None
        self.update()
        if sel is None or sel.width() < MIN_SELECTION or sel.height() < MIN_SELECTION:
            self.cancelled.emit(EMPTY_SELECTION_MESSAGE)
            return
        g = self.grab_.geometry
        self.selected.emit(sel.translated(g.x(), g.y()))

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        p = QPainter(self)
        p.drawImage(QPoint(0, 0), self._image)
        p.fillRect(self.rect(), self.DIM)
        sel = self.selection_local()
        if sel is not None and sel.width() > 0 and sel.height() > 0:
            # The selection shows the screen undimmed.
            p.drawImage(sel, self._image, QRectF(
                sel.x() * self._image.devicePixelRatio(), sel.y() * self._image.devicePixelRatio(),
                sel.width() * self._image.devicePixelRatio(), sel.height() * self._image.devicePixelRatio()))
            p.setPen(QPen(self.ACCENT, 2))
            p.drawRect(sel)
            w, h = self.selection_pixels()
            self._draw_label(p, f"{w} × {h} px", sel.bottomRight() + QPointF(8, 8))
        if self._cursor is not None:
            p.setPen(QPen(QColor(255, 255, 255, 170), 1, Qt.PenStyle.DashLine))
            c = self._cursor
            p.drawLine(QPointF(0, c.y()), QPointF(self.width(), c.y()))
            p.drawLine(QPointF(c.x(), 0), QPointF(c.x(), self.height()))
        if sel is None:
            self._draw_label(p, translate("Capture", "Drag around the text to recognise. Esc cancels."),
                             QPointF(24, 24))
        p.end()

    def _draw_label(self, p: QPainter, text: str, at: QPointF) -> None:
        font = QFont(self.font())
        font.setPointSizeF(max(9.0, font.pointSizeF()))
        p.setFont(font)
        metrics = p.fontMetrics()
        box = QRectF(metrics.boundingRect(text)).adjusted(-6, -4, 6, 4)
        box.moveTopLeft(at)
        # Keep the label on screen when the selection reaches the corner.
        if box.right() > self.width():
            box.moveRight(self.width() - 4)
        if box.bottom() > self.height():
            box.moveBottom(self.height() - 4)
        p.fillRect(box, QColor(20, 20, 20, 220))
        p.setPen(QColor(255, 255, 255))
        p.drawText(box, Qt.AlignmentFlag.AlignCenter, text)


@dataclass
class SnipResult:
    image: QImage  # the crop, in the screen's own pixels
    screen: str
    box: Box


class SnipSession(QObject):
    """One overlay per screen; ends with `done(SnipResult)` or `cancelled(message)`."""

    done = Signal(object)  # SnipResult
    cancelled = Signal(str)  # "" when the user pressed Esc, else why

    def __init__(self, grabs: list[ScreenGrab], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.grabs = grabs
        self.overlays: list[SnipOverlay] = []
        self._finished = False

    def start(self) -> None:
        screens = {s.name(): s for s in QGuiApplication.screens()}
        for grab in self.grabs:
            overlay = SnipOverlay(grab, screens.get(grab.name))
            overlay.selected.connect(self._on_selected)
            overlay.cancelled.connect(self._on_cancelled)
            self.overlays.append(overlay)
            overlay.show()
            if len(self.grabs) > 1:
                overlay.setGeometry(grab.geometry)
            else:
                overlay.showFullScreen()
        if self.overlays:
            self.overlays[0].raise_()
            self.overlays[0].activateWindow()

    def crop(self, selection: Rect) -> SnipResult | None:
        index = pick_screen(selection, [g.rect for g in self.grabs])
        if index is None:
            return None
        grab = self.grabs[index]
        left, top, right, bottom = crop_box(selection, grab.rect, (grab.image.width(), grab.image.height()))
        if right - left < 1 or bottom - top < 1:
            return None
        return SnipResult(grab.image.copy(QRect(left, top, right - left, bottom - top)), grab.name,
                          (left, top, right, bottom))

    def _on_selected(self, selection: QRectF) -> None:
        result = self.crop((selection.x(), selection.y(), selection.width(), selection.height()))
        self._close()
        if result is None:
            self.cancelled.emit(EMPTY_SELECTION_MESSAGE)
        else:
            self.done.emit(result)

    def _on_cancelled(self, message: str) -> None:
        self._close()
        self.cancelled.emit(message)

    def _close(self) -> None:
        if self._finished:
            return
        self._finished = True
        for overlay in self.overlays:
            overlay.close()
        self.overlays.clear()

    def cancel(self) -> None:
        if not self._finished:
            self._on_cancelled("")
