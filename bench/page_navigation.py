"""Time from "go to page N" to that page painted at the current zoom, in the real window.

For each page visited (each one once, so every visit is a cache miss): the main window's
`go_to_page(N)` until the page view has painted the new page (render in a worker thread,
QImage -> QPixmap, paint), against PyMuPDF's bare `load_page(N).get_pixmap` of the same
page at the same pixel size, in the same run. The window is idle before each visit
(thumbnails settled), as when a user presses PgDn; the thumbnail strip then follows the
page and renders its thumbnails in the background, as it does for users. Goal: <= 2x.

Run: python bench/page_navigation.py [--pdf FILE] [--pages 20] [--fit width|page] [--dpi 200]
Offscreen by default (QT_QPA_PLATFORM=offscreen); set QT_QPA_PLATFORM=xcb for a display.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pymupdf  # noqa: E402
import qasync  # noqa: E402
from page_render import make_pdf  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from desktop_ocr.core.documents import open_document  # noqa: E402
from desktop_ocr.core.settings import Settings  # noqa: E402
from desktop_ocr.gui.main_window import MainWindow  # noqa: E402
from desktop_ocr.gui.page_view import FitMode  # noqa: E402


async def settle(window: MainWindow) -> None:
    """Wait until no thumbnail or page render is in flight."""
    model = window.thumbnail_model
    for _ in range(400):
        worker = model._worker
        busy = (worker is not None and not worker.done()) or window.page_view._in_flight
        if not busy:
            break
        await asyncio.sleep(0.005)
    await asyncio.sleep(0.05)


async def visit(window: MainWindow, index: int) -> float:
    done: asyncio.Future[float] = asyncio.get_running_loop().create_future()

    def painted(i: int) -> None:
        if i == index and not done.done():
            done.set_result(time.perf_counter())

    window.page_view.pagePainted.connect(painted)
    try:
        t0 = time.perf_counter()
        window.go_to_page(index)
        t1 = await asyncio.wait_for(done, 10)
    finally:
        window.page_view.pagePainted.disconnect(painted)
    return t1 - t0


def bare(doc: pymupdf.Document, index: int, scale: float) -> tuple[float, tuple[int, int]]:
    t0 = time.perf_counter()
    pix = doc.load_page(index).get_pixmap(matrix=pymupdf.Matrix(scale, scale), alpha=False)
    return time.perf_counter() - t0, (pix.width, pix.height)


async def run(pdf: Path, pages: int, fit: FitMode, zoom: float | None) -> int:
    window = MainWindow(Settings(engine="cpu"))
    window.resize(1280, 900)
    window.show()
    document = open_document(pdf)
    window.show_document(document, pdf)
    view = window.page_view
    if zoom is None:
        view.set_fit(fit)
    else:
        view.set_zoom(zoom)
    await asyncio.sleep(0.3)
    await settle(window)
    n = document.page_count
    targets = [round(1 + k * (n - 2) / max(1, pages - 1)) for k in range(pages)]
    targets = list(dict.fromkeys(t for t in targets if 0 < t < n))
    bare_doc = pymupdf.open(pdf)
    bare(bare_doc, 0, 1.0)  # load fonts once, as the app did for page 1
    app_times, bare_times = [], []
    for index in targets:
        await settle(window)
        app_times.append(await visit(window, index))
        scale = view.displayed_scale()
        seconds, size = bare(bare_doc, index, scale)
        shown = (view.pixmap().width(), view.pixmap().height())
        if size != shown:
            print(f"size mismatch on page {index + 1}: app {shown}, bare {size}", file=sys.stderr)
            return 1
        bare_times.append(seconds)
    bare_doc.close()
    app_ms = statistics.median(app_times) * 1000
    bare_ms = statistics.median(bare_times) * 1000
    w, h = view.pixmap().width(), view.pixmap().height()
    how = f"fit {fit.value}" if zoom is None else "fixed zoom"
    print(f"page navigation ({pdf.name}, {len(targets)} pages, {how}, "
          f"zoom {view.zoom * 100:.0f} %, {w} x {h} px):")
    print(f"  go to page -> painted: median {app_ms:.1f} ms (p90 "
          f"{sorted(app_times)[int(0.9 * (len(app_times) - 1))] * 1000:.1f} ms)")
    print(f"  bare PyMuPDF render:   median {bare_ms:.1f} ms")
    ratio = app_ms / bare_ms
    print(f"  ratio: {ratio:.2f}x (goal <= 2x) {'OK' if ratio <= 2 else 'OVER'}")
    window.close()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pdf", type=Path, help="PDF to page through (default: 120 A4 pages made here)")
    parser.add_argument("--pages", type=int, default=20, help="pages to visit")
    parser.add_argument("--fit", choices=("width", "page"), default="width")
    parser.add_argument("--dpi", type=float, help="a fixed zoom instead of fitting (200 = 200 dpi)")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with tempfile.TemporaryDirectory() as tmp:
        pdf = args.pdf
        if pdf is None:
            pdf = Path(tmp) / "navigation.pdf"
            make_pdf(pdf, 120)
        with loop:
            return loop.run_until_complete(run(pdf, args.pages, FitMode(args.fit),
                                               args.dpi / 72 if args.dpi else None))


if __name__ == "__main__":
    sys.exit(main())
