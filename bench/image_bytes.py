"""Bytes sent per A4 page at 300 dpi: prepared data (prescale + PNG/JPEG by content) vs the
raw PNG (goal <= 0.25x). Pages: the corpus PDFs rendered at 300 dpi with PyMuPDF.

    python bench/image_bytes.py [--tiles 12]
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pymupdf  # noqa: E402
from PIL import Image, ImageFilter  # noqa: E402

from desktop_ocr.core import imaging  # noqa: E402

CORPUS = Path(os.environ.get("DESKTOP_OCR_CORPUS", ROOT.parent / "shared" / "corpus")) / "files"
PAGES = [("pdf-small-table.pdf", 0), ("pdf-47-pages.pdf", 0), ("pdf-chinese-tables.pdf", 0),
         ("pdf-scanned-receipt-sroie-003.pdf", 0)]


def scan(img: Image.Image) -> Image.Image:
    """What a flatbed scanner makes of the page: slight blur, greyish paper, sensor noise."""
    noise = Image.effect_noise(img.size, 12).convert("RGB")
    paper = Image.blend(img.filter(ImageFilter.GaussianBlur(0.8)), Image.new("RGB", img.size, (236, 232, 222)), 0.12)
    return Image.blend(paper, noise, 0.08)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--tiles", type=int, default=12)
    a = p.parse_args()
    totals = {False: [0, 0], True: [0, 0]}
    for (name, index), scanned in [(p, False) for p in PAGES] + [(p, True) for p in PAGES[:3]]:
        with pymupdf.open(CORPUS / name) as doc:
            pix = doc[index].get_pixmap(dpi=300)
            img = Image.frombytes("RGB", (pix.width, pix.height), pix.samples)
        if scanned:
            img = scan(img)
            name = "scan of " + name
        raw = io.BytesIO()
        img.save(raw, format="PNG")
        data, mime = imaging.encode_for_vlm(img, a.tiles)
        totals[scanned][0] += raw.tell()
        totals[scanned][1] += len(data)
        print(f"{name:38s} {img.width}x{img.height}  raw PNG {raw.tell() / 1e6:6.2f} MB  "
              f"sent {len(data) / 1e6:5.2f} MB ({mime})  = {len(data) / raw.tell():.3f}x")
    for scanned, (raw_total, sent_total) in totals.items():
        kind = "scanned pages " if scanned else "digital renders"
        print(f"{kind}: {sent_total / raw_total:.3f}x the raw PNG bytes (goal <= 0.25x)")


if __name__ == "__main__":
    main()
