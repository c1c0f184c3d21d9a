"""Barcodes and QR codes read by zxing-cpp from images made in the test: turned, small,
several on one page; and the CPU engine's codes task."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import zxingcpp
from engine_helpers import run
from PIL import Image

from desktop_ocr.core.codes import parse_codes
from desktop_ocr.core.contract import FinishReason, Request
from desktop_ocr.engines.codes import read_codes
from desktop_ocr.engines.cpu import CpuEngine

CODES = [
    (zxingcpp.BarcodeFormat.QRCode, "https://example.com/order/42", "QR Code"),
    (zxingcpp.BarcodeFormat.DataMatrix, "LOT-2024-0042", "Data Matrix"),
    (zxingcpp.BarcodeFormat.EAN13, "4006381333931", "EAN-13"),
    (zxingcpp.BarcodeFormat.Code128, "PO-88417-A", "Code 128"),
]


def symbol(fmt, text: str, module_px: int) -> Image.Image:
    barcode = zxingcpp.create_barcode(text, fmt)
    return Image.fromarray(np.array(zxingcpp.write_barcode_to_image(barcode, scale=module_px)))


def page_with(img: Image.Image, at: tuple[int, int], size=(1000, 800)) -> Image.Image:
    page = Image.new("L", size, 255)
    page.paste(img, at)
    return page.convert("RGB")


@pytest.mark.parametrize("fmt, text, name", CODES, ids=[c[2] for c in CODES])
@pytest.mark.parametrize("angle", [0, 90, 180, 25, -40])
def test_each_format_is_read_at_any_angle(fmt, text, name, angle):
    # GIVEN a code with 2-pixel modules on a page, turned by `angle` degrees
    page = page_with(symbol(fmt, text, 2), (300, 250))
    turned = page.rotate(angle, expand=True, fillcolor=(255, 255, 255), resample=Image.BICUBIC)
    # WHEN the page is read
    found = read_codes(turned)
    # THEN the code is found once, with its format and content
    assert [(c.format, c.text) for c in found] == [(name, text)]


@pytest.mark.parametrize("fmt, text, name", CODES, ids=[c[2] for c in CODES])
def test_small_codes_on_a_large_page(fmt, text, name):
    # one pixel per module, on a page twenty times its size
    found = read_codes(page_with(symbol(fmt, text, 1), (1200, 900), size=(2400, 1800)))
    assert [(c.format, c.text) for c in found] == [(name, text)]


def test_positions_are_in_the_pages_pixels_also_for_a_turned_read():
    # GIVEN a Code 128 tilted 30 degrees (found only by the turned pass) and an upright QR
    bar = symbol(zxingcpp.BarcodeFormat.Code128, "PO-88417-A", 2)
    tilted = bar.convert("RGBA").rotate(30, expand=True, resample=Image.BICUBIC)
    page = Image.new("RGB", (1200, 900), "white")
    page.paste(tilted, (600, 500), tilted)
    qr = symbol(zxingcpp.BarcodeFormat.QRCode, "https://example.com", 3)
    page.paste(qr, (100, 80))
    # WHEN read
    found = {c.format: c for c in read_codes(page)}
    # THEN each code's corners lie on the symbol where it was pasted
    qx, qy = found["QR Code"].centre
    assert math.dist((qx, qy), (100 + qr.width / 2, 80 + qr.height / 2)) < 10
    bx, by = found["Code 128"].centre
    assert math.dist((bx, by), (600 + tilted.width / 2, 500 + tilted.height / 2)) < 25


def test_a_page_without_codes_gives_none(corpus):
    with Image.open(corpus / "receipt-sroie-003.jpg") as img:
        assert read_codes(img.convert("RGB")) == []


def test_cpu_engine_codes_task_gives_json_with_positions():
    page = page_with(symbol(zxingcpp.BarcodeFormat.QRCode, "https://example.com/x", 3), (40, 60))

    async def go():
        engine = CpuEngine()
        try:
            return [c async for c in engine.stream(Request(image=page, task="codes"))]
        finally:
            await engine.stop()

    chunks = run(go())
    assert chunks[-1].finish_reason is FinishReason.STOP
    text = "".join(c.text for c in chunks)
    (code,) = parse_codes(text)
    assert (code.format, code.text, code.url) == ("QR Code", "https://example.com/x", "https://example.com/x")
    assert 40 <= code.bbox[0] < code.bbox[2] <= 40 + 200
    assert json.loads(text)[0]["position"] and chunks[-1].info["codes"][0]["text"] == code.text
