"""The window in Chinese: a complete, current translation file, compiled wherever the app
runs from, and a window with no English left in it."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from helpers import ReplayEngine, drop_files, shut_down, wait_run
from PySide6.QtCore import QAbstractItemModel, QCoreApplication, QModelIndex, Qt, QTranslator
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QComboBox,
    QDockWidget,
    QGroupBox,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QTabWidget,
    QTextEdit,
    QWidget,
)

from desktop_ocr.core.library import AsyncLibrary
from desktop_ocr.core.notifications import Severity
from desktop_ocr.core.settings import Settings
from desktop_ocr.core.tasks import get_task
from desktop_ocr.gui import i18n
from desktop_ocr.gui.main_window import MainWindow

TS = i18n.ts_path("zh_CN")


def _messages(path: Path) -> dict[tuple[str, str], ET.Element]:
    out = {}
    for ctx in ET.parse(path).getroot().iter("context"):
        name = ctx.findtext("name")
        for msg in ctx.iter("message"):
            out[(name, msg.findtext("source"))] = msg
    return out


def test_the_translation_is_complete():
    # GIVEN the committed Qt Linguist file
    messages = _messages(TS)
    assert len(messages) > 500
    for (context, source), msg in messages.items():
        tr = msg.find("translation")
        # THEN every text is translated, nothing unfinished, obsolete or vanished
        assert tr is not None and tr.get("type") is None, (context, source)
        assert tr.text and tr.text.strip(), (context, source)
        # AND the translation keeps the placeholders and at most the one mnemonic
        assert sorted(re.findall(r"\{\w*\}", tr.text)) == sorted(re.findall(r"\{\w*\}", source)), \
            (context, source, tr.text)
        assert tr.text.count("&") == source.count("&"), (context, source, tr.text)
        # AND it is Chinese where the source is words (not a name such as "CSV" or "lmdeploy")
        if len(re.findall(r"[A-Za-z]{3,}", re.sub(r"\{\w*\}", "", source))) >= 3:
            assert re.search(r"[\u4e00-\u9fff]", tr.text), (context, source, tr.text)


def test_every_text_of_the_code_is_in_the_file(tmp_path):
    # GIVEN the texts lupdate finds in the window's code today
    fresh = tmp_path / "fresh.ts"
    shutil.copy(TS, fresh)
    i18n.update(target=fresh)
    # THEN the committed file has exactly those (a new text without a translation fails here)
    assert set(_messages(fresh)) == set(_messages(TS))
    unfinished = [k for k, m in _messages(fresh).items()
                  if m.find("translation").get("type") == "unfinished"]
    assert unfinished == []


def test_a_fresh_checkout_compiles_the_translation_at_first_use(tmp_path, monkeypatch, qapp):
    # GIVEN a package with the .ts but no compiled .qm (pip install -e . on a fresh checkout)
    folder = tmp_path / "i18n"
    folder.mkdir()
    shutil.copy(TS, folder / TS.name)
    monkeypatch.setattr(i18n, "I18N_DIR", folder)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    # WHEN the window asks for Chinese
    qm = i18n.qm_path("zh_CN")
    # THEN it is compiled once into the user's cache, and it loads
    assert qm is not None and qm.is_file() and (tmp_path / "cache") in qm.parents
    translator = QTranslator()
    assert translator.load(str(qm))
    assert translator.translate("MainWindow", "&File") == "文件(&F)"
    # AND a second start finds it there (no compile again)
    stamp = qm.stat().st_mtime_ns
    assert i18n.qm_path("zh_CN") == qm and qm.stat().st_mtime_ns == stamp
    # AND once the package's own .qm is current, that one is used
    i18n.compile_all(folder)
    assert i18n.qm_path("zh_CN") == folder / "desktop_ocr_zh_CN.qm"


@pytest.fixture
def chinese(qapp):
    assert i18n.install("zh_CN", qapp) == "zh_CN"
    yield
    i18n.uninstall(qapp)


@pytest.fixture
def zh_window(qtbot, aloop, notes, app_dirs, chinese):
    win = MainWindow(Settings(engine="cpu", language="zh_CN"), notifications=notes)
    qtbot.addWidget(win, before_close_func=lambda w: shut_down(w, qtbot, aloop))
    win.show()
    qtbot.waitExposed(win)
    return win


def test_the_window_starts_in_chinese(zh_window):
    # GIVEN the window started with the Chinese translation
    win = zh_window
    # THEN its menus, its toolbar's task list and its empty state are in Chinese
    assert [a.text() for a in win.menuBar().actions()] == [
        "文件(&F)", "编辑(&E)", "视图(&V)", "识别(&R)", "帮助(&H)"]
    assert win.open_action.text() == "打开(&O)…" and win.recognise_action.iconText() == "识别"
    assert win.task_combo.itemText(win.task_combo.findData("table")) == get_task("table").title("zh_CN")
    assert [a.text() for a in win.language_actions.actions()] == ["跟随系统", "English", "简体中文"]
    assert "拖到这里" in " ".join(lbl.text() for lbl in win.empty_state.findChildren(QLabel))
    # AND the tooltip of an icon-only button names it without its mnemonic, with its key
    assert win.open_action.toolTip().startswith("打开… (Ctrl+O)")


def test_task_names_and_prompts_follow_the_language(zh_window, qtbot, tmp_path, corpus):
    # GIVEN the Chinese window on an engine that records what it is asked
    win = zh_window
    engine = ReplayEngine(["合计 12.00"])
    win.engines.use(engine)
    path = tmp_path / "receipt.jpg"
    shutil.copy(corpus / "receipt-sroie-003.jpg", path)
    # WHEN an image is dropped (it is recognised at once with the chosen task)
    assert drop_files(win, [path])
    wait_run(qtbot, win)
    # THEN the prompt sent is the task's Chinese prompt
    (request,) = engine.requests
    assert request.prompt == get_task(win.settings.task).prompt("zh_CN")
    assert "已用" in win.state_label.text()


# ------------------------------------------------------------------ no English left

# Words that stay as they are in a Chinese window: names, formats, units, keys.
ALLOWED = {
    "PDF", "CPU", "GPU", "RAM", "VRAM", "GiB", "MiB", "API", "URL", "JSON", "CSV", "HTML",
    "Markdown", "Excel", "Word", "InternVL3", "InternVL", "LMDeploy", "lmdeploy", "transformers",
    "RapidOCR", "OpenAI", "Hugging", "Face", "ModelScope", "Ctrl", "Shift", "Alt", "Esc", "Del",
    "PgUp", "PgDown", "Home", "End", "Enter", "CUDA", "MPS", "Apple", "NVIDIA", "nvidia", "AWQ",
    "OCR", "token", "PNG", "JPEG", "TIFF", "BMP", "WebP", "GIF", "XPS", "EPUB", "CBZ", "xlsx",
    "csv", "txt", "json", "docx", "html", "pip", "install", "desktop", "ocr", "gpu", "Desktop",
    "English", "session", "len", "bf16", "fp16", "http", "server", "mirror", "com", "hf",
    "Qwen2", "Qwen", "Qwen2.5", "tsv", "pdf", "png", "jpg", "jpeg", "tif", "tiff", "bmp", "webp",
    "gif", "xps", "epub", "cbz", "Tab", "Ins", "LaTeX", "Python", "zxing", "cpp",
    "replay",  # the model name of the tests' engine
}


def _words(text: str) -> list[str]:
    text = re.sub(r"<[^>]+>", " ", text)  # rich text tags
    text = re.sub(r"https?://\S+|\S*[/\\]\S+|\S+\.\w{2,4}\b", " ", text)  # addresses, paths, files
    text = re.sub(r"\b[\w.]+-\d+(\.\d+)?B[\w-]*", " ", text)  # model names (InternVL3-8B-AWQ)
    return [w for w in re.findall(r"[A-Za-z][A-Za-z0-9.]*[A-Za-z]", text)
            if w not in ALLOWED and len(w) >= 3]


def _texts_of_model(model: QAbstractItemModel | None) -> list[str]:
    if model is None:
        return []
    out = []
    try:
        columns = model.columnCount(QModelIndex())
    except TypeError:  # a list model of Qt's own keeps columnCount private
        columns = 1
    for section in range(columns):
        value = model.headerData(section, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole)
        if isinstance(value, str):
            out.append(value)
    return out


def visible_texts(root: QWidget) -> list[tuple[str, str]]:
    """(where, text) of everything a user can read in `root` and its menus: texts, titles,
    tooltips, placeholders, list entries, headers, actions."""
    seen: list[tuple[str, str]] = []

    def add(where: str, text) -> None:
        if isinstance(text, str) and text.strip():
            seen.append((where, text))

    widgets = [root, *root.findChildren(QWidget)]
    for w in widgets:
        name = type(w).__name__
        add(f"{name}.toolTip", w.toolTip())
        add(f"{name}.windowTitle", w.windowTitle() if w.isWindow() or isinstance(w, QDockWidget) else "")
        add(f"{name}.accessibleName", w.accessibleName())
        if isinstance(w, (QLabel, QAbstractButton)):
            add(f"{name}.text", w.text())
        if isinstance(w, (QLineEdit, QPlainTextEdit, QTextEdit)):
            add(f"{name}.placeholder", w.placeholderText())
        if isinstance(w, QComboBox):
            for i in range(w.count()):
                add(f"{name}.item", w.itemText(i))
                add(f"{name}.itemTip", w.itemData(i, Qt.ItemDataRole.ToolTipRole))
        if isinstance(w, QGroupBox):
            add(f"{name}.title", w.title())
        if isinstance(w, QTabWidget):
            for i in range(w.count()):
                add(f"{name}.tab", w.tabText(i))
                add(f"{name}.tabTip", w.tabToolTip(i))
        if isinstance(w, QMenu):
            add(f"{name}.title", w.title())
        if isinstance(w, QAbstractItemView):
            for text in _texts_of_model(w.model()):
                add(f"{name}.header", text)
    for action in root.findChildren(QAction):
        for what in ("text", "toolTip", "statusTip", "iconText"):
            add(f"QAction.{what}", getattr(action, what)())
    return seen


def english_left(root: QWidget) -> list[tuple[str, str]]:
    return [(where, text) for where, text in visible_texts(root) if _words(text)]


@pytest.fixture
def library(tmp_path, aloop, qtbot):
    lib = AsyncLibrary(tmp_path / "library.sqlite3")
    yield lib
    task = aloop.create_task(lib.close())
    qtbot.waitUntil(task.done, timeout=10_000)


def test_no_english_is_left_in_the_chinese_window(qtbot, aloop, notes, app_dirs, chinese, library,
                                                  tmp_path, corpus):
    # GIVEN the Chinese window with a document open, every panel built and shown, a notice
    # with details, and the dialogs the menus open
    win = MainWindow(Settings(engine="cpu", language="zh_CN"), notifications=notes, library=library)
    qtbot.addWidget(win, before_close_func=lambda w: shut_down(w, qtbot, aloop))
    win.engines.use(ReplayEngine(["| a | b |\n|---|---|\n| 1 | 2 |\n"]))
    win.show()
    qtbot.waitExposed(win)
    path = tmp_path / "table.pdf"
    shutil.copy(corpus / "pdf-small-table.pdf", path)
    with qtbot.waitSignal(win.loader.loaded, timeout=20_000):
        win.open_paths([path])
    win.task_combo.setCurrentIndex(win.task_combo.findData("table"))
    win.recognise_current()
    wait_run(qtbot, win)
    win.task_combo.setCurrentIndex(win.task_combo.findData("custom"))
    qtbot.waitUntil(lambda: win.text_banner.isVisible(), timeout=10_000)
    win.engine_panel.show()
    win.add_batch_panel()
    win.toggle_history()
    notes.notify("剪贴板里没有图片。", Severity.ERROR, details="Traceback (most recent call last)")
    qtbot.waitUntil(lambda: bool(win.notification_area.banners()), timeout=5_000)
    win.notification_area.banners()[-1].show_details()
    win.show_preferences()
    win.show_shortcuts()
    dialog = win.engine_panel.open_models()
    qtbot.waitUntil(lambda: dialog.table.rowCount() > 0, timeout=10_000)
    for menu in win.menuBar().findChildren(QMenu):
        menu.aboutToShow.emit()  # Open recent fills itself when opened
    # THEN nothing English is left but names, formats, units and keys
    roots = [win, win.preferences_dialog, win.shortcuts_dialog, dialog,
             win.notification_area.banners()[-1].details_dialog]
    left = [item for root in roots for item in english_left(root)]
    assert left == [], "\n".join(f"{where}: {text!r}" for where, text in left)
    for root in roots[1:]:
        root.close()


def test_what_the_core_says_reaches_the_chinese_window_in_chinese(zh_window, qtbot, tmp_path,
                                                                   corpus):
    # GIVEN the Chinese window, and files the core refuses with sentences of its own
    win = zh_window
    fake_pdf = tmp_path / "page.pdf"
    fake_pdf.write_text("<html><body>not a PDF</body></html>")
    bad = [corpus / "bad-zero-byte.png", corpus / "bad-huge-header.png", fake_pdf]
    # WHEN each is opened
    for path in bad:
        with qtbot.waitSignal(win.loader.loadFailed, timeout=20_000):
            win.open_paths([path])
    # THEN each notice is in Chinese, the values (names, sizes) put into it
    qtbot.waitUntil(lambda: len(win.notification_area.banners()) == len(bad), timeout=5_000)
    texts = [b.label.text() for b in win.notification_area.banners()]
    assert any("文件为空（0 字节）" in t for t in texts), texts
    assert any("图像太大" in t and "百万像素" in t for t in texts), texts
    assert any("扩展名是 .pdf" in t and "网页（HTML）" in t for t in texts), texts
    for text in texts:
        assert not re.search(r"\b(?:The|file|image|is|not)\b", text), text


def test_a_translation_that_loses_a_value_falls_back_to_english(chinese):
    from desktop_ocr.core.messages import Text

    # GIVEN a sentence whose template has no translation, and one that has
    unknown = Text("Nobody translated {what}.", what="this")
    known = Text("Page {n}: {why}", n=3, why=Text("The image has no frame {n}.", n=2))
    # THEN the first stays English, the second is Chinese through and through
    assert i18n.localize(unknown) == "Nobody translated this."
    assert i18n.localize(known) == "第 3 页：图像没有第 2 帧。"
    assert i18n.localize("The file does not exist.") == "文件不存在。"
    assert i18n.localize("scan.pdf") == "scan.pdf" and i18n.localize(None) is None


def test_the_model_advice_is_said_in_chinese(chinese):
    from desktop_ocr.engines.gpu import GpuInfo, Probe, advise

    # GIVEN the advice for two GPUs without bf16, and for a GPU too small for any model
    two = advise(Probe([GpuInfo(0, "Tesla T4", 16, 15, (7, 5)), GpuInfo(1, "Tesla T4", 16, 15, (7, 5))]))
    small = advise(Probe([GpuInfo(0, "GT 1030", 2, 1.5, (7, 5))]))
    # THEN its English is as before, and every reason in it is Chinese in the window
    assert two.reason.endswith(".") and "; " in two.reason
    zh = i18n.localize(two.reason)
    assert "约需" in zh and zh.endswith("。") and ";" not in zh and "needs" not in zh
    assert "可用 1.5 GiB" in i18n.localize(small.reason)


def test_a_server_failure_is_said_in_chinese_with_its_cause(chinese):
    from desktop_ocr.engines.lmdeploy_server import classify_failure

    # GIVEN a server that ran out of GPU memory while it started
    err = classify_failure(1, ["torch.OutOfMemoryError: CUDA out of memory."], model="InternVL3-8B",
                           cache_max_entry_count=0.5)
    # THEN the English is unchanged for logs and the CLI, and the window says it in Chinese
    assert err.user_message.startswith("The GPU ran out of memory while loading InternVL3-8B.")
    zh = i18n.localize(err.user_message)
    assert zh.startswith("加载 InternVL3-8B 时 GPU 显存不足。") and "当前 0.5" in zh


def test_a_download_s_progress_line_is_chinese(chinese, tmp_path):
    from desktop_ocr.engines.model_download import DownloadJob, JobState

    # GIVEN a download a third of the way, at 42 MB/s, and one paused
    job = DownloadJob("InternVL3-8B", tmp_path)
    job.state, job.total_bytes, job.done_bytes, job.speed_bps = JobState.RUNNING, 15.9e9, 5.3e9, 42e6
    paused = DownloadJob("InternVL3-2B", tmp_path)
    paused.state, paused.total_bytes, paused.done_bytes = JobState.PAUSED, 4e9, 1e9
    # THEN English stays as it was, and the window reads them in Chinese
    assert job.describe().startswith("5.3 GB of 15.9 GB · 42.0 MB/s · ")
    assert job.describe().endswith(" left")
    assert i18n.localize(job.describe()).startswith("5.3 GB / 15.9 GB · 42.0 MB/s · 剩余 ")
    assert i18n.localize(paused.describe()) == "1.0 GB / 4.0 GB · 已暂停"


def test_the_walk_finds_english_in_an_english_window(qtbot, aloop, notes, app_dirs):
    # GIVEN the same window without a translation (the check must be able to fail)
    win = MainWindow(Settings(engine="cpu"), notifications=notes)
    qtbot.addWidget(win, before_close_func=lambda w: shut_down(w, qtbot, aloop))
    # THEN the walk finds its English texts
    found = {text for _, text in english_left(win)}
    assert {"&File", "&Open…", "Drop images or PDFs here, or paste a screenshot"} <= found
    assert QCoreApplication.translate("MainWindow", "&File") == "&File"
