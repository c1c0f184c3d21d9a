"""Helpers for the searchable-PDF tests: a page image with known word boxes, and what a
viewer would see of a PDF's text layer (its text, and whether each word's box lies on
ink of the rendered page)."""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pymupdf
from PIL import Image

from desktop_ocr.core.layout import Layout

LINES = [("Invoice 2024-0042 paid in full", "helv"),
         ("Total amount 59.00 EUR", "helv"),
         ("发票 总金额 已付清", "china-s"),
         ("Thank you for your order", "helv")]


@dataclass
class Sample:
    image: Image.Image
    layout: Layout  # one box per line, as the CPU engine gives segments
    text: str
    words: list[tuple[str, tuple[float, float, float, float]]]  # each word's box, image pixels


def text_image(zoom: float = 3.0) -> Sample:
    """A page image rendered by MuPDF from known text: the boxes are exact."""
    doc = pymupdf.open()
    page = doc.new_page(width=400, height=260)
    for k, (line, font) in enumerate(LINES):
        page.insert_text((24, 50 + 50 * k), line, fontsize=18, fontname=font)
    pix = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom))
    img = Image.frombytes("RGB", (pix.width, pix.height), pix.samples)
    words = [(w[4], tuple(v * zoom for v in w[:4])) for w in page.get_text("words")]
    boxes = []
    for line in page.get_text("dict")["blocks"]:
        for ln in line.get("lines", []):
            x0, y0, x1, y1 = ln["bbox"]
            text = "".join(s["text"] for s in ln["spans"])
            boxes.append((text, (x0 * zoom, y0 * zoom, x1 * zoom, y1 * zoom)))
    doc.close()
    return Sample(img, Layout.of(img.size, boxes), "\n".join(t for t, _ in LINES), words)


def png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()


def layer_text(data: bytes, page: int = 0) -> str:
    with pymupdf.open("pdf", data) as doc:
        return doc[page].get_text()


@dataclass
class WordInk:
    word: str
    ink: float  # share of dark pixels under the word's box on the rendered page


def _otsu(gray: np.ndarray) -> int:
    """The grey level that best splits ink from paper (Otsu): scans are not black on white."""
    hist = np.bincount(gray.ravel(), minlength=256).astype(float)
    levels = np.arange(256)
    best, best_t = -1.0, 128
    total, total_sum = hist.sum(), (hist * levels).sum()
    w0 = s0 = 0.0
    for t in range(256):
        w0 += hist[t]
        s0 += t * hist[t]
        w1 = total - w0
        if w0 == 0 or w1 == 0:
            continue
        between = w0 * w1 * (s0 / w0 - (total_sum - s0) / w1) ** 2
        if between > best:
            best, best_t = between, t
    return best_t


def shown_words(data: bytes, page: int = 0) -> list[tuple[str, pymupdf.Rect]]:
    """The layer's words with their boxes on the page as displayed (rotation applied)."""
    with pymupdf.open("pdf", data) as doc:
        p = doc[page]
        out = []
        for x0, y0, x1, y1, word, *_ in p.get_text("words"):
            # words come in unrotated page space; a viewer shows the rotated page
            r = pymupdf.Rect(x0, y0, x1, y1) * p.rotation_matrix
            r.normalize()
            out.append((word, r))
        return out


def words_on_ink(data: bytes, page: int = 0, zoom: float = 2.0) -> list[WordInk]:
    """Each word of the layer with the share of ink under its box on the rendered page."""
    with pymupdf.open("pdf", data) as doc:
        pix = doc[page].get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), colorspace=pymupdf.csGRAY)
    gray = np.frombuffer(pix.samples, np.uint8).reshape(pix.height, pix.width)
    dark = gray <= _otsu(gray)
    out = []
    for word, rect in shown_words(data, page):
        r = rect * pymupdf.Matrix(zoom, zoom)
        a, b = max(0, int(r.x0)), min(pix.width, int(r.x1) + 1)
        c, d = max(0, int(r.y0)), min(pix.height, int(r.y1) + 1)
        cut = dark[c:d, a:b]
        out.append(WordInk(word, float(cut.mean()) if cut.size else 0.0))
    return out
