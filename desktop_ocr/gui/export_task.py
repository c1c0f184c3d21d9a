"""Exports from the window, the History panel and the batch panel, off the GUI thread.

Every format but the searchable PDF is `core.export` in a worker thread. A searchable PDF
also needs to know where each part's text sits: results that keep the CPU engine's boxes
(its own results, or the window's second reading) have them; for the others the CPU
engine reads the page here, in the same worker, with a status line per page. The boxes
read go back into their results (and the library), so a second export reads nothing.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from desktop_ocr.core.export import format_for
from desktop_ocr.core.results import PartResult
from desktop_ocr.gui.i18n import translate


def wants_layouts(target: Path, per_input: bool = False, fmt: str | None = None) -> bool:
    """The export is a searchable PDF (one file)."""
    try:
        return not per_input and format_for(target, fmt) == "pdf"
    except Exception:  # noqa: BLE001 - a bad suffix is the export's own error to report
        return False


def layout_status(done: int, total: int) -> str:
    return translate("Export", "Finding where the text sits for the PDF: page {done} of {total} "
                     "(CPU engine)…").format(done=done, total=total)


async def export_results(results: Sequence[PartResult], target: Path, *, per_input: bool = False,
                         fmt: str | None = None,
                         image_for: Callable[[PartResult], Any] | None = None,
                         passwords: Mapping[str, str] | None = None,
                         status: Callable[[str], None] | None = None,
                         library=None) -> list[Path]:
    """Write `results` to `target` (one file, or one per input into a folder); raises
    ExportError with a message for the user. Cancelling stops the CPU reading at its next
    line."""
    from desktop_ocr import cpu_layouts

    loop = asyncio.get_running_loop()
    stop = threading.Event()

    def on_page(done: int, total: int) -> None:
        if status is not None:
            loop.call_soon_threadsafe(status, layout_status(done, total))

    try:
        written, filled = await asyncio.to_thread(
            cpu_layouts.export_results, list(results), target, per_input=per_input, fmt=fmt,
            image_for=image_for, passwords=passwords, on_page=on_page, should_stop=stop.is_set)
    except asyncio.CancelledError:
        stop.set()
        raise
    for result, layout in filled:
        result.extra = {**(result.extra or {}), "layout": layout.to_dict()}
        if library is not None and result.id is not None:
            try:
                await library.update_extra(result.id, result.extra)
            except Exception:  # noqa: BLE001 - the file is written; the boxes are read again next time
                pass
    return written


async def export_session(session, items: Sequence[Any], path: Path, *,
                         status: Callable[[str], None] | None = None, library=None) -> Path:
    """The window's document (`core.session.Session`): its export items as they are; a
    searchable PDF first finds where the text sits (the boxes the second reading kept,
    else the CPU engine reads the page now), with the picture of a paste or snip and the
    password the PDF was opened with."""
    from desktop_ocr.core.export import export

    if not wants_layouts(path):
        return await asyncio.to_thread(export, items, path)
    password = session.document.password
    (written,) = await export_results(
        session.all_results(), path, status=status, library=library,
        image_for=(lambda _r: session.image) if session.kind != "file" else None,
        passwords={str(session.path): password} if session.path and password else None)
    return written
