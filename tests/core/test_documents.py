"""core/documents.py: every pdf and bad-input corpus item, laziness, damage, threads, cache."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import psutil
import pymupdf
import pytest
from corpus_data import corpus_items
from PIL import Image

from desktop_ocr.core.documents import (
    OPEN_ERRORS,
    DocumentError,
    PageError,
    PasswordRequired,
    Pixels,
    RenderCache,
    WrongPassword,
    document_from_image,
    open_document,
)
from desktop_ocr.core.imaging import ImageError
from desktop_ocr.core.regions import Region

ITEMS = corpus_items("pdf") + corpus_items("bad-input")


def _close(a, b, tol=12) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


def _mean(img: Image.Image) -> tuple[float, ...]:
    stat = img.resize((1, 1), Image.Resampling.BOX).getpixel((0, 0))
    return tuple(stat)


def _rss_guard():
    proc = psutil.Process()
    before = proc.memory_info().rss
    return lambda: (proc.memory_info().rss - before) / 1e6


def _text_layer_gt(corpus: Path, item: dict) -> str:
    return (corpus / item["gt_text_layer_page1"]).read_text(encoding="utf-8")


def _renders_every_page_or_fails_alone(doc) -> int:
    good = 0
    for page in doc.pages:
        try:
            img = page.render(scale=0.25)
        except PageError as exc:
            assert exc.index == page.index and str(exc)
        else:
            assert img.mode == "RGB" and img.size == page.pixel_size(0.25)
            good += 1
    return good


# ---------------------------------------------------------------------- per-item checks


def check_text_pdf(item, path, corpus):
    with open_document(path) as doc:
        assert doc.kind == "pdf" and len(doc.pages) == item["pages"] == doc.page_count
        page = doc.pages[0]
        assert page.has_text_layer
        assert page.text_layer() == _text_layer_gt(corpus, item)
        img = page.render(dpi=72)
        assert img.size == page.pixel_size(1.0)
        assert min(img.convert("L").getextrema()) < 128  # something is drawn


def check_small_table(item, path, corpus):
    check_text_pdf(item, path, corpus)
    with open_document(path) as doc:
        # "one table": the text layer holds the grid's cells in order
        text = doc.pages[0].text_layer()
        assert text.index("Noble gases") < text.index("Nonmetals") < text.index("Metals")


def check_chinese(item, path, corpus):
    check_text_pdf(item, path, corpus)
    with open_document(path) as doc:
        text = doc.pages[0].text_layer()
        assert sum("\u4e00" <= ch <= "\u9fff" for ch in text) > 100


def check_47_pages(item, path, corpus, monkeypatch):
    calls = []
    real = pymupdf.Page.get_pixmap
    monkeypatch.setattr(pymupdf.Page, "get_pixmap", lambda self, *a, **k: calls.append(1) or real(self, *a, **k))
    doc = open_document(path)
    assert len(doc.pages) == 47
    sizes = [p.size for p in doc.pages]  # reading sizes loads pages but renders nothing
    assert all(s == pytest.approx((595.28, 841.89), abs=0.01) for s in sizes)
    assert calls == [] and doc.render_count == 0
    doc.pages[30].render(scale=0.5)
    assert len(calls) == 1 and doc.render_count == 1
    doc.pages[30].render(scale=0.5)  # cached: no second rasterisation
    assert len(calls) == 1 and doc.render_count == 1
    assert doc.pages[0].text_layer() == _text_layer_gt(corpus, item)
    assert len(calls) == 1  # the text layer is not a render
    doc.close()


def check_scanned(item, path, corpus):
    with open_document(path) as doc:
        assert len(doc.pages) == 1
        page = doc.pages[0]
        assert not page.has_text_layer and page.text_layer().strip() == ""
        img = page.render_for_engine()
        # The receipt image is on the page: dark text pixels, not a blank render.
        assert max(img.size) == pytest.approx(min(2048, max(page.size) * 300 / 72), abs=2)
        assert min(img.convert("L").getextrema()) < 80


def check_encrypted(item, path, corpus):
    with pytest.raises(PasswordRequired, match="password"):
        open_document(path)
    with pytest.raises(WrongPassword, match="wrong"):
        open_document(path, password="not-" + item["password"])
    with open_document(path, password=item["password"]) as doc:
        assert len(doc.pages) == item["pages"]
        assert doc.pages[0].render(scale=0.5).size == doc.pages[0].pixel_size(0.5)


def check_truncated_pdf(item, path, corpus):
    with open_document(path) as doc:
        assert doc.repaired and doc.warnings
        assert doc.page_count >= 1
        good = _renders_every_page_or_fails_alone(doc)
        assert good >= 1
        # The surviving first page is the original's first page.
        original = corpus / "pdf-47-pages.page1.textlayer.txt"
        assert doc.pages[0].text_layer() == original.read_text(encoding="utf-8")


def check_empty(item, path, corpus):
    with pytest.raises(DocumentError, match="empty"):
        open_document(path)


def check_multipage_tiff(item, path, corpus):
    with open_document(path) as doc:
        assert len(doc.pages) == 3 and doc.render_count == 0
        colours = [(0, 128, 0), (255, 0, 0), (0, 0, 255)]
        sizes = [(10, 10), (10, 10), (20, 20)]
        for page, colour, size in zip(doc.pages, colours, sizes, strict=True):
            assert page.size == size
            img = page.render()
            assert img.size == size and img.getpixel((5, 5)) == colour


def check_cmyk(item, path, corpus):
    raw = Image.open(path)
    assert raw.mode == "CMYK"
    with open_document(path) as doc:
        img = doc.pages[0].render()
    assert img.mode == "RGB" and img.size == raw.size
    for xy in [(0, 0), (raw.width - 1, raw.height - 1), (50, 50)]:
        c, m, y, k = raw.getpixel(xy)
        expected = tuple(round((255 - v) * (255 - k) / 255) for v in (c, m, y))
        assert _close(img.getpixel(xy), expected, tol=2), (xy, img.getpixel(xy), expected)
    r, g, b = img.getpixel((0, 0))
    assert r > 200 and g < 60 and b < 60  # the sample's top-left corner is red
    assert max(img.getpixel((raw.width - 1, raw.height - 1))) < 60  # and its far corner black


def check_exif_6(item, path, corpus):
    raw = Image.open(path)
    assert raw.getexif().get(0x0112) == 6
    upright = raw.convert("RGB").transpose(Image.Transpose.ROTATE_270)  # 6 = turn 90 clockwise
    with open_document(path) as doc:
        img = doc.pages[0].render()
    assert img.size == upright.size
    for xy in [(5, 5), (120, 5), (5, 120), (64, 30)]:
        assert _close(img.getpixel(xy), upright.getpixel(xy)), xy
    assert any(not _close(img.getpixel(xy), raw.convert("RGB").getpixel(xy), 30)
               for xy in [(5, 5), (120, 5), (5, 120), (64, 30)])


def check_palette_transparency(item, path, corpus):
    raw = Image.open(path)
    transparent = raw.info["transparency"]
    xy = next((x, y) for y in range(raw.height) for x in range(raw.width)
              if raw.getpixel((x, y)) == transparent)
    opaque = next((x, y) for y in range(raw.height) for x in range(raw.width)
                  if raw.getpixel((x, y)) != transparent)
    with open_document(path) as doc:
        img = doc.pages[0].render()
    assert img.mode == "RGB"
    assert img.getpixel(xy) == (255, 255, 255)
    assert img.getpixel(opaque) == raw.convert("RGB").getpixel(opaque)


def check_too_large(item, path, corpus):
    grown = _rss_guard()
    with pytest.raises(ImageError, match="too large"):
        open_document(path)
    assert grown() < 50


def check_fuzz_tiff(item, path, corpus):
    try:
        doc = open_document(path)
    except OPEN_ERRORS as exc:
        assert str(exc)
        return
    with doc:
        _renders_every_page_or_fails_alone(doc)


def check_damaged_image(word):
    def check(item, path, corpus):
        try:
            doc = open_document(path)
        except ImageError as exc:
            assert word in str(exc)
            return
        with doc, pytest.raises(PageError, match=word):
            doc.pages[0].render_for_engine()
    return check


def check_not_image(item, path, corpus):
    with pytest.raises(ImageError, match="not an image"):
        open_document(path)


CHECKS = {
    "pdf-small-table.pdf": check_small_table,
    "pdf-chinese-tables.pdf": check_chinese,
    "pdf-47-pages.pdf": check_47_pages,
    "pdf-scanned-receipt-sroie-003.pdf": check_scanned,
    "pdf-encrypted-secret.pdf": check_encrypted,
    "bad-truncated.pdf": check_truncated_pdf,
    "bad-zero-byte.pdf": check_empty,
    "odd-multipage.tiff": check_multipage_tiff,
    "odd-cmyk.jpg": check_cmyk,
    "odd-exif-orientation-6.jpg": check_exif_6,
    "odd-palette-transparency.png": check_palette_transparency,
    "bad-decompression-bomb.gif": check_too_large,
    "bad-fuzz-crash.tif": check_fuzz_tiff,
    "bad-short.bmp": check_damaged_image("truncated"),
    "bad-zero-byte.png": check_empty,
    "bad-text-as.png": check_not_image,
    "bad-truncated.jpg": check_damaged_image("truncated"),
    "bad-huge-header.png": check_too_large,
}


def test_every_pdf_and_bad_input_item_has_a_check():
    assert {it["file"] for it in ITEMS} == set(CHECKS)


@pytest.mark.parametrize("item", ITEMS, ids=[it["file"] for it in ITEMS])
def test_corpus_item(item, corpus, request):
    check = CHECKS[item["file"]]
    args = [item, corpus / item["file"], corpus]
    if "monkeypatch" in check.__code__.co_varnames[: check.__code__.co_argcount]:
        args.append(request.getfixturevalue("monkeypatch"))
    check(*args)


# ---------------------------------------------------------------------- made-up documents


def _numbered_pdf(n: int, rotate_second: bool = False) -> bytes:
    doc = pymupdf.open()
    for i in range(n):
        page = doc.new_page(width=400, height=600)
        page.insert_text((50, 80), f"Page number {i + 1}", fontsize=20)
        page.draw_rect(pymupdf.Rect(300, 500, 380, 580), color=(1, 0, 0), fill=(1, 0, 0))
        if rotate_second and i == 1:
            page.set_rotation(90)
    return doc.tobytes()


@pytest.fixture(scope="module")
def many_pages(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("pdf") / "many.pdf"
    path.write_bytes(_numbered_pdf(300))
    return path


def test_many_page_pdf_random_access_without_rendering(many_pages):
    with open_document(many_pages) as doc:
        assert len(doc.pages) == 300 and doc.render_count == 0
        assert doc.pages[-1].number == 300
        assert doc.pages[249].text_layer().strip() == "Page number 250"
        assert [p.index for p in doc.pages[10:13]] == [10, 11, 12]
        with pytest.raises(IndexError):
            doc.pages[300]
        img = doc.pages[249].render(dpi=144)
        assert img.size == (800, 1200) and doc.render_count == 1
        assert _close(img.getpixel((680, 1080)), (255, 0, 0))


def test_region_is_rendered_from_the_source_at_engine_resolution(many_pages):
    with open_document(many_pages) as doc:
        page = doc.pages[0]
        red = Region.from_page_rect((300, 500, 380, 580), *page.size)
        crop = page.render_for_engine(red)
        # 80 pt square at the 300-dpi cap: 333 px, far more than a screen render of it.
        side = 80 * 300 / 72
        assert crop.size[0] == pytest.approx(side, abs=1) and crop.size[1] == pytest.approx(side, abs=1)
        assert _close(_mean(crop), (255, 0, 0), 3)
        whole = page.render_for_engine(max_side=1000)
        assert max(whole.size) == 1000


def test_clip_and_rotation_agree_with_a_rotated_full_render(many_pages):
    with open_document(many_pages) as doc:
        page = doc.pages[0]
        full = page.render(scale=1)
        for rotation, transpose in [(90, Image.Transpose.ROTATE_270), (180, Image.Transpose.ROTATE_180),
                                    (270, Image.Transpose.ROTATE_90)]:
            rot = page.render(scale=1, rotation=rotation)
            assert rot.size == full.transpose(transpose).size == page.pixel_size(1, rotation)
            expected = full.transpose(transpose)
            for xy in [(10, 10), (rot.width - 20, rot.height - 20), (rot.width // 2, rot.height // 3)]:
                assert _close(rot.getpixel(xy), expected.getpixel(xy), 40), (rotation, xy)
        clip = page.render(scale=2, clip=(290, 490, 390, 590), rotation=90)
        assert clip.size == (200, 200)
        assert _close(clip.getpixel((100, 100)), (255, 0, 0))
        assert _close(clip.getpixel((5, 5)), (255, 255, 255))


def test_pdf_page_rotate_is_part_of_the_page(tmp_path):
    path = tmp_path / "rot.pdf"
    path.write_bytes(_numbered_pdf(3, rotate_second=True))
    with open_document(path) as doc:
        assert doc.pages[1].size == (600, 400)
        assert doc.pages[1].render().size == (600, 400)


def test_a_page_that_fails_fails_alone(tmp_path):
    doc = pymupdf.open()
    for i in range(3):
        doc.new_page().insert_text((72, 72), f"Page {i + 1}")
    # Page 2 becomes a page-tree node that contains the root: MuPDF refuses that page.
    doc.update_object(doc[1].xref, "<< /Type /Pages /Kids [2 0 R] /Count 1 /Parent 2 0 R >>")
    path = tmp_path / "one-bad-page.pdf"
    path.write_bytes(doc.tobytes())
    with open_document(path) as d:
        assert d.page_count == 3
        with pytest.raises(PageError) as info:
            d.pages[1].render()
        assert info.value.index == 1 and "Page 2" in str(info.value)
        with pytest.raises(PageError):
            d.pages[1].text_layer()
        assert d.pages[0].text_layer().strip() == "Page 1"
        assert d.pages[2].text_layer().strip() == "Page 3"
        assert d.pages[2].render().size == (595, 842)


def test_a_zoom_too_large_is_refused_before_rendering(many_pages):
    with open_document(many_pages) as doc:
        with pytest.raises(PageError, match="too large"):
            doc.pages[0].render(scale=100)
        assert doc.render_count == 0
        # A clip of the same zoom is fine: that is how the viewer shows deep zooms.
        assert doc.pages[0].render(scale=100, clip=(0, 0, 10, 10)).size == (1000, 1000)


def test_not_a_document(tmp_path):
    fake_pdf = tmp_path / "fake.pdf"
    fake_pdf.write_text("hello, this is not a PDF\n" * 20)
    with pytest.raises(DocumentError, match="not a PDF"):
        open_document(fake_pdf)
    other = tmp_path / "notes.xyz"
    other.write_text("plain text")
    with pytest.raises(DocumentError, match="not a PDF or an image"):
        open_document(other)
    with pytest.raises(DocumentError, match="does not exist"):
        open_document(tmp_path / "missing.pdf")
    with pytest.raises(DocumentError, match="folder"):
        open_document(tmp_path)


def test_open_from_bytes_and_from_an_image(many_pages):
    with open_document(many_pages.read_bytes(), name="x.pdf") as doc:
        assert doc.page_count == 300 and doc.name == "x.pdf" and doc.path is None
    rgba = Image.new("RGBA", (30, 20), (0, 0, 0, 0))
    rgba.paste((0, 0, 255, 255), (0, 0, 10, 10))
    with document_from_image(rgba, "Pasted") as doc:
        img = doc.pages[0].render()
        assert img.mode == "RGB" and img.getpixel((2, 2)) == (0, 0, 255)
        assert img.getpixel((25, 15)) == (255, 255, 255)
        assert doc.pages[0].text_layer() == "" and not doc.pages[0].has_text_layer


def _encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def test_raster_formats(tmp_path):
    base = Image.new("RGB", (40, 30), (200, 30, 40))
    base.paste((10, 20, 200), (20, 0, 40, 30))
    alpha = base.convert("RGBA")
    alpha.putalpha(Image.new("L", (40, 30), 255).point(lambda v: v))
    alpha.paste((0, 0, 0, 0), (0, 0, 5, 5))
    sixteen = Image.new("I;16", (40, 30), 40000)
    cases = {
        "a.png": (_encode(alpha, "PNG"), [((1, 1), (255, 255, 255)), ((30, 10), (10, 20, 200))]),
        "p.png": (_encode(base.convert("P", palette=Image.Palette.ADAPTIVE), "PNG"),
                  [((5, 10), (200, 30, 40))]),
        "g16.png": (_encode(sixteen, "PNG"), [((3, 3), (156, 156, 156))]),
        "b.bmp": (_encode(base, "BMP"), [((5, 10), (200, 30, 40))]),
        "w.webp": (_encode(base, "WEBP", lossless=True), [((5, 10), (200, 30, 40))]),
        "g.gif": (_encode(base, "GIF"), [((5, 10), (200, 30, 40))]),
        "c.jpg": (_encode(base.convert("CMYK"), "JPEG", quality=95), [((5, 10), (200, 30, 40))]),
    }
    for name, (data, probes) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with open_document(path) as doc:
            assert doc.kind == "image" and doc.pages[0].size == (40, 30), name
            img = doc.pages[0].render()
            assert img.mode == "RGB", name
            for xy, colour in probes:
                assert _close(img.getpixel(xy), colour, 8), (name, xy, img.getpixel(xy))


def test_animated_gif_is_one_page_per_frame(tmp_path):
    frames = [Image.new("RGB", (16, 16), c) for c in [(255, 0, 0), (0, 255, 0), (0, 0, 255)]]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100)
    with open_document(path) as doc:
        assert doc.page_count == 3
        assert [doc.pages[i].render().getpixel((8, 8)) for i in range(3)] == \
               [(255, 0, 0), (0, 255, 0), (0, 0, 255)]


def test_exif_orientation_makes_a_landscape_jpeg_portrait(tmp_path):
    img = Image.new("RGB", (60, 40), (255, 255, 255))
    img.paste((0, 0, 0), (0, 0, 10, 10))  # stored top-left
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "o6.jpg"
    img.save(path, exif=exif, quality=95)
    with open_document(path) as doc:
        page = doc.pages[0]
        assert page.size == (40, 60)  # known before decoding
        shown = page.render()
        assert shown.size == (40, 60)
        assert max(shown.getpixel((35, 4))) < 60  # turned clockwise: now top-right


def test_image_region_crop_uses_source_pixels(tmp_path):
    img = Image.new("RGB", (1000, 800), (255, 255, 255))
    img.paste((0, 0, 255), (500, 400, 600, 500))
    path = tmp_path / "big.png"
    img.save(path)
    with open_document(path) as doc:
        page = doc.pages[0]
        crop = page.render_for_engine(Region(0.5, 0.5, 0.1, 0.125))
        assert crop.size == (100, 100) and _mean(crop) == (0, 0, 255)
        assert max(page.render_for_engine(max_side=500).size) == 500
        view = page.render(scale=0.5, rotation=270)
        assert view.size == (400, 500)


def test_closed_document_refuses(many_pages):
    doc = open_document(many_pages)
    page = doc.pages[0]
    page.render(scale=0.2)
    assert doc.cache.bytes_used > 0
    doc.close()
    assert doc.cache.bytes_used == 0
    with pytest.raises(DocumentError, match="closed"):
        page.render(scale=0.3)


def test_threads_render_concurrently_and_correctly(many_pages):
    with open_document(many_pages) as a, open_document(many_pages, cache=RenderCache(0)) as b:
        wanted = {i: a.pages[i].text_layer().strip() for i in range(0, 300, 15)}
        expected = {i: a.pages[i].render(scale=0.3, cache=False).tobytes() for i in wanted}
        errors: list[BaseException] = []

        def work(doc, offset):
            try:
                for i in list(wanted)[offset:] + list(wanted)[:offset]:
                    assert doc.pages[i].render(scale=0.3).tobytes() == expected[i]
                    assert doc.pages[i].text_layer().strip() == wanted[i]
            except BaseException as exc:  # reported below, from the main thread
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(d, k)) for k, d in enumerate([a, b] * 4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors[0]


def test_render_cache_is_bounded_in_bytes_and_lru():
    one = 100 * 100 * 4  # Pillow holds RGB as 4 bytes a pixel
    cache = RenderCache(max_bytes=3 * one)
    imgs = {k: Image.new("RGB", (100, 100)) for k in "abcd"}
    for k in "abc":
        cache.put(k, imgs[k])
    assert cache.bytes_used == 3 * one and len(cache) == 3
    assert cache.get("a") is imgs["a"]  # a is now the most recent
    cache.put("d", imgs["d"])
    assert cache.get("b") is None and cache.get("a") is imgs["a"] and cache.get("d") is imgs["d"]
    cache.put("huge", Image.new("RGB", (200, 200)))
    assert cache.get("huge") is None and cache.bytes_used <= cache.max_bytes
    packed = Pixels(100, 100, 300, bytes(30_000))
    cache.put("px", packed)
    assert cache.get("px") is packed and cache.bytes_used == 2 * one + 30_000
    cache.max_bytes = one
    assert len(cache) == 1 and cache.bytes_used == 30_000


def test_render_pixels_matches_render(many_pages, tmp_path):
    img = Image.new("RGB", (31, 17), (9, 99, 199))
    img.paste((250, 5, 5), (3, 3, 10, 10))
    png = tmp_path / "small.png"
    img.save(png)
    for path in (many_pages, png):
        with open_document(path) as doc:
            page = doc.pages[0]
            for rotation in (0, 90):
                px = page.render_pixels(scale=0.37, rotation=rotation, clip=(2, 2, 25, 15))
                ref = page.render(scale=0.37, rotation=rotation, clip=(2, 2, 25, 15), cache=False)
                assert (px.width, px.height) == ref.size and px.stride >= 3 * px.width
                assert px.to_image().tobytes() == ref.tobytes()
                assert page.render_pixels(scale=0.37, rotation=rotation, clip=(2, 2, 25, 15)) is px


def test_document_cache_stays_within_budget(many_pages):
    with open_document(many_pages, cache=RenderCache(2_000_000)) as doc:
        for page in doc.pages[:40]:
            page.render(scale=0.5)
        assert doc.render_count == 40
        assert 0 < doc.cache.bytes_used <= 2_000_000
        doc.pages[39].render(scale=0.5)
        assert doc.render_count == 40  # still cached
        doc.pages[0].render(scale=0.5)
        assert doc.render_count == 41  # evicted long ago


def test_text_layer_of_a_region(tmp_path):
    pdf = pymupdf.open()
    page = pdf.new_page(width=400, height=600)
    page.insert_text((40, 60), "Heading at the top", fontsize=14)
    page.insert_text((40, 560), "Footer at the bottom", fontsize=14)
    path = tmp_path / "two.pdf"
    pdf.save(path)
    with open_document(path) as doc:
        page = doc.pages[0]
        assert page.text_layer() == "Heading at the top\nFooter at the bottom\n"
        assert page.text_layer(Region(0, 0, 1, 0.5)).strip() == "Heading at the top"
        assert page.text_layer(Region(0, 0.8, 1, 0.2)).strip() == "Footer at the bottom"
        assert page.text_layer(Region(0.5, 0.3, 0.5, 0.3)) == ""


def test_open_errors_covers_what_open_raises():
    assert issubclass(PasswordRequired, DocumentError) and issubclass(PageError, DocumentError)
    assert DocumentError in OPEN_ERRORS and ImageError in OPEN_ERRORS
