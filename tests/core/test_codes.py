"""Codes as data: what may be opened as a web address, and the JSON a codes result holds."""

from __future__ import annotations

import pytest

from desktop_ocr.core.codes import Code, codes_to_text, parse_codes

SQUARE = ((10.0, 10.0), (50.0, 10.0), (50.0, 50.0), (10.0, 50.0))


@pytest.mark.parametrize("text, url", [
    ("https://example.com/a?b=1", "https://example.com/a?b=1"),
    ("  http://example.com  ", "http://example.com"),
    ("www.example.com/x", "https://www.example.com/x"),
    ("javascript:alert(1)", None),
    ("file:///etc/passwd", None),
    ("https://", None),
    ("see https://example.com", None),  # not the whole content: not offered as a link
    ("4006381333931", None),
])
def test_only_whole_http_addresses_are_links(text, url):
    assert Code("QR Code", text, SQUARE).url == url


def test_codes_round_trip_through_the_results_text():
    codes = [Code("QR Code", "https://example.com", SQUARE),
             Code("EAN-13", "4006381333931", ((0, 0), (9, 0), (9, 3), (0, 3)))]
    text = codes_to_text(codes)
    assert parse_codes(text) == codes
    assert parse_codes("[]") == [] and parse_codes("no codes") is None
    assert codes[0].bbox == (10.0, 10.0, 50.0, 50.0) and codes[0].centre == (30.0, 30.0)
