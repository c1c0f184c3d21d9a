"""Issue 16 in the window: searchable PDF and Word export (the window, History and the
batch panel), codes whatever engine is chosen and as chips under any result, questions
about the image under a result, and the CPU engine's second reading that marks doubtful
words."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pymupdf
import pytest
import zxingcpp
from engine_helpers import API_KEY, start_standin
from helpers import ReplayEngine, shut_down, wait_run
from PIL import Image
from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QGuiApplication, QHelpEvent, QTextCursor
from PySide6.QtWidgets import QApplication, QMessageBox, QToolTip

from desktop_ocr.core.codes import parse_codes
from desktop_ocr.core.conversation import Conversation
from desktop_ocr.core.library import AsyncLibrary
from desktop_ocr.core.regions import Region
from desktop_ocr.core.settings import Settings
from desktop_ocr.gui.doubt_marks import DOUBT_PROPERTY
from desktop_ocr.gui.main_window import MainWindow

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "core"))
from pdf_checks import layer_text, norm, text_image, words_on_ink  # noqa: E402

NOWHERE = "http://127.0.0.1:9"
MIN_WORD_INK = 0.05  # as tests/core/test_searchable_pdf.py: a word's box lies on ink


@pytest.fixture
def make_window(qtbot, aloop, notes, app_dirs, tmp_path):
    """Windows (with a results library when asked), shut down before their library."""
    made: list[tuple[MainWindow, AsyncLibrary | None]] = []

    def make(settings: Settings, *, library: bool = False) -> MainWindow:
        lib = AsyncLibrary(tmp_path / f"library{len(made)}.sqlite3") if library else None
        win = MainWindow(settings, notifications=notes, library=lib)
        win.resize(1280, 800)
        win.show()
        qtbot.waitExposed(win)
        made.append((win, lib))
        return win

    yield make
    for win, lib in made:
        shut_down(win, qtbot, aloop)
        win.close()
        win.deleteLater()
        if lib is not None:
            lib.close_sync()


def _await(qtbot, aloop, coro, timeout: int = 10_000):
    task = aloop.create_task(coro)
    qtbot.waitUntil(task.done, timeout=timeout)
    return task.result()


def _qr(text: str, scale: int = 4) -> Image.Image:
    code = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode)
    return Image.fromarray(np.array(zxingcpp.write_barcode_to_image(code, scale=scale))).convert("RGB")


def _statuses(win) -> list[str]:
    """Every status line the window shows from now on."""
    seen: list[str] = []
    shown = win.state_label.setText

    def record(text: str) -> None:
        seen.append(text)
        shown(text)

    win.state_label.setText = record
    return seen


def _export(qtbot, win, path: Path) -> None:
    task = win.export_to(path)
    qtbot.waitUntil(task.done, timeout=60_000)
    assert task.exception() is None and path.is_file(), win.state_label.text()


def _assert_searchable(data: bytes, text: str, page: int = 0) -> None:
    assert norm(layer_text(data, page)) == norm(text)
    words = words_on_ink(data, page)
    assert words and not [w for w in words if w.ink < MIN_WORD_INK], words


# ====================================================================== export

@pytest.mark.slow
def test_export_to_a_searchable_pdf_and_to_word_from_the_window(make_window, qtbot, tmp_path):
    # GIVEN a scan recognised by a vision-language engine, with the second reading off so
    # that nothing knows yet where its text sits
    sample = text_image()
    path = tmp_path / "scan.png"
    sample.image.save(path)
    win = make_window(Settings(engine="openai", endpoint=NOWHERE, second_reading=False))
    win.engines.use(ReplayEngine([sample.text]))
    win.open_paths([path])
    wait_run(qtbot, win)
    statuses = _statuses(win)
    # WHEN the document is exported as a searchable PDF
    _export(qtbot, win, tmp_path / "scan.pdf")
    # THEN the CPU engine found where the text sits (the status line said so, per page),
    # and the PDF's invisible layer reads back the text, each word on its ink
    assert any("page 1 of 1" in s for s in statuses if s.startswith("Finding where")), statuses
    _assert_searchable((tmp_path / "scan.pdf").read_bytes(), sample.text)
    (result,) = win.session.all_results()
    assert "layout" in result.extra  # kept: the next PDF reads nothing again
    statuses.clear()
    _export(qtbot, win, tmp_path / "again.pdf")
    assert not any(s.startswith("Finding where") for s in statuses), statuses
    _assert_searchable((tmp_path / "again.pdf").read_bytes(), sample.text)
    # AND as Word: the same text in paragraphs
    import docx

    _export(qtbot, win, tmp_path / "scan.docx")
    paragraphs = [p.text for p in docx.Document(str(tmp_path / "scan.docx")).paragraphs]
    assert norm(" ".join(paragraphs)) == norm(sample.text)


def test_word_export_has_the_markdown_headings_and_a_real_table(make_window, qtbot, tmp_path):
    import docx

    # GIVEN a Markdown result with a heading and a table, one cell edited in the grid
    win = make_window(Settings(engine="openai", endpoint=NOWHERE, task="markdown",
                               second_reading=False))
    win.engines.use(ReplayEngine(["# Invoice 42\n\nPaid in full.\n\n",
                                  "| Item | Price |\n|---|---|\n| Tea | 2.50 |\n"]))
    path = tmp_path / "bill.png"
    Image.new("RGB", (320, 200), "white").save(path)
    win.open_paths([path])
    wait_run(qtbot, win)
    model = win.table_tabs.models()[0]
    assert model.setData(model.index(1, 1), "2.75")
    # WHEN it is exported to .docx
    _export(qtbot, win, tmp_path / "bill.docx")
    # THEN Word gets a heading, the paragraph and a table with the edited cell
    doc = docx.Document(str(tmp_path / "bill.docx"))
    styled = [(p.style.name, p.text) for p in doc.paragraphs if p.text.strip()]
    assert ("Heading 1", "Invoice 42") in styled and ("Normal", "Paid in full.") in styled
    (table,) = doc.tables
    assert [[c.text for c in row.cells] for row in table.rows] == [["Item", "Price"],
                                                                   ["Tea", "2.75"]]


@pytest.mark.slow
def test_a_pasted_region_becomes_a_searchable_pdf_page_of_the_image(make_window, qtbot, tmp_path):
    from desktop_ocr.gui.images import CapturedImage, pil_to_qimage

    # GIVEN a pasted image (no file) with the text in its right half, recognised as a region
    sample = text_image()
    w, h = sample.image.size
    pasted = Image.new("RGB", (w * 2, h), "white")
    pasted.paste(sample.image, (w, 0))
    win = make_window(Settings(engine="openai", endpoint=NOWHERE, second_reading=False))
    win.engines.use(ReplayEngine([sample.text]))
    win.recognise_captured(CapturedImage("Clipboard image 1", pasted, pil_to_qimage(pasted), "paste"))
    wait_run(qtbot, win)
    win.region_model.add_region(Region(0.5, 0.0, 0.5, 1.0))
    win.recognise_current()
    wait_run(qtbot, win)
    # WHEN it is exported as a searchable PDF
    _export(qtbot, win, tmp_path / "paste.pdf")
    # THEN the page is the pasted picture, and the text lies on its words in the region
    data = (tmp_path / "paste.pdf").read_bytes()
    with pymupdf.open("pdf", data) as doc:
        assert doc.page_count == 1
        assert doc[0].rect.width / doc[0].rect.height == pytest.approx(2 * w / h, rel=0.01)
        assert [(im[2], im[3]) for im in doc[0].get_images()] == [pasted.size]
    _assert_searchable(data, sample.text)


@pytest.mark.slow
def test_history_and_batch_export_searchable_pdfs(make_window, qtbot, aloop, tmp_path):
    # GIVEN two scans recognised as a batch, their results in the library
    sample = text_image()
    paths = []
    for name in ("a.png", "b.png"):
        paths.append(tmp_path / name)
        sample.image.save(paths[-1])
    win = make_window(Settings(engine="openai", endpoint=NOWHERE, second_reading=False),
                      library=True)
    win.engines.use(ReplayEngine([sample.text]))
    win.start_batch(paths)
    wait_run(qtbot, win)
    # WHEN the batch panel exports the batch as a searchable PDF (through its dialog's
    # filter list, which offers it)
    from desktop_ocr.gui.file_filters import export_filter

    assert "Searchable PDF (*.pdf)" in export_filter() and "Word document (*.docx)" in export_filter()
    task = win.batch_panel.export_to(tmp_path / "batch.pdf")
    qtbot.waitUntil(task.done, timeout=60_000)
    # THEN it holds both pages with their text where it sits
    data = (tmp_path / "batch.pdf").read_bytes()
    with pymupdf.open("pdf", data) as doc:
        assert doc.page_count == 2
    for page in (0, 1):
        _assert_searchable(data, sample.text, page)
    # AND History re-exports a stored result the same way, without recognising again
    win.add_history_panel()
    panel = win.history_panel.widget()
    stored = _await(qtbot, aloop, win.library.recent(10))
    one = [r for r in stored if Path(r.source).name == "a.png"]
    task = panel.export_to(tmp_path / "history.pdf", one)
    qtbot.waitUntil(task.done, timeout=60_000)
    _assert_searchable((tmp_path / "history.pdf").read_bytes(), sample.text)


# ====================================================================== codes

def test_the_codes_task_reads_codes_whatever_engine_is_chosen_and_shows_chips(
        make_window, qtbot, tmp_path):
    # GIVEN a vision-language engine chosen in the window and a page with a QR code
    page = Image.new("RGB", (500, 400), "white")
    page.paste(_qr("https://example.com/pay?id=7"), (150, 100))
    path = tmp_path / "poster.png"
    page.save(path)
    win = make_window(Settings(engine="openai", endpoint=NOWHERE, task="codes"))
    vlm = ReplayEngine(["a model cannot decode a QR code"])
    win.engines.use(vlm)
    # WHEN the codes task runs on it
    win.open_paths([path])
    _info, summary = wait_run(qtbot, win)
    # THEN the CPU engine's barcode reader read it, the chosen engine was not asked...
    (result,) = summary.results
    assert result.engine == "cpu" and vlm.requests == []
    assert [c.text for c in parse_codes(result.text)] == ["https://example.com/pay?id=7"]
    # ...and the code shows as a chip under the result; Copy copies its content
    chips = win.result_extras.bar.chips
    qtbot.waitUntil(lambda: len(chips.chips) == 1 and chips.isVisible(), timeout=10_000)
    chip = chips.chips[0]
    chip.copy_button.click()
    assert QGuiApplication.clipboard().text() == "https://example.com/pay?id=7"
    # AND Open… asks first: No opens nothing
    opened: list[str] = []
    chip.opened.connect(opened.append)
    asked: list[str] = []

    def answer_no() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox) and box.objectName() == "openCodeUrl":
            asked.append(box.text())
            box.button(QMessageBox.StandardButton.No).click()
        else:
            QTimer.singleShot(20, answer_no)

    QTimer.singleShot(0, answer_no)
    chip.open_button.click()
    assert asked and "https://example.com/pay?id=7" in asked[0] and opened == []


def test_codes_in_a_vlm_results_image_show_as_chips_after_the_second_reading(
        make_window, qtbot, tmp_path):
    # GIVEN a page with text and a QR code, read by a vision-language engine
    page = Image.new("RGB", (600, 300), "white")
    page.paste(_qr("WIFI:S:office;T:WPA;P:secret;;", scale=3), (380, 60))
    path = tmp_path / "door.png"
    page.save(path)
    win = make_window(Settings(engine="openai", endpoint=NOWHERE))
    win.engines.use(ReplayEngine(["Guest network"]))
    # WHEN it is recognised and the CPU engine reads it again in the background
    win.open_paths([path])
    _info, summary = wait_run(qtbot, win)
    # THEN the code found in it shows as a chip under the result (no Open… for no URL)
    chips = win.result_extras.bar.chips
    qtbot.waitUntil(lambda: len(chips.chips) == 1, timeout=30_000)
    assert chips.chips[0].code.text == "WIFI:S:office;T:WPA;P:secret;;"
    assert chips.chips[0].open_button is None
    assert summary.results[0].extra["codes"][0]["format"] == "QR Code"


# ====================================================================== questions

def test_a_question_under_the_result_streams_its_answer_and_is_kept(
        make_window, qtbot, aloop, tmp_path):
    server = start_standin()
    try:
        # GIVEN a page recognised by a vision-language server, its result in the library
        path = tmp_path / "invoice.png"
        Image.new("RGB", (400, 300), "white").save(path)
        win = make_window(Settings(engine="openai", endpoint=server.url, api_key=API_KEY,
                                   second_reading=False), library=True)
        win.open_paths([path])
        _info, summary = wait_run(qtbot, win)
        (result,) = summary.results
        shown = win.result_view.full_text()
        box = win.ask_box
        assert box.isVisible() and not box.note.isVisible()
        # WHEN the user types a question under it and presses Enter
        qtbot.keyClicks(box.question, "What is the total?")
        qtbot.keyClick(box.question, Qt.Key.Key_Return)
        wait_run(qtbot, win)
        # THEN the answer, made by the server from the whole conversation, is shown under
        # the question; the result itself is untouched
        expected = "Answer 1 to: What is the total?\nEarlier answer: Invoice No. 2024-0042"
        assert "What is the total?\n" + expected in box.conversation_text()
        assert win.result_view.full_text() == shown and win.session.all_results() == [result]
        assert server.stats()["turns"] == [["user", 1, "parts"], ["assistant", 0, "str"],
                                           ["user", 0, "str"]]
        # AND a second question goes with the first exchange too
        qtbot.keyClicks(box.question, "Translate to English")
        qtbot.keyClick(box.question, Qt.Key.Key_Return)
        wait_run(qtbot, win)
        assert "Answer 2 to: Translate to English" in box.conversation_text()
        assert len(server.stats()["turns"]) == 5
        # AND the exchange is kept with the result in the library...
        stored = _await(qtbot, aloop, win.library.get(result.id))
        questions = [e.question for e in Conversation.about(stored).exchanges]
        assert questions[1:] == ["What is the total?", "Translate to English"]
        assert _await(qtbot, aloop, win.library.count()) == 1  # no result of its own
        # ...where History's search finds it by the question
        hits = _await(qtbot, aloop, win.library.search("translate"))
        assert [h.result.id for h in hits] == [result.id]
        # ...so the result opened again from History shows it
        win.open_result(stored)
        qtbot.waitUntil(lambda: "Translate to English" in box.conversation_text(), timeout=5_000)
    finally:
        server.stop()


def test_stopping_an_answer_keeps_nothing_and_gives_the_question_back(
        make_window, qtbot, tmp_path):
    server = start_standin()
    try:
        # GIVEN a recognised page and a server that answers slowly
        path = tmp_path / "page.png"
        Image.new("RGB", (300, 200), "white").save(path)
        win = make_window(Settings(engine="openai", endpoint=server.url, api_key=API_KEY,
                                   second_reading=False))
        win.open_paths([path])
        _info, summary = wait_run(qtbot, win)
        box = win.ask_box
        question = "[[scenario=slow]] What is the date?"
        assert box.ask(question)
        assert box.ask_button.text() == "Stop" and not box.question.isEnabled()
        qtbot.waitUntil(lambda: len(box.conversation_text()) > len(question) + 2, timeout=10_000)
        # WHEN the user stops it
        with qtbot.waitSignal(win.runs.cancelled, timeout=5_000):
            box.ask_button.click()
        # THEN it says so, the question is back to ask again, and nothing was kept
        assert box.conversation_text().endswith("[stopped]")
        assert box.question.text() == question and box.ask_button.text() == "Ask"
        assert "conversation" not in summary.results[0].extra
    finally:
        server.stop()


def test_with_the_cpu_engine_the_box_says_it_cannot_answer_instead_of_sending(
        make_window, qtbot, tmp_path):
    # GIVEN a page read by the CPU engine
    path = tmp_path / "page.png"
    Image.new("RGB", (300, 200), "white").save(path)
    win = make_window(Settings(engine="cpu", second_reading=False))
    cpu = ReplayEngine(["Total 9.99\n"], name="cpu")
    win.engines.use(cpu)
    win.open_paths([path])
    wait_run(qtbot, win)
    box = win.ask_box
    # WHEN the user looks at the question box and tries to ask
    # THEN it says plainly that this engine cannot answer, and sends nothing
    assert box.isVisible() and box.note.isVisible() and "cannot answer questions" in box.note.text()
    assert not box.question.isEnabled() and not box.ask_button.isEnabled()
    assert not box.ask("What is the total?") and not win.runs.busy and len(cpu.requests) == 1


# ====================================================================== doubtful words

def _marks(view) -> list[tuple[int, int]]:
    """The doubt marks in a text view, as Python character spans of its text."""
    doc = view.document()
    text = view.toPlainText()
    units = [0]
    for ch in text:
        units.append(units[-1] + (2 if ord(ch) > 0xFFFF else 1))
    to_py = {u: i for i, u in enumerate(units)}
    spans = []
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            frag = it.fragment()
            if frag.isValid() and frag.charFormat().boolProperty(DOUBT_PROPERTY):
                spans.append((to_py[frag.position()], to_py[frag.position() + frag.length()]))
            it += 1
        block = block.next()
    return spans


@pytest.mark.slow
@pytest.mark.qt_log_ignore("This plugin does not support raise")
def test_the_window_marks_the_vlm_errors_the_cpu_engine_reads_otherwise(
        make_window, qtbot, aloop, tmp_path):
    from corpus_data import CORPUS, corpus_items
    from doubt_data import inject, scores

    totals = [0, 0, 0, 0]
    tips: list[str] = []
    for k, name in enumerate(("receipt-sroie-590.jpg", "zh-pdfpage-chinese-tables.png")):
        item = next(it for it in corpus_items() if it["file"] == name)
        truth = (CORPUS / "files" / item["gt_text"]).read_text(encoding="utf-8")
        injected, spans = inject(truth, seed=31 + k)  # not the engine test's seeds
        # GIVEN a vision-language server that answers with the page's text, errors injected
        server = start_standin("--text", injected)
        try:
            win = make_window(Settings(engine="openai", endpoint=server.url, api_key=API_KEY),
                              library=True)
            # WHEN the page is recognised in the window
            win.open_paths([CORPUS / "files" / name])
            _info, summary = wait_run(qtbot, win)
            # THEN the CPU engine reads it again in the background (the window stays
            # responsive: the label says so meanwhile) and the doubtful words are marked
            label = win.result_extras.bar.doubt_label
            assert label.text().startswith("Checking the words")
            qtbot.waitUntil(lambda w=win: not w.result_extras.reader.busy, timeout=120_000)
            text = win.result_view.toPlainText()
            head, _, answer = text.partition("\n")  # the stand-in's "[image WxH]" line
            assert answer == injected
            marked = [(a - len(head) - 1, b - len(head) - 1) for a, b in _marks(win.result_view)]
            totals = [t + s for t, s in zip(totals, scores(marked, spans), strict=True)]
            assert label.text().startswith(f"{len(marked)} doubtful word")
            # hovering a mark shows what the CPU engine read there
            cursor = QTextCursor(win.result_view.document())
            cursor.setPosition(_marks(win.result_view)[0][0] + 1)
            win.result_view.setTextCursor(cursor)
            win.result_view.ensureCursorVisible()
            pos = win.result_view.cursorRect(cursor).center()
            viewport = win.result_view.viewport()
            QApplication.sendEvent(viewport, QHelpEvent(QEvent.Type.ToolTip, pos,
                                                        viewport.mapToGlobal(pos)))
            qtbot.waitUntil(QToolTip.isVisible, timeout=5_000)
            tips.append(QToolTip.text())
            QToolTip.hideText()
            # and the doubts and the boxes are kept with the result, in the library too
            stored = _await(qtbot, aloop, win.library.get(summary.results[0].id))
            assert len(stored.extra["doubts"]) == len(marked) and stored.extra["layout"]["lines"]
        finally:
            server.stop()
    bad, caught, good, accused = totals
    assert caught / bad >= 0.8, totals
    assert accused / good <= 0.10, totals
    assert all(t.startswith("Doubtful: the CPU engine read") for t in tips), tips


def test_the_second_reading_can_be_turned_off_and_on(make_window, qtbot, tmp_path):
    # GIVEN the second reading turned off in the Recognise menu
    page = Image.new("RGB", (400, 300), "white")
    page.paste(_qr("hello"), (100, 50))
    path = tmp_path / "code.png"
    page.save(path)
    win = make_window(Settings(engine="openai", endpoint=NOWHERE))
    win.second_reading_action.setChecked(False)
    assert not win.settings.second_reading and not Settings.load().second_reading  # saved
    win.engines.use(ReplayEngine(["hello"]))
    # WHEN a page is recognised
    win.open_paths([path])
    _info, summary = wait_run(qtbot, win)
    # THEN nothing is read again: no doubt count, no chips
    (result,) = summary.results
    assert not win.result_extras.reader.busy and "codes" not in result.extra
    assert not win.result_extras.bar.isVisible()
    # AND turning it on reads the results shown
    win.second_reading_action.setChecked(True)
    qtbot.waitUntil(lambda: len(win.result_extras.bar.chips.chips) == 1, timeout=30_000)
    assert "doubts" in result.extra and win.result_extras.bar.doubt_label.isVisible()


@pytest.mark.slow
def test_a_reading_stops_when_its_document_goes(make_window, qtbot, tmp_path):
    from corpus_data import CORPUS

    # GIVEN a page whose second reading has started
    win = make_window(Settings(engine="openai", endpoint=NOWHERE))
    win.engines.use(ReplayEngine(["JIMART@SP3 OGN GROUP SDN BHD TOTAL 28.30"]))
    reader = win.result_extras.reader
    read: list = []
    reader.read.connect(read.append)
    win.open_paths([CORPUS / "files" / "receipt-sroie-590.jpg"])
    _info, summary = wait_run(qtbot, win)
    (first,) = summary.results
    qtbot.waitUntil(lambda: reader._running is not None, timeout=10_000)
    # WHEN another file is opened before it finished
    other = tmp_path / "blank.png"
    Image.new("RGB", (200, 100), "white").save(other)
    win.open_paths([other])
    # THEN the first reading stops (nothing of it is kept) and only the new one is read
    qtbot.waitUntil(lambda: not reader.busy and win.session.path == other, timeout=60_000)
    assert first not in read and "doubts" not in first.extra and "layout" not in first.extra
    assert [r.source for r in read] == [str(other)]


def test_answer_and_page_run_do_not_mix(make_window, qtbot, tmp_path):
    # GIVEN a page recognised and a question asked about it
    path = tmp_path / "page.png"
    Image.new("RGB", (300, 200), "white").save(path)
    win = make_window(Settings(engine="openai", endpoint=NOWHERE, second_reading=False))
    engine = ReplayEngine(["the page text"])
    win.engines.use(engine)
    win.open_paths([path])
    _info, summary = wait_run(qtbot, win)
    engine.pieces = ["an answer"]
    assert win.ask_box.ask("Summarise it")
    wait_run(qtbot, win)
    # THEN the page keeps its text and its grids; the answer is only in the box
    assert win.result_view.full_text() == "the page text"
    assert win.session.all_results() == summary.results
    assert engine.requests[-1].history and engine.requests[-1].prompt != "Summarise it"
    assert win.ask_box.conversation_text() == "Summarise it\nan answer"
    # AND while a page runs, the box waits
    engine.pieces, engine.delay = ["slow "] * 50, 0.02
    with qtbot.waitSignal(win.runs.started, timeout=5_000):
        win.recognise_current()
    assert not win.ask_box.ask("Again?") and not win.ask_box.question.isEnabled()


@pytest.mark.slow
def test_a_searchable_pdf_of_an_encrypted_pdf_uses_the_password_it_was_opened_with(
        make_window, qtbot, tmp_path):
    from corpus_data import CORPUS

    # GIVEN an encrypted PDF opened in the window with its password, and recognised
    win = make_window(Settings(engine="openai", endpoint=NOWHERE, second_reading=False))
    win.engines.use(ReplayEngine(["Confidential page text"]))
    asked: list[str] = []

    async def password(name: str, wrong: bool) -> str:
        asked.append(name)
        return "secret"

    win.loader.password_provider = password
    win.open_paths([CORPUS / "files" / "pdf-encrypted-secret.pdf"])
    qtbot.waitUntil(lambda: win.session is not None, timeout=10_000)
    win.recognise_current()
    wait_run(qtbot, win)
    # WHEN it is exported as a searchable PDF
    _export(qtbot, win, tmp_path / "searchable.pdf")
    # THEN the password was asked once (when opening) and the original page was copied
    assert asked == ["pdf-encrypted-secret.pdf"]
    with pymupdf.open(tmp_path / "searchable.pdf") as doc:
        assert doc.page_count >= 1 and not doc.needs_pass


def test_stored_doubts_are_marked_on_their_words_among_several_regions(make_window, qtbot,
                                                                       tmp_path):
    from desktop_ocr.core.layout import Layout
    from desktop_ocr.core.results import PartResult

    # GIVEN two regions of a page whose stored results carry their second reading
    path = tmp_path / "bill.png"
    Image.new("RGB", (400, 300), "white").save(path)
    win = make_window(Settings(engine="openai", endpoint=NOWHERE))
    win.engines.use(ReplayEngine([""]))
    done = {"layout": Layout.of((10, 10), []).to_dict(), "codes": []}
    first = PartResult(source=str(path), region=(0, 0, 1, 0.5), region_id="a",
                       region_label="Region 1", text="Total 58.00 EUR", engine="openai",
                       finish="stop", extra={**done, "doubts": [
                           {"start": 6, "end": 11, "vlm": "58.00", "cpu": "59.00"}]})
    second = PartResult(source=str(path), region=(0, 0.5, 1, 0.5), region_id="b",
                        region_label="Region 2", text="Paid 12.00", engine="openai",
                        finish="stop", extra={**done, "doubts": [
                            {"start": 0, "end": 4, "vlm": "Paid", "cpu": "Pald"}]})
    # WHEN both are opened from History on the same page
    win.open_result(first)
    qtbot.waitUntil(lambda: win.session is not None and win.session.path == path, timeout=10_000)
    win.open_result(second)
    # THEN each doubt is marked on its own word in the page's text, and counted
    view = win.result_view
    text = view.toPlainText()
    assert text == "[Region 1]\nTotal 58.00 EUR\n\n[Region 2]\nPaid 12.00"
    assert [text[a:b] for a, b in _marks(view)] == ["58.00", "Paid"]
    assert win.result_extras.bar.doubt_label.text().startswith("2 doubtful words")
    assert not win.result_extras.reader.busy  # nothing left to read again
    # AND a word the user changed in the view is not marked any more
    cursor = QTextCursor(view.document())
    cursor.setPosition(text.index("Paid"))
    cursor.setPosition(text.index("Paid") + 4, QTextCursor.MoveMode.KeepAnchor)
    cursor.insertText("Owed")
    win.result_extras.refresh()
    assert [view.toPlainText()[a:b] for a, b in _marks(view)] == ["58.00"]
