"""The CPU engine's second reading of a VLM result's image, as the window runs it in the
background: boxes, doubtful words and codes in one pass, all storable with the result."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import zxingcpp
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent / "core"))
from pdf_checks import text_image  # noqa: E402

from desktop_ocr.core.codes import Code  # noqa: E402
from desktop_ocr.core.doubt import doubts_from_json  # noqa: E402
from desktop_ocr.core.layout import Layout  # noqa: E402
from desktop_ocr.core.results import PartResult  # noqa: E402
from desktop_ocr.cpu_layouts import second_reading  # noqa: E402


@pytest.mark.slow
def test_second_reading_gives_boxes_doubts_and_codes_for_the_result():
    # GIVEN a page with text and a QR code, and a VLM reading with one wrong number
    sample = text_image()
    page = sample.image.copy()
    qr = zxingcpp.write_barcode_to_image(
        zxingcpp.create_barcode("https://example.com/pay", zxingcpp.BarcodeFormat.QRCode), scale=3)
    page.paste(Image.fromarray(np.array(qr)).convert("RGB"), (1000, 560))
    vlm = sample.text.replace("59.00", "58.00")
    # WHEN the CPU engine reads it again
    extra = second_reading(page, vlm)
    # THEN the result can keep all of it (JSON) and each part reads back
    result = PartResult(source="page.png", text=vlm, extra=json.loads(json.dumps(extra)))
    again = PartResult.from_dict(result.to_dict())
    layout = Layout.from_dict(again.extra["layout"])
    assert "amount 59.00 EUR" in layout.text
    assert [(d.vlm, d.cpu) for d in doubts_from_json(again.extra["doubts"])] == [("58.00", "59.00")]
    (code,) = [Code.from_dict(c) for c in again.extra["codes"]]
    assert code.url == "https://example.com/pay"
