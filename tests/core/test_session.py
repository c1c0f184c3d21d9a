"""The window's Qt-free model: per-page rotation, regions, results; the run input it plans."""

from __future__ import annotations

import pytest
from PIL import Image

from desktop_ocr.core.documents import document_from_image
from desktop_ocr.core.regions import Region
from desktop_ocr.core.results import PartResult
from desktop_ocr.core.session import Session


@pytest.fixture
def session():
    doc = document_from_image(Image.new("RGB", (200, 100), "white"), "scan.png")
    yield Session(doc, None, kind="paste", label="Clipboard image 1", image=None)
    doc.close()


def test_rotation_and_regions_are_per_page_and_planned_into_the_source(session):
    # GIVEN a page turned twice and two regions, the user's order kept
    assert session.rotate(0, 90) == 90 and session.rotate(0, 180) == 270
    a, b = Region(0.5, 0.5, 0.5, 0.5, order=2), Region(0, 0, 0.5, 0.5, order=1)
    session.set_regions(0, [a, b], manual_order=True)
    # WHEN the page is planned for a run
    source = session.source([0], task="table", prompt=None, overrides={"repetition_penalty": 1.3})
    # THEN the source carries exactly that page, its regions in order and its rotation
    assert source.pages == [0] and source.kind == "paste" and source.label == "Clipboard image 1"
    assert list(source.page_options[0].regions) == [a, b] and source.page_options[0].rotation == 270
    assert source.task == "table" and source.overrides == {"repetition_penalty": 1.3}
    assert source.document is session.document and source.path is None
    # AND an image has no text layer to use
    assert session.source([0], use_text_layer=True).use_text_layer is False
    with pytest.raises(IndexError):
        session.page(1)


def test_results_replace_per_region_and_keep_the_regions_order(session):
    a, b = Region(0, 0, 1, 0.5, order=1), Region(0, 0.5, 1, 0.5, order=2)
    session.set_regions(0, [a, b], manual_order=False)

    def result(region: Region, text: str, error: str = "") -> PartResult:
        return PartResult("Clipboard image 1", source_kind="paste", region_id=region.id,
                          region_label=region.display_label, text=text, error=error)

    # GIVEN the second region finished before the first
    session.set_result(result(b, "second"))
    session.set_result(result(a, "first", error="damaged"))
    assert [r.text for r in session.results(0)] == ["first", "second"]
    assert session.pages_to_do() == [0]  # a failed part leaves the page to do
    # WHEN the first region is recognised again
    session.set_result(result(a, "first again"))
    # THEN only its result is replaced, and the page reads in the regions' order
    assert [r.text for r in session.results(0)] == ["first again", "second"]
    assert session.page_text(0) == "[Region 1]\nfirst again\n\n[Region 2]\nsecond"
    assert session.pages_to_do() == [] and session.done_pages() == [0]
    assert [i.region for i in session.export_items()] == ["Region 1", "Region 2"]
    session.clear_results()
    assert session.done_pages() == [] and session.export_items() == []
