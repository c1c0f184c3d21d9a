"""Barcode and QR reading: how many codes are found over angles and sizes, and the time
per page, for engines/codes.read_codes against one plain zxing-cpp pass (the baseline,
in the same run).

Codes (QR, Data Matrix, EAN-13, Code 128) are generated with zxing-cpp, at 1 and 2
pixels per module, pasted on a 1000 x 800 page, turned by 0..350 degrees in 10-degree
steps; the time is measured on a real corpus page (a 1241 x 1754 Chinese page).

    python bench/codes_reader.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CORPUS = ROOT.parent / "shared" / "corpus"

import numpy as np  # noqa: E402
import zxingcpp  # noqa: E402
from PIL import Image  # noqa: E402

from desktop_ocr.engines.codes import read_codes  # noqa: E402

FORMATS = [(zxingcpp.BarcodeFormat.QRCode, "https://example.com/order/42"),
           (zxingcpp.BarcodeFormat.DataMatrix, "LOT-2024-0042"),
           (zxingcpp.BarcodeFormat.EAN13, "4006381333931"),
           (zxingcpp.BarcodeFormat.Code128, "PO-88417-A")]


def plain(img: Image.Image) -> list[str]:
    return [b.text for b in zxingcpp.read_barcodes(img.convert("L"))]


def main() -> None:
    found = {"read_codes": 0, "one zxing pass": 0}
    n = 0
    for fmt, text in FORMATS:
        for module in (1, 2):
            sym = Image.fromarray(np.array(zxingcpp.write_barcode_to_image(
                zxingcpp.create_barcode(text, fmt), scale=module)))
            page = Image.new("L", (1000, 800), 255)
            page.paste(sym, (400, 300))
            for angle in range(0, 360, 10):
                turned = page.rotate(angle, expand=True, fillcolor=255,
                                     resample=Image.Resampling.BICUBIC).convert("RGB")
                n += 1
                found["read_codes"] += any(c.text == text for c in read_codes(turned))
                found["one zxing pass"] += text in plain(turned)
    for name, k in found.items():
        print(f"{name:15s} found {k:3d} / {n} ({k / n:.1%})")
    print(f"ratio: {found['read_codes'] / max(1, found['one zxing pass']):.2f}x the codes of one pass")
    with Image.open(CORPUS / "files" / "zh-pdfpage-chinese-tables.png") as img:
        page = img.convert("RGB")
    timings = {}
    for name, fn in (("read_codes", read_codes), ("one zxing pass", plain)):
        t0 = time.perf_counter()
        for _ in range(3):
            fn(page)
        timings[name] = (time.perf_counter() - t0) / 3
        print(f"{name:15s} {timings[name] * 1000:7.0f} ms per {page.width} x {page.height} page")
    print(f"ratio: {timings['read_codes'] / timings['one zxing pass']:.1f}x the time of one pass")


if __name__ == "__main__":
    main()
