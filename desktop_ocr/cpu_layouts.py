"""The CPU engine's second reading of a result's image: where the text sits, which words
are doubtful, which codes are in it.

A vision-language engine gives text without positions; the searchable PDF needs the CPU
engine's line boxes of the same image, the doubtful-words check its reading, and the
code chips zxing-cpp's codes. This module sits above core/ and engines/ (like the CLI)
and joins them. Everything here is synchronous and CPU-heavy: call it from a worker
thread (the window: after a VLM result arrives, in the background).

`second_reading(image, text)` gives the `PartResult.extra` entries in one pass:
    "layout": Layout.to_dict()   (core.layout: the boxes, for the searchable PDF)
    "doubts": [Doubt.to_dict()]  (core.doubt: spans of `text` the CPU reads otherwise)
    "codes":  [Code.to_dict()]   (core.codes: barcodes and QR codes in the image)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

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


def second_reading(image, text: str | None = None, *, layout: Layout | None = None,
                   codes: bool = True) -> dict[str, Any]:
    """The extra entries of a result (see the module doc). `text` is the VLM's text (None:
    no doubt check, e.g. the CPU engine produced it); a `layout` the CPU engine already
    gave (its closing chunk) is used instead of reading again."""
    from desktop_ocr.core.doubt import find_doubts
    from desktop_ocr.engines.cpu import recognize_layout

    if layout is None:
        layout = recognize_layout(image)
    out: dict[str, Any] = {"layout": layout.to_dict()}
    if text is not None:
        out["doubts"] = [d.to_dict() for d in find_doubts(text, layout)]
    if codes:
        from desktop_ocr.engines.codes import read_codes

        out["codes"] = [c.to_dict() for c in read_codes(image)]
    return out
