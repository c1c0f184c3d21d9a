"""Runs in the window through the pipeline: restart with the chosen task, copy the edited
grid, the custom prompt, the CPU engine's honest notice, what is remembered, batches."""

from __future__ import annotations

import openpyxl
import pymupdf
import pytest
from helpers import ReplayEngine, drop_files, shut_down, wait_run
from PIL import Image
from PySide6.QtGui import QGuiApplication

from desktop_ocr.core.documents import document_from_image
from desktop_ocr.core.settings import Settings
from desktop_ocr.gui.main_window import MainWindow

TABLE = "| Item | Price |\n|---|---|\n| Tea | 2.50 |\n| Cake | 3 |\n"


@pytest.fixture
def window(qtbot, aloop, notes, app_dirs):
    win = MainWindow(Settings(engine="openai", endpoint="http://127.0.0.1:9"), notifications=notes)
    qtbot.addWidget(win, before_close_func=lambda w: shut_down(w, qtbot, aloop))
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    return win


def _image(tmp_path, name: str = "scan.png", size=(320, 200)):
    path = tmp_path / name
    Image.new("RGB", size, "white").save(path)
    return path


def _pdf(tmp_path, name: str, pages: int):
    path = tmp_path / name
    doc = pymupdf.open()
    for i in range(pages):
        doc.new_page(width=300, height=200).insert_text((20, 50), f"{name} page {i + 1}")
    doc.save(path)
    doc.close()
    return path


def test_recognise_again_during_the_run_on_open_restarts_with_the_task_chosen(
        window, qtbot, tmp_path):
    # GIVEN a slow engine and an image that is recognised as soon as it opens
    engine = ReplayEngine(["slow "] * 200, delay=0.02)
    window.engines.use(engine)
    with qtbot.waitSignal(window.runs.partStarted, timeout=10_000):
        window.open_paths([_image(tmp_path)])
    assert window.runs.busy and window.recognise_action.isEnabled()
    # WHEN the user picks another task and presses Ctrl+R while it runs
    window.task_combo.setCurrentIndex(window.task_combo.findData("markdown"))
    engine.pieces, engine.delay = ["# Title\n"], 0.0
    with qtbot.waitSignal(window.runs.cancelled, timeout=5_000):
        window.recognise_action.trigger()
    # THEN the first run stops and the page runs again with the task chosen now
    info, summary = wait_run(qtbot, window, 10_000)
    assert [r.task for r in summary.results] == ["markdown"]
    assert engine.requests[-1].task == "markdown" and window.result_view.full_text() == "# Title\n"


def test_copy_text_of_a_table_copies_the_grid_as_edited(window, qtbot):
    # GIVEN a recognised table, one of whose cells the user fixed in the grid
    window.settings.task = "table"
    window.engines.use(ReplayEngine([TABLE]))
    window.show_document(document_from_image(Image.new("RGB", (200, 100), "white"), "scan.png"))
    window.recognise_current()
    wait_run(qtbot, window)
    model = window.table_tabs.models()[0]
    assert model.setData(model.index(1, 1), "2.75")
    # WHEN Copy text is used
    window.copy_action.trigger()
    # THEN the clipboard has the edited grid as cells (TSV) and as an HTML table, not the HTML
    qtbot.waitUntil(lambda: "2.75" in QGuiApplication.clipboard().text(), timeout=5_000)
    mime = QGuiApplication.clipboard().mimeData()
    assert mime.text() == "Item\tPrice\nTea\t2.75\nCake\t3\n"
    assert "<table" in mime.html() and "2.75" in mime.html() and "2.50" not in mime.html()


def test_custom_prompt_is_written_saved_and_sent(window, qtbot):
    # GIVEN the custom task
    engine = ReplayEngine(["25 MAR 2018"])
    window.engines.use(engine)
    assert not window.prompt_bar.isVisibleTo(window)
    window.task_combo.setCurrentIndex(window.task_combo.findData("custom"))
    assert window.prompt_bar.isVisibleTo(window)
    # WHEN a prompt is typed and the page recognised
    window.prompt_bar.editor.setPlainText("List every date on the page.")
    window.show_document(document_from_image(Image.new("RGB", (200, 100), "white"), "scan.png"))
    window.recognise_current()
    info, summary = wait_run(qtbot, window)
    # THEN the engine got exactly that prompt, the result keeps it, and it is remembered
    assert engine.requests[-1].prompt == "List every date on the page."
    assert summary.results[0].prompt == "List every date on the page."
    qtbot.waitUntil(lambda: Settings.load().prompt == "List every date on the page.", timeout=5_000)
    assert Settings.load().task == "custom"
    # AND a saved prompt comes back in the list
    window.prompt_bar.store.add("Dates", "List every date on the page.")
    window.prompt_bar.reload()
    assert window.prompt_bar.saved.findText("Dates") > 0


def test_the_cpu_engine_says_when_it_cannot_do_the_task(window, qtbot, notes):
    window.engines.use(ReplayEngine(["some words"], name="cpu"))
    window.task_combo.setCurrentIndex(window.task_combo.findData("handwriting"))
    window.show_document(document_from_image(Image.new("RGB", (200, 100), "white"), "scan.png"))
    window.recognise_current()
    wait_run(qtbot, window)
    assert any("vision-language engine" in n.message for n in notes.seen)
    # AND the task list says so before anyone tries
    index = window.task_combo.findData("formula")
    assert "CPU" in window.task_combo.itemData(index, 3)  # Qt.ToolTipRole


def test_what_is_chosen_and_opened_is_remembered(window, qtbot, tmp_path):
    window.engines.use(ReplayEngine(["x"]))
    window.task_combo.setCurrentIndex(window.task_combo.findData("table"))
    window.prefer_text_action.setChecked(False)
    path = _image(tmp_path)
    with qtbot.waitSignal(window.loader.loaded, timeout=5_000):
        window.open_paths([path])
    saved = Settings.load()
    assert (saved.task, saved.prefer_text_layer) == ("table", False)
    assert saved.recent_files[0] == str(path.resolve())
    window._fill_recent()
    assert [a.text() for a in window.recent_menu.actions()][0] == path.name


def test_a_dropped_batch_is_queued_with_progress_and_exports_to_one_workbook(
        window, qtbot, tmp_path):
    # GIVEN three files: two images and a two-page PDF with its own text
    window.engines.use(ReplayEngine([TABLE]))
    window.settings.task = "table"
    files = [_image(tmp_path, "a.png"), _pdf(tmp_path, "b.pdf", 2), _image(tmp_path, "c.png")]
    # WHEN they are dropped together
    with qtbot.waitSignal(window.runs.finished, timeout=20_000) as done:
        assert drop_files(window, files)
    info, summary = done.args
    # THEN they ran as one batch, every page of every file, and the panel lists each file
    assert info.kind == "batch" and len(summary.results) == 4
    panel = window.batch_panel
    assert panel.isVisible()
    rows = [(r.name, r.status, len(r.pages_done), r.pages_total) for r in panel.model.rows]
    assert rows == [("a.png", "done", 1, 1), ("b.pdf", "done", 2, 2), ("c.png", "done", 1, 1)]
    assert "3 / 3 files" in panel.summary.text() or "Done" in panel.summary.text()
    # AND the first file is shown, with its result
    qtbot.waitUntil(lambda: window.session is not None and window.session.path == files[0],
                    timeout=5_000)
    # WHEN the batch is exported to one workbook
    out = tmp_path / "batch.xlsx"
    task = panel.export_to(out)
    qtbot.waitUntil(task.done, timeout=10_000)
    wb = openpyxl.load_workbook(out)
    # THEN every table is a sheet, and the Sources sheet names each file
    assert "Sources" in wb.sheetnames and len([n for n in wb.sheetnames if n.startswith("Table")]) == 2
    sources = " ".join(str(c.value) for row in wb["Sources"].iter_rows() for c in row)
    assert "a.png" in sources and "c.png" in sources
    # AND one file per input into a folder
    folder = tmp_path / "out"
    folder.mkdir()
    task = panel.export_to(folder, per_input=True, fmt="txt")
    qtbot.waitUntil(task.done, timeout=10_000)
    assert sorted(p.name for p in folder.iterdir()) == ["a.txt", "b.txt", "c.txt"]
    assert "b.pdf page 2" in (folder / "b.txt").read_text()


def test_a_batch_pauses_and_cancel_keeps_what_finished(window, qtbot, tmp_path):
    engine = ReplayEngine(["word "] * 20, delay=0.01)
    window.engines.use(engine)
    files = [_image(tmp_path, f"p{i}.png") for i in range(6)]
    counts = {"started": 0, "finished": 0}
    window.runs.partStarted.connect(lambda *_: counts.__setitem__("started", counts["started"] + 1))
    window.runs.partFinished.connect(lambda *_: counts.__setitem__("finished", counts["finished"] + 1))
    with qtbot.waitSignal(window.runs.partFinished, timeout=10_000):
        window.open_paths(files)
    # WHEN paused: the part running finishes, no new one starts while it is paused
    window.batch_panel.pause_button.click()
    assert window.runs.paused and window.batch_panel.pause_button.text() == "Resume"
    qtbot.waitUntil(lambda: counts["started"] == counts["finished"], timeout=5_000)
    calls = len(engine.requests)
    with qtbot.assertNotEmitted(window.runs.partStarted, wait=400):
        pass
    assert len(engine.requests) == calls
    # WHEN resumed and then cancelled
    window.batch_panel.pause_button.click()
    with qtbot.waitSignal(window.runs.partFinished, timeout=10_000):
        pass
    with qtbot.waitSignal(window.runs.cancelled, timeout=10_000):
        window.batch_panel.cancel_button.click()
    # THEN what finished is listed as done, the rest as stopped
    statuses = [r.status for r in window.batch_panel.model.rows]
    assert "done" in statuses and "stopped" in statuses
    assert set(statuses) <= {"done", "stopped"}
    assert "Cancelled" in window.batch_panel.summary.text()
    assert not window.batch_panel.cancel_button.isEnabled()


@pytest.fixture
def library_window(qtbot, aloop, notes, app_dirs, tmp_path):
    from desktop_ocr.core.library import AsyncLibrary

    library = AsyncLibrary(tmp_path / "library.sqlite3")
    win = MainWindow(Settings(engine="openai", endpoint="http://127.0.0.1:9"), notifications=notes,
                     library=library)

    def close(w):
        shut_down(w, qtbot, aloop)
        task = aloop.create_task(library.close())
        qtbot.waitUntil(task.done, timeout=10_000)

    qtbot.addWidget(win, before_close_func=close)
    win.show()
    qtbot.waitExposed(win)
    return win, library


def _library_call(qtbot, aloop, coro):
    task = aloop.create_task(coro)
    qtbot.waitUntil(task.done, timeout=10_000)
    return task.result()


def test_a_pasted_table_is_kept_in_the_library_with_its_edits_and_exports(
        library_window, qtbot, aloop, tmp_path):
    from desktop_ocr.core.export import export_batch
    from desktop_ocr.gui.images import CapturedImage, pil_to_qimage

    win, library = library_window
    win.settings.task = "table"
    win.engines.use(ReplayEngine([TABLE]))
    # GIVEN a pasted screenshot recognised as a table
    image = Image.new("RGB", (240, 120), "white")
    win.bus.captured.emit(CapturedImage("Clipboard image 1 (240 × 120 px)", image,
                                        pil_to_qimage(image), "paste"))
    info, summary = wait_run(qtbot, win)
    (result,) = summary.results
    # THEN it is in the library the moment it finished, as a paste, with a thumbnail
    stored = _library_call(qtbot, aloop, library.get(result.id))
    assert stored.source_kind == "paste" and stored.task == "table" and stored.thumbnail
    # WHEN the user fixes a cell in the grid
    model = win.table_tabs.models()[0]
    assert model.setData(model.index(1, 1), "2.75")
    # THEN the grid as edited is saved with the result in the library
    def edited() -> bool:
        again = _library_call(qtbot, aloop, library.get(result.id))
        return bool(again.tables) and again.tables[0].to_grid()[1][1] == "2.75"
    qtbot.waitUntil(edited, timeout=10_000)
    # AND the stored result exports to a workbook with the edit, without OCR again
    again = _library_call(qtbot, aloop, library.get(result.id))
    (path,) = export_batch([again], tmp_path / "paste.xlsx")
    wb = openpyxl.load_workbook(path)
    cells = [c.value for row in wb["Table 1"].iter_rows() for c in row]
    assert 2.75 in cells and "Sources" in wb.sheetnames


def test_the_window_says_while_it_waits_for_the_server(window, qtbot):
    # GIVEN a server that keeps the answer waiting (the engine says so once a second)
    from desktop_ocr.core.contract import Chunk

    class Waiting(ReplayEngine):
        async def stream(self, request):
            for seconds in (1.0, 2.0, 3.0):
                yield Chunk("", info={"waiting_s": seconds})
            async for chunk in super().stream(request):
                yield chunk

    window.engines.use(Waiting(["late text"]))
    window.show_document(document_from_image(Image.new("RGB", (200, 100), "white"), "scan.png"))
    seen: list[str] = []
    window.runs.waiting.connect(lambda _part, _s: seen.append(window.state_label.text()))
    # WHEN the page is recognised
    window.recognise_current()
    wait_run(qtbot, window)
    # THEN the status bar said how long it had been waiting, then the text came
    assert "scan.png: waiting for the server… 3 s" in seen
    assert window.result_view.full_text() == "late text"
