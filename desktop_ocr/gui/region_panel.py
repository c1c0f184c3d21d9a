"""The side panel listing the current page's regions: select, reorder, delete, set a task."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_ocr.gui.i18n import current_language, translate
from desktop_ocr.gui.region_models import RegionListModel, task_ids, task_title


class TaskDelegate(QStyledItemDelegate):
    """A combo box of tasks; the first entry means "the document's task"."""

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem,  # noqa: N802
                     index: QModelIndex | QPersistentModelIndex) -> QWidget:
        combo = QComboBox(parent)
        combo.setAccessibleName(translate("RegionPanel", "Task of the region"))
        language = current_language()
        combo.addItem(task_title(None, language), "")
        for task in task_ids():
            combo.addItem(task_title(task, language), task)
        combo.activated.connect(lambda _=0, c=combo: self.commitData.emit(c))
        return combo

    def setEditorData(self, editor: QWidget, index) -> None:  # noqa: N802
        assert isinstance(editor, QComboBox)
        i = editor.findData(index.data(Qt.ItemDataRole.EditRole) or "")
        editor.setCurrentIndex(max(i, 0))

    def setModelData(self, editor: QWidget, model, index) -> None:  # noqa: N802
        assert isinstance(editor, QComboBox)
        model.setData(index, editor.currentData(), Qt.ItemDataRole.EditRole)


class RegionPanel(QWidget):
    regionSelected = Signal(str)  # id, "" for none

    def __init__(self, model: RegionListModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        self.title = QLabel()
        self.title.setWordWrap(True)
        head.addWidget(self.title, 1)
        self.up_button = self._button("▲", translate("RegionPanel", "Move the region earlier in the "
                                                                    "reading order"))
        self.down_button = self._button("▼", translate("RegionPanel", "Move the region later in the "
                                                                      "reading order"))
        self.order_button = self._button("⇅", translate("RegionPanel", "Number the regions in "
                                                                       "reading order again"))
        self.delete_button = self._button("✕", translate("RegionPanel", "Delete the region (Del)"))
        for b in (self.up_button, self.down_button, self.order_button, self.delete_button):
            head.addWidget(b)
        layout.addLayout(head)
        self.table = QTableView()
        self.table.setModel(model)
        self.table.setItemDelegateForColumn(1, TaskDelegate(self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.AllEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setMaximumHeight(150)
        self.table.setAccessibleName(translate("RegionPanel", "Regions"))
        layout.addWidget(self.table)
        self.up_button.clicked.connect(lambda: self._move(-1))
        self.down_button.clicked.connect(lambda: self._move(1))
        self.order_button.clicked.connect(model.use_reading_order)
        self.delete_button.clicked.connect(self.delete_selected)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        model.regionsChanged.connect(self._refresh)
        self._refresh()

    def _button(self, text: str, tip: str) -> QToolButton:
        b = QToolButton()
        b.setText(text)
        b.setToolTip(tip)
        b.setAccessibleName(tip)
        return b

    def selected_id(self) -> str:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return ""
        region = self.model.data(rows[0], RegionListModel.RegionRole)
        return region.id if region else ""

    def select(self, region_id: str) -> None:
        row = self.model.row_of(region_id) if region_id else -1
        if row < 0:
            self.table.clearSelection()
        elif self.selected_id() != region_id:
            self.table.selectRow(row)

    def delete_selected(self) -> None:
        rid = self.selected_id()
        if rid:
            self.model.remove_region(rid)

    def _move(self, step: int) -> None:
        rid = self.selected_id()
        if rid:
            self.model.move(rid, self.model.row_of(rid) + step)
            self.select(rid)

    def _selection_changed(self, *_args) -> None:
        self._refresh_buttons()
        self.regionSelected.emit(self.selected_id())

    def _refresh(self) -> None:
        n = self.model.rowCount()
        if n == 0:
            self.title.setText(translate("RegionPanel", "Regions: none — the whole page is "
                                                        "recognised. Drag on the page to mark one."))
        elif self.model.manual_order:
            self.title.setText(translate("RegionPanel", "Regions: {n}, recognised in your order.")
                               .format(n=n))
        else:
            self.title.setText(translate("RegionPanel", "Regions: {n}, recognised in reading order.")
                               .format(n=n))
        self._refresh_buttons()

    def _refresh_buttons(self) -> None:
        rid = self.selected_id()
        row = self.model.row_of(rid) if rid else -1
        self.up_button.setEnabled(row > 0)
        self.down_button.setEnabled(0 <= row < self.model.rowCount() - 1)
        self.delete_button.setEnabled(row >= 0)
        self.order_button.setEnabled(self.model.manual_order and self.model.rowCount() > 1)
