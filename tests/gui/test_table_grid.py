"""The editable table grid: the model filling live from a stream, edits with undo/redo,
copy as TSV + HTML, and export of the edited grid, down to the main window."""

from __future__ import annotations

import random

import openpyxl
import pytest
from corpus_data import corpus_items
from helpers import ReplayEngine, shut_down, wait_run
from PIL import Image
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QAbstractItemModelTester

from desktop_ocr.core.documents import document_from_image
from desktop_ocr.core.export import csv_safe
from desktop_ocr.core.settings import Settings
from desktop_ocr.core.tables import CellRange, Table, parse, parse_tables
from desktop_ocr.gui.main_window import MainWindow
from desktop_ocr.gui.table_model import LiveTables, TableModel, column_name
from desktop_ocr.gui.table_view import TableGrid, TableTabs

WARN = QAbstractItemModelTester.FailureReportingMode.Warning  # a Qt warning fails the test

ANSWER = (
    "Quarterly figures, as printed:\n\n"
    "<table><thead><tr><th rowspan=\"2\">Region</th><th colspan=\"2\">2023</th></tr>"
    "<tr><th>Q1</th><th>Q2</th></tr></thead>"
    "<tbody><tr><td>North</td><td>1,234.50</td><td>(12.00)</td></tr>"
    "<tr><td rowspan=\"2\">South</td><td>007</td><td>15%</td></tr>"
    "<tr><td>=SUM(A1)</td><td>3</td></tr>"
    "<tr><td colspan=\"3\">Total restated</td></tr></tbody></table>\n"
    "Between the tables.\n\n"
    "| Item | Qty |\n| --- | --- |\n| Paper | 2 |\n| Toner | 1 |\n\nThe end.\n"
)


def corpus_answers() -> list[str]:
    from corpus_data import CORPUS

    return [(CORPUS / "files" / it["gt_table"]).read_text(encoding="utf-8")
            for it in corpus_items("table-image") if it.get("gt_table")]


def chunks(text: str, rng: random.Random, most: int = 9) -> list[str]:
    out, i = [], 0
    while i < len(text):
        n = rng.randint(1, most)
        out.append(text[i:i + n])
        i += n
    return out


def state(model: TableModel) -> tuple:
    return model.grid(), model.merges(), model.header_rows


class Counter:
    def __init__(self, model: TableModel) -> None:
        self.resets = 0
        self.rows = 0
        model.modelReset.connect(self._reset)
        model.rowsInserted.connect(self._rows)

    def _reset(self) -> None:
        self.resets += 1

    def _rows(self, _parent: QModelIndex, first: int, last: int) -> None:
        self.rows += last - first + 1


# ------------------------------------------------------------------ live fill


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_model_fills_row_by_row_from_a_stream_in_random_chunks(qapp, seed):
    answers = [ANSWER, *corpus_answers()]
    assert len(answers) >= 5, "the corpus' table ground truths are there"
    rng = random.Random(seed)
    for text in answers:
        live = LiveTables("page")
        testers, counters, seen_streaming = [], [], []

        def started(model: TableModel, testers=testers, counters=counters) -> None:
            testers.append(QAbstractItemModelTester(model, WARN))
            counters.append(Counter(model))

        live.tableStarted.connect(started)
        for piece in chunks(text, rng):
            live.feed(piece)
            seen_streaming += [(m.rowCount(), m.streaming) for m in live.models]
        live.close()
        expected = parse_tables(text)
        assert len(live.models) == len(expected) >= 1
        for model, counter, table in zip(live.models, counters, expected, strict=True):
            assert not model.streaming
            assert model.grid() == table.to_grid()
            assert model.merges() == table.merged_ranges()
            assert model.header_rows == table.header_rows
            assert counter.resets == 0, "rows are appended, the model is never reset"
            assert counter.rows == len(table.rows)
        # rows were there before the answer ended: the grid filled live
        assert any(streaming and rows >= 2 for rows, streaming in seen_streaming)


def test_answer_table_values_and_merges_reach_the_model(qapp):
    live = LiveTables("page")
    live.feed(ANSWER)
    live.close()
    first, second = live.models
    assert first.grid() == [["Region", "2023", ""], ["", "Q1", "Q2"],
                            ["North", "1,234.50", "(12.00)"], ["South", "007", "15%"],
                            ["", "=SUM(A1)", "3"], ["Total restated", "", ""]]
    assert first.merges() == [CellRange(0, 0, 2, 1), CellRange(0, 1, 1, 2),
                              CellRange(3, 0, 2, 1), CellRange(5, 0, 1, 3)]
    assert first.header_rows == 2
    bold = first.data(first.index(1, 2), Qt.ItemDataRole.FontRole)
    assert bold is not None and bold.bold()
    assert first.data(first.index(2, 0), Qt.ItemDataRole.FontRole) is None
    right = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    assert first.data(first.index(2, 1), Qt.ItemDataRole.TextAlignmentRole) == right
    assert first.data(first.index(3, 1), Qt.ItemDataRole.TextAlignmentRole) != right  # "007" is an ID
    assert second.grid() == [["Item", "Qty"], ["Paper", "2"], ["Toner", "1"]]
    assert [first.headerData(i, Qt.Orientation.Horizontal) for i in range(3)] == ["A", "B", "C"]
    assert column_name(26) == "AA" and column_name(701) == "ZZ" and column_name(702) == "AAA"


def test_a_streaming_table_is_read_only_until_it_is_complete(qapp):
    live = LiveTables("page")
    cut = ANSWER.index("<tr><td>=SUM")
    live.feed(ANSWER[:cut])
    (model,) = live.models
    assert model.streaming and model.rowCount() == 4
    # the rowspan of "South" reaches past the rows seen so far: shown cut to what is there
    assert CellRange(3, 0, 1, 1) not in model.merges() and model.merge_at(3, 0) is None
    assert not model.flags(model.index(0, 0)) & Qt.ItemFlag.ItemIsEditable
    assert not model.setData(model.index(2, 0), "x")
    assert not model.insert_rows(0) and not model.merge(2, 1, 2, 2)
    assert model.undo_stack.count() == 0
    live.feed(ANSWER[cut:])
    live.close()
    assert model.flags(model.index(0, 0)) & Qt.ItemFlag.ItemIsEditable
    assert model.merge_at(4, 0) == CellRange(3, 0, 2, 1)


# ------------------------------------------------------------------ edits, undo, redo


def invariants(model: TableModel) -> None:
    grid, merges = model.grid(), model.merges()
    rows, cols = model.rowCount(), model.columnCount()
    assert len(grid) == rows and all(len(r) == cols for r in grid)
    taken: set[tuple[int, int]] = set()
    for m in merges:
        assert 0 <= m.row and m.last_row < rows and 0 <= m.col and m.last_col < cols
        slots = {(r, c) for r in range(m.row, m.last_row + 1) for c in range(m.col, m.last_col + 1)}
        assert not slots & taken, "merges never overlap"
        taken |= slots
        for r, c in slots - {(m.row, m.col)}:
            assert grid[r][c] == "", "a slot under a merge holds no text"
    table = model.to_table()
    assert table.to_grid() == grid and table.merged_ranges() == merges
    assert 0 <= model.header_rows <= rows


def random_edit(model: TableModel, rng: random.Random) -> bool:
    rows, cols = model.rowCount(), model.columnCount()
    op = rng.choice(["text", "text", "ins_row", "del_row", "ins_col", "del_col", "merge",
                     "split", "clear", "header", "setData"])
    r, c = rng.randrange(max(rows, 1)), rng.randrange(max(cols, 1))
    if op == "text":
        return model.set_text(r, c, f"v{rng.randrange(1000)}")
    if op == "setData":
        return model.setData(model.index(r, c), f"d{rng.randrange(1000)}")
    if op == "ins_row":
        return model.insertRows(rng.randrange(rows + 1), rng.randint(1, 2))
    if op == "del_row":
        return rows > 2 and model.remove_rows(r, min(rng.randint(1, 2), rows - r))
    if op == "ins_col":
        return model.insert_columns(rng.randrange(cols + 1), rng.randint(1, 2))
    if op == "del_col":
        return cols > 2 and model.removeColumns(c, 1)
    if op == "merge":
        r1 = min(rows - 1, r + rng.randint(0, 2))
        c1 = min(cols - 1, c + rng.randint(0, 2))
        return model.merge(r, c, r1, c1)
    if op == "split":
        return model.split(r, c)
    if op == "header":
        return model.set_header_rows(rng.randint(0, 2))
    return model.clear_cells([(r, c), (min(rows - 1, r + 1), c)])


@pytest.mark.parametrize("seed", range(6))
def test_edits_undo_and_redo_restore_exact_grids_and_merges(qapp, seed):
    rng = random.Random(seed)
    text = rng.choice([ANSWER, *corpus_answers()])
    model = TableModel(parse_tables(text)[0])
    tester = QAbstractItemModelTester(model, WARN)
    history = [state(model)]
    for _ in range(40):
        if random_edit(model, rng):
            invariants(model)
            history.append(state(model))
    assert model.undo_stack.count() == len(history) - 1 >= 15
    # undo everything: each step gives back exactly the state before it
    for expected in reversed(history[:-1]):
        model.undo_stack.undo()
        assert state(model) == expected
        invariants(model)
    # and redo everything
    for expected in history[1:]:
        model.undo_stack.redo()
        assert state(model) == expected
    del tester


def test_structural_edits_move_merges_and_keep_their_text(qapp):
    model = TableModel(parse_tables(ANSWER)[0])
    tester = QAbstractItemModelTester(model, WARN)
    # a row inserted inside the rowspan of "South" grows it; one above it moves it down
    assert model.insert_rows(4)
    assert model.merge_at(3, 0) == CellRange(3, 0, 3, 1)
    assert model.insert_rows(0) and model.header_rows == 3
    assert model.merge_at(4, 0) == CellRange(4, 0, 3, 1)
    model.undo_stack.undo()
    model.undo_stack.undo()
    # deleting the first row of a merge keeps the merge's text on the row that takes over
    assert model.remove_rows(3)
    assert model.grid()[3][0] == "South" and model.merge_at(3, 0) is None
    model.undo_stack.undo()
    # merge joins the texts in reading order; split leaves them in the top-left cell
    assert model.merge(2, 1, 2, 2)
    assert model.grid()[2][1:] == ["1,234.50 (12.00)", ""]
    assert model.split(2, 2) and model.merge_at(2, 1) is None
    assert model.grid()[2][1] == "1,234.50 (12.00)"
    # a merge that cuts an existing one takes it in whole
    assert model.merge(4, 1, 5, 1)
    assert model.merge_at(3, 0) == CellRange(3, 0, 3, 3)
    # a slot hidden under a merge cannot be typed into
    assert not model.set_text(4, 2, "hidden")
    del tester


# ------------------------------------------------------------------ the view


@pytest.fixture
def tabs(qtbot):
    widget = TableTabs()
    qtbot.addWidget(widget)
    widget.resize(700, 400)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def spans_of(grid: TableGrid) -> list[CellRange]:
    """The spans the view holds (row-major order meets each span at its top-left first)."""
    model = grid.table_model
    out: list[CellRange] = []
    seen: set[tuple[int, int]] = set()
    for r in range(model.rowCount()):
        for c in range(model.columnCount()):
            rs, cs = grid.rowSpan(r, c), grid.columnSpan(r, c)
            if (rs > 1 or cs > 1) and (r, c) not in seen:
                out.append(CellRange(r, c, rs, cs))
                seen |= {(i, j) for i in range(r, r + rs) for j in range(c, c + cs)}
    return sorted(out, key=lambda m: (m.row, m.col))


def test_several_tables_become_several_grids_with_spans(tabs, qtbot):
    live = LiveTables("page")
    live.tableStarted.connect(tabs.add_model)
    for piece in chunks(ANSWER, random.Random(7)):
        live.feed(piece)
    live.close()
    assert [tabs.tabs.tabText(i) for i in range(tabs.tabs.count())] == ["Table 1", "Table 2"]
    first = tabs.grids()[0]
    assert spans_of(first) == first.table_model.merges() != []
    first.select_box(2, 1, 2, 2)
    first.merge_action.trigger()
    assert spans_of(first) == first.table_model.merges()
    assert first.rowSpan(2, 1) == 1 and first.columnSpan(2, 1) == 2
    first.undo_action.trigger()
    assert first.columnSpan(2, 1) == 1 and spans_of(first) == first.table_model.merges()
    first.redo_action.trigger()
    assert first.columnSpan(2, 1) == 2


def test_shortcuts_edit_the_focused_grid(tabs, qtbot):
    model = TableModel(parse_tables(ANSWER)[0])
    grid = tabs.add_model(model)
    grid.setFocus()
    qtbot.waitUntil(grid.hasFocus, timeout=2_000)
    before = state(model)
    grid.select_box(2, 0, 2, 0)
    qtbot.keyClick(grid, Qt.Key.Key_Down, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier)
    assert model.rowCount() == 7 and model.grid()[3] == ["", "", ""]
    grid.select_box(2, 1, 2, 2)
    qtbot.keyClick(grid, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    assert model.merge_at(2, 2) == CellRange(2, 1, 1, 2)
    qtbot.keyClick(grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert model.merge_at(2, 2) is None
    qtbot.keyClick(grid, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert model.merge_at(2, 2) is not None
    qtbot.keyClick(grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert state(model) == before
    qtbot.keyClick(grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert model.rowCount() == 7
    # typing into a cell edits it, one undo step
    grid.select_box(2, 0, 2, 0)
    qtbot.keyClicks(grid, "W")  # a key with text starts editing the current cell
    editor = grid.focusWidget()
    assert grid.state() == grid.State.EditingState and editor is not grid
    qtbot.keyClicks(editor, "est")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: model.grid()[2][0] == "West", timeout=2_000)  # committed queued
    grid.setFocus()
    qtbot.keyClick(grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert model.grid()[2][0] == "North"


def test_copy_puts_tsv_and_an_html_table_on_the_clipboard(tabs, qtbot):
    model = TableModel(parse_tables(ANSWER)[0])
    grid = tabs.add_model(model)
    model.set_text(2, 0, 'North "A"\tside')
    grid.setFocus()
    qtbot.waitUntil(grid.hasFocus, timeout=2_000)
    grid.select_box(0, 0, 3, 2)
    qtbot.keyClick(grid, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    mime = QGuiApplication.clipboard().mimeData()
    assert mime.text() == ("Region\t2023\t\n\tQ1\tQ2\n"
                           '"North ""A""\tside"\t1,234.50\t(12.00)\nSouth\t007\t15%')
    assert mime.hasHtml()
    (pasted,) = parse(mime.html()).tables
    # the block keeps its header and merges (the merge of "South" cut to the block); in
    # HTML a tab is white space like any other
    assert pasted.to_grid() == [["Region", "2023", ""], ["", "Q1", "Q2"],
                                ['North "A" side', "1,234.50", "(12.00)"], ["South", "007", "15%"]]
    assert pasted.merged_ranges() == [CellRange(0, 0, 2, 1), CellRange(0, 1, 1, 2)]
    assert pasted.header_rows == 2
    # a single cell copies as its bare text
    grid.select_box(3, 1, 3, 1)
    grid.copy_action.trigger()
    assert QGuiApplication.clipboard().mimeData().text() == "007"


# ------------------------------------------------------------------ in the main window


@pytest.fixture
def window(qtbot, aloop, notes):
    win = MainWindow(Settings(engine="cpu", task="table"), notifications=notes)
    qtbot.addWidget(win, before_close_func=lambda w: shut_down(w, qtbot, aloop))
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    return win


def feed_answer(window: MainWindow, qtbot, text: str, rng: random.Random, on_chunk=None):
    """Recognise the shown page with an engine that answers `text` in random chunks."""
    window.engines.use(ReplayEngine(chunks(text, rng, 12)))
    if on_chunk is not None:
        window.runs.text.connect(on_chunk)
    try:
        window.recognise_current()
        return wait_run(qtbot, window, 10_000)
    finally:
        if on_chunk is not None:
            window.runs.text.disconnect(on_chunk)


def test_table_tab_fills_live_and_export_writes_the_edited_grid(window, qtbot, tmp_path, notes):
    window.show_document(document_from_image(Image.new("RGB", (200, 100), "white"), "scan.png"))
    assert not window.result_tabs.isTabVisible(1)
    rows_seen: list[tuple[int, bool]] = []

    def look(*_args) -> None:
        grids = window.table_tabs.grids()
        if grids:
            rows_seen.append((grids[0].table_model.rowCount(), grids[0].table_model.streaming))

    feed_answer(window, qtbot, ANSWER, random.Random(3), look)
    assert any(streaming and 1 <= rows < 6 for rows, streaming in rows_seen), "rows came in live"
    assert window.result_tabs.isTabVisible(1) and window.result_tabs.currentIndex() == 1
    first, second = window.table_tabs.grids()
    assert first.table_model.grid() == parse_tables(ANSWER)[0].to_grid()

    # the user fixes a cell and merges two, in the grid
    model = first.table_model
    assert model.setData(model.index(2, 1), "1,234.56")
    first.select_box(4, 1, 4, 2)
    first.merge_action.trigger()
    edited = model.to_table()

    # going to the Text tab and back, or re-showing the page, keeps the edits
    window.show_results()
    assert window.table_tabs.models()[0] is model and window.table_tabs.grids()[0] is first

    out = tmp_path / "scan.xlsx"
    task = window.export_to(out)
    qtbot.waitUntil(task.done, timeout=10_000)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Table 1", "Table 2", "Text", "Sources"]
    ws = wb["Table 1"]
    assert ws["B3"].value == 1234.56 and ws["B3"].number_format == "#,##0.00"
    assert ws["C3"].value == -12 and ws["A4"].value == "South" and ws["B4"].value == "007"
    assert ws["B5"].value == "=SUM(A1) 3" and ws["B5"].data_type == "s"
    assert ws["A1"].font.bold and ws["B2"].font.bold and not ws["A3"].font.bold
    merged = sorted(str(r) for r in ws.merged_cells.ranges)
    assert merged == sorted(["A1:A2", "B1:C1", "A4:A5", "B5:C5", "A6:C6"])
    assert [[c.value for c in row] for row in wb["Table 2"].iter_rows()] == [
        ["Item", "Qty"], ["Paper", 2], ["Toner", 1]]
    text_rows = [r[1].value for r in wb["Text"].iter_rows(min_row=2)]
    assert "Between the tables." in text_rows and "The end." in text_rows

    # the other formats take the edited grid too
    for suffix in (".csv", ".html", ".md", ".txt", ".json"):
        path = tmp_path / f"scan{suffix}"
        task = window.export_to(path)
        qtbot.waitUntil(task.done, timeout=10_000)
        body = path.read_text(encoding="utf-8-sig")
        assert "1,234.56" in body or "1234.56" in body, suffix
        if suffix == ".html":
            # the same grid, with the formula-looking cell neutralised for spreadsheets
            assert parse(body).tables[0].to_grid() == [[csv_safe(c) for c in row]
                                                       for row in edited.to_grid()]
    assert not [n for n in notes.seen if n.severity.name == "ERROR"]

    # undo in the grid: the next export has the recognised value again
    first.setFocus()
    model.undo_stack.undo()
    model.undo_stack.undo()
    task = window.export_to(out)
    qtbot.waitUntil(task.done, timeout=10_000)
    ws = openpyxl.load_workbook(out)["Table 1"]
    assert ws["B3"].value == 1234.5
    assert "B5:C5" not in {str(r) for r in ws.merged_cells.ranges}


def test_export_to_a_full_disk_keeps_the_old_file_and_says_why(window, qtbot, tmp_path, notes,
                                                                monkeypatch):
    import errno

    from desktop_ocr.core import atomic as export_module

    window.show_document(document_from_image(Image.new("RGB", (200, 100), "white"), "scan.png"))
    feed_answer(window, qtbot, ANSWER, random.Random(5))
    out = tmp_path / "scan.xlsx"
    out.write_bytes(b"old")

    def full(_fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    # the disk fills up while the workbook is being saved (root ignores read-only folders)
    monkeypatch.setattr(export_module.os, "fsync", full)
    task = window.export_to(out)
    qtbot.waitUntil(task.done, timeout=10_000)
    monkeypatch.undo()
    assert out.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scan.xlsx"]  # no temporary file left
    errors = [n for n in notes.seen if n.severity.name == "ERROR"]
    assert errors and "is full" in errors[-1].message and "left unchanged" in errors[-1].message
    assert "failed" in window.state_label.text()


def test_a_run_without_tables_hides_the_table_tab(window, qtbot):
    window.show_document(document_from_image(Image.new("RGB", (200, 100), "white"), "scan.png"))
    feed_answer(window, qtbot, ANSWER, random.Random(1))
    assert window.result_tabs.isTabVisible(1)
    feed_answer(window, qtbot, "Just a line of text.\n", random.Random(1))
    assert not window.result_tabs.isTabVisible(1) and window.result_tabs.currentIndex() == 0
    assert window.edited_tables() == {}


def test_stored_results_show_their_tables_again(window, qtbot):
    from desktop_ocr.core.results import PartResult

    doc = document_from_image(Image.new("RGB", (200, 100), "white"), "scan.png")
    window.show_document(doc)
    window.session.set_result(PartResult("scan.png", text=ANSWER, task="markdown"))
    window.show_results()
    assert window.result_tabs.isTabVisible(1)
    assert [m.grid() for m in window.table_tabs.models()] == [t.to_grid() for t in parse_tables(ANSWER)]
    assert isinstance(window.edited_tables()[(0, "")][0], Table)


def test_table_tab_fills_live_from_a_streaming_server(qtbot, aloop, notes):
    """The whole path: an engine streaming from a server process (the LMDeploy stand-in,
    over HTTP/SSE), the Recognizer, the window's Table tab."""
    from engine_helpers import API_KEY, start_standin

    server = start_standin("--text", ANSWER, "--chunk-delay", "0.004")
    win = MainWindow(Settings(engine="openai", endpoint=server.url, api_key=API_KEY, task="table"),
                     notifications=notes)

    try:
        qtbot.addWidget(win, before_close_func=lambda w: shut_down(w, qtbot, aloop))
        win.show()
        qtbot.waitExposed(win)
        win.show_document(document_from_image(Image.new("RGB", (320, 200), "white"), "scan.png"))
        seen: list[tuple[int, bool]] = []

        def on_chunk(_part, _text: str) -> None:
            grids = win.table_tabs.grids()
            if grids:
                seen.append((grids[0].table_model.rowCount(), win.runs.busy))

        win.runs.text.connect(on_chunk)
        with qtbot.waitSignal(win.runs.finished, timeout=30_000) as done:
            win.recognise_current()
        text = done.args[1].results[0].text
        assert text.startswith("[image 320x200]") and "Total restated" in text
        assert any(busy and 1 <= rows < 6 for rows, busy in seen), "rows showed while streaming"
        assert win.result_tabs.currentIndex() == 1  # the table task shows its grid
        expected = parse_tables(text)
        models = win.table_tabs.models()
        assert [m.grid() for m in models] == [t.to_grid() for t in expected]
        assert [m.merges() for m in models] == [t.merged_ranges() for t in expected]
        assert not any(m.streaming for m in models)
        assert win.page_tables[(0, "")] == models
    finally:
        server.stop()


@pytest.mark.slow
def test_table_tab_fills_from_the_cpu_engine_table_task(window, qtbot, aloop, corpus):
    """The CPU engine's table task (boxes → grid) streams rows into the window's grid."""
    cpu = pytest.importorskip("desktop_ocr.engines.cpu")
    if getattr(cpu, "_cpu_mode", lambda _t: "")("table") != "table":
        pytest.skip("this checkout's CPU engine does not do the table task yet")
    name = "table-pubtabnet-PMC5332562_005_00"
    rows_while_busy: list[int] = []

    def on_chunk(_part, _text: str) -> None:
        models = window.table_tabs.models()
        if models and window.runs.busy:
            rows_while_busy.append(models[0].rowCount())

    window.runs.text.connect(on_chunk)
    with qtbot.waitSignal(window.runs.finished, timeout=120_000) as done:
        window.open_paths([corpus / f"{name}.png"])  # an image is recognised when opened
    text = done.args[1].results[0].text
    expected = parse_tables(text)
    assert expected, "the CPU engine answered the table task with a table"
    models = window.table_tabs.models()
    assert [m.grid() for m in models] == [t.to_grid() for t in expected]
    assert [m.merges() for m in models] == [t.merged_ranges() for t in expected]
    assert len(set(rows_while_busy)) > 1, "the grid grew row by row while the engine streamed"
    assert window.result_tabs.currentIndex() == 1


def test_key_fields_answer_shows_as_a_field_value_grid(qtbot):
    from desktop_ocr.gui.table_model import models_for_text

    # GIVEN the CPU engine's answer to the key-fields task (JSON, no table in it)
    answer = ('{"vendor": "UNIHAKKA INTERNATIONAL SDN BHD", "date": "2018-03-05", '
              '"total": 8.2, "line_items": []}')
    # WHEN a stored result of that task is shown in the grid tab
    models = models_for_text(answer, "receipt.jpg", task="fields")
    # THEN its fields are a grid of field and value
    assert len(models) == 1
    grid = models[0].to_table().to_grid()
    assert grid[0] == ["Field", "Value"]
    assert ["vendor", "UNIHAKKA INTERNATIONAL SDN BHD"] in grid and ["total", "8.2"] in grid
    # AND an answer of another task with no table shows no grid
    assert models_for_text(answer, "receipt.jpg", task="text") == []
