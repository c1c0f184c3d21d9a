"""The model manager and the engine panel's download offer, against the fake hub (a real
HTTP server process) and the fake lmdeploy: no model on disk means a download offer, not
a failed start; after the download the same Start runs the downloaded folder."""

from __future__ import annotations

import pytest
from engine_helpers import wait_dead
from hub_helpers import child_env, hashes, make_repo, start_fake_hub
from PySide6.QtCore import Qt

from desktop_ocr.core.settings import Settings
from desktop_ocr.engines.lmdeploy_server import ServerState
from desktop_ocr.engines.model_download import JobState
from desktop_ocr.gui.engine_host import EngineHost
from desktop_ocr.gui.engine_panel import EnginePanel
from desktop_ocr.gui.model_manager import ModelManagerDialog

REPO = "OpenGVLab/InternVL3-1B"  # the catalog's repository, served by the fake hub in miniature


@pytest.fixture
def hub(tmp_path):
    repos = tmp_path / "repos"
    expected = make_repo(repos, REPO, 3_000_000, shards=2)
    server = start_fake_hub(repos, tmp_path / "hub.jsonl", "--rate", "1500000")
    server.expected = expected  # type: ignore[attr-defined]
    yield server
    server.stop()


@pytest.fixture
def panel_for(qtbot, aloop, notes, app_dirs, tmp_path):
    made: list[EnginePanel] = []

    def make(settings: Settings) -> EnginePanel:
        panel = EnginePanel(EngineHost(settings, notifications=notes), settings, notes)
        panel.downloads.env = child_env(tmp_path)
        panel.resize(440, 900)
        qtbot.addWidget(panel)
        panel.show()
        qtbot.waitExposed(panel)
        made.append(panel)
        return panel

    yield make

    async def close(panel: EnginePanel) -> None:
        await panel.engines.shutdown()
        await panel.shutdown()

    for panel in made:
        task = aloop.create_task(close(panel))
        qtbot.waitUntil(task.done, timeout=20_000)


def test_no_model_on_disk_offers_the_download_then_starts_it(panel_for, fake_lmdeploy, hub, qtbot, tmp_path):
    # GIVEN the local engine with InternVL3-1B chosen, nothing on disk, a mirror as the source
    models = tmp_path / "models"
    settings = Settings(engine="lmdeploy", lmdeploy_command=str(fake_lmdeploy.exe), model="InternVL3-1B",
                        models_dir=str(models), model_source=hub.url, start_timeout=30)
    panel = panel_for(settings)
    # WHEN Start is pressed
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    # THEN no server is spawned: the panel says the model is not here and offers it
    qtbot.waitUntil(lambda: "Not downloaded" in panel.state_label.text(), timeout=10_000)
    assert not fake_lmdeploy.argv_file.exists()
    assert panel.offer_box.isVisible() and panel.offer_button.text() == "Download InternVL3-1B"
    assert "1.8 GB" in panel.offer_label.text()
    assert panel.engines.engine_status.state is not ServerState.FAILED
    # WHEN the offer is taken: the model manager opens and downloads it, with progress
    qtbot.mouseClick(panel.offer_button, Qt.MouseButton.LeftButton)
    dialog = panel.models_dialog
    assert isinstance(dialog, ModelManagerDialog) and dialog.isVisible()
    qtbot.waitUntil(lambda: panel.downloads.job("InternVL3-1B") is not None, timeout=10_000)
    job = panel.downloads.job("InternVL3-1B")
    qtbot.waitUntil(lambda: 0 < dialog.progress.value() < 1000, timeout=10_000)
    assert "MB of" in dialog.progress_label.text()
    qtbot.waitUntil(lambda: job.state == JobState.DONE, timeout=30_000)
    assert hashes(models / "InternVL3-1B") == hub.expected
    # THEN the offer goes away, the list shows it on disk, and Start serves that folder
    qtbot.waitUntil(lambda: not panel.offer_box.isVisible(), timeout=10_000)
    qtbot.waitUntil(lambda: str(models / "InternVL3-1B") in _status_of(dialog, "InternVL3-1B"), timeout=10_000)
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.engines.engine_status.state is ServerState.READY, timeout=20_000)
    assert fake_lmdeploy.argv()[2] == str(models / "InternVL3-1B")
    pids = fake_lmdeploy.pids()
    panel.stop()
    qtbot.waitUntil(lambda: panel.engines.engine_status.state is ServerState.STOPPED, timeout=20_000)
    assert wait_dead(pids) == []


def _status_of(dialog: ModelManagerDialog, name: str) -> str:
    for row in range(dialog.table.rowCount()):
        if dialog.table.item(row, 0).data(Qt.ItemDataRole.UserRole) == name:
            return dialog.table.item(row, dialog.table.columnCount() - 1).text()
    return ""


def test_pause_resume_cancel_and_remove_in_the_manager(panel_for, hub, qtbot, tmp_path):
    models = tmp_path / "models"
    panel = panel_for(Settings(engine="cpu", models_dir=str(models), model_source=hub.url))
    dialog = panel.open_models()
    qtbot.waitUntil(lambda: dialog.table.rowCount() > 20, timeout=10_000)
    dialog.select("InternVL3-1B")
    assert dialog.source_combo.currentData() == "mirror" and dialog.mirror_edit.text() == hub.url
    # Download, then Pause part way: the bytes stay, the row says where it stopped
    qtbot.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
    job = panel.downloads.job("InternVL3-1B")
    qtbot.waitUntil(lambda: job.done_bytes > 500_000, timeout=20_000)
    assert dialog.pause_button.isEnabled()
    qtbot.mouseClick(dialog.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: job.state == JobState.PAUSED, timeout=10_000)
    qtbot.waitUntil(lambda: "download stopped at" in _status_of(dialog, "InternVL3-1B"), timeout=10_000)
    assert dialog.download_button.text() == "Resume"
    # Resume finishes it
    qtbot.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.downloads.job("InternVL3-1B").state == JobState.DONE, timeout=30_000)
    qtbot.waitUntil(lambda: "Desktop OCR" in _status_of(dialog, "InternVL3-1B"), timeout=10_000)
    assert hashes(models / "InternVL3-1B") == hub.expected
    # Delete from disk asks by a second click, then removes it
    dialog.select("InternVL3-1B")
    qtbot.waitUntil(dialog.remove_button.isEnabled, timeout=5_000)
    qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    assert dialog.remove_button.text().startswith("Click again to delete")
    assert (models / "InternVL3-1B").exists()
    qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not (models / "InternVL3-1B").exists(), timeout=10_000)
    qtbot.waitUntil(lambda: _status_of(dialog, "InternVL3-1B") == "—", timeout=10_000)
    # Cancel during a download removes its partial files
    qtbot.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
    job = panel.downloads.job("InternVL3-1B")
    qtbot.waitUntil(lambda: job.done_bytes > 300_000, timeout=20_000)
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: job.state == JobState.CANCELLED, timeout=10_000)
    assert not (models / ".partial" / "InternVL3-1B").exists()


def test_a_failed_download_says_why_in_the_manager(panel_for, hub, qtbot, tmp_path, notes):
    panel = panel_for(Settings(engine="cpu", models_dir=str(tmp_path / "models"), model_source=hub.url))
    dialog = panel.open_models()
    qtbot.waitUntil(lambda: dialog.table.rowCount() > 20, timeout=10_000)
    dialog.select("InternVL3-2B")  # not on this hub
    qtbot.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
    job = panel.downloads.job("InternVL3-2B")
    qtbot.waitUntil(lambda: job.state == JobState.FAILED, timeout=20_000)
    assert "OpenGVLab/InternVL3-2B was not found" in dialog.progress_label.text()
    assert "another source" in dialog.progress_label.text()
    qtbot.waitUntil(lambda: any("InternVL3-2B" in n.message for n in notes.seen), timeout=5_000)
