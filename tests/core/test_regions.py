"""core/regions.py: region geometry under zoom and rotation, reading order, CLI parsing."""

from __future__ import annotations

import random

import pymupdf
import pytest
from PIL import Image

from desktop_ocr.core.documents import open_document
from desktop_ocr.core.regions import (
    Rect,
    Region,
    RegionSpec,
    SpecError,
    ViewTransform,
    crop,
    move_region,
    parse_pages,
    parse_region,
    reading_order,
    renumber,
)

ROTATIONS = (0, 90, 180, 270)


# ---------------------------------------------------------------------- Region


def test_region_validation_and_drag_normalisation():
    with pytest.raises(ValueError):
        Region(0.5, 0.5, 0.6, 0.1)  # past the right edge
    with pytest.raises(ValueError):
        Region(0.1, 0.1, 0, 0.2)
    with pytest.raises(ValueError):
        Region(float("nan"), 0, 0.1, 0.1)
    r = Region.from_corners(0.8, 0.9, 0.2, -0.3)  # dragged up-left, past the top
    assert r.rect == pytest.approx((0.2, 0.0, 0.8, 0.9))
    with pytest.raises(ValueError):
        Region.from_corners(1.2, 0.1, 1.5, 0.3)  # wholly off the page
    assert Region.whole_page().is_whole_page and not r.is_whole_page


def test_region_page_rect_and_pixel_box():
    r = Region.from_page_rect((61.2, 79.2, 306, 396), 612, 792)
    assert r.rect == pytest.approx((0.1, 0.1, 0.5, 0.5))
    assert r.to_page_rect(612, 792) == pytest.approx((61.2, 79.2, 306, 396))
    assert r.pixel_box(1000, 500) == (100, 50, 500, 250)
    # Outward rounding: a region never loses a marked pixel nor becomes empty.
    tiny = Region(0.1234, 0.1234, 0.0001, 0.0001)
    left, top, right, bottom = tiny.pixel_box(100, 100)
    assert right - left == 1 and bottom - top == 1
    odd = Region(0.105, 0.105, 0.3, 0.3)
    assert odd.pixel_box(100, 100) == (10, 10, 41, 41)


def test_region_edits_keep_identity():
    r = Region(0.1, 0.1, 0.2, 0.2, order=3, task="table", label="Totals")
    moved = r.moved(0.9, -0.5)
    assert moved.rect == pytest.approx((0.8, 0.0, 1.0, 0.2))
    assert (moved.id, moved.order, moved.task, moved.label) == (r.id, 3, "table", "Totals")
    assert Region(0, 0, 1, 1, order=2).display_label == "Region 2"
    assert r.display_label == "Totals"


def test_crop_of_a_page_image():
    img = Image.new("RGB", (200, 100), (255, 255, 255))
    img.paste((255, 0, 0), (50, 25, 100, 75))
    out = crop(img, Region(0.25, 0.25, 0.25, 0.5))
    assert out.size == (50, 50) and out.getcolors() == [(2500, (255, 0, 0))]
    assert crop(img, None) is img and crop(img, Region.whole_page()) is img


# ---------------------------------------------------------------------- ViewTransform


def test_view_transform_corners_for_each_rotation():
    # Page 200 x 100 units, zoom 2: where does the page's top-left corner land?
    expected_corner = {0: (0, 0), 90: (200, 0), 180: (400, 200), 270: (0, 400)}
    expected_size = {0: (400, 200), 90: (200, 400), 180: (400, 200), 270: (200, 400)}
    for rot in ROTATIONS:
        t = ViewTransform(200, 100, zoom=2, rotation=rot)
        assert t.view_size == expected_size[rot]
        assert t.page_to_view(0, 0) == pytest.approx(expected_corner[rot])
        # the whole page maps onto the whole view
        assert t.rect_to_view((0, 0, 200, 100)) == pytest.approx((0, 0, *expected_size[rot]))
    assert ViewTransform(10, 10, rotation=-90).rotation == 270
    with pytest.raises(ValueError):
        ViewTransform(10, 10, rotation=45)
    with pytest.raises(ValueError):
        ViewTransform(10, 10, zoom=0)


@pytest.mark.parametrize("rotation", ROTATIONS)
@pytest.mark.parametrize("zoom", [0.1, 1.0, 1.37, 8.0])
def test_points_and_regions_round_trip(rotation, zoom):
    rng = random.Random(rotation * 100 + int(zoom * 10))
    t = ViewTransform(595.28, 841.89, zoom=zoom, rotation=rotation)
    for _ in range(50):
        x, y = rng.uniform(0, 595.28), rng.uniform(0, 841.89)
        assert t.view_to_page(*t.page_to_view(x, y)) == pytest.approx((x, y))
    region = Region(0.12, 0.34, 0.3, 0.2, order=1, task="text", label="A")
    view_rect = t.region_to_view(region)
    back = t.update_region(region, view_rect)
    assert back.rect == pytest.approx(region.rect)
    assert (back.id, back.order, back.task, back.label) == (region.id, 1, "text", "A")
    # A region drawn at one zoom/rotation shows on the same content at another.
    other = ViewTransform(595.28, 841.89, zoom=zoom * 3, rotation=(rotation + 90) % 360)
    again = t.region_from_view(view_rect)
    assert other.region_from_view(other.region_to_view(again)).rect == pytest.approx(region.rect)
    # Zoom scales view rectangles linearly.
    doubled = ViewTransform(595.28, 841.89, zoom=zoom * 2, rotation=rotation).region_to_view(region)
    assert doubled == pytest.approx(tuple(2 * v for v in view_rect))


@pytest.mark.parametrize("rotation", ROTATIONS)
def test_view_geometry_matches_the_rendered_page(rotation, tmp_path):
    """The transform the viewer draws regions with agrees with what render() paints."""
    pdf = pymupdf.open()
    page = pdf.new_page(width=300, height=500)
    page.draw_rect(pymupdf.Rect(30, 40, 120, 100), color=(0, 0, 1), fill=(0, 0, 1))
    path = tmp_path / "box.pdf"
    pdf.save(path)
    with open_document(path) as doc:
        p = doc.pages[0]
        zoom = 1.5
        img = p.render(scale=zoom, rotation=rotation)
        t = ViewTransform(*p.size, zoom=zoom, rotation=rotation)
        assert img.size == tuple(round(v) for v in t.view_size)
        box = Region.from_page_rect((30, 40, 120, 100), *p.size)
        x0, y0, x1, y1 = t.region_to_view(box)
        inside = img.getpixel((int((x0 + x1) / 2), int((y0 + y1) / 2)))
        near_corner = img.getpixel((int(x0) + 3, int(y0) + 3))
        outside = img.getpixel((int(x1) + 5, int(y1) + 5))
        assert inside == (0, 0, 255) and near_corner == (0, 0, 255)
        assert outside == (255, 255, 255)


# ---------------------------------------------------------------------- reading order


def test_reading_order_rows_with_tolerance():
    # Two rows of three boxes whose tops wobble a little, given shuffled.
    boxes = {
        "a": Region(0.05, 0.10, 0.2, 0.1), "b": Region(0.40, 0.11, 0.2, 0.1),
        "c": Region(0.70, 0.095, 0.2, 0.1), "d": Region(0.05, 0.41, 0.2, 0.1),
        "e": Region(0.40, 0.40, 0.2, 0.1), "f": Region(0.70, 0.42, 0.2, 0.1),
    }
    names = {r.id: k for k, r in boxes.items()}
    shuffled = list(boxes.values())
    random.Random(4).shuffle(shuffled)
    ordered = reading_order(shuffled)
    assert [names[r.id] for r in ordered] == list("abcdef")
    assert [r.order for r in ordered] == [1, 2, 3, 4, 5, 6]


def test_reading_order_tall_box_beside_a_column():
    tall = Region(0.05, 0.1, 0.4, 0.8)
    col = [Region(0.55, y, 0.4, 0.1) for y in (0.5, 0.1, 0.3)]
    ordered = reading_order([col[0], tall, col[1], col[2]])
    assert [r.id for r in ordered] == [tall.id, col[1].id, col[2].id, col[0].id]


def test_manual_reorder_and_renumber():
    rs = reading_order([Region(0.1, y, 0.2, 0.05) for y in (0.1, 0.3, 0.5, 0.7)])
    moved = move_region(rs, rs[3].id, 0)
    assert [r.id for r in moved] == [rs[3].id, rs[0].id, rs[1].id, rs[2].id]
    assert [r.order for r in moved] == [1, 2, 3, 4]
    assert [r.id for r in move_region(rs, rs[0].id, 99)][-1] == rs[0].id
    with pytest.raises(KeyError):
        move_region(rs, "nope", 0)
    assert [r.order for r in renumber(reversed(rs))] == [1, 2, 3, 4]


# ---------------------------------------------------------------------- CLI parsing


@pytest.mark.parametrize("spec, count, expected", [
    ("1-3,7", 10, [0, 1, 2, 6]),
    ("7, 1-3, 2", 10, [0, 1, 2, 6]),
    ("5", 5, [4]),
    ("8-", 10, [7, 8, 9]),
    ("-2", 10, [0, 1]),
    ("all", 3, [0, 1, 2]),
    ("", 2, [0, 1]),
])
def test_parse_pages(spec, count, expected):
    assert parse_pages(spec, count) == expected


@pytest.mark.parametrize("spec, count, message", [
    ("0", 5, "numbered from 1"),
    ("3-1", 5, "backwards"),
    ("6", 5, "no page 6: the document has 5 pages"),
    ("2-9", 5, "no page 9"),
    ("1,,2", 5, "Empty item"),
    ("one", 5, "not a page number"),
    ("1-2-3", 5, "not a page number"),
    ("-", 5, "not a page range"),
    ("2", 1, "no page 2: the document has 1 page."),
])
def test_parse_pages_errors(spec, count, message):
    with pytest.raises(SpecError, match=message):
        parse_pages(spec, count)


def test_parse_region_fractions_and_pixels():
    spec = parse_region("0.1, 0.2,0.5,0.3")
    assert spec == RegionSpec(0.1, 0.2, 0.5, 0.3, "fraction")
    assert spec.to_region(612, 792).rect == pytest.approx((0.1, 0.2, 0.6, 0.5))
    px = parse_region("10,20,300,200px")
    assert px == RegionSpec(10, 20, 300, 200, "px")
    assert parse_region("10px,20px,300px,200px") == px
    r = px.to_region(1000, 400)
    assert r.rect == pytest.approx((0.01, 0.05, 0.31, 0.55))
    # PDF page in points, pixels meant at 144 dpi
    r2 = px.to_region(612, 792, px_per_unit=2.0)
    assert r2.to_page_rect(612, 792) == pytest.approx(Rect(5, 10, 155, 110))
    with pytest.raises(SpecError, match="outside the page"):
        px.to_region(200, 200)


@pytest.mark.parametrize("spec, message", [
    ("0.1,0.2,0.5", "four numbers"),
    ("0.1,0.2,0.5,0.3,0.1", "four numbers"),
    ("a,0.2,0.5,0.3", "not a number"),
    ("0.1,0.2,0,0.3", "greater than zero"),
    ("-0.1,0.2,0.5,0.3", "zero or positive"),
    ("10,20,300,200", "fractions 0-1"),
    ("0.6,0.2,0.5,0.3", "past the page edge"),
    ("10px,20,30,40", "Put px after"),
])
def test_parse_region_errors(spec, message):
    with pytest.raises(SpecError, match=message):
        parse_region(spec)
