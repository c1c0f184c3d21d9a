"""The engine panel (a dock): choose the recognition engine, start and stop it, watch it.

Engine choice (auto / CPU / local model / remote), the model with advice from the GPU
probe and the model catalog (a download offer when it is not on disk, and the model
manager: Models…), the remote server's URL and key, the engine's state (stopped /
starting with elapsed time / ready / failed with the reason and a fix), the local
server's log, and live CPU / RAM / GPU meters while the panel is visible.

Nothing here blocks the GUI thread: probing the GPU, finding lmdeploy, saving settings
and sampling meters run in worker threads; starting and stopping engines are awaited
through qasync. Errors go to the notification manager; the panel also shows the last
failure in place, with its fix.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, Qt, QTimer, QUrl
from PySide6.QtGui import QDesktopServices, QFont, QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop_ocr.core import catalog
from desktop_ocr.core.contract import EngineError
from desktop_ocr.core.notifications import NotificationManager, Severity
from desktop_ocr.core.settings import Settings
from desktop_ocr.engines import gpu
from desktop_ocr.engines.lmdeploy_server import (
    ServerState,
    ServerStatus,
    default_log_path,
    locate_lmdeploy,
)
from desktop_ocr.engines.model_store import ModelStore
from desktop_ocr.gui import look
from desktop_ocr.gui.engine_host import EngineHost
from desktop_ocr.gui.i18n import engine_name, localize, sentences, translate
from desktop_ocr.gui.meters import MetersView, MetricsPoller
from desktop_ocr.gui.model_manager import ModelDownloads, ModelManagerDialog, size_text

log = logging.getLogger(__name__)

ENGINE_CHOICES: tuple[tuple[str, str], ...] = (
    ("auto", QT_TRANSLATE_NOOP("EnginePanel", "Automatic")),
    ("cpu", QT_TRANSLATE_NOOP("EnginePanel", "CPU (RapidOCR, no GPU needed)")),
    ("lmdeploy", QT_TRANSLATE_NOOP("EnginePanel", "A vision model on this computer (LMDeploy)")),
    ("transformers", QT_TRANSLATE_NOOP("EnginePanel", "A vision model on this computer (transformers)")),
    ("openai", QT_TRANSLATE_NOOP("EnginePanel", "Remote server (OpenAI-compatible)")),
)
OTHER_MODEL = "\x00other"  # the model list's "type an id or a folder" entry
# A state's name and the look.accent() kind of its dot.
STATE_LOOK = {
    ServerState.STOPPED: (QT_TRANSLATE_NOOP("EnginePanel", "Stopped"), "muted"),
    ServerState.STARTING: (QT_TRANSLATE_NOOP("EnginePanel", "Starting"), "warning"),
    ServerState.READY: (QT_TRANSLATE_NOOP("EnginePanel", "Ready"), "ok"),
    ServerState.FAILED: (QT_TRANSLATE_NOOP("EnginePanel", "Failed"), "error"),
}
LOG_LINES = 500


# ---------------------------------------------------------------- texts (pure: tested without Qt)


def gpu_text(probe: gpu.Probe) -> str:
    """One line per GPU: name, free / total VRAM, compute capability, bf16 or not. Without
    one, what was found out: "no GPU" only when the driver was asked and said so."""
    if not probe.gpus:
        if probe.status == "ok":
            return translate("EnginePanel", "No NVIDIA GPU found: the driver reports none.")
        if probe.status == "no-driver":
            return translate("EnginePanel", "No NVIDIA driver is installed, so no GPU can be used.")
        if probe.status == "no-library":
            return translate("EnginePanel", "The GPU could not be checked: the NVIDIA library for "
                                            "Python (nvidia-ml-py) is missing.")
        return translate("EnginePanel", "The GPU could not be checked ({why}).").format(
            why=localize(probe.reason))
    lines = []
    for g in probe.gpus:
        cc = ".".join(map(str, g.compute_capability))
        lines.append(translate("EnginePanel", "GPU {i}: {name}, {free} of {total} GiB free, compute "
                                              "capability {cc} ({dtype})").format(
            i=g.index, name=g.name, free=f"{g.free_gib:.1f}", total=f"{g.total_gib:.1f}", cc=cc,
            dtype="bf16" if g.bf16 else translate("EnginePanel", "fp16 only")))
    return "\n".join(lines)


def advice_text(probe: gpu.Probe, advice: gpu.Advice) -> str:
    """Which model to run here and why, in a sentence or two."""
    if not probe.gpus:
        return translate("EnginePanel", "No model can run on this computer's GPU: the CPU engine is "
                                        "used, or a remote server.")
    if not advice.ok:
        return sentences(translate("EnginePanel", "No model fits."), localize(advice.reason))
    how = [advice.dtype]
    if advice.model_format == "awq":
        how.append(translate("EnginePanel", "AWQ 4-bit weights"))
    if advice.tp > 1:
        how.append(translate("EnginePanel", "on {n} GPUs").format(n=advice.tp))
    text = translate("EnginePanel", "Recommended: {name} ({how}).").format(
        name=advice.name, how=", ".join(how))
    text = sentences(text, localize(advice.reason))
    if advice.better:
        text = sentences(text, translate("EnginePanel", "{name} would fit too and read better: "
                                                        "download it with Models…").format(
            name=advice.better))
    return text


INSTALL_TEXT = QT_TRANSLATE_NOOP(
    "EnginePanel", "To run a model on this GPU, install the local engine once: "
    "pip install 'desktop-ocr[gpu]' adds LMDeploy and PyTorch (about 5 GB, needs an NVIDIA "
    "driver); the model itself is a separate download (Models…).")


def install_text(probe: gpu.Probe | None, lmdeploy_found: bool) -> str:
    """What installing the local engine takes, said once, where it applies."""
    if probe is None or not probe.gpus or lmdeploy_found:
        return ""
    return translate("EnginePanel", INSTALL_TEXT)


def model_choices(probe: gpu.Probe | None, on_disk: dict[str, str] | None = None,
                  session_len: int = 16384) -> list[tuple[str, str]]:
    """(label, catalog name) for the model list: size, need, on disk, and too big to fit."""
    free = 0.0
    if probe is not None:
        usable = [g for g in probe.gpus if g.compute_capability >= gpu.MIN_CC]
        free = sum(max(0.0, g.free_gib - gpu.HEADROOM_GIB) for g in usable)
    on_disk = on_disk or {}
    out: list[tuple[str, str]] = []
    for m in catalog.load().models:
        need = m.need_gib(session_len)
        label = (f"{m.name} · " + translate("EnginePanel", "needs {n} GiB").format(n=f"{need:.1f}")
                 + " · " + (translate("EnginePanel", "on disk") if m.name in on_disk else
                            translate("EnginePanel", "{size} download").format(
                                size=size_text(m.weights_gb * 1e9))))
        if probe is not None and probe.gpus and need > free:
            label += translate("EnginePanel", " (more than the free VRAM)")
        out.append((label, m.name))
    return out


# ---------------------------------------------------------------- the panel


class EnginePanel(QDockWidget):
    def __init__(self, engines: EngineHost, settings: Settings, notifications: NotificationManager,
                 parent: QWidget | None = None, *,
                 open_url: Callable[[QUrl], Any] = QDesktopServices.openUrl,
                 poller: MetricsPoller | None = None) -> None:
        super().__init__(translate("EnginePanel", "Engine"), parent)
        self.setObjectName("enginePanel")
        self.engines = engines
        self.settings = settings
        self.notifications = notifications
        self.open_url = open_url
        self.probe: gpu.Probe | None = None
        self.advice: gpu.Advice | None = None
        self._tasks: set[asyncio.Task] = set()
        self._dirty = False  # settings changed since the engine was built
        self._switching = False
        self._save_task: asyncio.Task | None = None
        self._save_wanted = False
        self.lmdeploy_found: bool | None = None  # None: not looked for yet
        self.on_disk: dict[str, str] = {}
        self.offer_model = ""  # the model Start would run, when it is not on disk
        self.downloads = ModelDownloads(settings, notifications, self)
        self.downloads.finished.connect(self._download_finished)
        self.models_dialog: ModelManagerDialog | None = None
        self._build()
        self.poller = poller or MetricsPoller(notifications, self)
        self.poller.sampled.connect(self.meters.show_metrics)
        self.visibilityChanged.connect(self._visibility_changed)
        self._probed = False

        engines.engineState.connect(self._on_state)
        engines.engineLog.connect(self._append_log)
        engines.engineChanged.connect(self._on_engine_changed)
        self._select_engine_choice(settings.engine)
        self._fill_models()
        self._on_state(engines.engine_status)
        if engines.engine is not None:
            self._on_engine_changed(engines.engine_title())
        else:
            self._show_sections()

    def _visibility_changed(self, visible: bool) -> None:
        # Probing and sampling cost something (NVML, a subprocess to find lmdeploy): only
        # once somebody looks, and the meters only while they do.
        if visible and not self._probed:
            self._probed = True
            self.refresh()
        self.poller.set_active(visible)

    # ------------------------------------------------------------ construction

    def _build(self) -> None:
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(8, 8, 8, 8)

        choose = QFormLayout()
        self.engine_combo = QComboBox()
        for name, label in ENGINE_CHOICES:
            self.engine_combo.addItem(translate("EnginePanel", label), name)
        self.engine_combo.activated.connect(self._engine_chosen)
        self.engine_combo.setAccessibleName(translate("EnginePanel", "Engine"))
        choose.addRow(translate("EnginePanel", "&Engine"), self.engine_combo)
        # The `timeout` setting (--timeout in the CLI): how long a server may stay silent.
        self.timeout_spin = QDoubleSpinBox()
        self.timeout_spin.setRange(5.0, 3600.0)
        self.timeout_spin.setDecimals(0)
        self.timeout_spin.setSuffix(translate("EnginePanel", " s"))
        self.timeout_spin.setValue(self.settings.timeout)
        self.timeout_spin.setToolTip(translate("EnginePanel", "The longest wait for a server's first "
                                                              "word, and between two words, before "
                                                              "giving up"))
        self.timeout_spin.setAccessibleName(translate("EnginePanel", "Time limit"))
        self.timeout_spin.editingFinished.connect(self._timeout_edited)
        choose.addRow(translate("EnginePanel", "Time &limit"), self.timeout_spin)
        layout.addLayout(choose)
        self.auto_label = _note()
        layout.addWidget(self.auto_label)

        self.local_box = QGroupBox(translate("EnginePanel", "A model on this computer"))
        local = self._local_form = QFormLayout(self.local_box)
        self.gpu_label = _note(translate("EnginePanel", "Looking for a GPU…"))
        local.addRow(self.gpu_label)
        self.advice_label = _note()
        local.addRow(self.advice_label)
        self.install_label = _note()
        self.install_label.hide()
        local.addRow(self.install_label)
        self.offer_box = QWidget()
        offer = QHBoxLayout(self.offer_box)
        offer.setContentsMargins(0, 0, 0, 0)
        self.offer_label = _note()
        self.offer_button = QPushButton(translate("EnginePanel", "Download"))
        self.offer_button.clicked.connect(self.download_offered)
        offer.addWidget(self.offer_label, 1)
        offer.addWidget(self.offer_button, 0, Qt.AlignmentFlag.AlignTop)
        local.addRow(self.offer_box)
        self._local_form.setRowVisible(self.offer_box, False)
        self.model_combo = QComboBox()
        self.model_combo.activated.connect(self._model_chosen)
        self.model_combo.setAccessibleName(translate("EnginePanel", "Model"))
        local.addRow(translate("EnginePanel", "&Model"), self.model_combo)
        self.custom_model = QLineEdit()
        self.custom_model.setPlaceholderText(translate("EnginePanel", "a model folder, or a hub id "
                                                                      "that is on disk"))
        self.custom_model.setAccessibleName(translate("EnginePanel", "Other model"))
        self.custom_model.editingFinished.connect(self._custom_model_edited)
        local.addRow("", self.custom_model)
        self.lmdeploy_edit = QLineEdit(self.settings.lmdeploy_command)
        self.lmdeploy_edit.setPlaceholderText(translate("EnginePanel", "found automatically"))
        self.lmdeploy_edit.setToolTip(translate("EnginePanel", "An lmdeploy executable, or a Python "
                                                               "interpreter that has lmdeploy"))
        self.lmdeploy_edit.setAccessibleName(translate("EnginePanel", "lmdeploy program"))
        self.lmdeploy_edit.editingFinished.connect(self._lmdeploy_edited)
        local.addRow(translate("EnginePanel", "lmdeploy"), self.lmdeploy_edit)
        self.lmdeploy_label = _note()
        local.addRow(self.lmdeploy_label)
        self.folder_edit = QLineEdit(self.settings.transformers_model)
        self.folder_edit.setPlaceholderText(translate("EnginePanel", "folder of an InternVL3 -hf "
                                                                     "model, e.g. InternVL3-1B-hf"))
        self.folder_edit.setToolTip(translate("EnginePanel", "transformers loads this folder; "
                                                             "nothing is downloaded"))
        self.folder_edit.setAccessibleName(translate("EnginePanel", "Model folder"))
        self.folder_edit.editingFinished.connect(self._folder_edited)
        local.addRow(translate("EnginePanel", "Model &folder"), self.folder_edit)
        self.refresh_button = QPushButton(translate("EnginePanel", "Check again"))
        self.refresh_button.setToolTip(translate("EnginePanel", "Look for the GPU, lmdeploy and the "
                                                                "models on disk again"))
        self.refresh_button.clicked.connect(self.refresh)
        self.models_button = QPushButton(translate("EnginePanel", "Models…"))
        self.models_button.setToolTip(translate("EnginePanel", "Models on disk; download, pause, "
                                                               "resume and remove them"))
        self.models_button.clicked.connect(lambda: self.open_models())
        local_buttons = QWidget()
        row = QHBoxLayout(local_buttons)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.models_button)
        row.addWidget(self.refresh_button)
        row.addStretch(1)
        local.addRow("", local_buttons)
        layout.addWidget(self.local_box)

        self.remote_box = QGroupBox(translate("EnginePanel", "Remote server"))
        remote = QFormLayout(self.remote_box)
        self.url_edit = QLineEdit(self.settings.endpoint)
        self.url_edit.setPlaceholderText("http://gpu-server:23333")
        self.url_edit.setAccessibleName(translate("EnginePanel", "Server address"))
        self.url_edit.editingFinished.connect(self._remote_edited)
        remote.addRow(translate("EnginePanel", "&Address"), self.url_edit)
        self.key_edit = QLineEdit(self.settings.api_key)
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText(translate("EnginePanel", "none"))
        self.key_edit.setAccessibleName(translate("EnginePanel", "API key"))
        self.key_edit.editingFinished.connect(self._remote_edited)
        remote.addRow(translate("EnginePanel", "API &key"), self.key_edit)
        self.remote_model_label = _note(translate("EnginePanel", "The server says which model it runs "
                                                                 "when the engine starts."))
        remote.addRow(self.remote_model_label)
        layout.addWidget(self.remote_box)

        state_box = QGroupBox(translate("EnginePanel", "State"))
        state = QVBoxLayout(state_box)
        self.state_label = QLabel()
        self.state_label.setTextFormat(Qt.TextFormat.RichText)
        self.state_label.setWordWrap(True)
        state.addWidget(self.state_label)
        self.detail_label = _note()
        state.addWidget(self.detail_label)
        self.fix_label = _note()
        state.addWidget(self.fix_label)
        self.pending_label = _note(translate("EnginePanel", "Stop and start again to use the changed "
                                                            "settings."))
        self.pending_label.hide()
        state.addWidget(self.pending_label)
        buttons = QHBoxLayout()
        self.start_button = QPushButton(translate("EnginePanel", "Start"))
        self.start_button.clicked.connect(self.start)
        self.stop_button = QPushButton(translate("EnginePanel", "Stop"))
        self.stop_button.clicked.connect(self.stop)
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        state.addLayout(buttons)
        layout.addWidget(state_box)

        self.log_box = QGroupBox(translate("EnginePanel", "Server log"))
        log_layout = QVBoxLayout(self.log_box)
        self.log_view = QPlainTextEdit()
        self.log_view.setReadOnly(True)
        self.log_view.setMaximumBlockCount(LOG_LINES)
        self.log_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        fixed.setPointSizeF(max(7.0, QFont().pointSizeF() - 1))
        self.log_view.setFont(fixed)
        self.log_view.setMinimumHeight(120)
        self.log_view.setPlaceholderText(translate("EnginePanel", "The local server's output appears "
                                                                  "here while it runs."))
        self.log_view.setAccessibleName(translate("EnginePanel", "Server log"))
        log_layout.addWidget(self.log_view)
        self.open_log_button = QPushButton(translate("EnginePanel", "Open log file"))
        self.open_log_button.clicked.connect(self.open_log_file)
        log_layout.addWidget(self.open_log_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.log_box, 1)

        meters_box = QGroupBox(translate("EnginePanel", "This computer"))
        meters_layout = QVBoxLayout(meters_box)
        self.meters = MetersView()
        meters_layout.addWidget(self.meters)
        layout.addWidget(meters_box)
        layout.addStretch(0)

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(body)
        self.setWidget(scroll)
        self.setMinimumWidth(300)

        self._elapsed = QTimer(self)
        self._elapsed.setInterval(500)
        self._elapsed.timeout.connect(lambda: self._on_state(self.engines.engine_status))

    # ------------------------------------------------------------ helpers

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    @property
    def choice(self) -> str:
        return str(self.engine_combo.currentData())

    @property
    def resolved(self) -> str:
        """The engine the panel is about: what `auto` resolved to, else the choice."""
        engine = self.engines.engine
        if self.choice == "auto" and engine is not None:
            return engine.name
        return self.choice

    def _select_engine_choice(self, name: str) -> None:
        index = self.engine_combo.findData(name)
        self.engine_combo.setCurrentIndex(max(0, index))

    def save_settings(self) -> asyncio.Task:
        """Save in a worker thread; saves never overlap, so the last change is the one kept."""
        self._save_wanted = True
        if self._save_task is None or self._save_task.done():
            self._save_task = self._spawn(self._save_latest())
        return self._save_task

    async def _save_latest(self) -> None:
        while self._save_wanted:
            self._save_wanted = False
            # Serialise a copy: the GUI may change the settings again while the file is written.
            snapshot = copy.deepcopy(self.settings)
            try:
                await asyncio.to_thread(snapshot.save)
            except Exception as exc:
                self.notifications.report(exc, translate("EnginePanel", "The engine settings could "
                                                                        "not be saved"))
                return

    # ------------------------------------------------------------ probing

    def refresh(self) -> asyncio.Task:
        """Probe the GPU and look for lmdeploy (both off the GUI thread), then show the advice."""

        async def run() -> None:
            self.refresh_button.setEnabled(False)
            try:
                probe = await asyncio.to_thread(gpu.probe)
                snapshot = copy.deepcopy(self.settings)
                store = ModelStore.from_settings(snapshot)
                on_disk = await asyncio.to_thread(store.complete)
                advice = gpu.advise(probe, on_disk=on_disk, session_len=snapshot.session_len)
                wanted = snapshot.model or (advice.name if advice.ok else "")
                path = (await asyncio.to_thread(store.resolve, wanted))[0] if wanted else ""
                command, how = await asyncio.to_thread(locate_lmdeploy, snapshot)
            except Exception as exc:
                self.notifications.report(exc, translate("EnginePanel", "Checking the GPU failed"))
                return
            finally:
                self.refresh_button.setEnabled(True)
            self.probe, self.advice, self.on_disk = probe, advice, on_disk
            self.lmdeploy_found = bool(command)
            self.advice_label.setText(advice_text(probe, advice) if probe.gpus else "")
            self.advice_label.setVisible(bool(probe.gpus))
            install = install_text(probe, bool(command))
            self.install_label.setText(install)
            self.install_label.setVisible(bool(install))
            # Said once: with the install note shown, this line only says what was found.
            self.lmdeploy_label.setText(
                translate("EnginePanel", "Found: {how}").format(how=how) if command else
                translate("EnginePanel", "Not installed (see above).") if install else
                translate("EnginePanel", "Not installed: set the lmdeploy program above, or install "
                                         "the local engine."))
            self._show_offer(wanted if wanted and not path else "")
            self._fill_models()
            self._update_no_gpu_note()
            self._update_buttons()

        return self._spawn(run())

    def _sync_fields(self) -> None:
        """Show what the settings hold (they may have changed elsewhere: CLI, another dialog)."""
        self._select_engine_choice(self.settings.engine)
        if self._probed and self.lmdeploy_edit.text() != self.settings.lmdeploy_command:
            self.refresh()  # a different lmdeploy: look for it again
        for edit, value in ((self.url_edit, self.settings.endpoint), (self.key_edit, self.settings.api_key),
                            (self.lmdeploy_edit, self.settings.lmdeploy_command),
                            (self.folder_edit, self.settings.transformers_model)):
            if edit.text() != value and not edit.hasFocus():
                edit.setText(value)
        if self.model_combo.currentData() != self.settings.model or self.settings.model == "":
            self._fill_models()

    def _fill_models(self) -> None:
        combo = self.model_combo
        combo.clear()
        auto = translate("EnginePanel", "Automatic (from the free VRAM)")
        if self.advice is not None and self.advice.ok:
            auto = translate("EnginePanel", "Automatic: {name}").format(name=self.advice.name)
        combo.addItem(auto, "")
        for label, model in model_choices(self.probe, self.on_disk, self.settings.session_len):
            combo.addItem(label, model)
        combo.addItem(translate("EnginePanel", "Other (a model id or folder)…"), OTHER_MODEL)
        current = self.settings.model
        entry = catalog.load().get(current) if current and "/" in current and not current.startswith("/") else None
        index = combo.findData(entry.name if entry is not None else current)
        if index < 0:
            index = combo.findData(OTHER_MODEL)
            self.custom_model.setText(current)
        combo.setCurrentIndex(index)
        self.custom_model.setVisible(combo.currentData() == OTHER_MODEL)

    # ------------------------------------------------------------ user changes

    def _engine_chosen(self, _index: int) -> None:
        name = self.choice
        if name == self.settings.engine and self.engines.engine is not None and not self._dirty:
            return
        self.settings.engine = name
        self.save_settings()
        self._show_sections()
        self._spawn(self._switch(name))

    def _model_chosen(self, _index: int) -> None:
        data = self.model_combo.currentData()
        self.custom_model.setVisible(data == OTHER_MODEL)
        if data == OTHER_MODEL:
            self.custom_model.setFocus()
            return
        self._setting_changed(model=str(data))

    def _custom_model_edited(self) -> None:
        if self.model_combo.currentData() == OTHER_MODEL:
            self._setting_changed(model=self.custom_model.text().strip())

    def _folder_edited(self) -> None:
        self._setting_changed(transformers_model=self.folder_edit.text().strip())

    def _lmdeploy_edited(self) -> None:
        if self._setting_changed(lmdeploy_command=self.lmdeploy_edit.text().strip()):
            self.refresh()

    def _timeout_edited(self) -> None:
        self._setting_changed(timeout=float(self.timeout_spin.value()))

    def _remote_edited(self) -> None:
        self._setting_changed(endpoint=self.url_edit.text().strip(), api_key=self.key_edit.text().strip())

    def _setting_changed(self, **values: Any) -> bool:
        if all(getattr(self.settings, k) == v for k, v in values.items()):
            return False
        self.settings.update(values)
        self.save_settings()
        self._dirty = True
        if self._engine_busy():
            self.pending_label.show()
        else:
            # Rebuild now so `auto` (which a server URL changes) shows what it would pick.
            self._spawn(self._switch(self.choice))
        return True

    def _engine_busy(self) -> bool:
        state = self.engines.engine_status.state
        return state in (ServerState.STARTING, ServerState.READY) or self.engines.busy

    # ------------------------------------------------------------ engine control

    async def _switch(self, name: str) -> bool:
        """Stop the current engine and build `name` from the current settings. True when built."""
        self._switching = True
        self._update_buttons()
        try:
            if name == "openai" and not self.settings.endpoint:
                # Not an error yet: the user is about to type the URL. The old engine is
                # dropped all the same, so nothing recognises with an engine not chosen.
                with contextlib.suppress(EngineError):
                    await self.engines.switch_engine(name)
                self._show_state_text(translate("EnginePanel", "Stopped"), "muted",
                                      translate("EnginePanel", "Enter the server's address (and API "
                                                               "key), then Start."))
                return False
            await self.engines.switch_engine(name)
            self._dirty = False
            self.pending_label.hide()
            return True
        except Exception as exc:
            self.notifications.report(exc, translate("EnginePanel", "The engine cannot be used"))
            return False
        finally:
            self._switching = False
            self._update_buttons()

    def start(self) -> asyncio.Task:
        async def run() -> None:
            r = self.engines
            if self._dirty or r.engine is None or (self.choice != "auto" and r.engine.name != self.choice):
                if not await self._switch(self.choice):
                    return
            plan = getattr(r.engine, "plan", None)
            if plan is not None and plan.missing and getattr(r.engine.server, "command", None):
                # Not a failed start: the model is simply not here yet. Offer the download.
                self._show_offer(plan.missing, plan.problem)
                self._show_state_text(translate("EnginePanel", "Not downloaded"), "warning",
                                      translate("EnginePanel", "{name} is not on this computer yet.")
                                      .format(name=plan.missing),
                                      translate("EnginePanel", "Download it (the button above, or "
                                                               "Models…); Start works once it is here."))
                return
            try:
                await r.start_engine()
            except asyncio.CancelledError:
                return  # Stop was pressed while starting
            except Exception as exc:
                # The panel shows the reason and the fix in place; the notice says it short
                # (without the fix: said twice, it would be three times with the install note).
                import traceback

                log.error("starting the engine failed", exc_info=exc)
                self.notifications.notify(
                    translate("EnginePanel", "Starting {engine} failed: {why}").format(
                        engine=r.engine_title(), why=str(exc) or type(exc).__name__),
                    Severity.ERROR, "".join(traceback.format_exception(exc)))

        return self._spawn(run())

    def stop(self) -> asyncio.Task:
        async def run() -> None:
            self.stop_button.setEnabled(False)
            await self.engines.stop_engine()
            self.pending_label.hide()

        return self._spawn(run())

    # ------------------------------------------------------------ models on disk

    def _show_offer(self, name: str, problem: str = "") -> None:
        """Offer the download of `name` (the model Start would run); "" hides the offer."""
        self.offer_model = name
        entry = catalog.load().get(name) if name else None
        self._local_form.setRowVisible(self.offer_box, bool(name) and self._local_shown())
        if not name:
            return
        size = f" ({size_text(entry.weights_gb * 1e9)})" if entry is not None else ""
        why = translate("EnginePanel", "A copy is incomplete: {problem}.").format(
            problem=problem) if problem else ""
        self.offer_label.setText(sentences(translate("EnginePanel", "{name} is not on this computer "
                                                                    "yet.").format(name=f"{name}{size}"),
                                           why))
        self.offer_button.setText(translate("EnginePanel", "Download {name}").format(name=name)
                                  if entry is not None else translate("EnginePanel", "Models…"))
        job = self.downloads.job(name)
        self.offer_button.setEnabled(job is None or not job.running)

    def _local_shown(self) -> bool:
        """Where the download offer applies: the local engine, or a GPU that could run one."""
        shown = self.resolved if self.choice == "auto" else self.choice
        return shown == "lmdeploy" or (shown == "cpu" and self.probe is not None and bool(self.probe.gpus))

    def download_offered(self) -> None:
        name = self.offer_model
        entry = catalog.load().get(name) if name else None
        self.open_models(entry.name if entry is not None else None)

    def open_models(self, download: str | None = None) -> ModelManagerDialog:
        """Show the model manager; with `download`, start downloading that model in it."""
        if self.models_dialog is None:
            advised = self.advice.name if self.advice is not None and self.advice.ok else ""
            self.models_dialog = ModelManagerDialog(self.downloads, self.notifications, self, advised=advised)
        dialog = self.models_dialog
        dialog.show()
        dialog.raise_()
        if download:
            async def start_when_listed() -> None:
                await dialog.refresh()
                dialog.start_download(download)
                self._show_offer(self.offer_model)

            self._spawn(start_when_listed())
        return dialog

    def _download_finished(self, job: Any) -> None:
        if job.state == "done":
            # The engine was built when the model was missing: build it again on Start.
            self._dirty = True
            self.refresh()
        elif job.name == self.offer_model:
            self._show_offer(self.offer_model)

    def open_log_file(self) -> None:
        server = getattr(self.engines.engine, "server", None)
        path: Path = (getattr(server, "log_path", None) or default_log_path())
        if not path.exists():
            self.notifications.notify(translate("EnginePanel", "The local server has not written a log "
                                                               "yet."), Severity.INFO)
            return
        self.open_url(QUrl.fromLocalFile(str(path)))

    async def shutdown(self) -> None:
        """Stop sampling and finish background work (the engine host stops the engine)."""
        self.downloads.stop_all()  # paused, not lost: the same download resumes next time
        if self.models_dialog is not None:
            await self.models_dialog.shutdown()
            self.models_dialog.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            try:
                await task
            except BaseException:  # noqa: B036 - cancelled on purpose
                pass
        await self.poller.close()

    # ------------------------------------------------------------ reacting to the engine

    def _on_engine_changed(self, title: str) -> None:
        r = self.engines
        if self.choice == "auto":
            self.auto_label.setText(
                translate("EnginePanel", "Automatic picked {engine}, because {why}.").format(
                    engine=title, why=r.engine_reason) if r.engine_reason else
                translate("EnginePanel", "Automatic picked {engine}.").format(engine=title))
        self._sync_fields()
        self._show_sections()
        self.log_view.clear()
        server = getattr(r.engine, "server", None)
        if server is not None:
            self.log_view.setPlainText("\n".join(server.log_lines()))
        self._update_no_gpu_note()

    def _show_sections(self) -> None:
        shown = self.resolved if self.choice == "auto" else self.choice
        self.auto_label.setVisible(self.choice == "auto")
        if self.choice == "auto" and self.engines.engine is None:
            self.auto_label.setText(translate("EnginePanel", "Automatic: deciding…"))
        self.local_box.setVisible(shown in ("lmdeploy", "cpu", "transformers"))
        # The CPU engine needs no settings, but the GPU line says why InternVL3 is not used.
        local = shown == "lmdeploy"
        for w in (self.model_combo, self.custom_model, self.lmdeploy_edit, self.lmdeploy_label):
            self._local_form.setRowVisible(w, local)
        # Models… and Check again stay: with a GPU, models can be fetched before the engine is installed.
        self._local_form.setRowVisible(self.offer_box, local and bool(self.offer_model))
        self._local_form.setRowVisible(self.folder_edit, shown == "transformers")
        if local:
            self.custom_model.setVisible(self.model_combo.currentData() == OTHER_MODEL)
        self.local_box.setTitle({
            "lmdeploy": translate("EnginePanel", "A model on this computer"),
            "transformers": translate("EnginePanel", "A model on this computer (transformers)"),
        }.get(shown, translate("EnginePanel", "GPU")))
        self.remote_box.setVisible(shown == "openai")
        self.log_box.setVisible(shown in ("lmdeploy", "transformers"))
        self.log_box.setTitle(translate("EnginePanel", "Worker log") if shown == "transformers" else
                              translate("EnginePanel", "Server log"))
        self._update_no_gpu_note()
        self._update_buttons()

    def _update_no_gpu_note(self) -> None:
        used = {"cpu": translate("EnginePanel", "The CPU engine is used."),
                "openai": translate("EnginePanel", "Recognition runs on the remote server."),
                "lmdeploy": translate("EnginePanel", "The local model server needs one."),
                "transformers": translate("EnginePanel", "InternVL3 runs on the CPU (or the Apple GPU).")}
        self.meters.no_gpu_suffix = used.get(self.resolved, "")
        if self.probe is not None:
            instead = {"cpu": translate("EnginePanel", "No vision model can run here; the CPU engine is used "
                                               "instead."),
                       "openai": translate("EnginePanel", "Recognition runs on the remote server."),
                       "lmdeploy": translate("EnginePanel", "The local model server needs one: choose the CPU "
                                                    "engine or a remote server."),
                       "transformers": translate("EnginePanel", "transformers runs InternVL3 on the CPU (slow: "
                                                        "a small model such as InternVL3-1B suits) or "
                                                        "the Apple GPU.")}
            no_gpu = "" if self.probe.gpus else instead.get(self.resolved, "")
            self.gpu_label.setText(sentences(gpu_text(self.probe), no_gpu))
        if self.meters.last is not None:
            self.meters.show_metrics(self.meters.last)

    def _on_state(self, status: ServerStatus) -> None:
        title, colour = STATE_LOOK[status.state]
        title = translate("EnginePanel", title)
        if status.state is ServerState.STARTING:
            title = translate("EnginePanel", "Starting… {s} s").format(s=f"{status.elapsed:.0f}")
            if not self._elapsed.isActive():
                self._elapsed.start()
                self.log_view.clear()  # a new start writes a new log file: show only its lines
        else:
            self._elapsed.stop()
        engine = self.engines.engine
        detail = localize(status.message)
        if status.state is ServerState.READY and engine is not None and engine.name == "openai":
            model = getattr(engine, "model", None)
            endpoint = getattr(engine, "endpoint", "")
            self.remote_model_label.setText(translate("EnginePanel", "The server runs {model}.")
                                            .format(model=model))
            detail = translate("EnginePanel", "Connected to {endpoint}, model {model}.").format(
                endpoint=endpoint, model=model)
        fix = ""
        if status.state is ServerState.FAILED:
            err = status.error
            if isinstance(err, EngineError):
                detail, fix = localize(str(err)), err.hint
                if "pip install" in fix and self.install_label.isVisibleTo(self):
                    fix = ""  # the install note above says it already, once
        self._show_state_text(title, colour, detail, localize(fix))

    def _show_state_text(self, title: str, colour: str, detail: str = "", fix: str = "") -> None:
        self._state_look = (title, colour, detail, fix)
        engine = engine_name(self.resolved)
        dot = look.css(look.accent(colour))
        self.state_label.setText(f'<span style="color:{dot}">●</span> <b>{title}</b> — {engine}')
        self.detail_label.setText(detail)
        self.detail_label.setVisible(bool(detail))
        self.fix_label.setText(translate("EnginePanel", "What to do: {fix}").format(fix=fix)
                               if fix else "")
        self.fix_label.setVisible(bool(fix))
        self._update_buttons()

    def cannot_start(self) -> str:
        """Why Start would fail before it tries ("" when it may): said on the button."""
        shown = self.resolved if self.choice == "auto" else self.choice
        if shown == "openai" and not self.settings.endpoint:
            return translate("EnginePanel", "Enter the server's address first.")
        if shown == "lmdeploy" and self.lmdeploy_found is False:
            return translate("EnginePanel", "lmdeploy is not installed on this computer.")
        if shown == "transformers" and not (self.settings.transformers_model or self.settings.model):
            return translate("EnginePanel", "Choose the model folder first.")
        return ""

    def _update_buttons(self) -> None:
        state = self.engines.engine_status.state
        idle = state in (ServerState.STOPPED, ServerState.FAILED)
        why_not = self.cannot_start() if idle else ""
        self.start_button.setEnabled(idle and not self._switching and not why_not)
        self.start_button.setToolTip(why_not or translate("EnginePanel", "Start the engine now "
                                                                         "(it also starts by itself "
                                                                         "when a recognition needs it)"))
        self.stop_button.setEnabled(not idle and not self._switching)

    def settings_changed_elsewhere(self) -> None:
        """Preferences changed engine settings: show them, and build the engine again (now
        when it is idle, else after the next Stop)."""
        self._sync_fields()
        self._fill_models()
        self._show_sections()
        self._dirty = True
        if self._engine_busy():
            self.pending_label.show()
        else:
            self._spawn(self._switch(self.settings.engine))

    def _append_log(self, line: str) -> None:
        self.log_view.appendPlainText(line)

    # ------------------------------------------------------------ for tests and screenshots

    def state_text(self) -> str:
        return " ".join(w.text() for w in (self.state_label, self.detail_label, self.fix_label)
                        if w.isVisibleTo(self))


def _note(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
    return label
