"""Where the text sits, for results that came without boxes.

A vision-language engine gives text without positions; the searchable PDF (and the
doubtful-words check) needs the CPU engine's line boxes of the same image. This module
sits above core/ and engines/ (like the CLI) and joins them: it renders the part of the
page the result was recognised from, as the engine got it, and runs the CPU engine's
`recognize_layout` on it. Synchronous and CPU-heavy: call it from a worker thread.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from desktop_ocr.core.documents import Document, open_document
from desktop_ocr.core.export import ExportItem
from desktop_ocr.core.layout import Layout
from desktop_ocr.core.regions import Region


def part_image(doc: Document, page_number: int,
               region: tuple[float, float, float, float] | None, rotation: int = 0):
    """The image an engine got for this part (core.documents' render for engines)."""
    page = doc.pages[page_number - 1]
    reg = None if region is None else Region(*region)
    return page.render_for_engine(reg, rotation=rotation)


def fill_layouts(items: Sequence[ExportItem], *, password: str | None = None,
                 on_page: Callable[[ExportItem], None] | None = None) -> int:
    """Give every item without a `layout` the CPU engine's boxes of its image (items with
    an `image` use it, others open their source). Returns how many were read."""
    from desktop_ocr.engines.cpu import recognize_layout

    docs: dict[str, Document] = {}
    done = 0
    try:
        for item in items:
            if item.layout is not None:
                continue
            if on_page is not None:
                on_page(item)
            if item.image is not None:
                image = item.image
            else:
                doc = docs.get(item.source)
                if doc is None:
                    doc = docs[item.source] = open_document(item.source, password)
                image = part_image(doc, item.page or 1, item.region_rect, item.rotation)
            item.layout = recognize_layout(image)
            done += 1
    finally:
        for doc in docs.values():
            doc.close()
    return done


def layout_of(info: dict | None) -> Layout | None:
    """The layout an engine's closing chunk may carry (`Chunk.info["layout"]`)."""
    raw = (info or {}).get("layout")
    return Layout.from_dict(raw) if raw else None
