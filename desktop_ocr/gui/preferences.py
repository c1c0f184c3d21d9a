"""Edit > Preferences: the settings a user sets, in one dialog.

It edits a copy of the settings (core/settings.py, the one typed object) and hands it back
on OK; the window applies what changed (`MainWindow.apply_preferences`: the theme at once,
the engine rebuilt when idle, the language after a restart it offers) and saves the file
once, atomically. Cancel changes nothing.
"""

from __future__ import annotations

import copy
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_ocr.core import catalog
from desktop_ocr.core.contract import ENGINE_CHOICES
from desktop_ocr.core.settings import Settings
from desktop_ocr.core.tasks import TASK_IDS, get_task
from desktop_ocr.gui.i18n import LANGUAGE_NAMES, current_language, engine_name, translate

# Settings whose change needs the engine built again (read when an engine is created).
ENGINE_KEYS = frozenset({
    "engine", "model", "endpoint", "api_key", "lmdeploy_command", "transformers_model",
    "transformers_device", "transformers_8bit", "max_in_flight", "timeout", "start_timeout",
    "session_len", "cache_max_entry_count", "tp", "quant_policy", "models_dir",
})


def apply_changes(target: Settings, values: Settings) -> set[str]:
    """Copy the settings that differ from `values` into `target`; their names."""
    changed = set()
    for key in PREFERENCE_KEYS:
        new = getattr(values, key)
        if getattr(target, key) != new:
            setattr(target, key, copy.deepcopy(new))
            changed.add(key)
    return changed


class PreferencesDialog(QDialog):
    """Tabs: General (language, theme, task, clipboard), Engine, Memory and history."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(translate("Preferences", "Preferences"))
        self.setObjectName("preferencesDialog")
        self.settings = settings
        self.values = copy.deepcopy(settings)
        self.fields: dict[str, QWidget] = {}
        tabs = QTabWidget()
        tabs.addTab(self._general(), translate("Preferences", "General"))
        tabs.addTab(self._engine(), translate("Preferences", "Engine"))
        tabs.addTab(self._memory(), translate("Preferences", "Memory and history"))
        self.tabs = tabs
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel
                                   | QDialogButtonBox.StandardButton.RestoreDefaults)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        restore = buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults)
        restore.setToolTip(translate("Preferences", "Put every field back to its default (nothing "
                                                    "changes until OK)"))
        restore.clicked.connect(self.restore_defaults)
        self.buttons = buttons
        layout = QVBoxLayout(self)
        layout.addWidget(tabs, 1)
        layout.addWidget(buttons)
        self.show_values(settings)
        self._engine_changed()

    # ------------------------------------------------------------ building

    def _form(self, box: QGroupBox | None = None) -> QFormLayout:
        form = QFormLayout(box) if box is not None else QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        return form

    def _add(self, form: QFormLayout, key: str, label: str, widget: QWidget, tip: str = "") -> QWidget:
        widget.setAccessibleName(label.replace("&", ""))
        if tip:
            widget.setToolTip(tip)
        self.fields[key] = widget
        if isinstance(widget, QCheckBox):
            widget.setText(label)
            form.addRow(widget)
        else:
            form.addRow(label, widget)
        return widget

    @staticmethod
    def _combo(items: list[tuple[str, Any]], editable: bool = False) -> QComboBox:
        combo = QComboBox()
        combo.setEditable(editable)
        for text, data in items:
            combo.addItem(text, data)
        return combo

    @staticmethod
    def _spin(low: int, high: int, suffix: str = "", step: int = 1, special: str = "") -> QSpinBox:
        spin = QSpinBox()
        spin.setRange(low, high)
        spin.setSingleStep(step)
        spin.setSuffix(suffix)
        spin.setGroupSeparatorShown(True)
        if special:
            spin.setSpecialValueText(special)
        return spin

    def _general(self) -> QWidget:
        page = QWidget()
        form = self._form()
        page.setLayout(form)
        languages = [(name or translate("Preferences", "System"), code) for code, name in LANGUAGE_NAMES]
        self._add(form, "language", translate("Preferences", "&Language"), self._combo(languages),
                  translate("Preferences", "The window's language and the language of the prompts; a change shows "
                     "after a restart"))
        self._add(form, "theme", translate("Preferences", "&Theme"), self._combo(
            [(translate("Preferences", "System"), "system"), (translate("Preferences", "Light"), "light"), (translate("Preferences", "Dark"), "dark")]),
            translate("Preferences", "System follows the desktop's light or dark look"))
        spoken = current_language()
        self._add(form, "task", translate("Preferences", "Default &task"), self._combo(
            [(get_task(t).title(spoken), t) for t in TASK_IDS]),
            translate("Preferences", "What a new recognition extracts (the toolbar changes it too)"))
        self._add(form, "prefer_text_layer", translate("Preferences", "Recognise all pages: use a PDF page's own text "
                                                "where it has some"), QCheckBox())
        self._add(form, "copy_snip_result", translate("Preferences", "Put the text of snips and pasted images on the "
                                               "clipboard automatically"), QCheckBox())
        self._add(form, "watch_clipboard", translate("Preferences", "Watch the clipboard and recognise every new "
                                              "image"), QCheckBox())
        self._add(form, "close_to_tray", translate("Preferences", "Keep running in the tray when the window closes"),
                  QCheckBox())
        return page

    def _engine(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        form = self._form()
        layout.addLayout(form)
        self._add(form, "engine", translate("Preferences", "&Engine"), self._combo(
            [(engine_name(e), e) for e in ENGINE_CHOICES]),
            translate("Preferences", "Automatic takes a model on this computer's GPU when one can run, else the CPU"))
        models = [(translate("Preferences", "Automatic (from the free GPU memory)"), "")]
        models += [(m.name, m.name) for m in catalog.load().models]
        model = self._add(form, "model", translate("Preferences", "&Model"), self._combo(models, editable=True),
                          translate("Preferences", "A catalog name, a hub id that is on disk, or a model folder"))
        model.lineEdit().setPlaceholderText(translate("Preferences", "Automatic (from the free GPU memory)"))
        self._add(form, "timeout", translate("Preferences", "Time &limit"), self._spin(5, 3600, translate("Preferences", " s"), 5),
                  translate("Preferences", "The longest wait for a server's first word, and between two words"))
        self._add(form, "start_timeout", translate("Preferences", "&Start time limit"), self._spin(30, 7200, translate("Preferences", " s"), 30),
                  translate("Preferences", "How long a local model may take to load"))
        self._add(form, "max_in_flight", translate("Preferences", "Requests at &once"), self._spin(1, 64),
                  translate("Preferences", "How many regions or pages a server reads at the same time"))
        self._add(form, "restart_engine_on_crash", translate("Preferences", "Start the engine again once if it stops "
                                                      "during a batch"), QCheckBox())

        remote = QGroupBox(translate("Preferences", "Remote server"))
        rform = self._form(remote)
        url = self._add(rform, "endpoint", translate("Preferences", "&Address"), QLineEdit())
        url.setPlaceholderText("http://gpu-server:23333")
        key = self._add(rform, "api_key", translate("Preferences", "API &key"), QLineEdit())
        key.setEchoMode(QLineEdit.EchoMode.Password)
        layout.addWidget(remote)
        self.remote_box = remote

        local = QGroupBox(translate("Preferences", "On this computer"))
        lform = self._form(local)
        command = self._add(lform, "lmdeploy_command", translate("Preferences", "lmdeploy &program"), QLineEdit(),
                            translate("Preferences", "An lmdeploy executable, or a Python that has lmdeploy"))
        command.setPlaceholderText(translate("Preferences", "found automatically"))
        self._add(lform, "session_len", translate("Preferences", "Session length"), self._spin(2048, 131072, "", 1024),
                  translate("Preferences", "Tokens of one request, image included (LMDeploy --session-len)"))
        share = QDoubleSpinBox()
        share.setRange(0.05, 0.95)
        share.setSingleStep(0.05)
        share.setDecimals(2)
        self._add(lform, "cache_max_entry_count", translate("Preferences", "GPU memory for the cache"), share,
                  translate("Preferences", "Share of the free GPU memory LMDeploy keeps for its cache"))
        self._add(lform, "tp", translate("Preferences", "GPUs per model"), self._combo(
            [("1", 1), ("2", 2), ("4", 4), ("8", 8)]), translate("Preferences", "Tensor parallel (LMDeploy --tp)"))
        folder = QLineEdit()
        folder.setPlaceholderText(translate("Preferences", "folder of an InternVL3 -hf model"))
        pick = QPushButton(translate("Preferences", "Choose…"))
        pick.setAccessibleName(translate("Preferences", "Choose the transformers model folder"))
        pick.clicked.connect(lambda: self._choose_folder(folder))
        row = QWidget()
        row_layout = QHBoxLayout(row)
        row_layout.setContentsMargins(0, 0, 0, 0)
        row_layout.addWidget(folder, 1)
        row_layout.addWidget(pick)
        folder.setAccessibleName(translate("Preferences", "transformers model folder"))
        self.fields["transformers_model"] = folder
        lform.addRow(translate("Preferences", "transformers &folder"), row)
        self._add(lform, "transformers_device", translate("Preferences", "transformers device"), self._combo(
            [(translate("Preferences", "Automatic"), "auto"), ("CUDA", "cuda"), ("Apple MPS", "mps"), ("CPU", "cpu")]))
        self._add(lform, "transformers_8bit", translate("Preferences", "transformers: load the weights in 8 bits "
                                                 "(NVIDIA GPUs)"), QCheckBox())
        layout.addWidget(local)
        self.local_box = local
        layout.addStretch(1)
        self.fields["engine"].currentIndexChanged.connect(self._engine_changed)
        return page

    def _memory(self) -> QWidget:
        page = QWidget()
        form = self._form()
        page.setLayout(form)
        self._add(form, "page_cache_mb", translate("Preferences", "Rendered &pages"), self._spin(16, 8192, translate("Preferences", " MiB"), 16),
                  translate("Preferences", "Memory for the pages of the open document already drawn"))
        self._add(form, "history_keep_days", translate("Preferences", "&Keep results"), self._spin(
            0, 36500, translate("Preferences", " days"), 1, translate("Preferences", "Forever")),
            translate("Preferences", "Results older than this are deleted from History"))
        self._add(form, "history_max_entries", translate("Preferences", "&Most results kept"), self._spin(
            0, 10_000_000, "", 1000, translate("Preferences", "No limit")),
            translate("Preferences", "The oldest go first when History holds more"))
        return page

    # ------------------------------------------------------------ values

    def show_values(self, settings: Settings) -> None:
        for key, widget in self.fields.items():
            value = getattr(settings, key)
            if isinstance(widget, QCheckBox):
                widget.setChecked(bool(value))
            elif isinstance(widget, QComboBox):
                index = widget.findData(value)
                if index >= 0:
                    widget.setCurrentIndex(index)
                elif widget.isEditable():
                    widget.setCurrentIndex(-1)
                    widget.setEditText(str(value))
            elif isinstance(widget, (QSpinBox, QDoubleSpinBox)):
                widget.setValue(value)
            elif isinstance(widget, QLineEdit):
                widget.setText(str(value))

    def read_values(self) -> Settings:
        values = copy.deepcopy(self.settings)
        for key, widget in self.fields.items():
            if isinstance(widget, QCheckBox):
                value: Any = widget.isChecked()
            elif isinstance(widget, QComboBox):
                if widget.isEditable():
                    text = widget.currentText().strip()
                    index = widget.findText(text)
                    value = widget.itemData(index) if index >= 0 else text
                else:
                    value = widget.currentData()
            elif isinstance(widget, (QSpinBox, QDoubleSpinBox)):
                value = widget.value()
            else:
                value = widget.text().strip()  # type: ignore[attr-defined]
            setattr(values, key, value)
        return values

    def restore_defaults(self) -> None:
        self.show_values(Settings())

    def accept(self) -> None:
        self.values = self.read_values()
        super().accept()

    def _engine_changed(self) -> None:
        engine = self.fields["engine"].currentData()
        self.remote_box.setEnabled(engine in ("openai", "auto"))
        self.local_box.setEnabled(engine in ("lmdeploy", "transformers", "auto"))

    def _choose_folder(self, edit: QLineEdit) -> None:
        folder = QFileDialog.getExistingDirectory(self, translate("Preferences", "Folder of an InternVL3 -hf model"),
                                                  edit.text())
        edit.setFocus(Qt.FocusReason.OtherFocusReason)
        if folder:
            edit.setText(folder)


PREFERENCE_KEYS = (
    "language", "theme", "task", "prefer_text_layer", "copy_snip_result", "watch_clipboard",
    "close_to_tray", "engine", "model", "timeout", "start_timeout", "max_in_flight",
    "restart_engine_on_crash", "endpoint", "api_key", "lmdeploy_command", "session_len",
    "cache_max_entry_count", "tp", "transformers_model", "transformers_device",
    "transformers_8bit", "page_cache_mb", "history_keep_days", "history_max_entries",
)
