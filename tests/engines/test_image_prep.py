"""Image preparation for the VLM: prescale to the tile budget, PNG or JPEG by content."""

from __future__ import annotations

import base64
import io
import random

import pytest
from corpus_data import CORPUS
from engine_helpers import make_image
from PIL import Image, ImageChops

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


def _render(doc) -> Image.Image:
    pix = doc[0].get_pixmap(dpi=300)
    return Image.frombytes("RGB", (pix.width, pix.height), pix.samples)


def _text_page() -> Image.Image:
    """An A4 page of black text rendered at 300 dpi, as a PDF page reaches the engine."""
    import pymupdf

    rng = random.Random(7)
    with pymupdf.open() as doc:
        page = doc.new_page(width=595, height=842)
        for y in range(60, 800, 16):
            line = " ".join(f"{rng.choice(('Item', 'Total', 'Tax', 'Net'))} {rng.randrange(10**6)}"
                            for _ in range(6))
            page.insert_text((50, y), line, fontsize=10)
        return _render(doc)


def test_grey_text_page_goes_out_as_16_level_palette_png():
    img = imaging.prescale(_text_page(), 12)  # what encode_for_vlm works on
    assert imaging.is_grey(img) and len(img.convert("L").getcolors(256)) > 16
    data, mime = imaging.encode_for_vlm(img)
    sent = Image.open(io.BytesIO(data))
    assert mime == "image/png" and sent.mode == "P" and sent.size == img.size
    assert len(sent.convert("L").getcolors(256)) <= imaging.GREY_LEVELS
    # every pixel within half a level step of the original: nothing legible is lost
    error = ImageChops.difference(sent.convert("L"), img.convert("L")).getextrema()[1]
    assert error <= 9
    eight_bit = io.BytesIO()
    img.convert("L").save(eight_bit, format="PNG", compress_level=6)
    assert len(data) < 0.7 * eight_bit.tell()


def test_colour_text_page_keeps_its_colours_in_a_palette_png():
    import pymupdf

    path = CORPUS / "files" / "pdf-small-table.pdf"  # blue text in a black-ruled table
    if not path.exists():
        pytest.skip("corpus missing")
    with pymupdf.open(path) as doc:
        img = imaging.prescale(_render(doc), 12)
    assert not imaging.is_grey(img)
    data, mime = imaging.encode_for_vlm(img)
    sent = Image.open(io.BytesIO(data))
    assert mime == "image/png" and sent.mode == "P"
    error = max(hi for _, hi in ImageChops.difference(sent.convert("RGB"), img).getextrema())
    assert error <= 4
    rgb = io.BytesIO()
    img.save(rgb, format="PNG", compress_level=6)
    assert len(data) < 0.75 * rgb.tell()
