"""The document viewer: thumbnails, page view, zoom, rotation, regions, PDF text,
whole-document runs, passwords and damaged files, through the real main window."""

from __future__ import annotations

import json
import threading

import pymupdf
import pytest
from helpers import shut_down, wait_run
from PIL import Image, ImageDraw
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtTest import QAbstractItemModelTester, QTest
from PySide6.QtWidgets import QApplication

from desktop_ocr.core.documents import open_document
from desktop_ocr.core.regions import Region
from desktop_ocr.core.settings import Settings
from desktop_ocr.gui import page_view as page_view_module
from desktop_ocr.gui.main_window import MainWindow
from desktop_ocr.gui.page_view import MARGIN
from desktop_ocr.gui.password_dialog import PasswordDialog
from desktop_ocr.gui.region_models import RegionListModel, task_ids
from desktop_ocr.gui.thumbnails import ThumbnailModel

PAGES = 60


@pytest.fixture
def window(qtbot, aloop, notes):
    win = MainWindow(Settings(engine="cpu"), notifications=notes)
    qtbot.addWidget(win, before_close_func=lambda w: shut_down(w, qtbot, aloop))
    win.resize(1200, 800)
    win.show()
    qtbot.waitExposed(win)
    return win


@pytest.fixture(scope="module")
def many_pages(tmp_path_factory):
    """A born-digital A4 PDF of PAGES pages, each saying which page it is."""
    path = tmp_path_factory.mktemp("pdf") / "many.pdf"
    doc = pymupdf.open()
    for i in range(PAGES):
        page = doc.new_page(width=595, height=842)
        page.insert_text((72, 100), f"Page number {i + 1}", fontsize=28)
        page.draw_rect(pymupdf.Rect(72, 700, 523, 760), color=(0, 0, 0), width=2)
    doc.save(path)
    doc.close()
    return path


def scanned_pdf(path, words: list[str]) -> None:
    """A PDF of pictures of text (no text layer), one word per page, small pages."""
    doc = pymupdf.open()
    for word in words:
        img = Image.new("RGB", (640, 200), "white")
        draw = ImageDraw.Draw(img)
        draw.text((30, 60), word, fill="black", font_size=72)
        page = doc.new_page(width=320, height=100)
        from io import BytesIO

        buf = BytesIO()
        img.save(buf, "PNG")
        page.insert_image(page.rect, stream=buf.getvalue())
    doc.save(path)
    doc.close()


def open_and_show(window, qtbot, path):
    with qtbot.waitSignal(window.loader.loaded, timeout=10_000):
        window.open_paths([path])
    qtbot.waitUntil(window.page_view.has_image, timeout=10_000)


def view_point(view, scene_x: float, scene_y: float) -> QPoint:
    return view.mapFromScene(QPointF(scene_x, scene_y))


def drag(view, a: QPoint, b: QPoint) -> None:
    vp = view.viewport()
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, a)
    mid = QPoint((a.x() + b.x()) // 2, (a.y() + b.y()) // 2)
    QTest.mouseMove(vp, mid)
    QTest.mouseMove(vp, b)
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, b)


def wait_render(qtbot, view) -> None:
    """Until the pixmap on screen is the sharp render for the current zoom and rotation."""
    qtbot.waitUntil(lambda: view.has_image() and not view._needs_render(), timeout=10_000)


# ------------------------------------------------------------------ viewer


def test_many_page_pdf_thumbnails_navigation_zoom_rotation(window, qtbot, many_pages, monkeypatch):
    threads: list[threading.Thread] = []
    real = page_view_module.render_for_view

    def spy(*args):
        threads.append(threading.current_thread())
        return real(*args)

    monkeypatch.setattr(page_view_module, "render_for_view", spy)
    open_and_show(window, qtbot, many_pages)
    doc = window.document
    view = window.page_view
    model = window.thumbnail_model
    assert window.stack.currentWidget() is window.viewer and model.rowCount() == PAGES
    # Only the thumbnails in sight are rendered, in the background.
    qtbot.waitUntil(lambda: model.has_thumbnail(0), timeout=10_000)
    qtbot.wait(300)
    visible = window.thumb_strip.visible_rows()
    assert 1 < len(visible) < PAGES // 3
    assert 0 < model.rendered <= len(visible) + 2
    assert not model.has_thumbnail(PAGES - 1)
    assert doc.render_count <= model.rendered + 3, "nothing renders a page until it is shown"
    # Pages render in worker threads, never on the GUI thread.
    assert threads and all(t is not threading.main_thread() for t in threads)

    # Keyboard navigation on the page view.
    view.setFocus()
    for key, expected in ((Qt.Key.Key_End, PAGES - 1), (Qt.Key.Key_PageUp, PAGES - 2),
                          (Qt.Key.Key_Home, 0), (Qt.Key.Key_PageDown, 1)):
        with qtbot.waitSignal(view.pageShown, timeout=10_000) as shown:
            QTest.keyClick(view, key)
        assert shown.args == [expected] and window.current_index == expected
        assert window.page_spin.value() == expected + 1
        assert window.thumb_strip.currentIndex().row() == expected
    window.go_to_page(PAGES - 1)
    qtbot.waitUntil(lambda: model.has_thumbnail(PAGES - 1), timeout=10_000)
    assert model.rendered < PAGES // 2

    # Fit width: the page is as wide as the view.
    window.fit_width_action.trigger()
    wait_render(qtbot, view)
    page_w, page_h = view.page_size
    assert (page_w, page_h) == (595, 842)
    assert abs(page_w * view.zoom - (view.viewport().width() - 2 * MARGIN)) <= 2
    dpr = view.devicePixelRatioF()
    assert abs(view.pixmap().width() - page_w * view.zoom * dpr) <= 1.5
    # 100 %: physical size for a PDF.
    window.actual_size_action.trigger()
    assert view.zoom == pytest.approx(view.logicalDpiX() / 72)
    wait_render(qtbot, view)
    assert abs(view.pixmap().height() - page_h * view.zoom * dpr) <= 1.5
    # Ctrl+wheel zooms in about the pointer; the page is rendered again, sharp.
    before = view.zoom
    pos = QPointF(view.viewport().width() / 2, view.viewport().height() / 2)
    wheel = QWheelEvent(pos, view.viewport().mapToGlobal(pos), QPoint(0, 0), QPoint(0, 120),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.ControlModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view.viewport(), wheel)
    assert view.zoom == pytest.approx(before * 1.25)
    wait_render(qtbot, view)
    assert abs(view.pixmap().width() - page_w * view.zoom * dpr) <= 1.5
    # Fit page, then rotate: the rendered page turns, its sides swap.
    window.fit_action.trigger()
    wait_render(qtbot, view)
    upright = (view.pixmap().width(), view.pixmap().height())
    assert upright[0] < upright[1]
    window.rotate_action.trigger()
    wait_render(qtbot, view)
    turned = (view.pixmap().width(), view.pixmap().height())
    assert turned[0] > turned[1]
    assert window.session.page(PAGES - 1).rotation == 90
    assert view.zoom * page_h <= view.viewport().width() + 1


def test_item_models_pass_the_model_tester(qapp, aloop, qtbot, many_pages):
    doc = open_document(many_pages)
    try:
        thumbs = ThumbnailModel()
        tester = QAbstractItemModelTester(
            thumbs, QAbstractItemModelTester.FailureReportingMode.Warning)
        thumbs.set_document(doc)
        thumbs.request([0, 1, 2])
        qtbot.waitUntil(lambda: thumbs.rendered == 3, timeout=10_000)
        assert thumbs.data(thumbs.index(1, 0), ThumbnailModel.StateRole) == "ready"
        thumbs.set_done(1)
        assert "✓" in thumbs.data(thumbs.index(1, 0))
        thumbs.set_document(None)
        assert thumbs.rowCount() == 0
        del tester
    finally:
        doc.close()

    regions = RegionListModel()
    tester = QAbstractItemModelTester(regions, QAbstractItemModelTester.FailureReportingMode.Warning)
    low = regions.add_region(Region(0.1, 0.6, 0.3, 0.2))
    high = regions.add_region(Region(0.1, 0.1, 0.3, 0.2))
    right = regions.add_region(Region(0.6, 0.11, 0.3, 0.2))
    assert [r.id for r in regions.regions()] == [high.id, right.id, low.id]  # reading order
    assert [r.order for r in regions.regions()] == [1, 2, 3]
    regions.move(low.id, 0)
    assert [r.id for r in regions.regions()] == [low.id, high.id, right.id]
    assert regions.manual_order
    assert regions.setData(regions.index(0, 1), "table")
    assert regions.region(low.id).task == "table"
    assert not regions.setData(regions.index(0, 1), "no-such-task")
    assert regions.data(regions.index(0, 1)) == "Table"
    regions.remove_region(high.id)
    assert [r.order for r in regions.regions()] == [1, 2]
    regions.use_reading_order()
    assert [r.id for r in regions.regions()] == [right.id, low.id]
    regions.clear()
    assert regions.rowCount() == 0
    del tester
    assert "table" in task_ids()


def test_region_geometry_under_zoom_and_rotation(window, qtbot, tmp_path):
    # GIVEN a landscape page 600 x 400 pt shown at zoom 1 (one scene pixel per point)
    path = tmp_path / "landscape.pdf"
    doc = pymupdf.open()
    doc.new_page(width=600, height=400).insert_text((50, 60), "Regions", fontsize=30)
    doc.save(path)
    doc.close()
    open_and_show(window, qtbot, path)
    view = window.page_view
    view.set_zoom(1.0)
    wait_render(qtbot, view)
    W, H = 600.0, 400.0  # noqa: N806 - page size, as in the maths

    # WHEN a region is drawn from point (100, 50) to (300, 150)
    drag(view, view_point(view, 100, 50), view_point(view, 300, 150))
    (region,) = window.regions()
    # THEN it is stored as fractions of the page
    tol = 1.5 / W
    assert region.x == pytest.approx(100 / W, abs=tol) and region.y == pytest.approx(50 / H, abs=tol)
    assert region.w == pytest.approx(200 / W, abs=tol) and region.h == pytest.approx(100 / H, abs=tol)
    assert region.order == 1 and view.selected_id == region.id

    # Zoom 2: the box doubles on screen, the region does not change.
    view.set_zoom(2.0)
    item = view.region_items()[region.id]
    r = item.rect()
    assert (r.left(), r.top(), r.width(), r.height()) == pytest.approx(
        (2 * region.x * W, 2 * region.y * H, 2 * region.w * W, 2 * region.h * H))
    assert window.regions() == [region]

    # Rotate 90° clockwise: page point (x, y) is at view (s * (H - y), s * x).
    window.rotate_action.trigger()
    wait_render(qtbot, view)
    s = view.zoom
    r = view.region_items()[region.id].rect()
    x0, y0, x1, y1 = region.x * W, region.y * H, (region.x + region.w) * W, (region.y + region.h) * H
    assert (r.left(), r.top(), r.right(), r.bottom()) == pytest.approx(
        (s * (H - y1), s * x0, s * (H - y0), s * x1), abs=1e-6)
    assert window.regions() == [region]

    # Drawing on the rotated page: view rect -> page coordinates by hand.
    a = (s * (H - 350), s * 400)  # page point (400, 350)
    b = (s * (H - 250), s * 500)  # page point (500, 250)
    drag(view, view_point(view, *a), view_point(view, *b))
    second = next(r for r in window.regions() if r.id != region.id)
    tol = 2 / (s * H)
    assert (second.x, second.y, second.w, second.h) == pytest.approx(
        (400 / W, 250 / H, 100 / W, 100 / H), abs=tol)
    assert [r.order for r in window.regions()] == [1, 2]

    # Move the first region by dragging its inside 20 view px right (= 20/s page px down).
    r = view.region_items()[region.id].rect()
    start = view_point(view, r.center().x(), r.center().y())
    drag(view, start, start + QPoint(20, 0))
    moved = next(x for x in window.regions() if x.id == region.id)
    assert moved.x == pytest.approx(region.x, abs=1e-6)
    assert moved.y == pytest.approx(region.y - 20 / s / H, abs=1.5 / (s * H))
    assert (moved.w, moved.h) == pytest.approx((region.w, region.h), abs=1e-6)

    # Resize by its bottom-right view corner (= page top-right corner at 90°).
    r = view.region_items()[region.id].rect()
    corner = view_point(view, r.right() - 1, r.bottom() - 1)
    drag(view, corner, corner + QPoint(10, 30))
    resized = next(x for x in window.regions() if x.id == region.id)
    assert resized.w == pytest.approx(moved.w + 30 / s / W, abs=2 / (s * W))
    assert resized.y == pytest.approx(moved.y - 10 / s / H, abs=2 / (s * H))

    # Reading order numbers follow the page (not the view) and Del deletes the selection.
    view.setFocus()
    view.select_region(second.id)
    QTest.keyClick(view, Qt.Key.Key_Delete)
    assert [r.id for r in window.regions()] == [region.id]
    assert set(view.region_items()) == {region.id}

    # Regions belong to their page: another page has none, coming back restores them.
    assert window.session.page(0).regions == window.regions()


def test_page_that_fails_to_render_fails_alone(window, qtbot, tmp_path, notes):
    frames = []
    for i in range(3):
        im = Image.new("RGB", (400, 300), "white")
        ImageDraw.Draw(im).text((20, 20), f"Frame {i + 1}", fill="black")
        frames.append(im)
    good = tmp_path / "good.tiff"
    frames[0].save(good, save_all=True, append_images=frames[1:])
    bad = tmp_path / "third-frame-cut.tiff"
    bad.write_bytes(good.read_bytes()[:-5000])
    open_and_show(window, qtbot, bad)
    model = window.thumbnail_model
    with qtbot.waitSignal(window.page_view.renderFailed, timeout=10_000) as failed:
        window.last_page()
    assert failed.args[0] == 2 and "truncated" in failed.args[1]
    assert not window.page_view.has_image() and "truncated" in window.page_view.last_error
    qtbot.waitUntil(lambda: any("truncated" in n.message for n in notes.seen), timeout=5_000)
    qtbot.waitUntil(lambda: model.data(model.index(2, 0), ThumbnailModel.StateRole) == "failed",
                    timeout=10_000)
    # The other pages still work.
    with qtbot.waitSignal(window.page_view.pageShown, timeout=10_000):
        window.first_page()
    assert window.page_view.has_image()
    qtbot.waitUntil(lambda: model.has_thumbnail(0) and model.has_thumbnail(1), timeout=10_000)


# ------------------------------------------------------------------ PDF text, batch, export


def test_pdf_text_offer_uses_the_text_layer_without_ocr(window, qtbot, corpus):
    open_and_show(window, qtbot, corpus / "pdf-small-table.pdf")
    qtbot.waitUntil(window.text_banner.isVisible, timeout=5_000)
    assert window.use_text_action.isEnabled()
    with qtbot.waitSignal(window.runs.finished, timeout=10_000):
        window.text_banner.button.click()
    expected = window.document.pages[0].text_layer()
    assert window.result_view.full_text() == expected and expected.strip()
    gt = (corpus / "pdf-small-table.page1.textlayer.txt").read_text(encoding="utf-8")
    assert gt.split()[:5] == expected.split()[:5]
    (part,) = window.session.results(0)
    assert part.origin == "pdf-text"
    assert window.engines.engine is None, "no OCR engine was started"


def test_recognise_all_pages_with_text_layers_and_export(window, qtbot, many_pages, tmp_path):
    open_and_show(window, qtbot, many_pages)
    progress: list = []
    bar_shown: list[bool] = []
    window.runs.progress.connect(progress.append)
    window.runs.progress.connect(lambda *_: bar_shown.append(window.batch_bar.isVisible()))
    with qtbot.waitSignal(window.runs.finished, timeout=30_000) as done:
        window.recognise_all_action.trigger()
    info, summary = done.args
    assert bar_shown and all(bar_shown)
    assert info.kind == "document" and len(summary.results) == PAGES and not summary.stopped
    assert (progress[-1].done, progress[-1].total) == (PAGES, PAGES)
    assert [p.done for p in progress] == list(range(PAGES + 1))
    assert not window.batch_bar.isVisible()
    assert window.session.done_pages() == list(range(PAGES))
    assert all(r.origin == "pdf-text" for i in range(PAGES) for r in window.session.results(i))
    # AND once it finished, every action of the page is back
    assert window.recognise_action.isEnabled() and not window.cancel_action.isEnabled()
    assert "✓" in window.thumbnail_model.data(window.thumbnail_model.index(PAGES - 1, 0))
    text = window.result_view.full_text()  # the whole document is shown after the run
    assert "--- page 1 ---\nPage number 1" in text and f"--- page {PAGES} ---" in text

    for suffix in (".txt", ".md", ".json"):
        out = tmp_path / f"doc{suffix}"
        task = window.export_to(out)
        qtbot.waitUntil(task.done, timeout=10_000)
        body = out.read_text(encoding="utf-8")
        if suffix == ".json":
            data = json.loads(body)
            assert [r["page"] for r in data["results"]] == list(range(1, PAGES + 1))
            assert data["results"][41]["text"].startswith("Page number 42")
            assert data["results"][0]["source"] == str(many_pages)
        elif suffix == ".md":
            assert body.startswith("## many.pdf — page 1\n") and "## many.pdf — page 60" in body
        else:
            assert body.count("=== many.pdf — page ") == PAGES and "Page number 37" in body


@pytest.mark.slow
def test_recognise_all_pages_cancel_keeps_finished_and_resumes(window, qtbot, tmp_path):
    words = ["ALPHA", "BRAVO", "CHARLIE", "DELTA"]
    path = tmp_path / "scans.pdf"
    scanned_pdf(path, words)
    open_and_show(window, qtbot, path)
    labels: list[str] = []
    window.runs.progress.connect(lambda *_: labels.append(window.batch_bar.label.text()))
    # WHEN the run is cancelled after its first page
    with qtbot.waitSignal(window.runs.partFinished, timeout=60_000):
        window.recognise_all()
    with qtbot.waitSignal(window.runs.cancelled, timeout=10_000):
        window.cancel_action.trigger()
    # THEN what finished is kept, and the page's actions are back
    kept = window.session.done_pages()
    assert 1 <= len(kept) < 4 and "ALPHA" in window.session.page_text(0).upper()
    assert any("left" in label for label in labels)
    assert "Cancelled" in window.state_label.text()
    assert window.recognise_action.isEnabled() and window.recognise_all_action.isEnabled()
    assert not window.cancel_action.isEnabled()
    # AND running again does only the rest
    with qtbot.waitSignal(window.runs.started, timeout=5_000) as started:
        window.recognise_all()
    assert list(started.args[0].sources[0].pages) == [i for i in range(4) if i not in kept]
    wait_run(qtbot, window)
    assert window.session.done_pages() == [0, 1, 2, 3]
    for i, word in enumerate(words):
        assert word in window.session.page_text(i).upper()
        assert window.session.results(i)[0].origin == "ocr"


@pytest.mark.slow
def test_recognise_regions_in_order_from_engine_resolution_crops(window, qtbot, corpus, aloop):
    open_and_show(window, qtbot, corpus / "pdf-scanned-receipt-sroie-003.pdf")
    page = window.document.pages[0]
    assert not window.text_banner.isVisible()
    # Two regions: the bottom half drawn first, the header second; reading order puts the
    # header first. The bottom one reads a table.
    window.region_model.add_region(Region(0.0, 0.5, 1.0, 0.5))
    window.region_model.add_region(Region(0.0, 0.0, 1.0, 0.3))
    top, bottom = window.regions()
    assert (top.y, bottom.y) == (0.0, 0.5)
    window.region_model.set_task(bottom.id, "table")
    task = aloop.create_task(window.engines.prepare())
    qtbot.waitUntil(task.done, timeout=30_000)
    engine = window.engines.engine
    sent: list[tuple[str, str, tuple[int, int]]] = []
    real_stream = engine.stream

    def spy(request):
        sent.append((request.label, request.task, request.image.size))
        return real_stream(request)

    engine.stream = spy
    with qtbot.waitSignal(window.runs.finished, timeout=120_000):
        window.recognise_action.trigger()
    assert [s[0] for s in sent] == ["pdf-scanned-receipt-sroie-003.pdf, Region 1",
                                    "pdf-scanned-receipt-sroie-003.pdf, Region 2"]
    assert [s[1] for s in sent] == ["text", "table"]
    for (_, _, size), region in zip(sent, (top, bottom), strict=True):
        scale = page.engine_scale(region)
        w, h = page.size
        assert size == pytest.approx((region.w * w * scale, region.h * h * scale), abs=1.5)
        # Rendered from the source, not grabbed from the screen.
        assert size[0] > window.page_view.pixmap().width()
    text = window.result_view.full_text()
    assert text.startswith("[Region 1]\n") and "\n\n[Region 2]\n" in text
    first, second = window.session.results(0)
    assert (first.region_label, second.region_label) == ("Region 1", "Region 2")
    assert (first.task, second.task) == ("text", "table")
    assert "TAN WOON YANN" in first.text.upper()
    assert "TOTAL" in second.text.upper()


# ------------------------------------------------------------------ passwords, damage


def _dialog(window) -> PasswordDialog | None:
    found = [d for d in window.findChildren(PasswordDialog) if d.isVisible()]
    return found[-1] if found else None


def test_password_wrong_then_cancel_then_right(window, qtbot, corpus, notes):
    path = corpus / "pdf-encrypted-secret.pdf"
    window.open_paths([path])
    qtbot.waitUntil(lambda: _dialog(window) is not None, timeout=5_000)
    first = _dialog(window)
    assert "protected by a password" in first.message.text()
    first.field.setText("nope")
    first.accept()
    # Wrong: it says so and asks again.
    qtbot.waitUntil(lambda: _dialog(window) not in (None, first), timeout=5_000)
    second = _dialog(window)
    assert "wrong" in second.message.text().lower()
    with qtbot.waitSignal(window.loader.loadFailed, timeout=5_000):
        second.reject()
    # Cancel leaves nothing open.
    assert window.document is None and window.stack.currentWidget() is window.empty_state
    assert "not opened" in notes.seen[-1].message
    # The right password opens it.
    window.open_paths([path])
    qtbot.waitUntil(lambda: _dialog(window) is not None, timeout=5_000)
    _dialog(window).field.setText("secret")
    with qtbot.waitSignal(window.loader.loaded, timeout=5_000):
        _dialog(window).accept()
    qtbot.waitUntil(window.page_view.has_image, timeout=10_000)
    assert window.document.page_count >= 1


def test_damaged_and_empty_pdfs(window, qtbot, corpus, notes):
    open_and_show(window, qtbot, corpus / "bad-truncated.pdf")
    assert window.document.repaired
    assert any("repaired" in n.message and n.severity == "warning" for n in notes.seen)
    with qtbot.waitSignal(window.loader.loadFailed, timeout=5_000) as failed:
        window.open_paths([corpus / "bad-zero-byte.pdf"])
    assert "empty" in failed.args[1] and "bad-zero-byte.pdf" in failed.args[1]
    # The document already open stays usable.
    assert window.document is not None and window.document.name == "bad-truncated.pdf"
