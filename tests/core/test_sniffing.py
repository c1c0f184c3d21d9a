"""Inputs are judged by their bytes, not their names; damage is one plain line, library
chatter goes to the log; the pixel limit is one number, stated truly."""

from __future__ import annotations

import io
import logging
import re
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from desktop_ocr.core import imaging
from desktop_ocr.core.documents import DocumentError, open_document
from desktop_ocr.core.imaging import MAX_PIXELS, ImageError

README = Path(__file__).resolve().parents[2] / "README.md"
HTML = b"<!DOCTYPE html>\n<html><head><title>Invoice</title></head><body><p>Pay now</p></body></html>\n"


def _png(size=(40, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, "white").save(buf, "PNG")
    return buf.getvalue()


def test_a_pdf_name_holding_html_is_refused(tmp_path):
    # GIVEN a web page saved under a .pdf name (MuPDF would sniff and render it as HTML)
    path = tmp_path / "invoice.pdf"
    path.write_bytes(HTML)
    # WHEN it is opened THEN it is refused, saying what it is
    with pytest.raises(DocumentError, match=r"not a PDF.*web page \(HTML\)"):
        open_document(path)


@pytest.mark.parametrize("suffix, kind", [(".epub", "EPUB"), (".xps", "XPS"), (".cbz", "CBZ")])
def test_other_document_names_need_their_content(tmp_path, suffix, kind):
    path = tmp_path / f"book{suffix}"
    path.write_bytes(HTML)
    with pytest.raises(DocumentError, match=f"not an? {kind}"):
        open_document(path)


def test_content_wins_over_the_name(tmp_path, corpus):
    # GIVEN a PNG named .pdf and a PDF named .png
    png_as_pdf = tmp_path / "scan.pdf"
    png_as_pdf.write_bytes(_png())
    pdf_as_png = tmp_path / "page.png"
    pdf_as_png.write_bytes((corpus / "pdf-small-table.pdf").read_bytes())
    # THEN each opens as what it is
    with open_document(png_as_pdf) as doc:
        assert doc.kind == "image" and doc.pages[0].size == (40, 30)
    with open_document(pdf_as_png) as doc:
        assert doc.kind == "pdf" and "Boiling" in doc.pages[0].text_layer()


def test_pdf_marker_must_be_in_the_first_kilobyte(tmp_path, corpus):
    # GIVEN text that mentions %PDF only after the first KB
    path = tmp_path / "notes.pdf"
    path.write_bytes(b"x" * 1100 + b"%PDF-1.7\n")
    with pytest.raises(DocumentError, match="not a PDF"):
        open_document(path)
    # AND a real PDF with a little junk in front of its header still opens (readers allow it)
    ok = tmp_path / "junk.pdf"
    ok.write_bytes(b"\r\n" * 100 + (corpus / "pdf-small-table.pdf").read_bytes())
    with open_document(ok) as doc:
        assert doc.page_count == 1


@pytest.mark.parametrize("name", ["pdf-small-table.pdf", "pdf-47-pages.pdf", "pdf-chinese-tables.pdf",
                                  "pdf-scanned-receipt-sroie-003.pdf"])
@pytest.mark.parametrize("cut", [120, 300, 700, 1500, 0.5, 0.8])
def test_a_cut_pdf_is_refused_or_says_it_was_repaired(tmp_path, corpus, name, cut):
    # GIVEN the first bytes of a real PDF (an interrupted download): the first few hundred
    # bytes, or half or most of the file (a share, so that every file is cut somewhere)
    data = (corpus / name).read_bytes()
    cut = int(len(data) * cut) if isinstance(cut, float) else cut
    assert cut < len(data)
    path = tmp_path / name
    path.write_bytes(data[:cut])
    # WHEN it is opened THEN either it is refused with one plain line...
    try:
        doc = open_document(path)
    except DocumentError as exc:
        assert "\n" not in str(exc) and "damaged" in str(exc)
        return
    # ...or what opened was repaired, has something on its pages, and says so in one line
    with doc:
        assert doc.repaired and "repaired" in doc.notice and "\n" not in doc.notice
        assert any(_has_content(page) for page in doc.pages[:4])


def _has_content(page) -> bool:
    img = page.render(scale=0.25)
    return img.convert("L").getextrema()[0] < 250 or bool(page.text_layer().strip())


def test_a_pdf_cut_to_its_header_has_nothing_recoverable(tmp_path, corpus):
    # GIVEN a PDF cut short where MuPDF still finds a page object but no content
    path = tmp_path / "cut.pdf"
    path.write_bytes((corpus / "pdf-chinese-tables.pdf").read_bytes()[:400])
    with pytest.raises(DocumentError, match="nothing recoverable"):
        open_document(path)


def test_an_intact_pdf_has_no_notice(corpus):
    with open_document(corpus / "pdf-small-table.pdf") as doc:
        assert not doc.repaired and doc.notice == ""


def test_libtiff_errors_go_to_the_log_not_the_terminal(corpus, capfd, caplog):
    # GIVEN a TIFF whose fax-coded strip is corrupt (libtiff prints on stderr by default)
    caplog.set_level(logging.INFO, logger="desktop_ocr")
    # WHEN it is decoded
    with pytest.raises(ImageError, match="damaged"):
        imaging.load_image(corpus / "bad-fuzz-crash.tif")
    # THEN nothing reached the terminal (file descriptor 2 itself), the log has the cause
    out, err = capfd.readouterr()
    assert err == "" and out == ""
    assert any("libtiff" in r.getMessage() and "Fax4Decode" in r.getMessage() for r in caplog.records)


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height (the data is a token: only the header counts)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))


def test_an_a0_sheet_at_300_dpi_is_within_the_limit(tmp_path):
    # GIVEN the header of an A0 scan at 300 dpi: 9933 x 14043 = 139.5 MP
    path = tmp_path / "a0.png"
    path.write_bytes(_png_header(9933, 14043))
    # THEN it is not refused for its size (opening reads only the header)
    img = imaging.open_checked(path)
    assert img.size == (9933, 14043)
    img.close()


def test_the_pixel_limit_is_one_number_stated_truly(tmp_path):
    # GIVEN headers just over and just under the limit
    over, under = tmp_path / "over.png", tmp_path / "under.png"
    side = int(MAX_PIXELS ** 0.5)
    over.write_bytes(_png_header(side + 2, side + 2))
    under.write_bytes(_png_header(side - 2, side - 2))
    # THEN the one just over is refused with the limit the code enforces, the other is not
    with pytest.raises(ImageError) as info:
        imaging.open_checked(over)
    stated = int(re.search(r"limit is (\d+) megapixels", str(info.value)).group(1))
    assert stated * 1_000_000 == MAX_PIXELS
    imaging.open_checked(under).close()
    # AND the README states the same number
    assert f"{MAX_PIXELS // 1_000_000} megapixels" in README.read_text(encoding="utf-8")
