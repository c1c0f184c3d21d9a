"""Clipboard: paste, watch, copy back; offscreen in-process and with the real X clipboard."""

from __future__ import annotations

import hashlib
import io
import json
import threading
import time

import pytest
from helpers import ReplayEngine, shut_down, wait_run
from PIL import Image
from PySide6.QtCore import QMimeData, QUrl
from PySide6.QtGui import QGuiApplication
from xvfb import Driver, missing_tools, xclip_get, xclip_set, xclip_targets, xvfb

from desktop_ocr.core.notifications import Severity
from desktop_ocr.core.settings import Settings
from desktop_ocr.gui import clipboard
from desktop_ocr.gui.clipboard import formats, qt, xclip
from desktop_ocr.gui.clipboard.base import ClipboardPayload, paths_from_uri_list
from desktop_ocr.gui.main_window import MainWindow

RECEIPT = "receipt-sroie-003.jpg"
needs_x = pytest.mark.skipif(bool(missing_tools()), reason=f"needs {missing_tools()} (installer/setup.sh test)")


def png(width: int, height: int, color=(30, 90, 200)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, "PNG")
    return buf.getvalue()


def huge_png(width: int = 20_000, height: int = 20_000) -> bytes:
    """A real PNG whose header says width x height; its pixel data is cut short, which
    does not matter: a size over the limit must be refused from the header alone."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\x00" + b"\xff" * (width * 3), 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def pattern_png(width: int = 320, height: int = 140) -> tuple[bytes, str]:
    """An image with distinct pixels everywhere; its RGB md5 proves an exact round trip."""
    img = Image.new("RGB", (width, height))
    img.putdata([((x * 7) % 256, (y * 11) % 256, (x + y) % 256) for y in range(height) for x in range(width)])
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue(), hashlib.md5(img.tobytes()).hexdigest()


def set_clipboard(**kinds) -> None:
    mime = QMimeData()
    for kind, data in kinds.items():
        if kind == "urls":
            mime.setUrls([QUrl.fromLocalFile(str(p)) for p in data])
        elif kind == "text":
            mime.setText(data)
        else:
            mime.setData(kind.replace("_", "/"), data)
    QGuiApplication.clipboard().setMimeData(mime)


@pytest.fixture
def window(qtbot, aloop, notes):
    # Not qtbot.addWidget: pytest-qt deletes those before fixture teardown runs, and the
    # engine must be shut down while the window still exists.
    win = MainWindow(Settings(engine="cpu"), notifications=notes)
    win.show()
    qtbot.waitExposed(win)
    yield win
    shut_down(win, qtbot, aloop)
    win.close()
    win.deleteLater()


# ---------------------------------------------------------------- formats (pure)


def test_markdown_table_becomes_tsv_and_html():
    text = "Prices:\n\n| Item | Price |\n|:-----|------:|\n| Tea <hot> | 2.50 |\n| Cake | 3 |\n\nThanks"
    payload = formats.payload_for(text, "table")
    assert payload.text == "Item\tPrice\nTea <hot>\t2.50\nCake\t3\n"
    assert "<td>Tea &lt;hot&gt;</td><td>2.50</td>" in payload.html and payload.html.count("<tr>") == 3


def test_html_table_with_colspan_is_padded_to_a_grid():
    text = "<table><tr><th colspan='2'>Total</th></tr><tr><td>a</td><td>b<br>c</td></tr></table>"
    assert formats.payload_for(text, "table").text == "Total\t\na\tb c\n"


def test_text_task_or_no_table_stays_plain_text():
    assert formats.payload_for("| a | b |\n|---|---|\n| 1 | 2 |", "text").html == ""
    assert formats.payload_for("no table here", "table") == clipboard.ClipboardPayload("no table here")


def test_uri_list_keeps_local_files_only():
    text = "# comment\nfile:///tmp/a%20b.png\r\nhttps://example.com/x.png\nfile://localhost/c.jpg\n"
    assert [str(p) for p in paths_from_uri_list(text)] == ["/tmp/a b.png", "/c.jpg"]


# ---------------------------------------------------------------- offscreen, in-process


def test_handlers_in_order_of_preference_offscreen(qapp, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert [h.NAME for h in clipboard.available_handlers()] == ["qt"]
    monkeypatch.setenv("DISPLAY", ":99")
    assert xclip.is_compatible()
    names = [h.NAME for h in clipboard.preference()]
    assert names.index("qt") < names.index("xclip")


def test_paste_png_shows_and_recognises_exact_pixels(window, qtbot, notes):
    data, md5 = pattern_png()
    set_clipboard(image_png=data)
    with qtbot.waitSignal(window.capture.imageReady, timeout=10_000) as ready:
        window.paste_action.trigger()
    assert "320 × 140" in ready.args[0]
    assert hashlib.md5(window.session.image.tobytes()).hexdigest() == md5
    assert window.stack.currentWidget() is window.viewer
    assert window.runs.busy or window.state_label.text()


def test_paste_without_image_says_so(window, qtbot, notes):
    set_clipboard(text="just words")
    with qtbot.waitSignal(window.capture.refused, timeout=5_000) as refused:
        window.paste_action.trigger()
    assert "no image" in refused.args[0]
    assert notes.seen[-1].severity is Severity.INFO
    assert window.stack.currentWidget() is window.empty_state and not window.runs.busy


def test_paste_copied_image_file(window, qtbot, tmp_path, corpus):
    other = tmp_path / "notes.txt"
    other.write_text("x")
    set_clipboard(urls=[other, corpus / RECEIPT])
    with qtbot.waitSignal(window.capture.imageReady, timeout=10_000) as ready:
        window.paste_action.trigger()
    assert ready.args[0] == RECEIPT and window.session.image.width > 100


def test_copied_files_that_are_not_images(window, qtbot, tmp_path):
    doc = tmp_path / "report.docx"
    doc.write_bytes(b"x")
    set_clipboard(urls=[doc])
    with qtbot.waitSignal(window.capture.refused, timeout=5_000) as refused:
        window.paste_action.trigger()
    assert "not images" in refused.args[0]


def test_huge_clipboard_image_is_refused_quickly_without_freezing(window, qtbot, notes):
    # 20,000 x 20,000 = 400 MP, over imaging.MAX_PIXELS: refused from the PNG header,
    # before a single pixel is decoded (decoding would need 1.2 GB). Bigger images are
    # refused rather than downscaled: downscaling would mean decoding them first.
    huge = huge_png()
    set_clipboard(image_png=huge)
    began = time.perf_counter()
    with qtbot.waitSignal(window.capture.refused, timeout=10_000) as refused:
        window.paste_action.trigger()
    assert time.perf_counter() - began < 3
    assert "too large" in refused.args[0]
    assert notes.seen[-1].severity is Severity.ERROR
    assert not window.runs.busy and window.paste_action.isEnabled()


def test_wide_clipboard_image_is_accepted_off_the_gui_thread(window, qtbot):
    # 20,000 x 1,500 (30 MP) is within limits: it is decoded in a worker thread while
    # the GUI keeps running (the engine scales it to its own budget).
    set_clipboard(image_png=png(20_000, 1_500))
    gaps: list[float] = []
    last = [time.perf_counter()]

    def beat():
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    from PySide6.QtCore import QTimer

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(beat)
    timer.start()
    with qtbot.waitSignal(window.capture.imageReady, timeout=20_000):
        window.paste_action.trigger()
    timer.stop()
    assert window.session.image.size == (20_000, 1_500)
    assert max(gaps) < 0.5, f"the GUI thread stalled for {max(gaps):.2f} s"


def test_announced_image_with_no_data_means_changed(qapp, aloop, qtbot):
    # The owner listed image/png, then had nothing to give: the clipboard changed under us.
    set_clipboard(image_png=b"")
    mime = QGuiApplication.clipboard().mimeData()
    if "image/png" not in mime.formats():
        pytest.skip("this platform drops empty formats")
    with pytest.raises(clipboard.ClipboardChanged, match="changed while"):
        qt.read_now()


def test_garbage_announced_as_png(window, qtbot):
    set_clipboard(image_png=b"this is not a png at all")
    with qtbot.waitSignal(window.capture.refused, timeout=5_000) as refused:
        window.paste_action.trigger()
    assert "not an image" in refused.args[0]


def test_watch_debounces_a_burst_and_skips_the_same_image(window, qtbot):
    window.watch_action.setChecked(True)
    assert window.capture.watcher.enabled and window.settings.watch_clipboard
    found: list = []
    window.capture.watcher.imageFound.connect(found.append)
    first, _ = pattern_png(200, 80)
    # A screenshot tool announcing the same copy three times in a row.
    for _ in range(3):
        set_clipboard(image_png=first)
        qtbot.wait(50)
    qtbot.waitUntil(lambda: len(found) == 1, timeout=5_000)
    qtbot.wait(800)
    assert len(found) == 1
    # The same image again: not recognised twice.
    with qtbot.waitSignal(window.capture.watcher.ignored, timeout=5_000) as ignored:
        set_clipboard(image_png=first)
    assert ignored.args[0] == "same" and len(found) == 1
    # A new image is.
    set_clipboard(image_png=png(50, 50))
    qtbot.waitUntil(lambda: len(found) == 2, timeout=5_000)


def test_watch_ignores_the_text_the_app_copied(window, qtbot, aloop):
    window.watch_action.setChecked(True)
    found: list = []
    window.capture.watcher.imageFound.connect(found.append)
    with qtbot.waitSignal(window.capture.watcher.ignored, timeout=5_000) as ignored:
        task = aloop.create_task(window.capture.copy(ClipboardPayload("recognised words")))
        qtbot.waitUntil(task.done, timeout=5_000)
    # Offscreen Qt cannot tell ownership, so this is "no image"; under X11 it is "own"
    # (test_watch_under_x11 below).
    assert ignored.args[0] in ("own",) or ignored.args[0].startswith("no image")
    assert not found and QGuiApplication.clipboard().text() == "recognised words"


def test_watch_off_does_nothing(window, qtbot):
    found: list = []
    window.capture.watcher.imageFound.connect(found.append)
    set_clipboard(image_png=png(40, 40))
    qtbot.wait(700)
    assert not found and window.session is None


def test_auto_copy_after_a_clipboard_recognition(window, qtbot, aloop, notes):
    # The recogniser's finished signal for the pasted image puts its text back (table as TSV).
    window.settings.task = "table"
    window.engines.use(ReplayEngine(["| a | b |\n", "|---|---|\n", "| 1 | 2 |"]))
    set_clipboard(image_png=png(60, 30))
    with qtbot.waitSignal(window.capture.copied, timeout=10_000) as copied:
        window.paste_action.trigger()
    assert copied.args[0] == len("a\tb\n1\t2\n")
    mime = QGuiApplication.clipboard().mimeData()
    assert mime.text() == "a\tb\n1\t2\n" and "<table>" in mime.html()
    assert "Copied 8 characters of a table" in notes.seen[-1].message
    # AND the pasted image's result is kept as a paste, exportable like any other
    (result,) = window.session.results(0)
    assert result.source_kind == "paste" and result.text.startswith("| a | b |")
    assert window.export_action.isEnabled()
    # A result that did not come from the clipboard is not copied.
    from desktop_ocr.core.documents import document_from_image

    window.show_document(document_from_image(window.session.image, "scan.png"))
    with qtbot.assertNotEmitted(window.capture.copied, wait=300):
        window.recognise_current()
        wait_run(qtbot, window, 5_000)


# ---------------------------------------------------------------- the real X clipboard


@pytest.fixture(scope="module")
def display():
    if missing_tools():
        pytest.skip(f"needs {missing_tools()} (installer/setup.sh test)")
    with xvfb() as d:
        yield d


@pytest.fixture
def app_driver(display, tmp_path):
    drivers: list[Driver] = []

    def start(*args: str) -> Driver:
        drv = Driver(display, "app_driver.py", *args, DESKTOP_OCR_CONFIG=str(tmp_path / "s.json"),
                     XDG_STATE_HOME=str(tmp_path / "state"))
        drivers.append(drv)
        drv.event(30, "ready")
        return drv

    yield start
    for drv in drivers:
        rc, err = drv.close()
        assert rc == 0, err
        assert "QWARN" not in err and "Warning" not in err, err


@needs_x
def test_copied_text_is_read_back_by_xclip(display, app_driver):
    drv = app_driver()
    drv.send("copy " + json.dumps("Grüße\nline 2") + " text")
    assert drv.event(10, "copied")["count"] == len("Grüße\nline 2")
    assert xclip_get(display).decode() == "Grüße\nline 2"
    # A table goes out as TSV for text and an HTML table for office suites.
    drv.send("copy " + json.dumps("| Qty | Item |\n|---|---|\n| 2 | Tea |") + " table")
    drv.event(10, "copied")
    assert "text/html" in xclip_targets(display)
    assert xclip_get(display, "UTF8_STRING").decode() == "Qty\tItem\n2\tTea\n"
    assert b"<td>2</td><td>Tea</td>" in xclip_get(display, "text/html")


@needs_x
def test_image_put_by_xclip_is_pasted_exactly(display, app_driver):
    data, md5 = pattern_png(333, 77)
    xclip_set(display, data, "image/png")
    drv = app_driver()
    drv.send("paste")
    event = drv.event(15, "image")
    assert (event["width"], event["height"], event["md5"]) == (333, 77, md5)


@needs_x
def test_bad_clipboard_contents_under_x11(display, app_driver):
    drv = app_driver()
    xclip_set(display, b"plain words", "UTF8_STRING")
    drv.send("paste")
    assert "no image" in drv.event(15, "refused")["message"]
    xclip_set(display, b"GIF89a-not-really", "image/png")
    drv.send("paste")
    assert "not an image" in drv.event(15, "refused")["message"]
    xclip_set(display, huge_png(), "image/png")
    began = time.perf_counter()
    drv.send("paste")
    assert "too large" in drv.event(15, "refused")["message"]
    assert time.perf_counter() - began < 5
    drv.send("stall")
    assert drv.event(5, "stall")["worst"] < 0.5


@needs_x
def test_clipboard_changing_while_read(display, app_driver):
    # Another program replaces the clipboard as fast as it can while the app reads it:
    # every paste ends with an image or a clear message, and the app never hangs.
    data, md5 = pattern_png(900, 700)
    drv = app_driver()
    stop = threading.Event()

    def churn():
        i = 0
        while not stop.is_set():
            if i % 2:
                xclip_set(display, data, "image/png")
            else:
                xclip_set(display, f"text {i}".encode(), "UTF8_STRING")
            i += 1

    churner = threading.Thread(target=churn)
    churner.start()
    outcomes = []
    try:
        for _ in range(8):
            drv.send("paste")
            while True:
                ev = drv.event(15)
                if ev["event"] == "image":
                    assert (ev["width"], ev["height"], ev["md5"]) == (900, 700, md5)
                    outcomes.append("image")
                    break
                if ev["event"] == "refused":
                    assert ("no image" in ev["message"] or "changed while" in ev["message"]
                            or "cannot be read" in ev["message"]), ev
                    outcomes.append("refused")
                    break
    finally:
        stop.set()
        churner.join()
    assert len(outcomes) == 8
    drv.send("stall")
    assert drv.event(5, "stall")["worst"] < 1.0


@needs_x
def test_watch_under_x11_ignores_own_writes(display, app_driver):
    drv = app_driver("--watch")
    first, md5 = pattern_png(120, 60)
    for _ in range(3):
        xclip_set(display, first, "image/png")
    event = drv.event(15, "image")
    assert event["md5"] == md5
    # The app's own text on the clipboard is not looked at: it owns the selection.
    drv.send("copy " + json.dumps("own words") + " text")
    drv.event(10, "copied")
    assert drv.event(5, "ignored")["why"] == "own"
    assert xclip_get(display).decode() == "own words"
    second, md5b = pattern_png(64, 64)
    xclip_set(display, second, "image/png")
    assert drv.event(15, "image")["md5"] == md5b


@needs_x
@pytest.mark.slow
def test_screenshot_on_clipboard_is_recognised_and_text_comes_back(display, app_driver, corpus):
    # The whole path with the real CPU engine: xclip puts a receipt photo on the clipboard,
    # the app pastes and recognises it, and the text lands back on the X clipboard.
    xclip_set(display, (corpus / RECEIPT).read_bytes(), "image/jpeg")
    drv = app_driver()
    drv.send("paste")
    drv.event(15, "image")
    result = drv.event(120, "finished")
    assert "TOTAL" in result["text"].upper()
    drv.event(10, "copied")
    assert xclip_get(display).decode() == result["text"]


def test_xclip_tool_errors_are_not_fatal(monkeypatch, tmp_path):
    # A missing tool reads as "unavailable", never as an exception the user sees raw.
    from desktop_ocr.gui.clipboard import _tools

    with pytest.raises(clipboard.HandlerUnavailable, match="not installed"):
        _tools._run(["definitely-not-a-clipboard-tool"], None, 1)
    with pytest.raises(clipboard.HandlerUnavailable, match="did not answer"):
        _tools._run(["sleep", "5"], None, 0.2)

