"""What core/documents.py adds to PyMuPDF when a page is shown.

(a) "go to page N" at the current zoom: `Document.pages[N].render(scale=zoom)` on a cache
    miss (load page, rasterise, wrap as a PIL image, cache it) against PyMuPDF's bare
    `page.get_pixmap` of the same page at the same size, in the same run. Goal <= 2x.
(b) a 1,000-page PDF made here: `open_document` + first page rendered, against bare
    `pymupdf.open` + `get_pixmap`. Goal <= 3x.
(c) RSS growth after rendering every one of those 1,000 pages through the document and its
    byte-bounded cache. Goal <= 200 MB.

Run: python bench/page_render.py [--zoom 2.78] [--pdf FILE] [--runs 5]
Zoom 2.78 is 200 dpi; the painted-in-Qt part (QImage conversion) belongs to the GUI bench.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pymupdf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from desktop_ocr.core.documents import RenderCache, open_document  # noqa: E402

CORPUS_PDF = ROOT.parent / "shared" / "corpus" / "files" / "pdf-47-pages.pdf"


def make_pdf(path: Path, pages: int) -> None:
    """A text-and-lines document, like a scanned report's text layer or a born-digital one."""
    doc = pymupdf.open()
    body = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
            "incididunt ut labore et dolore magna aliqua. ") * 3
    lines = "\n".join(body[(k * 7) % 80:][:90] for k in range(40))
    for i in range(pages):
        page = doc.new_page(width=595, height=842)
        page.insert_text((60, 60), f"Chapter {i // 20 + 1}, page {i + 1}\n\n{lines}",
                         fontsize=9, lineheight=1.9)
        page.draw_rect(pymupdf.Rect(60, 790, 535, 800), color=(0, 0, 0), width=0.5)
    doc.save(path, garbage=3, deflate=True)
    doc.close()


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def bench_go_to_page(pdf: Path, zoom: float, runs: int) -> float:
    bare_doc = pymupdf.open(pdf)
    app_doc = open_document(pdf)
    n = app_doc.page_count
    matrix = pymupdf.Matrix(zoom, zoom)
    for i in range(n):  # warm MuPDF's font/resource store so neither side pays it alone
        bare_doc.load_page(i).get_pixmap(matrix=matrix, alpha=False)
        app_doc.pages[i].render(scale=zoom, cache=False)
    app_doc.cache.clear()

    def bare(i):
        pix = bare_doc.load_page(i).get_pixmap(matrix=matrix, alpha=False)
        return pix.width, pix.height

    def viewer(i):
        px = app_doc.pages[i].render_pixels(scale=zoom)  # cache miss: the cache was cleared
        return px.width, px.height

    def pil(i):
        return app_doc.pages[i].render(scale=zoom).size

    times: dict = {bare: [], viewer: [], pil: []}
    for r in range(runs):
        for i in range(n):
            order = [bare, viewer, pil]
            order = order[(i + r) % 3:] + order[:(i + r) % 3]
            sizes = set()
            for fn in order:
                t0 = time.perf_counter()
                sizes.add(fn(i))
                times[fn].append(time.perf_counter() - t0)
            assert len(sizes) == 1, (i, sizes)
        app_doc.cache.clear()
    b, v, p = (statistics.median(times[f]) for f in (bare, viewer, pil))
    w, h = app_doc.pages[0].pixel_size(zoom)
    print(f"(a) go to page at zoom {zoom:.2f} ({w}x{h} px, {n} pages x {runs} runs of {pdf.name}):")
    print(f"    bare PyMuPDF get_pixmap        {b * 1000:7.2f} ms (median)")
    print(f"    Page.render_pixels (viewer)    {v * 1000:7.2f} ms   ratio {v / b:.2f}x (goal <= 2x)")
    print(f"    Page.render (PIL image)        {p * 1000:7.2f} ms   ratio {p / b:.2f}x")
    app_doc.close()
    bare_doc.close()
    return v / b


def bench_first_page(pdf: Path, zoom: float, runs: int) -> float:
    matrix = pymupdf.Matrix(zoom, zoom)

    def bare():
        doc = pymupdf.open(pdf)
        doc.load_page(0).get_pixmap(matrix=matrix, alpha=False)
        doc.close()

    def app():
        doc = open_document(pdf)
        doc.pages[0].render_pixels(scale=zoom)
        doc.close()

    bare(), app()  # warm-up: imports, font store
    bare_t, app_t = [], []
    for r in range(runs * 2):
        order = (bare, app) if r % 2 else (app, bare)
        for fn in order:
            (bare_t if fn is bare else app_t).append(timed(fn))
    b, a = statistics.median(bare_t), statistics.median(app_t)
    print("(b) 1,000-page PDF, open + first page:")
    print(f"    bare pymupdf.open + render {b * 1000:7.2f} ms (median)")
    print(f"    open_document + render     {a * 1000:7.2f} ms (median)")
    print(f"    ratio                      {a / b:7.2f}x   (goal <= 3x)")
    return a / b


def bench_rss(pdf: Path, zoom: float) -> float:
    proc = psutil.Process()
    gc.collect()
    before = proc.memory_info().rss
    cache = RenderCache()
    peak = before
    t0 = time.perf_counter()
    with open_document(pdf, cache=cache) as doc:
        for page in doc.pages:
            page.render_pixels(scale=zoom)
            page.text_layer()
            if page.index % 50 == 0:
                peak = max(peak, proc.memory_info().rss)
        after = proc.memory_info().rss
        n, used = doc.page_count, cache.bytes_used
    elapsed = time.perf_counter() - t0
    peak = max(peak, after)
    growth = (after - before) / 1e6
    print(f"(c) every page of the 1,000-page PDF rendered at zoom {zoom:.2f} ({n} pages, {elapsed:.1f} s):")
    print(f"    cache limit {cache.max_bytes / 1e6:.0f} MB, holding {used / 1e6:.0f} MB")
    print(f"    RSS growth {growth:.0f} MB (peak {(peak - before) / 1e6:.0f} MB)   (goal <= 200 MB)")
    return growth


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zoom", type=float, default=200 / 72, help="render scale (200 dpi = 2.78)")
    ap.add_argument("--pdf", type=Path, default=None, help="PDF for (a); default: the corpus 47-page PDF")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--pages", type=int, default=1000, help="pages of the generated PDF for (b), (c)")
    args = ap.parse_args()
    print(f"PyMuPDF {pymupdf.VersionBind} (MuPDF {pymupdf.VersionFitz}), Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "thousand.pdf"
        t0 = time.perf_counter()
        make_pdf(big, args.pages)
        print(f"made a {args.pages}-page PDF ({big.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t0:.1f} s")
        pdf = args.pdf or (CORPUS_PDF if CORPUS_PDF.exists() else big)
        ra = bench_go_to_page(pdf, args.zoom, args.runs)
        rb = bench_first_page(big, args.zoom, args.runs * 3)
        rc = bench_rss(big, args.zoom)
    print(f"summary: go-to-page {ra:.2f}x (<=2), first page of 1,000 {rb:.2f}x (<=3), "
          f"RSS growth {rc:.0f} MB (<=200)")


if __name__ == "__main__":
    main()
