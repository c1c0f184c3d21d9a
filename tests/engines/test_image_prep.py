"""Image preparation for the VLM: prescale to the tile budget, PNG or JPEG by content."""

from __future__ import annotations

import base64
import io
import random

import pytest
from corpus_data import CORPUS
from engine_helpers import make_image
from PIL import Image

from desktop_ocr.core import imaging


@pytest.mark.parametrize(("tiles", "side"), [(1, 448), (4, 896), (12, 1552)])
def test_prescale_to_tile_budget(tiles, side):
    img = imaging.prescale(Image.new("RGB", (2480, 3508), "white"), tiles)
    assert max(img.size) == side and img.size[0] == round(2480 * side / 3508)


def test_small_images_are_not_enlarged():
    img = make_image((300, 200))
    assert imaging.prescale(img, 12) is img


def test_format_by_content():
    assert imaging.choose_format(make_image()) == "PNG"
    rng = random.Random(1)
    photo = Image.frombytes("RGB", (300, 300), bytes(rng.randrange(256) for _ in range(300 * 300 * 3)))
    assert imaging.choose_format(photo) == "JPEG"
    data, mime = imaging.encode_for_vlm(photo)
    assert mime == "image/jpeg" and Image.open(io.BytesIO(data)).format == "JPEG"


def test_scanned_receipt_data_url_is_much_smaller_than_raw_png():
    path = CORPUS / "files" / "receipt-sroie-003.jpg"
    if not path.exists():
        pytest.skip("corpus missing")
    img = imaging.load_image(path)
    raw = io.BytesIO()
    img.save(raw, format="PNG")
    url = imaging.to_data_url(img, 12)
    sent = base64.b64decode(url.split(",", 1)[1])
    assert max(Image.open(io.BytesIO(sent)).size) <= 1552
    assert len(sent) < 0.5 * raw.tell()
