"""The History panel: search as you type, lazy pages, open, copy, re-export, delete, clear,
retention; its item model checked by QAbstractItemModelTester."""

from __future__ import annotations

import io
import time
from pathlib import Path

import openpyxl
import pytest
from PIL import Image
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QAbstractItemModelTester
from PySide6.QtWidgets import QMessageBox

from desktop_ocr.core.library import AsyncLibrary, Library, make_thumbnail
from desktop_ocr.core.results import PartResult
from desktop_ocr.core.settings import Settings
from desktop_ocr.core.tables import Table
from desktop_ocr.gui.history_panel import HistoryModel, HistoryPanel

WARN = QAbstractItemModelTester.FailureReportingMode.Warning  # a Qt warning fails the test
DAY = 86400.0


def _thumb(color) -> bytes:
    return make_thumbnail(Image.new("RGB", (300, 200), color))


def _fill(path: Path, n_plain: int = 0) -> list[int]:
    """A table result, a Chinese text, an English receipt, an old one, and `n_plain` more."""
    lib = Library.open(path)
    now = time.time()
    ids = [
        lib.add(PartResult(source="/scans/old.png", text="old receipt 旧", created=now - 40 * DAY)),
        lib.add(PartResult(source="/scans/invoice.pdf", page=2, page_count=3, task="table",
                           region=(0.1, 0.2, 0.5, 0.3), region_label="Region 1", engine="lmdeploy",
                           model="InternVL3-8B", finish="stop", thumbnail=_thumb((200, 30, 30)),
                           text="| Item | 金额 |\n|---|---|\n| Tea | 9.99 |", created=now - 3,
                           tables=[Table.from_grid([["Item", "金额"], ["Tea", "3.50"]], header_rows=1)])),
        lib.add(PartResult(source="/scans/发票.png", text="增值税发票 合计 ¥88", finish="stop",
                           thumbnail=_thumb((30, 200, 30)), created=now - 2)),
        lib.add(PartResult(source="/scans/receipt.jpg", text="TOTAL DUE 4.50", finish="stop",
                           created=now - 1)),
    ]
    ids += lib.add_many([PartResult(source=f"/scans/p{i}.png", text=f"page {i} filler", finish="stop",
                                    created=now) for i in range(n_plain)])
    lib.close()
    return ids


@pytest.fixture
def library(tmp_path):
    path = tmp_path / "library.sqlite3"
    ids = _fill(path)
    aio = AsyncLibrary(path)
    yield aio, ids
    aio.close_sync()


@pytest.fixture
def panel(qtbot, aloop, library, notes, app_dirs):
    aio, _ = library
    widget = HistoryPanel(aio, Settings(), notes)
    qtbot.addWidget(widget)
    widget.resize(420, 700)
    widget.show()
    qtbot.waitUntil(lambda: widget.started.done() and not widget.model.loading and
                    widget.model.rowCount() == 4)
    return widget


def _labels(model: HistoryModel) -> list[str]:
    return [model.index(r, 0).data() for r in range(model.rowCount())]


def _select(panel: HistoryPanel, *rows: int) -> None:
    sel = panel.list.selectionModel()
    sel.clearSelection()
    panel.list.setCurrentIndex(panel.model.index(rows[0], 0))
    for row in rows:
        sel.select(panel.model.index(row, 0), sel.SelectionFlag.Select)


def test_model_pages_lazily_and_passes_the_model_tester(qtbot, aloop, tmp_path):
    # GIVEN a library of 254 results and a model that loads 100 at a time, under the tester
    path = tmp_path / "library.sqlite3"
    ids = _fill(path, 250)
    aio = AsyncLibrary(path)
    model = HistoryModel(aio, page_size=100)
    tester = QAbstractItemModelTester(model, WARN)
    try:
        # WHEN it is asked for everything THEN the first page comes, newest first
        model.set_query("")
        qtbot.waitUntil(lambda: model.rowCount() == 100)
        assert model.index(0, 0).data(HistoryModel.IdRole) == ids[-1]
        # WHEN more is fetched THEN the next pages follow, until there is no more
        # (the tester itself calls fetchMore too: wait for each fetch to land)
        while True:
            qtbot.waitUntil(lambda: not model.loading)
            if not model.canFetchMore():
                break
            n = model.rowCount()
            model.fetchMore()
            qtbot.waitUntil(lambda n=n: model.rowCount() > n)
        assert model.rowCount() == 254
        assert [model.index(r, 0).data(HistoryModel.IdRole) for r in range(254)] == ids[::-1]
        # WHEN the query changes THEN the list holds exactly the hits, with snippets
        model.set_query("合计")
        qtbot.waitUntil(lambda: not model.loading)
        assert _labels(model) == ["发票.png"]
        snippet, spans = model.index(0, 0).data(HistoryModel.SnippetRole)
        assert [snippet[a:b] for a, b in spans] == ["合计"]
        assert not model.index(0, 0).data(0x1).isNull()  # its thumbnail (DecorationRole)
    finally:
        del tester
        aio.close_sync()


def test_search_as_you_type_waits_for_a_pause(panel, qtbot, monkeypatch):
    # GIVEN the panel showing everything, and the library's searches counted
    asked: list[str] = []
    real = panel.library.search

    async def counting(query, limit=50, before_id=None):
        asked.append(query)
        return await real(query, limit, before_id)

    monkeypatch.setattr(panel.library, "search", counting)
    # WHEN a word is typed character by character
    qtbot.keyClicks(panel.search, "total")
    # THEN one query goes out, after the pause, and the list shows its hits
    qtbot.waitUntil(lambda: bool(asked) and not panel.model.loading)
    assert asked == ["total"]
    assert _labels(panel.model) == ["receipt.jpg"]
    assert panel.status.text() == "1 found of 4"
    # WHEN a 2-character Chinese word is typed instead THEN it is found too
    panel.search.clear()
    for ch in "发票":  # as an input method commits them (QTest types ASCII only)
        panel.search.insert(ch)
    qtbot.waitUntil(lambda: asked[-1] == "发票" and not panel.model.loading)
    assert _labels(panel.model) == ["发票.png"]


def test_scrolling_down_fetches_more(qtbot, aloop, tmp_path, notes, app_dirs):
    # GIVEN a library of 304 results in a panel
    path = tmp_path / "library.sqlite3"
    _fill(path, 300)
    aio = AsyncLibrary(path)
    widget = HistoryPanel(aio, Settings(), notes)
    qtbot.addWidget(widget)
    widget.resize(400, 600)
    widget.show()
    qtbot.waitUntil(lambda: widget.model.rowCount() == 100 and not widget.model.loading)
    # WHEN the list is scrolled to its end THEN the view asks for the next page
    bar = widget.list.verticalScrollBar()
    bar.setValue(bar.maximum())
    qtbot.waitUntil(lambda: widget.model.rowCount() == 200)
    assert widget.status.text() == "304 results"
    aio.close_sync()


def test_opening_an_entry_shows_its_image_region_and_edited_result(panel, qtbot):
    # WHEN the table result is activated
    row = _labels(panel.model).index("invoice.pdf, page 2, Region 1")
    with qtbot.waitSignal(panel.openRequested) as opened:
        panel.list.activated.emit(panel.model.index(row, 0))
    # THEN the window is asked to open it, and the detail shows image, region and grid
    result = opened.args[0]
    assert isinstance(result, PartResult) and result.region == (0.1, 0.2, 0.5, 0.3)
    detail = panel.detail
    assert detail.image.pixmap() is not None and not detail.image.pixmap().isNull()
    assert "Region 1: from 10% across, 20% down" in detail.meta.text()
    assert "Page 2 of 3" in detail.meta.text() and "InternVL3-8B" in detail.meta.text()
    body = detail.body.toPlainText()
    assert "3.50" in body and "9.99" not in body  # the grid as edited, not as recognised


def test_copy_puts_the_edited_table_as_tsv_and_html(panel, qtbot):
    # GIVEN the table result chosen
    _select(panel, _labels(panel.model).index("invoice.pdf, page 2, Region 1"))
    # WHEN copied
    task = panel.copy_selected()
    qtbot.waitUntil(task.done)
    # THEN a spreadsheet gets cells: TSV text and an HTML table, with the edits
    mime = QGuiApplication.clipboard().mimeData()
    assert mime.text() == "Item\t金额\nTea\t3.50\n"
    assert "<td>3.50</td>" in mime.html()


def test_reexport_writes_the_chosen_results_without_recognising(panel, qtbot, tmp_path, notes):
    # GIVEN two results chosen
    labels = _labels(panel.model)
    _select(panel, labels.index("invoice.pdf, page 2, Region 1"), labels.index("发票.png"))
    # WHEN Re-export… is chosen and a file name given in the dialog
    dialog = panel.choose_export()
    out = tmp_path / "again.xlsx"
    dialog.selectFile(str(out))
    dialog.accept()
    qtbot.waitUntil(lambda: bool(notes.seen), timeout=10000)
    # THEN the workbook holds the edited table and the text, and says where it went
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Table 1", "Text", "Sources"]
    assert list(wb["Table 1"].iter_rows(values_only=True))[1] == ("Tea", 3.5)
    assert "Exported 2 results" in notes.seen[-1].message
    # WHEN exported one file per input into a folder THEN each input has its file
    task = panel.export_to(tmp_path / "folder", per_input=True)
    qtbot.waitUntil(task.done)
    assert sorted(p.name for p in (tmp_path / "folder").iterdir()) == ["invoice.xlsx", "发票.xlsx"]


def test_delete_one_at_once_and_several_after_asking(panel, qtbot, library):
    aio, ids = library
    # WHEN one result is deleted THEN it is gone from the list and the library
    _select(panel, _labels(panel.model).index("receipt.jpg"))
    task = panel.delete_selected()
    qtbot.waitUntil(task.done)
    assert "receipt.jpg" not in _labels(panel.model) and panel.total == 3
    # WHEN two are chosen THEN it asks first; Cancel keeps them
    _select(panel, 0, 1)
    box = panel.delete_selected()
    assert isinstance(box, QMessageBox) and "2 chosen results" in box.text()
    box.button(QMessageBox.StandardButton.Cancel).click()
    assert panel.model.rowCount() == 3
    # AND confirming deletes them
    _select(panel, 0, 1)
    box = panel.delete_selected()
    [go] = [b for b in box.buttons() if b.text() == "Delete"]
    go.click()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1 and panel.total == 1)
    assert _labels(panel.model) == ["old.png"]
    assert aio.submit(lambda lib: lib.count()).result() == 1


def test_clear_all_asks_then_empties_the_library(panel, qtbot, library):
    aio, _ = library
    # WHEN Clear all is confirmed
    box = panel.clear_all()
    assert "Delete all 4 stored results" in box.text()
    [go] = [b for b in box.buttons() if b.text() == "Delete all"]
    go.click()
    qtbot.waitUntil(lambda: hasattr(panel, "cleared") and panel.cleared.done())
    # THEN nothing is left, and the panel says so
    qtbot.waitUntil(lambda: not panel.model.loading)
    assert panel.model.rowCount() == 0 and aio.submit(lambda lib: lib.count()).result() == 0
    assert panel.status.text().startswith("No results yet")
    assert not panel.clear_button.isEnabled()


def test_retention_setting_deletes_older_results_after_asking(panel, qtbot, library):
    aio, _ = library
    # WHEN "7 days" is chosen and then cancelled THEN nothing changes
    panel.keep.setCurrentIndex(panel.keep.findData(7))
    panel.keep_box.button(QMessageBox.StandardButton.Cancel).click()
    assert panel.keep.currentData() == 0 and panel.settings.history_keep_days == 0
    # WHEN chosen and confirmed
    panel.keep.setCurrentIndex(panel.keep.findData(7))
    [go] = [b for b in panel.keep_box.buttons() if b.text() == "Delete older"]
    go.click()
    qtbot.waitUntil(lambda: panel.retention.done())
    qtbot.waitUntil(lambda: not panel.model.loading)
    # THEN the 40-day-old result is gone, and the choice is saved in the settings file
    assert "old.png" not in _labels(panel.model) and panel.model.rowCount() == 3
    assert Settings.load().history_keep_days == 7
    assert aio.submit(lambda lib: lib.keep_days).result() == 7


def test_a_result_just_stored_appears_on_top_when_it_matches(panel, qtbot, library):
    aio, _ = library
    # GIVEN the panel searching for 发票
    panel.search.setText("发票")
    panel._apply_search()
    qtbot.waitUntil(lambda: not panel.model.loading)
    # WHEN the pipeline stores a result with that word and one without
    fresh = PartResult(source="Snip 2", source_kind="snip", text="新发票", finish="stop",
                       thumbnail=_thumb((0, 0, 255)))
    other = PartResult(source="Snip 3", source_kind="snip", text="nothing", finish="stop")
    fresh.id = aio.submit(lambda lib: lib.add(fresh)).result()
    other.id = aio.submit(lambda lib: lib.add(other)).result()
    panel.result_stored(fresh)
    panel.result_stored(other)
    # THEN the matching one is on top at once, with its thumbnail; the other is not shown
    qtbot.waitUntil(lambda: panel.model.rowCount() == 2)
    assert _labels(panel.model) == ["Snip 2", "发票.png"] and panel.total == 6
    qtbot.waitUntil(lambda: not panel.model.index(0, 0).data(0x1).isNull())


def test_a_damaged_library_is_said_in_the_panel(qtbot, aloop, tmp_path, notes, app_dirs):
    # GIVEN a library file that is not a database
    path = tmp_path / "library.sqlite3"
    path.write_bytes(b"garbage" * 1000)
    aio = AsyncLibrary(path)
    widget = HistoryPanel(aio, Settings(), notes)
    qtbot.addWidget(widget)
    widget.show()
    # WHEN it has started THEN a line above the list says what happened, and it is empty
    qtbot.waitUntil(lambda: widget.started.done())
    assert widget.notice.isVisible() and "kept as" in widget.notice.text()
    assert widget.model.rowCount() == 0
    aio.close_sync()


def test_thumbnail_bytes_survive_the_panel_round_trip(panel):
    # The thumbnail the detail shows is the stored JPEG, decoded
    row = _labels(panel.model).index("发票.png")
    result = panel.model.result_at(row)
    assert Image.open(io.BytesIO(result.thumbnail)).format == "JPEG"
