"""Laying a reading without boxes onto the CPU engine's boxes (sequence alignment)."""

from __future__ import annotations

from desktop_ocr.core.layout import MIN_MATCHED, Layout, assign_text


def _layout(*texts: str) -> Layout:
    return Layout.of((1000, 100 * len(texts)),
                     [(t, (10, 100 * k, 900, 100 * k + 40), 0.99) for k, t in enumerate(texts)])


def test_each_line_goes_to_its_box_despite_spacing_case_and_a_misread():
    # GIVEN CPU boxes that dropped spaces and misread a letter, and the VLM's clean text
    layout = _layout("YONGFATTENTERPRISE", "Tota1 59.00", "Thank you")
    text = "YONGFATT ENTERPRISE\nTOTAL 59.00\nThank you"
    # WHEN the text is laid onto the boxes
    placement = assign_text(text, layout)
    # THEN each VLM line lands in its own box, with the VLM's own text
    assert [(s.text, s.box) for s in placement.spans] == [
        ("YONGFATT ENTERPRISE", 0), ("TOTAL 59.00", 1), ("Thank you", 2)]
    assert placement.ok and placement.matched > 0.8
    # and the spans point back into the text
    assert all(" ".join(text[s.start:s.end].split()) == s.text for s in placement.spans)


def test_a_line_read_in_another_order_finds_its_box():
    # GIVEN a VLM that read the right column first
    layout = _layout("Name: Ada Lovelace", "Invoice 2024-0042", "Total 59.00 EUR")
    text = "Invoice 2024-0042\nName: Ada Lovelace\nTotal 59.00 EUR"
    placement = assign_text(text, layout)
    # THEN the lines keep the VLM's order and still sit on their own boxes
    assert [(s.text, s.box) for s in placement.spans] == [
        ("Invoice 2024-0042", 1), ("Name: Ada Lovelace", 0), ("Total 59.00 EUR", 2)]


def test_text_the_cpu_did_not_see_joins_the_box_before_it():
    layout = _layout("Total 59.00", "Thank you")
    placement = assign_text("Total 59.00 EUR\nThank you", layout)
    assert placement.spans[0].text == "Total 59.00 EUR" and placement.spans[0].box == 0


def test_a_span_that_matched_part_of_a_box_sits_on_that_part():
    # GIVEN a CPU box holding two columns, and a VLM that gives only the right one here
    layout = _layout("Qty 2 Price 8.50")
    placement = assign_text("Price 8.50", layout)
    (span,) = placement.spans
    lo, hi = span.across
    assert 0.35 < lo < 0.5 and hi == 1.0


def test_unrelated_text_is_not_ok():
    # a translation, another image: too little matches to trust the alignment
    placement = assign_text("Merci beaucoup pour votre commande", _layout("发票 总金额 已付清"))
    assert not placement.ok and placement.matched < MIN_MATCHED


def test_empty_sides():
    assert not assign_text("", _layout("x")).spans
    assert not assign_text("text", Layout((10, 10))).spans


def test_layout_round_trips_through_json():
    layout = _layout("a b", "中文")
    again = Layout.from_dict(layout.to_dict())
    assert again == layout and again.text == "a b\n中文"
    # older dicts without scores still read
    assert Layout.from_dict({"size": [5, 5], "lines": [["x", [0, 0, 1, 1]]]}).lines[0].score == 1.0
