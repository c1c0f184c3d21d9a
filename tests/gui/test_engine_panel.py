"""The engine panel driving real engines: the spawn path against the fake lmdeploy, the
remote path against the stand-in server, the meters on this (GPU-less) machine, and the
GPU advice for synthetic probes."""

from __future__ import annotations

import re

import psutil
import pytest
from engine_helpers import API_KEY, make_image, make_model_folder, pid_alive, wait_dead
from PySide6.QtCore import Qt

from desktop_ocr.core.notifications import Severity
from desktop_ocr.core.pipeline import Source
from desktop_ocr.core.settings import Settings
from desktop_ocr.engines import gpu
from desktop_ocr.engines.gpu import GpuInfo, GpuMetrics, Metrics, Probe
from desktop_ocr.engines.lmdeploy_server import ServerState
from desktop_ocr.gui.engine_host import EngineHost
from desktop_ocr.gui.engine_panel import (
    EnginePanel,
    advice_text,
    gpu_text,
    install_text,
    model_choices,
)
from desktop_ocr.gui.main_window import MainWindow
from desktop_ocr.gui.meters import MetersView
from desktop_ocr.gui.result_view import ResultView
from desktop_ocr.gui.runs import RunController

MODEL = "InternVL3-1B"  # a complete local folder of that name: see `model_dir`
HAS_GPU = bool(gpu.probe().gpus)


@pytest.fixture
def model_dir(tmp_path):
    """InternVL3-1B as a complete folder: the local server only ever starts on one."""
    return str(make_model_folder(tmp_path / "models-by-hand" / MODEL))


def _children() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True) if pid_alive(p.pid)}


@pytest.fixture
def make_panel(qtbot, aloop, notes, app_dirs):
    made: list[EnginePanel] = []
    opened: list = []
    before = _children()

    def make(settings: Settings) -> EnginePanel:
        engines = EngineHost(settings, notifications=notes)
        panel = EnginePanel(engines, settings, notes, open_url=opened.append)
        panel.runs = RunController(engines, settings, notes, panel)  # type: ignore[attr-defined]
        panel.opened = opened  # type: ignore[attr-defined]
        panel.resize(420, 900)
        qtbot.addWidget(panel)
        panel.show()
        qtbot.waitExposed(panel)
        made.append(panel)
        return panel

    yield make

    async def close(panel: EnginePanel) -> None:
        await panel.runs.cancel_and_wait()
        await panel.engines.shutdown()
        await panel.shutdown()

    for panel in made:
        task = aloop.create_task(close(panel))
        qtbot.waitUntil(task.done, timeout=20_000)
    # No server (nor its worker) outlives the panel that started it.
    assert wait_dead(list(_children() - before)) == []


def _state(panel: EnginePanel) -> ServerState:
    return panel.engines.engine_status.state


def test_local_start_ready_log_and_stop(make_panel, fake_lmdeploy, qtbot, monkeypatch, model_dir):
    monkeypatch.setenv("FAKE_LMDEPLOY_DELAY", "1.2")  # long enough to see "starting" tick
    settings = Settings(engine="lmdeploy", lmdeploy_command=str(fake_lmdeploy.exe), model=model_dir,
                        start_timeout=30)
    panel = make_panel(settings)
    seen: list[ServerState] = []
    panel.engines.engineState.connect(lambda st: seen.append(st.state))
    assert panel.log_box.isVisible() and panel.local_box.isVisible() and not panel.remote_box.isVisible()

    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    # The elapsed time ticks while it starts.
    qtbot.waitUntil(lambda: bool(re.search(r"Starting… [1-9]\d* s", panel.state_label.text())), timeout=10_000)
    assert panel.stop_button.isEnabled() and not panel.start_button.isEnabled()
    qtbot.waitUntil(lambda: _state(panel) is ServerState.READY, timeout=20_000)
    assert "Ready" in panel.state_label.text() and "LMDeploy" in panel.state_label.text()
    assert seen[-2:] == [ServerState.STARTING, ServerState.READY]
    assert fake_lmdeploy.argv()[2] == model_dir  # the panel's settings reached the launch line
    # The server's own lines appear live in the log view.
    qtbot.waitUntil(lambda: "Uvicorn running on http://127.0.0.1" in panel.log_view.toPlainText(), timeout=5_000)
    assert "matching vision model" in panel.log_view.toPlainText()
    assert panel.log_view.isReadOnly()
    panel.open_log_button.click()
    opened = panel.opened[-1].toLocalFile()  # type: ignore[attr-defined]
    assert "Uvicorn running" in open(opened, encoding="utf-8").read()

    pids = fake_lmdeploy.pids()
    assert len(pids) == 2 and all(pid_alive(p) for p in pids)
    qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _state(panel) is ServerState.STOPPED, timeout=20_000)
    assert wait_dead(pids) == [], "the server or its worker survived Stop"
    assert "Stopped" in panel.state_label.text() and panel.start_button.isEnabled()
    assert not [n for n in panel.notifications.seen if n.severity is Severity.ERROR]  # type: ignore[attr-defined]


def test_failed_start_shows_reason_and_fix(make_panel, fake_lmdeploy, qtbot, monkeypatch, model_dir):
    monkeypatch.setenv("FAKE_LMDEPLOY_SCENARIO", "oom")
    panel = make_panel(Settings(engine="lmdeploy", lmdeploy_command=str(fake_lmdeploy.exe), model=model_dir))
    panel.start()
    qtbot.waitUntil(lambda: _state(panel) is ServerState.FAILED, timeout=20_000)
    assert "Failed" in panel.state_label.text()
    assert "ran out of memory" in panel.detail_label.text()
    assert panel.fix_label.isVisible() and "smaller model" in panel.fix_label.text()
    assert "CUDA out of memory" in panel.log_view.toPlainText()
    qtbot.waitUntil(lambda: bool(panel.notifications.seen), timeout=5_000)  # type: ignore[attr-defined]
    note = panel.notifications.seen[-1]  # type: ignore[attr-defined]
    assert note.severity is Severity.ERROR and "ran out of memory" in note.message
    assert panel.start_button.isEnabled() and not panel.stop_button.isEnabled()


def test_stop_while_starting_cancels_the_start(make_panel, fake_lmdeploy, qtbot, monkeypatch, model_dir):
    monkeypatch.setenv("FAKE_LMDEPLOY_DELAY", "30")
    panel = make_panel(Settings(engine="lmdeploy", lmdeploy_command=str(fake_lmdeploy.exe), model=model_dir))
    panel.start()
    qtbot.waitUntil(lambda: len(fake_lmdeploy.pids()) == 2, timeout=10_000)
    panel.stop()
    qtbot.waitUntil(lambda: _state(panel) is ServerState.STOPPED, timeout=20_000)
    assert wait_dead(fake_lmdeploy.pids()) == []
    assert not panel.notifications.seen  # type: ignore[attr-defined]  # a cancelled start is no error


def test_remote_discovers_model_and_streams_into_result_view(make_panel, standin, qtbot, tmp_path):
    panel = make_panel(Settings(engine="cpu"))
    # The user picks the remote engine, types the URL and key, and presses Start.
    index = panel.engine_combo.findData("openai")
    panel.engine_combo.setCurrentIndex(index)
    panel.engine_combo.activated.emit(index)
    assert panel.remote_box.isVisible() and not panel.log_box.isVisible()
    qtbot.waitUntil(lambda: "Enter the server's address" in panel.detail_label.text(), timeout=5_000)
    qtbot.keyClicks(panel.url_edit, standin.url)
    qtbot.keyClick(panel.url_edit, Qt.Key.Key_Return)
    qtbot.keyClicks(panel.key_edit, API_KEY)
    qtbot.keyClick(panel.key_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: panel.start_button.isEnabled(), timeout=5_000)
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _state(panel) is ServerState.READY, timeout=10_000)
    assert "internvl3" in panel.remote_model_label.text()
    assert standin.url in panel.detail_label.text()

    # A loaded image is recognised through the pipeline and streams into the result view.
    view = ResultView()
    qtbot.addWidget(view)
    chunks: list[str] = []
    panel.runs.text.connect(lambda _part, t: chunks.append(t))
    panel.runs.text.connect(lambda _part, t: view.append_text(t))
    with qtbot.waitSignal(panel.runs.finished, timeout=20_000) as blocker:
        panel.runs.start([Source(image=make_image((640, 480)), kind="paste", label="page.png")],
                         "paste", "page.png")
    text = view.full_text()
    assert text == blocker.args[1].results[0].text and len(chunks) > 10
    assert text.startswith("[image 640x480]")  # the stand-in saw our image
    assert "Invoice No. 2024-0042" in text and "Total: 59.00 EUR" in text

    # The choices were saved for the next start of the app.
    qtbot.waitUntil(lambda: Settings.load().endpoint == standin.url, timeout=5_000)
    saved = Settings.load()
    assert (saved.engine, saved.api_key) == ("openai", API_KEY)


def test_switching_engine_stops_the_local_server(make_panel, fake_lmdeploy, qtbot, model_dir):
    panel = make_panel(Settings(engine="lmdeploy", lmdeploy_command=str(fake_lmdeploy.exe), model=model_dir))
    panel.start()
    qtbot.waitUntil(lambda: _state(panel) is ServerState.READY, timeout=20_000)
    pids = fake_lmdeploy.pids()
    index = panel.engine_combo.findData("cpu")
    panel.engine_combo.setCurrentIndex(index)
    panel.engine_combo.activated.emit(index)
    qtbot.waitUntil(lambda: panel.engines.engine is not None and panel.engines.engine.name == "cpu",
                    timeout=20_000)
    assert wait_dead(pids) == []
    assert "CPU" in panel.state_label.text() and not panel.log_box.isVisible()


@pytest.mark.skipif(HAS_GPU, reason="this machine has a GPU")
def test_no_gpu_meters_and_auto_say_so(make_panel, qtbot, aloop):
    panel = make_panel(Settings(engine="auto"))
    task = aloop.create_task(panel.engines.prepare())  # what the main window does at start
    qtbot.waitUntil(task.done, timeout=20_000)
    assert panel.auto_label.text().startswith("Automatic picked CPU")
    assert "no NVIDIA GPU can be used" in panel.auto_label.text()
    qtbot.waitUntil(lambda: "No NVIDIA driver is installed" in panel.gpu_label.text(), timeout=20_000)
    assert "CPU engine is used" in panel.gpu_label.text()
    # Meters: sampled off the GUI thread while visible; without a GPU they say so.
    assert panel.poller.active
    qtbot.waitUntil(lambda: panel.meters.last is not None, timeout=10_000)
    assert "No NVIDIA GPU" in panel.meters.gpu_note.text()
    assert "The CPU engine is used." in panel.meters.gpu_note.text()
    assert panel.meters.cpu_bar.format().endswith("%") and "GiB" in panel.meters.ram_bar.format()
    assert panel.meters.gpu_bars() == []
    panel.hide()
    assert not panel.poller.active, "meters must not sample while nobody looks"
    panel.show()
    assert panel.poller.active


def _probe(*gpus: tuple[str, float, float, tuple[int, int]]) -> Probe:
    return Probe([GpuInfo(i, name, total, free, cc) for i, (name, total, free, cc) in enumerate(gpus)])


@pytest.mark.parametrize("probe, expect, absent", [
    (_probe(("NVIDIA GeForce RTX 3090", 24.0, 23.2, (8, 6))),
     ["Recommended: InternVL3-8B (bfloat16)", "23.2 GiB free"], ["AWQ"]),
    (_probe(("NVIDIA GeForce RTX 2080 Ti", 11.0, 10.6, (7, 5))),
     ["Recommended: InternVL3-8B-AWQ (float16, AWQ 4-bit weights)", "compute capability below 8.0"],
     ["(bfloat16"]),
    (_probe(("NVIDIA GeForce GTX 1080 Ti", 11.0, 10.8, (6, 1))),
     ["No model fits", "older than TurboMind supports"], ["Recommended"]),
    (_probe(("NVIDIA RTX 4090", 24.0, 23.0, (8, 9)), ("NVIDIA RTX 4090", 24.0, 23.0, (8, 9))),
     ["InternVL3-38B-AWQ", "on 2 GPUs", "--tp 2"], []),
    (_probe(("NVIDIA GeForce GTX 1650", 4.0, 3.8, (7, 5))),
     ["Recommended: InternVL3-2B-AWQ (float16, AWQ 4-bit weights)"], []),
    (_probe(("NVIDIA GeForce GTX 1650", 4.0, 1.9, (7, 5))),  # a browser holds the rest
     ["No model fits", "1.9 GiB free", "Close other GPU programs"], ["Recommended"]),
])
def test_advice_text_for_synthetic_probes(probe, expect, absent):
    text = advice_text(probe, gpu.advise(probe, platform="linux"))
    for part in expect:
        assert part in text
    for part in absent:
        assert part not in text


def test_gpu_text_and_model_list_follow_the_probe():
    probe = _probe(("NVIDIA GeForce RTX 3090", 24.0, 23.2, (8, 6)))
    assert gpu_text(probe) == ("GPU 0: NVIDIA GeForce RTX 3090, 23.2 of 24.0 GiB free, "
                               "compute capability 8.6 (bf16)")
    assert gpu_text(Probe(reason="no NVIDIA driver", status="no-driver")) == (
        "No NVIDIA driver is installed, so no GPU can be used.")
    assert gpu_text(Probe(reason="the NVIDIA driver reports no GPU")) == (
        "No NVIDIA GPU found: the driver reports none.")
    labels = dict((model, label) for label, model in model_choices(probe, {"InternVL3-2B": "/m/2b"}))
    assert "more than the free VRAM" not in labels["InternVL3-8B"] and "15.9 GB download" in labels["InternVL3-8B"]
    assert "more than the free VRAM" in labels["InternVL3-14B"]
    assert "on disk" in labels["InternVL3-2B"] and "Qwen2.5-VL-7B" in labels
    # Without a probe (or a GPU) nothing is marked: there is nothing to compare with.
    assert not any("free VRAM" in label for label, _ in model_choices(None))


def test_install_note_is_said_once_where_it_applies():
    card = _probe(("NVIDIA GeForce RTX 4070", 12.0, 11.0, (8, 9)))
    assert "pip install 'desktop-ocr[gpu]'" in install_text(card, lmdeploy_found=False)
    assert install_text(card, lmdeploy_found=True) == ""
    assert install_text(Probe(reason="no driver"), lmdeploy_found=False) == ""


def test_panel_shows_advice_from_the_probe(make_panel, qtbot, monkeypatch, tmp_path):
    probe = _probe(("NVIDIA GeForce RTX 2080 Ti", 11.0, 10.6, (7, 5)))
    monkeypatch.setattr(gpu, "probe", lambda: probe)
    panel = make_panel(Settings(engine="lmdeploy", models_dir=str(tmp_path / "models")))
    qtbot.waitUntil(lambda: "Recommended" in panel.advice_label.text(), timeout=20_000)
    assert "InternVL3-8B-AWQ" in panel.advice_label.text()
    assert "RTX 2080 Ti, 10.6 of 11.0 GiB free, compute capability 7.5 (fp16 only)" in panel.gpu_label.text()
    assert panel.model_combo.itemText(0) == "Automatic: InternVL3-8B-AWQ"
    # Nothing on disk: the advised model is offered as a download, in place.
    assert panel.offer_box.isVisible() and "InternVL3-8B-AWQ" in panel.offer_label.text()
    assert panel.offer_button.text() == "Download InternVL3-8B-AWQ"
    # Choosing a model saves it.
    index = panel.model_combo.findData("InternVL3-2B")
    panel.model_combo.setCurrentIndex(index)
    panel.model_combo.activated.emit(index)
    assert panel.settings.model == "InternVL3-2B"
    qtbot.waitUntil(lambda: Settings.load().model == "InternVL3-2B", timeout=5_000)


def test_meters_show_each_gpu():
    view = MetersView()
    view.show_metrics(Metrics(37.0, 6.0, 32.0, [GpuMetrics(0, "RTX 4090", 85.0, 20.5, 24.0),
                                                GpuMetrics(1, "RTX 4090", 3.0, 1.0, 24.0)]))
    bars = view.gpu_bars()
    assert [(u.value(), u.format()) for u, _ in bars] == [(85, "85 % busy"), (3, "3 % busy")]
    assert bars[0][1].format() == "20.5 of 24.0 GiB VRAM" and bars[0][1].value() == 854
    assert not view.gpu_note.isVisibleTo(view)
    view.show_metrics(Metrics(5.0, 6.0, 32.0, [], "no NVIDIA driver"))
    assert view.gpu_bars() == [] and view.gpu_note.text().startswith("No NVIDIA GPU to measure.")


def test_main_window_toggles_the_panel(qtbot, aloop, notes, app_dirs):
    win = MainWindow(Settings(engine="cpu"), notifications=notes)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    panel = win.engine_panel
    assert not panel.isVisible() and not panel.poller.active
    assert win.engine_panel_action in win.view_menu.actions()
    win.engine_panel_action.trigger()
    qtbot.waitUntil(panel.isVisible, timeout=2_000)
    assert panel.poller.active
    win.engine_panel_action.trigger()
    qtbot.waitUntil(lambda: not panel.isVisible(), timeout=2_000)
    assert not panel.poller.active
    task = aloop.create_task(panel.shutdown())
    qtbot.waitUntil(task.done, timeout=10_000)
    win.close()


@pytest.mark.slow
def test_transformers_engine_from_the_panel(make_panel, tiny_internvl, qtbot):
    # GIVEN the panel on the CPU engine
    panel = make_panel(Settings(engine="cpu"))
    # WHEN the user picks transformers, types the model folder and presses Start
    index = panel.engine_combo.findData("transformers")
    assert index >= 0
    panel.engine_combo.setCurrentIndex(index)
    panel.engine_combo.activated.emit(index)
    assert panel.folder_edit.isVisible() and not panel.lmdeploy_edit.isVisible()
    assert not panel.model_combo.isVisible() and panel.log_box.title() == "Worker log"
    qtbot.keyClicks(panel.folder_edit, str(tiny_internvl.folder))
    qtbot.keyClick(panel.folder_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: panel.start_button.isEnabled(), timeout=10_000)
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    # THEN the worker loads the folder on the CPU, and its log shows in the panel
    qtbot.waitUntil(lambda: _state(panel) is ServerState.READY, timeout=120_000)
    assert "ready on the CPU in float32" in panel.detail_label.text()
    assert "[worker] loading" in panel.log_view.toPlainText()
    pid = panel.engines.engine.server.pid
    # AND an image is recognised through it, streaming into the result view
    view = ResultView()
    qtbot.addWidget(view)
    panel.settings.max_tokens = 12
    panel.runs.text.connect(lambda _part, t: view.append_text(t))
    with qtbot.waitSignal(panel.runs.finished, timeout=60_000) as blocker:
        panel.runs.start([Source(image=make_image((640, 480)), kind="paste", label="page.png")],
                         "paste", "page.png")
    (result,) = blocker.args[1].results
    assert result.ok and result.text and result.engine == "transformers"
    assert view.full_text() == result.text
    # AND Stop ends the worker process
    qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _state(panel) is ServerState.STOPPED, timeout=20_000)
    assert wait_dead([pid]) == []
    assert Settings.load().transformers_model == str(tiny_internvl.folder)


def test_time_limit_is_the_timeout_setting(make_panel, qtbot, app_dirs):
    # GIVEN the panel on the remote engine
    settings = Settings(engine="openai", endpoint="http://127.0.0.1:9")
    panel = make_panel(settings)
    assert panel.timeout_spin.value() == settings.timeout
    # WHEN the user types a new time limit
    panel.timeout_spin.selectAll()
    qtbot.keyClicks(panel.timeout_spin, "45")
    qtbot.keyClick(panel.timeout_spin, Qt.Key.Key_Return)
    # THEN the setting changes, is saved, and the engine built from it uses it
    assert settings.timeout == 45
    qtbot.waitUntil(lambda: Settings.load().timeout == 45, timeout=5_000)
    qtbot.waitUntil(lambda: getattr(panel.engines.engine, "timeout", None) == 45, timeout=5_000)


def _visible_texts(panel) -> str:
    from PySide6.QtWidgets import QLabel

    return "\n".join(lbl.text() for lbl in panel.findChildren(QLabel) if lbl.isVisibleTo(panel))


def test_a_missing_local_engine_is_said_once_and_start_waits_for_it(make_panel, qtbot, monkeypatch,
                                                                     tmp_path):
    # GIVEN a GPU that could run a model, but no lmdeploy anywhere
    import desktop_ocr.gui.engine_panel as engine_panel

    card = _probe(("NVIDIA GeForce RTX 4070", 12.0, 11.0, (8, 9)))
    monkeypatch.setattr(gpu, "probe", lambda: card)
    monkeypatch.setattr(engine_panel, "locate_lmdeploy",
                        lambda settings: (None, "lmdeploy is not installed: pip install "
                                                "'desktop-ocr[gpu]', or set the lmdeploy command"))
    monkeypatch.setenv("PATH", str(tmp_path))
    panel = make_panel(Settings(engine="lmdeploy", models_dir=str(tmp_path / "models")))
    qtbot.waitUntil(lambda: panel.lmdeploy_found is False, timeout=20_000)
    # THEN how to install it is said once, in one place
    assert _visible_texts(panel).count("pip install") == 1
    assert panel.install_label.isVisible() and panel.lmdeploy_label.text() == "Not installed (see above)."
    # AND Start is off while it cannot work, and says why
    assert not panel.start_button.isEnabled()
    assert panel.start_button.toolTip() == "lmdeploy is not installed on this computer."
    # AND the CPU engine can be chosen and started
    index = panel.engine_combo.findData("cpu")
    panel.engine_combo.setCurrentIndex(index)
    panel.engine_combo.activated.emit(index)
    qtbot.waitUntil(panel.start_button.isEnabled, timeout=10_000)


def test_no_gpu_is_not_claimed_when_it_could_not_be_checked():
    # GIVEN probes that never asked a driver (no library, an NVML error)
    # THEN the panel says the GPU could not be checked, not that there is none
    no_library = gpu_text(Probe(reason="nvidia-ml-py is not installed", status="no-library"))
    failed = gpu_text(Probe(reason="NVML error (Unknown Error)", status="error"))
    for text in (no_library, failed):
        assert text.startswith("The GPU could not be checked") and "No NVIDIA GPU found" not in text
    assert "Unknown Error" in failed


def test_the_remote_engine_without_an_address_says_where_to_give_it(make_panel, qtbot, aloop, notes):
    # GIVEN the remote engine chosen with no address (as a settings file can have it)
    panel = make_panel(Settings(engine="openai"))
    task = aloop.create_task(panel.engines.prepare())
    qtbot.waitUntil(task.done, timeout=10_000)
    # THEN the message speaks of the engine panel, not of a command-line flag
    assert isinstance(task.exception(), Exception)
    message = task.exception().user_message
    assert "Engine panel" in message and "--endpoint" not in message
    # AND Start waits for the address
    assert not panel.start_button.isEnabled()
    assert panel.start_button.toolTip() == "Enter the server's address first."
