"""Documents as lazily rendered pages: PDFs (and what else PyMuPDF opens), multi-frame
TIFF/GIF, and every raster image Pillow reads.

`open_document(path, password=None)` only reads what it needs to count the pages;
nothing is rendered or decoded until a page is asked for (`Page.render`,
`Page.render_for_engine`). Page geometry is in "page units": PDF points (1/72 inch) for
PDF-like documents and pixels for images, so `render(scale=1)` is 72 dpi for a PDF and
the image's own pixels for an image. Regions (core/regions.py) are fractions of that page.

Threads: MuPDF's Python binding has no threading support at all (one global context,
not one per document), so a lock per document would not be enough: every call into
PyMuPDF, for every document, goes through the one process-wide `MUPDF_LOCK`. PyMuPDF
holds the GIL while it renders anyway, so the lock costs no parallelism. Image pages
re-open their file for each decode and share no Pillow object between threads. Pages can
therefore be rendered from any worker thread; rendered images are shared through the
document's byte-bounded cache and must be treated as read-only (`.copy()` to draw on one).
"""

from __future__ import annotations

import itertools
import math
import sys
import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, overload

from PIL import Image

from desktop_ocr.core import imaging
from desktop_ocr.core.imaging import ImageError, check_file
from desktop_ocr.core.messages import QT_TRANSLATE_NOOP, Text
from desktop_ocr.core.regions import Rect, Region, check_rotation

if TYPE_CHECKING:
    import pymupdf

# One process-wide lock for PyMuPDF (see the module docstring).
MUPDF_LOCK = threading.RLock()


def _mupdf():
    """PyMuPDF, imported on first use (the GUI must not pay for it before its window shows).

    PyMuPDF 2 imports its optional layout analyser at import time when it is installed (an
    ONNX model with numpy: most of a 0.6-3 s import) and nothing here uses it, so the
    import system is told it is absent, which PyMuPDF handles as "not installed"."""
    sys.modules.setdefault("pymupdf.layout", None)  # type: ignore[arg-type]
    import pymupdf

    global _mupdf_ready
    if not _mupdf_ready:
        # MuPDF prints repair chatter on stderr; we collect it into Document.warnings instead.
        pymupdf.TOOLS.mupdf_display_errors(False)
        pymupdf.TOOLS.mupdf_display_warnings(False)
        _mupdf_ready = True
    return pymupdf


_mupdf_ready = False

DEFAULT_CACHE_BYTES = 128 * 1024 * 1024
# What an engine gets for a whole page or region: enough for InternVL3's 12 tiles of
# 448 px and for PP-OCR, without paying for pixels neither uses.
ENGINE_MAX_SIDE = 2048
ENGINE_MAX_DPI = 300

PDF_LIKE_SUFFIXES = {
    ".pdf": "pdf", ".xps": "xps", ".oxps": "xps", ".epub": "epub", ".cbz": "cbz",
    ".fb2": "fb2", ".mobi": "mobi",
}
_IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*",
                b"BM", b"\x00\x00\x00\x0cjP", b"\xff\x4f\xff\x51")


class DocumentError(Exception):
    """A document that cannot be opened or used; `str()` is the message for the user."""


class PasswordRequired(DocumentError):
    """The PDF is encrypted and no password was given: ask for one, then open again."""


class WrongPassword(DocumentError):
    """The password given does not open the PDF: say so and ask again."""


class PageError(DocumentError):
    """One page cannot be rendered; the document's other pages still work."""

    def __init__(self, message: str, index: int) -> None:
        super().__init__(message)
        self.index = index


class Pixels(NamedTuple):
    """A rendered page as packed 8-bit RGB rows: what a viewer hands straight to
    QImage(data, width, height, stride, Format_RGB888) without going through PIL.

    `data` may be a view of MuPDF's own pixmap buffer (no copy: at 200 dpi the copy cost
    as much as the render); `owner` then keeps that pixmap, and so the view, alive."""

    width: int
    height: int
    stride: int
    data: bytes | memoryview
    owner: object = None

    @property
    def nbytes(self) -> int:
        return self.data.nbytes if isinstance(self.data, memoryview) else len(self.data)

    def to_image(self) -> Image.Image:
        return Image.frombuffer("RGB", (self.width, self.height), self.data, "raw", "RGB",
                                self.stride, 1)


# Everything `open_document` raises for a file the user chose (ImageError comes from
# core/imaging for images: too large, not an image, damaged header).
OPEN_ERRORS: tuple[type[Exception], ...] = (DocumentError, ImageError)


class RenderCache:
    """Least-recently-used cache of rendered images, bounded by their size in bytes.

    Thread-safe. An image larger than the whole budget is not kept.
    """

    def __init__(self, max_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self._max = max_bytes
        self._items: OrderedDict[Hashable, tuple[Image.Image | Pixels, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def cost(item: Image.Image | Pixels) -> int:
        if isinstance(item, Pixels):
            return item.nbytes
        # Pillow keeps RGB as 4 bytes a pixel
        bands = len(item.getbands())
        return item.width * item.height * (4 if bands == 3 else bands)

    @property
    def max_bytes(self) -> int:
        return self._max

    @max_bytes.setter
    def max_bytes(self, value: int) -> None:
        with self._lock:
            self._max = value
            self._trim()

    @property
    def bytes_used(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Hashable) -> Image.Image | Pixels | None:
        with self._lock:
            entry = self._items.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return entry[0]

    def put(self, key: Hashable, img: Image.Image | Pixels) -> None:
        size = self.cost(img)
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            if size > self._max:
                return
            self._items[key] = (img, size)
            self._bytes += size
            self._trim()

    def discard(self, predicate) -> None:
        """Drop every entry whose key satisfies `predicate(key)`."""
        with self._lock:
            for key in [k for k in self._items if predicate(k)]:
                self._bytes -= self._items.pop(key)[1]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0

    def _trim(self) -> None:
        while self._bytes > self._max and self._items:
            _, (_, size) = self._items.popitem(last=False)
            self._bytes -= size


# ---------------------------------------------------------------------- sources


class _Source:
    """What a Document reads pages from. Implementations must be thread-safe."""

    kind = ""
    page_count = 0

    def page_size(self, index: int) -> tuple[float, float]:
        raise NotImplementedError

    def render(self, index: int, scale: float, clip: Rect | None, rotation: int,
               pixels: bool) -> Image.Image | Pixels:
        raise NotImplementedError

    def text(self, index: int, clip: Rect | None) -> str:
        return ""

    def close(self) -> None:
        pass


class _PdfSource(_Source):
    def __init__(self, doc: pymupdf.Document, kind: str) -> None:
        self._doc = doc
        self.kind = kind
        self.page_count = doc.page_count

    def page_size(self, index: int) -> tuple[float, float]:
        with MUPDF_LOCK:
            r = self._doc.load_page(index).rect
        return r.width, r.height

    def render(self, index: int, scale: float, clip: Rect | None, rotation: int,
               pixels: bool) -> Image.Image | Pixels:
        pymupdf = _mupdf()
        matrix = pymupdf.Matrix(scale, scale).prerotate(rotation)
        with MUPDF_LOCK:
            page = self._doc.load_page(index)
            pix = page.get_pixmap(matrix=matrix, clip=pymupdf.Rect(clip) if clip else None,
                                  alpha=False, colorspace=pymupdf.csRGB)
            # Pixels share the pixmap's buffer (it lives as long as they do); Pillow stores
            # RGB as RGBX, so an image needs one copy out of it.
            if pixels:
                return Pixels(pix.width, pix.height, pix.stride, pix.samples_mv, pix)
            return Image.frombytes("RGB", (pix.width, pix.height), pix.samples_mv, "raw",
                                   "RGB", pix.stride, 1)

    def text(self, index: int, clip: Rect | None) -> str:
        pymupdf = _mupdf()
        with MUPDF_LOCK:
            page = self._doc.load_page(index)
            return page.get_text("text", clip=pymupdf.Rect(clip) if clip else None)

    def close(self) -> None:
        with MUPDF_LOCK:
            self._doc.close()


class _ImageSource(_Source):
    """Frames of an image file or buffer (one page per frame), or one in-memory image."""

    kind = "image"

    def __init__(self, source: Path | bytes | Image.Image, page_count: int,
                 first_size: tuple[int, int]) -> None:
        self._source = source
        self.page_count = page_count
        self._sizes: dict[int, tuple[int, int]] = {0: first_size}

    def page_size(self, index: int) -> tuple[float, float]:
        size = self._sizes.get(index)
        if size is None:
            img = self._open_frame(index)
            size = self._sizes[index] = _oriented_size(img)
        return float(size[0]), float(size[1])

    def _open_frame(self, index: int) -> Image.Image:
        if isinstance(self._source, Image.Image):
            return self._source
        img = imaging.open_checked(self._source)
        if index:
            try:
                img.seek(index)
            except EOFError:
                raise ImageError(f"The image has no frame {index + 1}.") from None
            imaging.check_size(*img.size)
        return img

    def decode(self, index: int) -> Image.Image:
        img = self._open_frame(index)
        if isinstance(self._source, Image.Image):
            return img
        return imaging.normalize(imaging.decode(img))

    def render(self, index: int, scale: float, clip: Rect | None, rotation: int,
               pixels: bool) -> Image.Image | Pixels:
        raise AssertionError("image pages are rendered by Document from the decoded frame")


def _oriented_size(img: Image.Image) -> tuple[int, int]:
    """Size after EXIF orientation (5-8 swap width and height), read from the header."""
    try:
        orientation = img.getexif().get(0x0112, 1)
    except Exception:  # a damaged EXIF block only loses the rotation, as in normalize()
        orientation = 1
    w, h = img.size
    return (h, w) if orientation in (5, 6, 7, 8) else (w, h)


# ---------------------------------------------------------------------- pages


def _scale(dpi: float | None, scale: float | None) -> float:
    if dpi is not None and scale is not None:
        raise ValueError("give dpi or scale, not both")
    if dpi is not None:
        scale = dpi / 72.0
    scale = 1.0 if scale is None else float(scale)
    if not (scale > 0 and math.isfinite(scale)):
        raise ValueError("scale must be a positive number")
    return scale


def _pixels(length: float, scale: float) -> int:
    """Pixels for `length` page units at `scale`, rounded as MuPDF rounds a page's box."""
    return max(1, math.ceil(length * scale - 1e-3))


class Page:
    """One page of a Document. Cheap to create: it reads and renders nothing by itself."""

    def __init__(self, document: Document, index: int) -> None:
        self.document = document
        self.index = index
        self._size: tuple[float, float] | None = None
        self._text: str | None = None

    def __repr__(self) -> str:
        return f"<Page {self.number} of {self.document.name!r}>"

    @property
    def number(self) -> int:
        """1-based page number, as shown to people."""
        return self.index + 1

    @property
    def size(self) -> tuple[float, float]:
        """(width, height) in page units: points for PDFs, pixels for images."""
        if self._size is None:
            self._size = self.document._call(self.index, self.document._source.page_size,
                                             self.index)
        return self._size

    @property
    def width(self) -> float:
        return self.size[0]

    @property
    def height(self) -> float:
        return self.size[1]

    @property
    def is_image(self) -> bool:
        return self.document.kind == "image"

    def pixel_size(self, scale: float = 1.0, rotation: int = 0) -> tuple[int, int]:
        """Size in pixels of `render(scale=scale, rotation=rotation)` of the whole page."""
        w, h = _pixels(self.width, scale), _pixels(self.height, scale)
        return (h, w) if check_rotation(rotation) in (90, 270) else (w, h)

    def render(self, dpi: float | None = None, *, scale: float | None = None,
               clip: Rect | Sequence[float] | None = None, rotation: int = 0,
               cache: bool = True) -> Image.Image:
        """Render the page (or `clip`, a rectangle in page units) as an RGB image.

        Give `dpi` or `scale` (pixels per page unit; dpi / 72 for PDFs); the default is
        scale 1. `rotation` turns the result clockwise by 0/90/180/270 degrees. With
        `cache` the result is kept in (and served from) the document's cache: treat it
        as read-only. Raises PageError (this page only) or DocumentError (closed).
        """
        return self.document._render(self, _scale(dpi, scale), clip, check_rotation(rotation),
                                     cache, pixels=False)

    def render_pixels(self, dpi: float | None = None, *, scale: float | None = None,
                      clip: Rect | Sequence[float] | None = None, rotation: int = 0,
                      cache: bool = True) -> Pixels:
        """Like `render`, as packed RGB rows for the page viewer (no PIL round trip).

        Cached separately from `render`'s images, in the same byte budget.
        """
        return self.document._render(self, _scale(dpi, scale), clip, check_rotation(rotation),
                                     cache, pixels=True)

    def render_region(self, region: Region | None, *, scale: float, rotation: int = 0,
                      cache: bool = True) -> Image.Image:
        clip = None if region is None or region.is_whole_page else region.to_page_rect(*self.size)
        return self.render(scale=scale, clip=clip, rotation=rotation, cache=cache)

    def engine_scale(self, region: Region | None = None, max_side: int = ENGINE_MAX_SIDE,
                     max_dpi: float = ENGINE_MAX_DPI) -> float:
        """The scale `render_for_engine` uses: the longest side at most `max_side` pixels;
        PDFs at most `max_dpi`; images never enlarged."""
        w, h = self.size
        if region is not None:
            w, h = region.w * w, region.h * h
        scale = max_side / max(w, h, 1e-9)
        cap = 1.0 if self.is_image else max_dpi / 72.0
        return min(scale, cap)

    def render_for_engine(self, region: Region | None = None, *, max_side: int = ENGINE_MAX_SIDE,
                          max_dpi: float = ENGINE_MAX_DPI, rotation: int = 0) -> Image.Image:
        """The page or a region of it, rendered from the source for an engine (not from
        the screen): vector pages at up to `max_dpi`, images from their own pixels, the
        longest side at most `max_side`. Not cached (engines take each crop once)."""
        scale = self.engine_scale(region, max_side, max_dpi)
        return self.render_region(region, scale=scale, rotation=rotation, cache=False)

    def thumbnail(self, max_side: int = 160) -> Image.Image:
        return self.render(scale=max_side / max(self.width, self.height))

    def text_layer(self, region: Region | None = None) -> str:
        """The page's embedded text (PyMuPDF's extraction order), or of a region of it;
        "" for images and pages without a text layer (scans)."""
        if region is not None and not region.is_whole_page:
            clip = region.to_page_rect(*self.size)
            return self.document._call(self.index, self.document._source.text, self.index, clip)
        if self._text is None:
            self._text = self.document._call(self.index, self.document._source.text,
                                             self.index, None)
        return self._text

    @property
    def has_text_layer(self) -> bool:
        return bool(self.text_layer().strip())


class PageList(Sequence[Page]):
    """The pages of a document, created on first access."""

    def __init__(self, document: Document) -> None:
        self._document = document
        self._pages: dict[int, Page] = {}

    def __len__(self) -> int:
        return self._document.page_count

    @overload
    def __getitem__(self, index: int) -> Page: ...
    @overload
    def __getitem__(self, index: slice) -> list[Page]: ...

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(f"page index {index} out of range (0-{n - 1})")
        page = self._pages.get(index)
        if page is None:
            page = self._pages.setdefault(index, Page(self._document, index))
        return page

    def __iter__(self) -> Iterator[Page]:
        for i in range(len(self)):
            yield self[i]


# ---------------------------------------------------------------------- documents

_tokens = itertools.count(1)


class Document:
    """An open document. Use `open_document`; close it (or use `with`) when done."""

    def __init__(self, source: _Source, name: str, path: Path | None = None, *,
                 cache: RenderCache | None = None, repaired: bool = False,
                 warnings: list[str] | None = None) -> None:
        self._source = source
        self.name = name
        self.path = path
        self.kind = source.kind
        self.page_count = source.page_count
        self.repaired = repaired
        self.warnings = warnings or []
        self.cache = cache if cache is not None else RenderCache()
        self.pages = PageList(self)
        # Rasterisations done (cache misses); lets tests and benches see laziness.
        self.render_count = 0
        self._token = next(_tokens)
        self._closed = False
        # The password it was opened with: an export that copies its pages (a searchable
        # PDF) opens the file again.
        self.password: str | None = None
        self._count_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<Document {self.name!r} {self.kind} {self.page_count} pages>"

    def __len__(self) -> int:
        return self.page_count

    def __enter__(self) -> Document:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def notice(self) -> str:
        """One line for the user when the file was damaged and repaired ("" when not);
        the details (MuPDF's messages) are in `warnings`, for the log."""
        if self.repaired:
            return ("The file is damaged; it was repaired as far as possible, and some pages "
                    "or content may be missing.")
        return ""

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        token = self._token
        self.cache.discard(lambda k: isinstance(k, tuple) and k and k[0] == token)
        self._source.close()

    # -- internals used by Page

    def _call(self, index: int, fn, *args):
        if self._closed:
            raise DocumentError("The document is closed.")
        try:
            return fn(*args)
        except (DocumentError, MemoryError):
            raise
        except ImageError as exc:
            raise PageError(Text(QT_TRANSLATE_NOOP("Messages", "Page {n}: {why}"), n=index + 1,
                                 why=str(exc)), index) from exc
        except Exception as exc:  # MuPDF raises assorted errors for damaged pages
            raise PageError(Text(QT_TRANSLATE_NOOP("Messages", "Page {n} cannot be read: {why}"),
                                 n=index + 1, why=str(exc)), index) from exc

    def _count(self) -> None:
        with self._count_lock:
            self.render_count += 1

    def _render(self, page: Page, scale: float, clip: Rect | Sequence[float] | None,
                rotation: int, use_cache: bool, *, pixels: bool) -> Image.Image | Pixels:
        if self._closed:
            raise DocumentError("The document is closed.")
        index = page.index
        pw, ph = page.size
        if clip is not None:
            x0, y0, x1, y1 = (float(v) for v in clip)
            clip = Rect(max(0.0, min(x0, x1)), max(0.0, min(y0, y1)),
                        min(pw, max(x0, x1)), min(ph, max(y0, y1)))
            if clip.width <= 0 or clip.height <= 0:
                raise ValueError("the clip rectangle lies outside the page")
            if clip == (0.0, 0.0, pw, ph):
                clip = None
        cw, ch = (clip.width, clip.height) if clip else (pw, ph)
        try:
            imaging.check_size(_pixels(cw, scale), _pixels(ch, scale))
        except ImageError:
            raise PageError(Text(QT_TRANSLATE_NOOP(
                "Messages", "Page {n} is too large to render at this zoom ({width:,.0f} x "
                            "{height:,.0f} pixels)."), n=index + 1, width=cw * scale,
                height=ch * scale), index) from None
        key = (self._token, index, round(scale, 5),
               tuple(round(v, 3) for v in clip) if clip else None, rotation, pixels)
        if use_cache:
            hit = self.cache.get(key)
            if hit is not None:
                return hit
        img: Image.Image | Pixels
        if isinstance(self._source, _ImageSource):
            img = self._render_image(page, scale, clip, rotation)
            if pixels:
                img = Pixels(img.width, img.height, img.width * 3, img.tobytes())
        else:
            img = self._call(index, self._source.render, index, scale, clip, rotation, pixels)
            self._count()
        if use_cache and not (isinstance(self._source, _ImageSource) and img is self.cache.get(
                (self._token, index, "source"))):
            self.cache.put(key, img)
        return img

    def _render_image(self, page: Page, scale: float, clip: Rect | None,
                      rotation: int) -> Image.Image:
        index = page.index
        src_key = (self._token, index, "source")
        src = self.cache.get(src_key)
        if src is None:
            src = self._call(index, self._source.decode, index)  # type: ignore[attr-defined]
            self._count()
            self.cache.put(src_key, src)
        img = src
        if clip is not None:
            img = img.crop(Region.from_page_rect(clip, *page.size).pixel_box(*src.size))
        if abs(scale - 1.0) > 1e-9:
            size = (_pixels(img.width, scale), _pixels(img.height, scale))
            if scale < 1:
                img = img.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
            else:
                img = img.resize(size, Image.Resampling.BICUBIC)
        if rotation:
            # Clockwise, like PDF /Rotate; PIL's ROTATE_n turn counter-clockwise.
            img = img.transpose({90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180,
                                 270: Image.Transpose.ROTATE_90}[rotation])
        return img


# ---------------------------------------------------------------------- opening


def _check_file(path: Path) -> None:
    check_file(path, DocumentError)


def _head(source: Path | bytes) -> bytes:
    if isinstance(source, (bytes, bytearray)):
        return bytes(source[:1024])
    with source.open("rb") as fh:
        return fh.read(1024)


def _is_image_magic(head: bytes) -> bool:
    return head.startswith(_IMAGE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")


def sniff(head: bytes) -> str:
    """What the first KB of a file says it is: pdf, image, zip, mobi, html, xml, text or
    unknown. Names lie (a web page saved as .pdf, a PNG sent as .pdf); bytes do not."""
    if b"%PDF" in head[:1024]:  # readers accept junk before the header, within the first KB
        return "pdf"
    if _is_image_magic(head):
        return "image"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head[60:68] == b"BOOKMOBI":
        return "mobi"
    low = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if low.startswith(b"<!doctype html") or any(t in low[:512] for t in (b"<html", b"<body", b"<head")):
        return "html"
    if low.startswith(b"<"):
        return "xml"
    if head and b"\0" not in head:
        try:
            head.decode("utf-8")
            return "text"
        except UnicodeDecodeError as exc:
            if exc.start >= len(head) - 3:  # a character cut at the end of the 1 KB
                return "text"
    return "unknown"


# What the content of a PDF-like name must be, and how a user names that kind.
_NEEDS = {"pdf": ("pdf", QT_TRANSLATE_NOOP("Messages", "a PDF")),
          "xps": ("zip", QT_TRANSLATE_NOOP("Messages", "an XPS document")),
          "epub": ("zip", QT_TRANSLATE_NOOP("Messages", "an EPUB")),
          "cbz": ("zip", QT_TRANSLATE_NOOP("Messages", "a CBZ comic")),
          "fb2": ("xml", QT_TRANSLATE_NOOP("Messages", "an FB2 book")),
          "mobi": ("mobi", QT_TRANSLATE_NOOP("Messages", "a MOBI book"))}
_LOOKS = {"html": QT_TRANSLATE_NOOP("Messages", "a web page (HTML)"),
          "xml": QT_TRANSLATE_NOOP("Messages", "an XML file"),
          "text": QT_TRANSLATE_NOOP("Messages", "plain text"),
          "zip": QT_TRANSLATE_NOOP("Messages", "a ZIP archive"),
          "mobi": QT_TRANSLATE_NOOP("Messages", "a MOBI book"),
          "unknown": QT_TRANSLATE_NOOP("Messages", "something else")}


def _kind_of(head: bytes, suffix: str) -> str:
    """pdf / xps / epub / ... / image, or "unknown" (then Pillow gets a try); raises
    DocumentError for a document name whose bytes are something else."""
    found = sniff(head)
    if found in ("pdf", "image"):
        return found  # content wins over the name
    kind = PDF_LIKE_SUFFIXES.get(suffix)
    if kind is not None:
        need, title = _NEEDS[kind]
        if found == need:
            return kind
        raise DocumentError(Text(QT_TRANSLATE_NOOP(
            "Messages", "This file is named {suffix} but is not {kind}: it looks like {looks}."),
            suffix=suffix, kind=title, looks=_LOOKS.get(found, _LOOKS["unknown"])))
    return "image" if suffix in imaging.IMAGE_SUFFIXES else "unknown"


def open_document(source: Path | str | bytes, password: str | None = None, *,
                  name: str | None = None, cache: RenderCache | None = None) -> Document:
    """Open a PDF (or XPS/EPUB/CBZ/FB2/MOBI), a multi-frame TIFF/GIF or any raster image.

    Reads only what it needs to count pages: no page is rendered or decoded. `source`
    may be a path or the file's bytes (then `name` names it). Raises PasswordRequired,
    WrongPassword or DocumentError for documents, ImageError (core/imaging) for images
    that are too large, damaged in their header or not images; both carry a plain
    message. A damaged PDF is repaired by PyMuPDF where possible (`Document.repaired`,
    `Document.warnings` then say so).
    """
    if isinstance(source, str):
        source = Path(source)
    if isinstance(source, Path):
        _check_file(source)
        name = name or source.name
        suffix = source.suffix.lower()
    else:
        if not source:
            raise DocumentError(imaging.EMPTY_FILE)
        name = name or "document"
        suffix = Path(name).suffix.lower()
    try:
        head = _head(source)
    except OSError as exc:
        raise DocumentError(imaging.unreadable_file(exc)) from None
    kind = _kind_of(head, suffix)

    if kind == "unknown":
        try:
            return _open_image(source, name, cache)
        except ImageError:
            raise DocumentError(QT_TRANSLATE_NOOP(
                "Messages", "This file is not a PDF or an image that can be opened.")) from None
    if kind == "image":
        return _open_image(source, name, cache)
    return _open_pdf(source, kind, name, password, cache)


def _open_image(source: Path | bytes, name: str, cache: RenderCache | None) -> Document:
    img = imaging.open_checked(source)  # header only; raises ImageError
    try:
        n = max(1, getattr(img, "n_frames", 1))
    except Exception as exc:  # counting frames walks the file; damage can show up here
        raise ImageError(Text(QT_TRANSLATE_NOOP(
            "Messages", "The image is damaged and cannot be opened ({why})."), why=str(exc))) from None
    size = _oriented_size(img)
    img.close()
    path = source if isinstance(source, Path) else None
    return Document(_ImageSource(source, n, size), name, path, cache=cache)


def _open_pdf(source: Path | bytes, kind: str, name: str, password: str | None,
              cache: RenderCache | None) -> Document:
    damaged = (QT_TRANSLATE_NOOP("Messages", "This PDF is damaged: nothing recoverable (cut short "
                                             "by an interrupted download or copy?).")
               if kind == "pdf" else
               Text(QT_TRANSLATE_NOOP("Messages", "This {kind} document is damaged: nothing recoverable."),
                    kind=kind.upper()))
    with MUPDF_LOCK:
        pymupdf = _mupdf()
        pymupdf.TOOLS.reset_mupdf_warnings()
        try:
            if isinstance(source, Path):
                doc = pymupdf.open(source, filetype=kind)
            else:
                doc = pymupdf.open(stream=bytes(source), filetype=kind)
        except pymupdf.EmptyFileError:
            raise DocumentError(imaging.EMPTY_FILE) from None
        except Exception:
            raise DocumentError(damaged) from None
        try:
            if doc.needs_pass:
                if password is None:
                    raise PasswordRequired(QT_TRANSLATE_NOOP("Messages", "This PDF is protected by a password."))
                if not doc.authenticate(password):
                    raise WrongPassword(QT_TRANSLATE_NOOP(
                        "Messages", "The password is wrong; this PDF did not open."))
            if doc.page_count < 1:
                raise DocumentError(damaged)
            repaired = bool(getattr(doc, "is_repaired", False))
            if repaired and not _anything_recovered(pymupdf, doc):
                raise DocumentError(damaged)
            warnings = [w for w in pymupdf.TOOLS.mupdf_warnings().splitlines() if w.strip()]
        except DocumentError:
            doc.close()  # nothing stays half-open after a refused password or a bad file
            raise
        except Exception:  # MuPDF raises assorted errors on damaged files ("code=7: ...")
            doc.close()
            raise DocumentError(damaged) from None
        except BaseException:
            doc.close()
            raise
    path = source if isinstance(source, Path) else None
    opened = Document(_PdfSource(doc, kind), name, path, cache=cache, repaired=repaired,
                      warnings=warnings)
    opened.password = password
    return opened


def open_decoded(path: Path, password: str | None = None) -> Document:
    """Open a document; a one-page image is decoded now, so a damaged one is refused at
    once instead of failing later in the viewer or the engine."""
    doc = open_document(path, password)
    if doc.kind == "image" and doc.page_count == 1:
        try:
            doc.pages[0].render()
        except BaseException:
            doc.close()
            raise
    return doc


# A repaired PDF whose first pages are all blank is the shell of a cut file (MuPDF finds
# the page objects but not their content): that is "nothing recoverable", not a result.
_RECOVERY_PAGES = 8
_RECOVERY_SIDE = 200.0


def _anything_recovered(pymupdf, doc) -> bool:
    for index in range(min(doc.page_count, _RECOVERY_PAGES)):
        try:
            page = doc.load_page(index)
            if page.get_text("text").strip():
                return True
            rect = page.rect
            scale = min(0.25, _RECOVERY_SIDE / max(rect.width, rect.height, 1.0))
            pix = page.get_pixmap(matrix=pymupdf.Matrix(scale, scale), alpha=False)
            if not pix.is_unicolor:
                return True
        except Exception:  # this page is lost; another may have survived
            continue
    return False


def document_from_image(img: Image.Image, name: str = "Image", *,
                        cache: RenderCache | None = None) -> Document:
    """A one-page document of an in-memory image (clipboard paste, screen snip)."""
    img = imaging.normalize(img)
    return Document(_ImageSource(img, 1, img.size), name, None, cache=cache)
