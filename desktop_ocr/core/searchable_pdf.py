"""Searchable PDF: the pages as they are, with the recognised text as an invisible layer
on the words' positions, so a viewer selects, copies and finds it.

- A page of a PDF stays that PDF page (copied, not re-rendered); an image becomes a page
  of its own size at its own resolution (96 dpi when it names none), JPEGs unchanged.
- The text goes in as render mode 3 (invisible) in one embedded TrueType font that
  covers Chinese and Latin (MuPDF's built-in Droid Sans Fallback), glyph ids with
  Identity-H, subset on save: the file carries only the glyphs it uses, and the
  ToUnicode map MuPDF writes makes copy and search give the recognised characters back.
- Each text span gets its own text matrix, computed from where its box lies on the page
  as shown, the page's own /Rotate and the rotation the user gave it: the layer is right
  on rotated pages, and each span's width is stretched to its box so the selection of a
  word lies on the word. The output page is turned as the user turned it when recognising.
- Spans are written in the order of the recognised text, which is the order a viewer
  selects and extracts them in: selection order = reading order.
- Positions come from a `Layout` (core/layout.py: the CPU engine's boxes of the same
  image). Text from an engine without boxes is aligned onto them (`assign_text`); with no
  layout, or one that does not match the text, its lines are spread evenly over the part.

A PDF page that already has a text layer of its own keeps just that one (a second layer
would make every word appear twice in a search).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop_ocr.core.atomic import SaveError
from desktop_ocr.core.layout import Layout, assign_text
from desktop_ocr.core.messages import QT_TRANSLATE_NOOP, Text
from desktop_ocr.core.regions import check_rotation

if TYPE_CHECKING:
    import pymupdf
    from PIL import Image

    from desktop_ocr.core.tables import Document

FONT_RESOURCE = "DOCR"
DEFAULT_IMAGE_DPI = 96.0
# Spread lines (no layout) fill this share of their band's height.
SPREAD_FILL = 0.7

Point = tuple[float, float]


@dataclass
class LayerPart:
    """One recognised part of a page: its text and where it is.

    `region` is (x, y, w, h) in fractions of the page as the document presents it (None =
    the whole page), as in core/regions.py. `layout` holds boxes in pixels of the image
    the part was recognised from (the crop after the user's rotation); None = no boxes.
    """

    text: str
    region: tuple[float, float, float, float] | None = None
    layout: Layout | None = None


@dataclass
class LayerPage:
    """One output page: page `page` (1-based) of `source`, turned `rotation` degrees
    clockwise by the user, with its recognised parts. `image` is the page's picture when
    the source is not a file (a paste or a snip)."""

    source: str
    page: int = 1
    rotation: int = 0
    parts: list[LayerPart] = field(default_factory=list)
    image: Image.Image | None = None


@dataclass
class Stats:
    """What a build did, for tests and the log."""

    pages: int = 0
    spans: int = 0
    spread: int = 0  # parts laid out evenly (no layout, or it did not match)
    kept_own_text: int = 0  # PDF pages left with their own text layer
    dropped_chars: int = 0  # characters the font has no glyph for


# ====================================================================== geometry


def _unrotate(x: float, y: float, w: float, h: float, rotation: int) -> Point:
    """A point of an image turned `rotation` degrees clockwise (now w x h), back on the
    image before it was turned."""
    if rotation == 90:
        return y, w - x  # before: (h x w); a clockwise turn sent (x0, y0) to (h0 - y0, x0)
    if rotation == 180:
        return w - x, h - y
    if rotation == 270:
        return h - y, x
    return x, y


class _PartGeometry:
    """Maps pixels of a part's image to PDF user space (points, y up)."""

    def __init__(self, page_rect: tuple[float, float, float, float], size: tuple[float, float],
                 rotation: int, to_pdf: Callable[[Point], Point]) -> None:
        self.rect = page_rect  # the part on the page as shown, in page units
        self.size = size  # its image's (width, height), after the user's rotation
        self.rotation = rotation
        self.to_pdf = to_pdf

    def __call__(self, x: float, y: float) -> Point:
        w, h = self.size
        ux, uy = _unrotate(x, y, w, h, self.rotation)
        w0, h0 = (h, w) if self.rotation in (90, 270) else (w, h)
        x0, y0, x1, y1 = self.rect
        return self.to_pdf((x0 + ux * (x1 - x0) / max(w0, 1e-9),
                            y0 + uy * (y1 - y0) / max(h0, 1e-9)))


# ====================================================================== text


_MD_PREFIX = re.compile(r"^\s{0,3}(#{1,6}\s+|>\s?)")
_MD_MARKS = re.compile(r"(\*\*|__|`+|~~|\$\$?)")


def layer_text(text: str | Document, task: str = "text", layout: Layout | None = None) -> str:
    """The text of a result as it reads on the page: tables as rows of cells, Markdown
    markup dropped. Key fields and codes are not the page's text: the layout's own text
    (the CPU reading) goes in for them when there is one. `text` may be an already
    parsed Document (a result whose tables the user edited)."""
    from desktop_ocr.core.tables import Table, parse

    if task in ("fields", "codes"):
        return layout.text if layout is not None else ""
    doc = parse(text) if isinstance(text, str) else text
    out: list[str] = []
    for seg in doc.segments:
        if isinstance(seg, Table):
            out += [" ".join(c for c in row if c) for row in seg.to_grid()]
        else:
            for line in seg.text.splitlines():
                if line.strip().startswith("```"):
                    continue
                out.append(_MD_MARKS.sub("", _MD_PREFIX.sub("", line)))
    return "\n".join(out)


# ====================================================================== writer


class _Writer:
    def __init__(self, passwords: Mapping[str, str] | None) -> None:
        import pymupdf

        self.pm = pymupdf
        self.font = pymupdf.Font("cjk")  # Droid Sans Fallback: CJK and Latin in one font
        self.ascender = self.font.ascender
        self.descender = self.font.descender  # negative
        self.out = pymupdf.open()
        self.passwords = dict(passwords or {})
        self.sources: dict[str, Any] = {}
        self.stats = Stats()

    def close(self) -> None:
        for doc in self.sources.values():
            doc.close()
        self.out.close()

    # -- sources

    def _pdf(self, source: str) -> pymupdf.Document:
        doc = self.sources.get(source)
        if doc is not None:
            return doc
        try:
            doc = self.pm.open(source)
        except Exception as exc:
            raise SaveError(Text(QT_TRANSLATE_NOOP("Messages", "Cannot open {name} to copy its pages: {why}"),
                                 name=Path(source).name, why=str(exc))) from None
        if doc.needs_pass and not doc.authenticate(self.passwords.get(source, "")):
            doc.close()
            raise SaveError(Text(QT_TRANSLATE_NOOP(
                "Messages", "{name} is encrypted: give its password to export it."), name=Path(source).name))
        if not doc.is_pdf:  # XPS, EPUB, ...: their pages as PDF pages
            pdf = self.pm.open("pdf", doc.convert_to_pdf())
            doc.close()
            doc = pdf
        self.sources[source] = doc
        return doc

    def _image_page(self, page: LayerPage) -> pymupdf.Page:
        """A new page showing the image at its resolution; JPEG bytes go in unchanged."""
        from desktop_ocr.core import imaging

        data: bytes | None = None
        img = page.image
        dpi = DEFAULT_IMAGE_DPI
        lossy = False  # a photo format: JPEG again; scans, screenshots and pastes stay PNG
        if img is None:
            path = Path(page.source)
            try:
                src = imaging.open_checked(path)
                res = src.info.get("dpi")
                if res and float(res[0]) >= 50:
                    dpi = float(res[0])
                lossy = src.format in ("JPEG", "WEBP", "MPO")
                # The file itself when it needs no change; CMYK JPEGs go in as RGB, as the
                # app shows them (Adobe's inverted CMYK is not read alike by every viewer)
                plain_jpeg = (src.format == "JPEG" and page.page == 1 and src.mode in ("RGB", "L")
                              and src.getexif().get(0x0112, 1) == 1)
                img = imaging.load_image(path, page.page - 1)
            except (OSError, ValueError) as exc:
                raise SaveError(Text(QT_TRANSLATE_NOOP("Messages", "Cannot read {name} to put it in a PDF: {why}"),
                                     name=path.name, why=str(exc))) from None
            if plain_jpeg:
                data = path.read_bytes()
        if data is None:
            buf = io.BytesIO()
            if lossy:
                img.convert("RGB").save(buf, "JPEG", quality=92)
            else:
                img.save(buf, "PNG")
            data = buf.getvalue()
        w, h = img.size
        pdf_page = self.out.new_page(width=w * 72.0 / dpi, height=h * 72.0 / dpi)
        pdf_page.insert_image(pdf_page.rect, stream=data)
        return pdf_page

    # -- pages

    def add(self, page: LayerPage) -> None:
        rotation = check_rotation(page.rotation)
        if page.image is None and Path(page.source).suffix.lower() in (
                ".pdf", ".xps", ".oxps", ".epub", ".cbz", ".fb2", ".mobi"):
            src = self._pdf(page.source)
            if not 1 <= page.page <= src.page_count:
                raise SaveError(Text(QT_TRANSLATE_NOOP("Messages", "{name} has no page {n}."),
                                     name=Path(page.source).name, n=page.page))
            self.out.insert_pdf(src, from_page=page.page - 1, to_page=page.page - 1)
            pdf_page = self.out[-1]
            own_text = bool(pdf_page.get_text().strip())
        else:
            pdf_page = self._image_page(page)
            own_text = False
        self.stats.pages += 1
        # Displayed (after the page's own /Rotate) -> unrotated -> PDF user space.
        matrix = pdf_page.derotation_matrix * ~pdf_page.transformation_matrix
        shown = pdf_page.rect
        if own_text:
            self.stats.kept_own_text += 1
        else:
            content = []
            for part in page.parts:
                content += self._part(part, shown, rotation, matrix)
            if content:
                # the same buffer on every page: PyMuPDF embeds it once and reuses the xref
                pdf_page.insert_font(fontname=FONT_RESOURCE, fontbuffer=self.font.buffer)
                shape = pdf_page.new_shape()
                shape.text_cont = "q\n" + "".join(content) + "Q\n"
                shape.commit()
        if rotation:
            pdf_page.set_rotation((pdf_page.rotation + rotation) % 360)

    def _part(self, part: LayerPart, shown: Any, rotation: int, matrix: Any) -> list[str]:
        pw, ph = shown.width, shown.height
        rx, ry, rw, rh = part.region or (0.0, 0.0, 1.0, 1.0)
        rect = (shown.x0 + rx * pw, shown.y0 + ry * ph,
                shown.x0 + (rx + rw) * pw, shown.y0 + (ry + rh) * ph)
        layout = part.layout
        if layout is not None and layout.size[0] > 0 and layout.size[1] > 0:
            size = (float(layout.size[0]), float(layout.size[1]))
        else:
            # no pixels to refer to: measure the part in page units, as the user turned it
            size = (rect[2] - rect[0], rect[3] - rect[1])
            if rotation in (90, 270):
                size = (size[1], size[0])
        pm = self.pm

        def to_pdf(p: Point) -> Point:
            q = pm.Point(p) * matrix
            return q.x, q.y

        geo = _PartGeometry(rect, size, rotation, to_pdf)
        text = part.text
        boxes: list[tuple[str, tuple[float, float, float, float]]] = []
        placement = assign_text(text, layout) if layout is not None else None
        if placement is not None and placement.ok:
            assert layout is not None
            for span in placement.spans:
                x0, y0, x1, y1 = layout.lines[span.box].bbox
                lo, hi = span.across
                boxes.append((span.text, (x0 + (x1 - x0) * lo, y0, x0 + (x1 - x0) * hi, y1)))
        else:
            lines = [" ".join(ln.split()) for ln in text.splitlines() if ln.strip()]
            if lines:
                self.stats.spread += 1
            band = size[1] / max(1, len(lines))
            for k, line in enumerate(lines):
                height = band * SPREAD_FILL
                em = self.font.text_length(line, fontsize=1) or 1.0
                fs = height / (self.ascender - self.descender)
                width = min(size[0] * 0.98, em * fs)
                top = k * band + (band - height) / 2
                boxes.append((line, (size[0] * 0.01, top, size[0] * 0.01 + width, top + height)))
        return [s for t, b in boxes if (s := self._span(t, b, geo))]

    def _span(self, text: str, box: tuple[float, float, float, float], geo: _PartGeometry) -> str:
        """One BT..ET block: `text` stretched over `box` (pixels of the part's image)."""
        glyphs: list[int] = []
        kept: list[str] = []
        for ch in text:
            gid = self.font.has_glyph(ord(ch)) if ch.isprintable() else 0
            if gid:
                glyphs.append(gid)
                kept.append(ch)
            else:
                self.stats.dropped_chars += not ch.isspace()
        if not glyphs or not "".join(kept).strip():
            return ""
        em = self.font.text_length("".join(kept), fontsize=1)
        x0, y0, x1, y1 = box
        if em <= 0 or x1 <= x0 or y1 <= y0:
            return ""
        # The font's ascender..descender fills the box's height, so a viewer's selection
        # (which spans exactly that) covers the box.
        fs = (y1 - y0) / (self.ascender - self.descender)
        base = y1 + self.descender * fs
        ox, oy = geo(x0, base)
        ex, ey = geo(x1, base)
        ux, uy = geo(x0, base - fs)
        a, b = (ex - ox) / em, (ey - oy) / em
        c, d = ux - ox, uy - oy
        self.stats.spans += 1
        hexed = "".join(f"{g:04x}" for g in glyphs)
        return (f"BT /{FONT_RESOURCE} 1 Tf 3 Tr {a:.5f} {b:.5f} {c:.5f} {d:.5f} "
                f"{ox:.3f} {oy:.3f} Tm <{hexed}> Tj ET\n")

    def finish(self) -> bytes:
        if self.out.page_count == 0:
            raise SaveError(QT_TRANSLATE_NOOP("Messages", "Nothing to put in a PDF: no recognised page."))
        self.out.subset_fonts()
        self.out.set_metadata({"creator": "Desktop OCR", "producer": "Desktop OCR (PyMuPDF)"})
        return self.out.tobytes(garbage=3, deflate=True)


def build(pages: Sequence[LayerPage], *, passwords: Mapping[str, str] | None = None,
          stats: Stats | None = None) -> bytes:
    """The searchable PDF's bytes. Raises SaveError (ExportError) with a plain message when
    a source cannot be read. Holds the process-wide PyMuPDF lock page by page, so other
    threads (thumbnails, rendering) still get turns during a long export."""
    from desktop_ocr.core.documents import MUPDF_LOCK, _mupdf

    _mupdf()  # MuPDF's stderr chatter off
    with MUPDF_LOCK:
        writer = _Writer(passwords)
    try:
        for page in pages:
            with MUPDF_LOCK:
                writer.add(page)
        with MUPDF_LOCK:
            data = writer.finish()
        if stats is not None:
            for name in stats.__dataclass_fields__:
                setattr(stats, name, getattr(writer.stats, name))
        return data
    finally:
        with MUPDF_LOCK:
            writer.close()
