"""The regions of the current page as an item model, and the task choices they offer.

The model is the one source of truth for the page's regions while the page is shown:
the page view draws what it holds and the side panel edits it. Regions stay in page
coordinates (fractions), so nothing here depends on zoom or rotation.
"""

from __future__ import annotations

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from desktop_ocr.core.regions import Region, move_region, reading_order, renumber
from desktop_ocr.core.tasks import PRESETS, TASK_IDS
from desktop_ocr.gui.i18n import current_language, region_name, translate

ModelIndex = QModelIndex | QPersistentModelIndex

DEFAULT_TASK_TITLE = QT_TRANSLATE_NOOP("Regions", "Document task")


def task_ids() -> list[str]:
    """Task ids a region can have: the presets of core/tasks.py."""
    return list(TASK_IDS)


def task_title(task: str | None, language: str | None = None) -> str:
    """A task's name in `language` (default: the window's)."""
    language = language or current_language()
    if not task:
        return translate("Regions", DEFAULT_TASK_TITLE)
    preset = PRESETS.get(task)
    return preset.title(language) if preset is not None else task


class RegionListModel(QAbstractTableModel):
    """Rows are regions in reading order (row i is number i + 1); columns: label, task.

    Reading order is automatic until the user reorders by hand on this page; after that,
    new regions go to the end and the hand-made order is kept.
    """

    COLUMNS = (QT_TRANSLATE_NOOP("Regions", "Region"), QT_TRANSLATE_NOOP("Regions", "Task"))
    RegionRole = Qt.ItemDataRole.UserRole + 1
    regionsChanged = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._regions: list[Region] = []
        self.manual_order = False

    # -------------------------------------------------------------- Qt model API

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._regions)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole):
        if (orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole
                and 0 <= section < len(self.COLUMNS)):
            return translate("Regions", self.COLUMNS[section])
        return None

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._regions):
            return None
        region = self._regions[index.row()]
        if role == self.RegionRole:
            return region
        if index.column() == 0:
            if role == Qt.ItemDataRole.DisplayRole:
                return f"{region.order}. {region_name(region.display_label)}"
            if role == Qt.ItemDataRole.ToolTipRole:
                return translate("Regions", "x {x}, y {y}, {w} × {h} of the page").format(
                    x=f"{region.x:.0%}", y=f"{region.y:.0%}", w=f"{region.w:.0%}",
                    h=f"{region.h:.0%}")
        elif index.column() == 1:
            if role == Qt.ItemDataRole.DisplayRole:
                return task_title(region.task)
            if role == Qt.ItemDataRole.EditRole:
                return region.task or ""
        return None

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == 1:
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def setData(self, index: ModelIndex, value, role: int = Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        if not index.isValid() or index.column() != 1 or role != Qt.ItemDataRole.EditRole:
            return False
        task = str(value) if value else None
        if task is not None and task not in task_ids():
            return False
        self.set_task(self._regions[index.row()].id, task)
        return True

    # -------------------------------------------------------------- regions API

    def regions(self) -> list[Region]:
        return list(self._regions)

    def region(self, region_id: str) -> Region | None:
        return next((r for r in self._regions if r.id == region_id), None)

    def row_of(self, region_id: str) -> int:
        return next((i for i, r in enumerate(self._regions) if r.id == region_id), -1)

    def set_regions(self, regions: list[Region], manual_order: bool = False) -> None:
        """Show another page's regions (already numbered)."""
        self.beginResetModel()
        self._regions = list(regions)
        self.manual_order = manual_order
        self.endResetModel()
        self.regionsChanged.emit()

    def _replace_all(self, regions: list[Region]) -> None:
        # Reordering changes which row is which: a reset is the honest signal for views.
        self.beginResetModel()
        self._regions = regions
        self.endResetModel()
        self.regionsChanged.emit()

    def _ordered(self, regions: list[Region]) -> list[Region]:
        return renumber(regions) if self.manual_order else reading_order(regions)

    def add_region(self, region: Region) -> Region:
        regions = self._ordered([*self._regions, region])
        self._replace_all(regions)
        return next(r for r in regions if r.id == region.id)

    def update_region(self, region: Region) -> None:
        """New geometry (or label) for an existing region, found by id."""
        row = self.row_of(region.id)
        if row < 0:
            raise KeyError(region.id)
        regions = list(self._regions)
        regions[row] = region
        if self.manual_order:
            regions = renumber(regions)
            self._regions = regions
            self.dataChanged.emit(self.index(row, 0), self.index(row, 1))
            self.regionsChanged.emit()
        else:
            self._replace_all(reading_order(regions))

    def remove_region(self, region_id: str) -> None:
        row = self.row_of(region_id)
        if row < 0:
            return
        self.beginRemoveRows(QModelIndex(), row, row)
        self._regions = self._regions[:row] + self._regions[row + 1:]
        self.endRemoveRows()
        # Numbers change after the removal, as a separate data change views can follow.
        self._regions = renumber(self._regions)
        if self._regions:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._regions) - 1, 1))
        self.regionsChanged.emit()

    def clear(self) -> None:
        self.set_regions([], manual_order=False)

    def move(self, region_id: str, new_row: int) -> None:
        """Manual reorder: from now on this page keeps the order the user gives."""
        if self.row_of(region_id) < 0:
            raise KeyError(region_id)
        self.manual_order = True
        self._replace_all(move_region(self._regions, region_id, new_row))

    def use_reading_order(self) -> None:
        self.manual_order = False
        self._replace_all(reading_order(self._regions))

    def set_task(self, region_id: str, task: str | None) -> None:
        row = self.row_of(region_id)
        if row < 0:
            raise KeyError(region_id)
        r = self._regions[row]
        self._regions[row] = Region(r.x, r.y, r.w, r.h, id=r.id, order=r.order, task=task,
                                    label=r.label)
        self.dataChanged.emit(self.index(row, 0), self.index(row, 1))
        self.regionsChanged.emit()
