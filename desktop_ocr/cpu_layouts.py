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

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from desktop_ocr.core.documents import Document, document_from_image, open_document
from desktop_ocr.core.export import ExportError, ExportItem, export, export_batch, format_for
from desktop_ocr.core.layout import Layout
from desktop_ocr.core.regions import Region
from desktop_ocr.core.results import PartResult


def part_image(doc: Document, page_number: int,
               region: tuple[float, float, float, float] | None, rotation: int = 0):
    """The image an engine got for this part (core.documents' render for engines)."""
    page = doc.pages[page_number - 1]
    reg = None if region is None else Region(*region)
    return page.render_for_engine(reg, rotation=rotation)


def fill_layouts(items: Sequence[ExportItem], *, password: str | None = None,
                 on_page: Callable[[ExportItem], None] | None = None,
                 should_stop: Callable[[], bool] | None = None,
                 passwords: Mapping[str, str] | None = None) -> int:
    """Give every item without a `layout` the CPU engine's boxes of its image (items with
    an `image` use it, others open their source; a region is cropped and a rotation
    applied as for the engine). Returns how many were read. `should_stop()` true between
    two lines of reading raises core.contract.Cancelled."""
    from desktop_ocr.engines.cpu import recognize_layout

    docs: dict[str, Document] = {}
    done = 0
    try:
        for item in items:
            if item.layout is not None:
                continue
            if on_page is not None:
                on_page(item)
            if item.image is not None and item.region_rect is None and not item.rotation:
                image = item.image
            else:  # the part as the engine saw it: the region's crop, turned as the user did
                key = f"image:{id(item.image)}" if item.image is not None else item.source
                doc = docs.get(key)
                if doc is None:
                    doc = docs[key] = (document_from_image(item.image, item.source)
                                       if item.image is not None
                                       else open_document(item.source, (passwords or {}).get(
                                           item.source, password)))
                image = part_image(doc, 1 if item.image is not None else item.page or 1,
                                   item.region_rect, item.rotation)
            item.layout = recognize_layout(image, should_stop=should_stop)
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
                   codes: bool = True, should_stop: Callable[[], bool] | None = None
                   ) -> dict[str, Any]:
    """The extra entries of a result (see the module doc). `text` is the VLM's text (None:
    no doubt check, e.g. the CPU engine produced it); a `layout` the CPU engine already
    gave (its closing chunk) is used instead of reading again. `should_stop()` true
    between two lines of reading raises core.contract.Cancelled (the result went away)."""
    from desktop_ocr.core.doubt import find_doubts
    from desktop_ocr.engines.cpu import recognize_layout

    if layout is None:
        layout = recognize_layout(image, should_stop=should_stop)
    out: dict[str, Any] = {"layout": layout.to_dict()}
    if text is not None:
        out["doubts"] = [d.to_dict() for d in find_doubts(text, layout)]
    if codes:
        from desktop_ocr.engines.codes import read_codes

        out["codes"] = [c.to_dict() for c in read_codes(image)]
    return out


def stored_image(result: PartResult):
    """The picture a result keeps of a source that is no file (a paste, a snip): its
    thumbnail, the only copy there is once the window closed it. None for files."""
    if result.source_kind == "file" or not result.thumbnail:
        return None
    import io

    from PIL import Image

    with Image.open(io.BytesIO(result.thumbnail)) as img:
        return img.convert("RGB")


def export_results(results: Sequence[PartResult], target: str | Path, *, per_input: bool = False,
                   fmt: str | None = None,
                   image_for: Callable[[PartResult], Any] | None = None,
                   passwords: Mapping[str, str] | None = None,
                   on_page: Callable[[int, int], None] | None = None,
                   should_stop: Callable[[], bool] | None = None,
                   ) -> tuple[list[Path], list[tuple[PartResult, Layout]]]:
    """`core.export.export_batch`, except that a searchable PDF first gets what it needs:
    the CPU engine's boxes of every part that has none (read here, `on_page(k, n)` before
    the k-th of n), and the picture of each source that is no file (`image_for(result)`,
    default: `stored_image`). Synchronous and heavy: a worker thread. Returns the files
    written and the boxes read, for the caller to keep with their results."""
    kind = format_for("x", fmt or "xlsx") if per_input else format_for(target, fmt)
    if kind != "pdf" or per_input:
        return export_batch(results, target, per_input, fmt), []
    ok = [r for r in results if r.ok]
    if not ok:
        raise ExportError("Nothing to export: no part of these results was recognised.")
    pick = image_for or stored_image
    items = [ExportItem.from_result(r, image=pick(r)) for r in ok]
    missing = [(r, item) for r, item in zip(ok, items, strict=True) if item.layout is None]
    seen = [0]

    def page(_item: ExportItem) -> None:
        seen[0] += 1
        if on_page is not None:
            on_page(seen[0], len(missing))

    fill_layouts(items, on_page=page, should_stop=should_stop, passwords=passwords)
    written = export(items, target, kind, passwords=passwords)
    return [written], [(r, item.layout) for r, item in missing if item.layout is not None]
