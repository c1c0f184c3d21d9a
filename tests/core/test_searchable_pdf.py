"""Searchable PDF: the text layer reads back as recognised, lies on the words' ink, and
stays right on rotated pages, with an embedded, subset font."""

from __future__ import annotations

import importlib.util

import pymupdf
import pytest
from corpus_data import CORPUS
from pdf_checks import layer_text as read_layer
from pdf_checks import norm, png, shown_words, text_image, words_on_ink

from desktop_ocr.core import searchable_pdf as sp
from desktop_ocr.core.export import ExportError, ExportItem, export
from desktop_ocr.core.layout import Layout

# A word's box lies on its pixels: it holds at least this share of ink (glyphs cover
# 10-40 % of their box, blank paper none).
MIN_WORD_INK = 0.05


@pytest.fixture(scope="module")
def cer():
    spec = importlib.util.spec_from_file_location("corpus_cer", CORPUS / "cer.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def sample():
    return text_image()


def _assert_on_ink(data: bytes, page: int = 0) -> None:
    words = words_on_ink(data, page)
    assert words
    off = [w for w in words if w.ink < MIN_WORD_INK]
    assert not off, f"words off their ink: {off}"


def _iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union else 0.0


def _assert_on_their_words(data: bytes, sample, page: int = 0) -> None:
    """Each word of the layer covers that word in the image (boxes overlap by half at
    least), on the page as displayed; the page shows the image's pixels 1:1 scaled."""
    with pymupdf.open("pdf", data) as doc:
        shown = doc[page].rect
    sx, sy = shown.width / sample.image.width, shown.height / sample.image.height
    truth = {}
    for word, (x0, y0, x1, y1) in sample.words:
        truth.setdefault(word.casefold(), []).append((x0 * sx, y0 * sy, x1 * sx, y1 * sy))
    for word, rect in shown_words(data, page):
        assert word.casefold() in truth, word
        best = max(_iou(tuple(rect), t) for t in truth[word.casefold()])
        assert best >= 0.5, (word, tuple(rect), truth[word])


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_text_layer_reads_back_and_lies_on_the_words(sample, tmp_path, rotation):
    # GIVEN the page image turned against the user's rotation, so that turning it
    # `rotation` degrees clockwise (as the user did before recognising) makes it upright
    stored = sample.image.rotate(rotation, expand=True)  # PIL turns counter-clockwise
    path = tmp_path / "scan.png"
    path.write_bytes(png(stored))
    # WHEN the upright reading (its boxes in the upright image) becomes a searchable PDF
    page = sp.LayerPage(str(path), 1, rotation, [sp.LayerPart(sample.text, layout=sample.layout)])
    stats = sp.Stats()
    data = sp.build([page], stats=stats)
    # THEN the page is shown upright, the layer gives the text back in reading order...
    with pymupdf.open("pdf", data) as doc:
        shown = doc[0].rect
        assert doc[0].rotation == rotation
    assert (shown.width > shown.height) == (sample.image.width > sample.image.height)
    assert norm(read_layer(data)) == norm(sample.text)
    assert stats.spans == len(sample.layout.lines) and stats.spread == 0
    # ...and every word's box lies on that word on the page as displayed
    _assert_on_their_words(data, sample)
    _assert_on_ink(data)


def test_a_pdf_page_with_its_own_rotate_keeps_its_content_and_gets_the_layer(sample, tmp_path):
    # GIVEN a scanned PDF page stored sideways with /Rotate 90, shown upright
    doc = pymupdf.open()
    w, h = sample.image.size
    page = doc.new_page(width=h, height=w)
    page.insert_image(page.rect, stream=png(sample.image), rotate=90)
    page.set_rotation(90)
    path = tmp_path / "scan.pdf"
    doc.save(path)
    mediabox = doc[0].mediabox
    doc.close()
    # WHEN it becomes searchable with the reading of the upright page
    data = sp.build([sp.LayerPage(str(path), 1, 0, [sp.LayerPart(sample.text, layout=sample.layout)])])
    # THEN the page is the original page (its box, its /Rotate, its one image untouched)
    # and the layer is right on it
    with pymupdf.open("pdf", data) as out:
        assert out[0].rotation == 90 and out[0].mediabox == mediabox
        images = out[0].get_images()
        assert [(im[2], im[3]) for im in images] == [sample.image.size]
    assert norm(read_layer(data)) == norm(sample.text)
    _assert_on_their_words(data, sample)
    _assert_on_ink(data)


def test_font_is_embedded_and_subset(sample, tmp_path):
    # GIVEN a page with Latin and Chinese text, on two pages
    path = tmp_path / "p.png"
    path.write_bytes(png(sample.image))
    page = sp.LayerPage(str(path), 1, 0, [sp.LayerPart(sample.text, layout=sample.layout)])
    bare = sp.build([sp.LayerPage(str(path), 1, 0, [])] * 2)
    # WHEN it becomes searchable
    data = sp.build([page, page])
    # THEN one font serves both pages: a TrueType embedded as a subset (ABCDEF+Name)
    with pymupdf.open("pdf", data) as doc:
        fonts = {f[:6] for p in doc for f in p.get_fonts()}
    assert len(fonts) == 1
    _xref, ext, ftype, name, _res, encoding = fonts.pop()
    assert ext == "ttf" and ftype == "Type0" and encoding == "Identity-H"
    assert "+" in name
    # the whole CJK font is 3.5 MB; what the layer adds to the file is a few kB
    assert len(data) - len(bare) < 60_000
    assert "发票" in read_layer(data, 1) and "总金额" in read_layer(data, 1)


def test_vlm_text_without_boxes_is_aligned_onto_the_cpu_boxes(sample, tmp_path):
    # GIVEN a VLM reading that differs from the CPU's (a word fixed, lines in another
    # order) and the CPU's boxes of the same image
    path = tmp_path / "p.png"
    path.write_bytes(png(sample.image))
    lines = sample.text.splitlines()
    vlm = "\n".join([lines[1], lines[0].replace("paid", "PAID"), *lines[2:]])
    # WHEN the PDF is built from the VLM's text
    data = sp.build([sp.LayerPage(str(path), 1, 0, [sp.LayerPart(vlm, layout=sample.layout)])])
    # THEN the layer holds the VLM's text, in the VLM's order, each word on its ink
    assert norm(read_layer(data)) == norm(vlm)
    _assert_on_their_words(data, sample)
    _assert_on_ink(data)


def test_without_boxes_lines_are_spread_evenly_in_order(sample, tmp_path):
    path = tmp_path / "p.png"
    path.write_bytes(png(sample.image))
    stats = sp.Stats()
    data = sp.build([sp.LayerPage(str(path), 1, 0, [sp.LayerPart(sample.text)])], stats=stats)
    assert stats.spread == 1
    assert norm(read_layer(data)) == norm(sample.text)
    with pymupdf.open("pdf", data) as doc:
        ys = [w[1] for w in doc[0].get_text("words")]
        assert ys == sorted(ys) and ys[-1] - ys[0] > doc[0].rect.height / 2


def test_a_region_is_placed_inside_its_rectangle(sample, tmp_path):
    # GIVEN a result for the lower half of a page (its layout in the crop's pixels)
    path = tmp_path / "p.png"
    full = sample.image
    path.write_bytes(png(full))
    crop = full.crop((0, full.height // 2, full.width, full.height))
    layout = Layout.of(crop.size, [("Thank you", (60, 10, 400, 60))])
    data = sp.build([sp.LayerPage(str(path), 1, 0, [
        sp.LayerPart("Thank you", region=(0.0, 0.5, 1.0, 0.5), layout=layout)])])
    with pymupdf.open("pdf", data) as doc:
        h = doc[0].rect.height
        words = doc[0].get_text("words")
    assert [w[4] for w in words] == ["Thank", "you"]
    assert all(w[1] >= h / 2 - 1 for w in words)


def test_a_pdf_page_with_a_text_layer_keeps_only_its_own(tmp_path):
    src = CORPUS / "files" / "pdf-small-table.pdf"
    with pymupdf.open(src) as doc:
        own = doc[0].get_text()
    stats = sp.Stats()
    data = sp.build([sp.LayerPage(str(src), 1, 0, [sp.LayerPart("OCR TEXT THAT MUST NOT APPEAR")])],
                    stats=stats)
    assert stats.kept_own_text == 1
    assert read_layer(data) == own


def test_encrypted_source_needs_its_password(corpus, tmp_path):
    src = corpus / "pdf-encrypted-secret.pdf"
    item = ExportItem(source=str(src), page=1, text="hello world")
    with pytest.raises(ExportError, match="password"):
        export([item], tmp_path / "out.pdf")
    assert not (tmp_path / "out.pdf").exists()
    export([item], tmp_path / "out.pdf", passwords={str(src): "secret"})
    with pymupdf.open(tmp_path / "out.pdf") as doc:
        assert doc.page_count == 1 and not doc.needs_pass


def test_missing_source_is_a_plain_error(tmp_path):
    with pytest.raises(ExportError, match="gone.png"):
        export([ExportItem(source=str(tmp_path / "gone.png"), text="x")], tmp_path / "o.pdf")


def test_pasted_image_without_a_file_uses_the_image(sample, tmp_path):
    item = ExportItem(source="Clipboard image 1", text=sample.text, layout=sample.layout,
                      image=sample.image)
    out = export([item], tmp_path / "paste.pdf")
    assert norm(read_layer(out.read_bytes())) == norm(sample.text)


def test_layer_text_drops_markup_and_flattens_tables():
    md = "# Title\n\n**Total**: 5\n\n<table><tr><td>a</td><td>b</td></tr></table>\n"
    assert sp.layer_text(md, "markdown").split("\n") == ["Title", "", "Total: 5", "", "a b", ""]
    lay = Layout.of((10, 10), [("CPU words", (0, 0, 5, 5))])
    assert sp.layer_text('{"total": 5}', "fields", lay) == "CPU words"


# ---------------------------------------------------------------- real pages, real CPU engine


@pytest.fixture(scope="module")
def cpu_layouts(corpus):
    from PIL import Image

    from desktop_ocr.engines.cpu import recognize_layout

    out = {}
    for name in ("receipt-sroie-590.jpg", "zh-pdfpage-chinese-tables.png"):
        with Image.open(corpus / name) as img:
            out[name] = recognize_layout(img.convert("RGB"))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name", ["receipt-sroie-590.jpg", "zh-pdfpage-chinese-tables.png"])
@pytest.mark.parametrize("reader", ["cpu", "vlm"])
def test_corpus_page_layer_reads_back_and_lies_on_ink(corpus, cpu_layouts, cer, name, reader,
                                                      tmp_path):
    # GIVEN a real English receipt or Chinese page, the CPU engine's boxes of it, and its
    # text as the CPU read it or as a VLM would give it (the ground truth: no boxes)
    layout = cpu_layouts[name]
    text = layout.text if reader == "cpu" else (corpus / name).with_suffix(".gt.txt").read_text()
    # WHEN it becomes a searchable PDF (through export, as --out FILE.pdf does)
    out = export([ExportItem(source=str(corpus / name), text=text, layout=layout)],
                 tmp_path / "page.pdf")
    data = out.read_bytes()
    # THEN PyMuPDF reads the recognised text back (CER <= 0.05, as the corpus scores it)
    scores = cer.text_scores(read_layer(data), text)
    assert scores["cer"] <= 0.05, scores
    # AND the words lie on ink: nearly all of them (a word of one or two thin glyphs in
    # a loose CPU box may hold less)
    words = words_on_ink(data)
    off = [w for w in words if w.ink < MIN_WORD_INK]
    assert len(off) <= 0.05 * len(words), off


@pytest.mark.parametrize("name", ["odd-cmyk.jpg", "odd-exif-orientation-6.jpg",
                                  "odd-palette-transparency.png", "receipt-sroie-003.jpg"])
def test_image_pages_look_as_the_app_shows_them(corpus, tmp_path, name):
    # GIVEN an image the app shows normalised (CMYK to RGB, EXIF turned, alpha on white)
    import numpy as np

    from desktop_ocr.core.imaging import load_image

    shown = load_image(corpus / name).convert("RGB")
    # WHEN it becomes a PDF page
    out = export([ExportItem(source=str(corpus / name), text="x")], tmp_path / "o.pdf")
    with pymupdf.open(out) as doc:
        page = doc[0]
        zoom = shown.width / page.rect.width
        pix = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), colorspace=pymupdf.csRGB)
    rendered = np.frombuffer(pix.samples, np.uint8).reshape(pix.height, pix.width, 3)
    # THEN the page has the image's proportions and its colours
    assert abs(pix.width - shown.width) <= 1 and abs(pix.height - shown.height) <= 1
    want = np.asarray(shown.resize((pix.width, pix.height)), float)
    assert np.abs(rendered.astype(float) - want).mean() < 12
