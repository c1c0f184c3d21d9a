"""Regions of a page: rectangles the user marks, their reading order, and view geometry.

Coordinates
-----------
A `Region` is stored as **fractions (0-1) of the page as the document presents it**
(PDF pages after their own /Rotate, images after EXIF orientation), before any rotation
the user applies in the viewer. Fractions were chosen over points because they do not
depend on the page's unit (points for PDFs, pixels for images) nor on the zoom or DPI a
page is rendered at: the same region crops a 72-dpi thumbnail, the on-screen page and a
300-dpi engine render identically.

"Page units" are the page's own size: PDF points (1/72 inch) for PDFs, pixels for images.
A `ViewTransform` maps page units to the pixels of the page view for a zoom (view pixels
per page unit) and a clockwise view rotation of 0/90/180/270 degrees, and back; regions
drawn in the view go through it, so they stay on the same content under zoom and rotation.

The CLI helpers `parse_pages` and `parse_region` live here too, because they produce
page indices and regions.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from PIL import Image

ROTATIONS = (0, 90, 180, 270)


class Rect(NamedTuple):
    """Axis-aligned rectangle (x0, y0) top-left to (x1, y1) bottom-right."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    def normalized(self) -> Rect:
        return Rect(min(self.x0, self.x1), min(self.y0, self.y1),
                    max(self.x0, self.x1), max(self.y0, self.y1))


def _new_id() -> str:
    return uuid.uuid4().hex[:12]


def check_rotation(rotation: int) -> int:
    """Return `rotation` reduced to 0/90/180/270, or raise ValueError for other angles."""
    r = int(rotation) % 360
    if r not in ROTATIONS:
        raise ValueError(f"rotation must be a multiple of 90 degrees, not {rotation}")
    return r


@dataclass(frozen=True)
class Region:
    """A rectangle on one page, in fractions (0-1) of the page's width and height.

    `order` is the 1-based number shown on the page (0 = not numbered yet); `task` is a
    task id from core/tasks.py or None for "the task chosen for the whole document";
    `label` is what the result pane shows for this region ("" = "Region <order>").
    Regions are immutable: edits return a new Region with the same id.
    """

    x: float
    y: float
    w: float
    h: float
    id: str = field(default_factory=_new_id)
    order: int = 0
    task: str | None = None
    label: str = ""

    def __post_init__(self) -> None:
        for name in ("x", "y", "w", "h"):
            v = getattr(self, name)
            if not math.isfinite(v):
                raise ValueError(f"region {name} must be a finite number")
        eps = 1e-9
        if self.w <= 0 or self.h <= 0:
            raise ValueError("a region must have a positive width and height")
        if self.x < -eps or self.y < -eps or self.x + self.w > 1 + eps or self.y + self.h > 1 + eps:
            raise ValueError("a region must lie within the page (fractions 0-1)")

    # ------------------------------------------------------------------ constructors

    @classmethod
    def whole_page(cls, **kw) -> Region:
        return cls(0.0, 0.0, 1.0, 1.0, **kw)

    @classmethod
    def from_corners(cls, x0: float, y0: float, x1: float, y1: float, **kw) -> Region:
        """From two corners in fractions, in any order (a mouse drag); clamped to the page.

        Raises ValueError when the clamped rectangle is empty (a click, or a drag that
        lies wholly outside the page).
        """
        r = Rect(x0, y0, x1, y1).normalized()
        cx0, cy0 = min(max(r.x0, 0.0), 1.0), min(max(r.y0, 0.0), 1.0)
        cx1, cy1 = min(max(r.x1, 0.0), 1.0), min(max(r.y1, 0.0), 1.0)
        return cls(cx0, cy0, cx1 - cx0, cy1 - cy0, **kw)

    @classmethod
    def from_page_rect(cls, rect: Rect | Sequence[float], page_width: float,
                       page_height: float, **kw) -> Region:
        """From a rectangle in page units (points or image pixels)."""
        x0, y0, x1, y1 = rect
        return cls.from_corners(x0 / page_width, y0 / page_height,
                                x1 / page_width, y1 / page_height, **kw)

    # ------------------------------------------------------------------ conversions

    @property
    def rect(self) -> Rect:
        """The region as fractions (x0, y0, x1, y1)."""
        return Rect(self.x, self.y, self.x + self.w, self.y + self.h)

    @property
    def is_whole_page(self) -> bool:
        return self.x <= 1e-9 and self.y <= 1e-9 and self.w >= 1 - 1e-9 and self.h >= 1 - 1e-9

    def to_page_rect(self, page_width: float, page_height: float) -> Rect:
        """The region in page units, for clipping a render or a text layer."""
        return Rect(self.x * page_width, self.y * page_height,
                    min(self.x + self.w, 1.0) * page_width, min(self.y + self.h, 1.0) * page_height)

    def pixel_box(self, image_width: int, image_height: int) -> tuple[int, int, int, int]:
        """(left, top, right, bottom) pixels of an image of the whole page, for Image.crop.

        Rounded outwards so no marked pixel is lost, and never empty.
        """
        left = max(0, math.floor(self.x * image_width + 1e-6))
        top = max(0, math.floor(self.y * image_height + 1e-6))
        right = min(image_width, math.ceil((self.x + self.w) * image_width - 1e-6))
        bottom = min(image_height, math.ceil((self.y + self.h) * image_height - 1e-6))
        right = max(right, min(left + 1, image_width))
        bottom = max(bottom, min(top + 1, image_height))
        return left, top, right, bottom

    # ------------------------------------------------------------------ edits

    def with_rect(self, x: float, y: float, w: float, h: float) -> Region:
        return replace(self, x=x, y=y, w=w, h=h)

    def moved(self, dx: float, dy: float) -> Region:
        """Shifted by (dx, dy) fractions, stopped at the page edges (size kept)."""
        x = min(max(self.x + dx, 0.0), 1.0 - self.w)
        y = min(max(self.y + dy, 0.0), 1.0 - self.h)
        return replace(self, x=x, y=y)

    @property
    def display_label(self) -> str:
        return self.label or f"Region {self.order}"


def crop(image: Image.Image, region: Region | None) -> Image.Image:
    """Crop an image of the whole page to a region (None or whole page: unchanged)."""
    if region is None or region.is_whole_page:
        return image
    return image.crop(region.pixel_box(*image.size))


# ---------------------------------------------------------------------- reading order


def reading_order(regions: Iterable[Region], tolerance: float = 0.01) -> list[Region]:
    """Sort regions top-to-bottom, then left-to-right, and number them 1..n.

    Regions form one row when their vertical centre lies within the vertical extent of
    the row's first (topmost) region, widened by `tolerance` (a fraction of the page
    height), so boxes drawn roughly side by side read left to right even when their tops
    differ a little, and a tall box beside a column of small ones reads before them.
    """
    remaining = sorted(regions, key=lambda r: (r.y, r.x))
    rows: list[list[Region]] = []
    while remaining:
        anchor = remaining.pop(0)
        lo, hi = anchor.y - tolerance, anchor.y + anchor.h + tolerance
        row = [anchor]
        rest = []
        for r in remaining:
            (row if lo <= r.y + r.h / 2 <= hi else rest).append(r)
        remaining = rest
        rows.append(sorted(row, key=lambda r: (r.x, r.y)))
    return renumber([r for row in rows for r in row])


def renumber(regions: Iterable[Region]) -> list[Region]:
    """Number regions 1..n in the order given (after a manual reorder)."""
    return [replace(r, order=i) for i, r in enumerate(regions, start=1)]


def move_region(regions: Sequence[Region], region_id: str, new_index: int) -> list[Region]:
    """Manual reorder: put the region `region_id` at position `new_index` (0-based,
    clamped to the list) and renumber all."""
    items = list(regions)
    for i, r in enumerate(items):
        if r.id == region_id:
            item = items.pop(i)
            break
    else:
        raise KeyError(region_id)
    new_index = min(max(new_index, 0), len(items))
    items.insert(new_index, item)
    return renumber(items)


# ---------------------------------------------------------------------- view geometry


@dataclass(frozen=True)
class ViewTransform:
    """Page units <-> view pixels for a zoom and a clockwise rotation of 0/90/180/270.

    The view shows the page with its top-left corner at view (0, 0); `view_size` is the
    size of the rotated, zoomed page.
    """

    page_width: float
    page_height: float
    zoom: float = 1.0
    rotation: int = 0

    def __post_init__(self) -> None:
        if self.page_width <= 0 or self.page_height <= 0:
            raise ValueError("page size must be positive")
        if not (self.zoom > 0 and math.isfinite(self.zoom)):
            raise ValueError("zoom must be a positive number")
        object.__setattr__(self, "rotation", check_rotation(self.rotation))

    @property
    def view_size(self) -> tuple[float, float]:
        w, h = self.page_width * self.zoom, self.page_height * self.zoom
        return (h, w) if self.rotation in (90, 270) else (w, h)

    def page_to_view(self, x: float, y: float) -> tuple[float, float]:
        s, w, h = self.zoom, self.page_width, self.page_height
        if self.rotation == 0:
            return s * x, s * y
        if self.rotation == 90:
            return s * (h - y), s * x
        if self.rotation == 180:
            return s * (w - x), s * (h - y)
        return s * y, s * (w - x)

    def view_to_page(self, vx: float, vy: float) -> tuple[float, float]:
        s, w, h = self.zoom, self.page_width, self.page_height
        u, v = vx / s, vy / s
        if self.rotation == 0:
            return u, v
        if self.rotation == 90:
            return v, h - u
        if self.rotation == 180:
            return w - u, h - v
        return w - v, u

    def rect_to_view(self, rect: Rect | Sequence[float]) -> Rect:
        x0, y0, x1, y1 = rect
        a, b = self.page_to_view(x0, y0), self.page_to_view(x1, y1)
        return Rect(a[0], a[1], b[0], b[1]).normalized()

    def rect_to_page(self, rect: Rect | Sequence[float]) -> Rect:
        x0, y0, x1, y1 = rect
        a, b = self.view_to_page(x0, y0), self.view_to_page(x1, y1)
        return Rect(a[0], a[1], b[0], b[1]).normalized()

    def region_to_view(self, region: Region) -> Rect:
        return self.rect_to_view(region.to_page_rect(self.page_width, self.page_height))

    def region_from_view(self, rect: Rect | Sequence[float], **kw) -> Region:
        """A region from a rectangle drawn in the view (corners in any order)."""
        return Region.from_page_rect(self.rect_to_page(rect), self.page_width, self.page_height, **kw)

    def update_region(self, region: Region, rect: Rect | Sequence[float]) -> Region:
        """The same region (id, order, task, label) moved/resized to a view rectangle."""
        new = self.region_from_view(rect)
        return region.with_rect(new.x, new.y, new.w, new.h)


# ---------------------------------------------------------------------- CLI parsing


class SpecError(ValueError):
    """A --pages or --region value that cannot be used; `str()` is the message."""


def page_ranges(spec: str) -> list[tuple[int, int | None]] | None:
    """The 1-based (first, last) ranges of a page list, `last` None for "to the end";
    None for every page ("", "all"). Checks the syntax only (no page count needed), so a
    command can refuse a bad --pages before any work. Raises SpecError."""
    text = spec.strip().lower()
    if text in ("", "all", "*"):
        return None
    ranges: list[tuple[int, int | None]] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            raise SpecError(f"Empty item in the page list {spec!r}.")
        m = re.fullmatch(r"(\d*)\s*-\s*(\d*)", part)
        if m:
            a_text, b_text = m.groups()
            if not a_text and not b_text:
                raise SpecError(f"{part!r} is not a page range (use e.g. 2-5).")
            first = int(a_text) if a_text else 1
            last: int | None = int(b_text) if b_text else None
        elif re.fullmatch(r"\d+", part):
            first = last = int(part)
        else:
            raise SpecError(f"{part!r} is not a page number or range (use e.g. 1-3,7).")
        if first < 1 or (last is not None and last < 1):
            raise SpecError("Pages are numbered from 1.")
        if last is not None and first > last:
            raise SpecError(f"The range {part!r} runs backwards (write {last}-{first}).")
        ranges.append((first, last))
    return ranges


def parse_pages(spec: str, page_count: int) -> list[int]:
    """Parse a page list such as "1-3,7" (1-based, as people count pages).

    Returns sorted, de-duplicated **0-based page indices**: "1-3,7" -> [0, 1, 2, 6].
    Accepts N, A-B, open ranges "A-" (to the last page) and "-B" (from the first),
    and "all" / "" for every page. Raises SpecError with a plain message otherwise.
    """
    if page_count < 1:
        raise SpecError("The document has no pages.")
    ranges = page_ranges(spec)
    if ranges is None:
        return list(range(page_count))
    pages: set[int] = set()
    for first, last in ranges:
        last = page_count if last is None else last
        if last > page_count or first > page_count:
            bad = first if first > page_count else last
            noun = "page" if page_count == 1 else "pages"
            raise SpecError(f"There is no page {bad}: the document has {page_count} {noun}.")
        pages.update(range(first - 1, last))
    return sorted(pages)


@dataclass(frozen=True)
class RegionSpec:
    """A parsed --region: four numbers and their unit ("fraction" or "px")."""

    x: float
    y: float
    w: float
    h: float
    unit: str = "fraction"

    def to_region(self, page_width: float, page_height: float, px_per_unit: float = 1.0) -> Region:
        """Resolve against a page of `page_width` x `page_height` page units.

        Pixels are page units times `px_per_unit`: image pixels for images (1.0) and
        for PDFs pixels at 72 dpi, i.e. points, unless the caller passes dpi / 72.
        Raises SpecError when the region does not lie within the page.
        """
        if self.unit == "fraction":
            x, y, w, h = self.x, self.y, self.w, self.h
        else:
            pw, ph = page_width * px_per_unit, page_height * px_per_unit
            if self.x + self.w > pw + 1e-6 or self.y + self.h > ph + 1e-6:
                raise SpecError(
                    f"The region {self.x:g},{self.y:g},{self.w:g},{self.h:g}px reaches outside "
                    f"the page, which is {pw:g} x {ph:g} px."
                )
            x, y, w, h = self.x / pw, self.y / ph, self.w / pw, self.h / ph
        try:
            return Region(x, y, min(w, 1.0 - x), min(h, 1.0 - y))
        except ValueError as exc:
            raise SpecError(f"The region is not usable: {exc}.") from None


def parse_region(spec: str) -> RegionSpec:
    """Parse "x,y,w,h" in fractions 0-1 of the page, or pixels with a px suffix
    ("10,20,300,200px", or px on every number). Raises SpecError with a plain message."""
    text = spec.strip().lower().replace(" ", "")
    unit = "fraction"
    if text.endswith("px"):
        unit = "px"
    parts = text.split(",")
    if len(parts) != 4:
        raise SpecError(
            f"--region needs four numbers x,y,w,h (got {spec!r}); "
            "fractions of the page like 0.1,0.2,0.5,0.3, or pixels like 10,20,300,200px."
        )
    values = []
    for p in parts:
        if unit == "px":
            p = p.removesuffix("px")
        elif "px" in p:
            raise SpecError("Put px after the last number (10,20,300,200px) or after each one.")
        try:
            v = float(p)
        except ValueError:
            raise SpecError(f"{p!r} in --region is not a number.") from None
        if not math.isfinite(v) or v < 0:
            raise SpecError("--region numbers must be zero or positive.")
        values.append(v)
    x, y, w, h = values
    if w <= 0 or h <= 0:
        raise SpecError("The region's width and height must be greater than zero.")
    if unit == "fraction":
        if max(values) > 1:
            raise SpecError(
                "Without a px suffix, --region is in fractions 0-1 of the page; "
                "add px for pixels (10,20,300,200px)."
            )
        if x + w > 1 + 1e-9 or y + h > 1 + 1e-9:
            raise SpecError("The region reaches past the page edge (x + w and y + h must be at most 1).")
    return RegionSpec(x, y, w, h, unit)
