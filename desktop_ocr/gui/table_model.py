"""An editable table grid: a Qt item model over one core Table, and the feeder that fills
such models live from a streaming answer.

The model holds what a spreadsheet holds: a dense grid of texts, the merged ranges and
the number of header rows. While the answer streams, rows are appended as the parser
reports them (rowsInserted, never a reset, so a view keeps its scroll position and
selection). Once the table is complete it becomes editable; every edit goes through the
model's QUndoStack, so undo/redo restore grids and merges exactly.

Merges are not a Qt model concept: the model lists them (`spans()`) and says when they
change (`spansChanged`); the view turns them into QTableView spans.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QFont, QUndoCommand, QUndoStack

from desktop_ocr.core.tables import (
    CellRange,
    RowAdded,
    StreamParser,
    Table,
    TableFinished,
    TableStarted,
    TextAdded,
    parse_value,
)
from desktop_ocr.gui.i18n import count as _count
from desktop_ocr.gui.i18n import translate

__all__ = ["TableModel", "LiveTables", "column_name"]

ModelIndex = QModelIndex | QPersistentModelIndex


def column_name(col: int) -> str:
    """Spreadsheet column letters: 0 -> A, 25 -> Z, 26 -> AA."""
    name = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        name = chr(ord("A") + rem) + name
    return name


@dataclass(frozen=True)
class _State:
    """Everything an undo step must put back."""

    grid: tuple[tuple[str, ...], ...]
    merges: tuple[CellRange, ...]
    header_rows: int
    cols: int


class _Command(QUndoCommand):
    """One undo step: a model method and its arguments for redo and for undo.

    It reaches the model through a weak reference. The model owns the stack that owns
    the command, a cycle through C++ that Python's GC cannot see: a strong reference
    would keep every edited model alive until exit, when Qt deletes it after Python has
    shut down (SIGSEGV in Shiboken::Object::destroy).
    """

    def __init__(self, text: str, model: TableModel, redo: tuple[str, tuple], undo: tuple[str, tuple]) -> None:
        super().__init__(text)
        self._model = weakref.ref(model)
        self._redo = redo
        self._undo = undo

    def _run(self, step: tuple[str, tuple]) -> None:
        model = self._model()
        if model is not None:
            name, args = step
            getattr(model, name)(*args)

    def redo(self) -> None:
        self._run(self._redo)

    def undo(self) -> None:
        self._run(self._undo)


def _intersects(m: CellRange, r0: int, c0: int, r1: int, c1: int) -> bool:
    return not (m.last_row < r0 or m.row > r1 or m.last_col < c0 or m.col > c1)


def _shift_insert(start: int, span: int, at: int, count: int) -> tuple[int, int]:
    """A merge's (start, span) along one axis after `count` lines are inserted at `at`."""
    if start >= at:
        return start + count, span
    if start + span - 1 >= at:  # inserted inside the merge: it grows
        return start, span + count
    return start, span


def _shift_remove(start: int, span: int, at: int, count: int) -> tuple[int, int]:
    """(start, span) after lines [at, at+count) are removed; span 0 = nothing left."""
    end = start + span - 1
    last = at + count - 1
    overlap = max(0, min(end, last) - max(start, at) + 1)
    if start < at:
        new_start = start
    elif start > last:
        new_start = start - count
    else:
        new_start = at  # the anchor went: the first line left below it takes over
    return new_start, span - overlap


class TableModel(QAbstractTableModel):
    """One table as an editable grid (rows x columns of text, merges, header rows)."""

    spansChanged = Signal()
    streamFinished = Signal()

    def __init__(self, table: Table | None = None, parent: QObject | None = None, *,
                 title: str = "", source: str = "") -> None:
        super().__init__(parent)
        self.title = title  # "Table 1": what the tab says
        self.source = source  # where it came from, for a tooltip ("Region 2", "page 3")
        self.caption = ""
        self._grid: list[list[str]] = []
        self._cols = 0
        self._merges: list[CellRange] = []
        self._header_rows = 0
        self._header_open = True
        self._open: list[CellRange] = []  # streamed merges that still reach below the last row
        self._streaming = False
        self.undo_stack = QUndoStack(self)
        self._bold = QFont()
        self._bold.setBold(True)
        if table is not None:
            self._load(table)

    # ---------------------------------------------------------------- Qt model

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._grid)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else self._cols

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        r, c = index.row(), index.column()
        if r >= len(self._grid) or c >= self._cols:
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return self._grid[r][c]
        if role == Qt.ItemDataRole.FontRole and r < self._header_rows:
            return self._bold
        if role == Qt.ItemDataRole.TextAlignmentRole:
            text = self._grid[r][c]
            # numbers read right-aligned, as they will sit in the spreadsheet
            if r >= self._header_rows and text and parse_value(text).kind != "text":
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole):
        if role != Qt.ItemDataRole.DisplayRole or section < 0:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return column_name(section) if section < self._cols else None
        return str(section + 1) if section < len(self._grid) else None

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if not self._streaming:
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def setData(self, index: ModelIndex, value, role: int = Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        if not index.isValid() or role != Qt.ItemDataRole.EditRole:
            return False
        return self.set_text(index.row(), index.column(), "" if value is None else str(value))

    # The Qt-named structural calls (used by generic code) are undoable edits too.
    def insertRows(self, row: int, count: int, parent: ModelIndex = QModelIndex()) -> bool:  # noqa: N802, B008
        return not parent.isValid() and self.insert_rows(row, count)

    def removeRows(self, row: int, count: int, parent: ModelIndex = QModelIndex()) -> bool:  # noqa: N802, B008
        return not parent.isValid() and self.remove_rows(row, count)

    def insertColumns(self, col: int, count: int, parent: ModelIndex = QModelIndex()) -> bool:  # noqa: N802, B008
        return not parent.isValid() and self.insert_columns(col, count)

    def removeColumns(self, col: int, count: int, parent: ModelIndex = QModelIndex()) -> bool:  # noqa: N802, B008
        return not parent.isValid() and self.remove_columns(col, count)

    # ---------------------------------------------------------------- reading

    @property
    def streaming(self) -> bool:
        """Rows are still arriving; editing waits until the table is complete."""
        return self._streaming

    @property
    def header_rows(self) -> int:
        return self._header_rows

    def grid(self) -> list[list[str]]:
        return [list(row) for row in self._grid]

    def text(self, row: int, col: int) -> str:
        return self._grid[row][col]

    def merges(self) -> list[CellRange]:
        """Merged ranges in reading order, cut to the rows present (a streamed rowspan may
        reach further)."""
        n = len(self._grid)
        out = []
        for m in self._merges:
            rowspan = min(m.rowspan, n - m.row)
            colspan = min(m.colspan, self._cols - m.col)
            if rowspan >= 1 and colspan >= 1 and (rowspan > 1 or colspan > 1):
                out.append(CellRange(m.row, m.col, rowspan, colspan))
        out.sort(key=lambda m: (m.row, m.col))  # reading order, as Table.merged_ranges()
        return out

    spans = merges  # what the view calls setSpan with

    def merge_at(self, row: int, col: int) -> CellRange | None:
        for m in self.merges():
            if m.row <= row <= m.last_row and m.col <= col <= m.last_col:
                return m
        return None

    def to_table(self) -> Table:
        """The grid as edited, as a core Table (for export and copy)."""
        return Table.from_grid(self.grid(), self.merges(), self._header_rows, self.caption)

    def sub_table(self, r0: int, c0: int, r1: int, c1: int) -> Table:
        """The block [r0..r1] x [c0..c1] as a Table, merges cut to the block."""
        grid = [row[c0:c1 + 1] for row in self._grid[r0:r1 + 1]]
        merges = []
        for m in self.merges():
            if not _intersects(m, r0, c0, r1, c1):
                continue
            top, left = max(m.row, r0), max(m.col, c0)
            bottom, right = min(m.last_row, r1), min(m.last_col, c1)
            if (top, left) != (m.row, m.col):
                continue  # the anchor (and its text) is outside: the slots stay plain
            if bottom > top or right > left:
                merges.append(CellRange(top - r0, left - c0, bottom - top + 1, right - left + 1))
        header = max(0, min(self._header_rows - r0, r1 - r0 + 1))
        return Table.from_grid(grid, merges, header, "")

    # ---------------------------------------------------------------- loading and streaming

    def _load(self, table: Table) -> None:
        table.normalize()
        grid = table.to_grid()
        self._cols = max((len(r) for r in grid), default=0)
        self._grid = [row + [""] * (self._cols - len(row)) for row in grid]
        self._merges = list(table.merged_ranges())
        self._header_rows = table.header_rows
        self.caption = table.caption

    def set_table(self, table: Table) -> None:
        """Replace the whole content (a reset); the undo history goes with it."""
        self.beginResetModel()
        self._streaming = False
        self._open = []
        self._load(table)
        self.endResetModel()
        self.undo_stack.clear()
        self.spansChanged.emit()

    def begin_stream(self) -> None:
        self.beginResetModel()
        self._grid, self._cols, self._merges = [], 0, []
        self._header_rows, self._header_open, self._open = 0, True, []
        self._streaming = True
        self.endResetModel()
        self.undo_stack.clear()
        self.spansChanged.emit()

    def add_row(self, texts: Sequence[str], cols: Sequence[int], spans: Sequence[tuple[int, int]],
                header: bool = False) -> None:
        """Append one streamed row: cell texts, the grid column each starts at, and each
        cell's (rowspan, colspan). Cost: the row's width, not the table's size."""
        row = len(self._grid)
        width = max((col + cs for col, (_rs, cs) in zip(cols, spans, strict=True)), default=0)
        width = max(width, max((m.last_col + 1 for m in self._open), default=0))
        if width > self._cols:
            self.beginInsertColumns(QModelIndex(), self._cols, width - 1)
            extra = width - self._cols
            for line in self._grid:
                line.extend([""] * extra)
            self._cols = width
            self.endInsertColumns()
        line = [""] * self._cols
        for text, col in zip(texts, cols, strict=True):
            line[col] = text
        self.beginInsertRows(QModelIndex(), row, row)
        self._grid.append(line)
        if header and self._header_open:
            self._header_rows += 1
        else:
            self._header_open = False
        self.endInsertRows()
        spans_moved = bool(self._open)  # a rowspan from above now covers this row too
        self._open = [m for m in self._open if m.last_row > row]
        for col, (rs, cs) in zip(cols, spans, strict=True):
            if rs > 1 or cs > 1:
                m = CellRange(row, col, rs, cs)
                self._merges.append(m)
                spans_moved = True
                if rs > 1:
                    self._open.append(m)
        if spans_moved:
            self.spansChanged.emit()

    def add_event(self, event: RowAdded) -> None:
        # Copy the spans now: the parser clamps a cell's rowspan in place when the table ends.
        self.add_row([c.text for c in event.cells], event.cols,
                     [(c.rowspan, c.colspan) for c in event.cells], event.header)

    def finish_stream(self, table: Table | None = None) -> None:
        """The table is complete: rowspans reaching past the last row stop at it, and the
        grid becomes editable."""
        self._merges = self.merges()
        self._open = []
        if table is not None:
            self.caption = table.caption
        was = self._streaming
        self._streaming = False
        if was:
            if self._grid and self._cols:
                # flags changed (editable now): views re-read them on dataChanged
                self.dataChanged.emit(self.index(0, 0),
                                      self.index(len(self._grid) - 1, self._cols - 1))
            self.spansChanged.emit()
            self.streamFinished.emit()

    # ---------------------------------------------------------------- editing (undoable)

    def _state(self) -> _State:
        return _State(tuple(tuple(r) for r in self._grid), tuple(self._merges),
                      self._header_rows, self._cols)

    def _editable(self) -> bool:
        return not self._streaming

    def set_text(self, row: int, col: int, text: str) -> bool:
        if not self._editable() or not (0 <= row < len(self._grid) and 0 <= col < self._cols):
            return False
        m = self.merge_at(row, col)
        if m is not None and (m.row, m.col) != (row, col):
            return False  # hidden under a merge: its text would be lost on export
        old = self._grid[row][col]
        if old == text:
            return False
        self.undo_stack.push(_Command(
            translate("TableView", "Edit {cell}").format(cell=f"{column_name(col)}{row + 1}"), self,
            ("_set_cells", ([(row, col, text)],)), ("_set_cells", ([(row, col, old)],))))
        return True

    def clear_cells(self, cells: Iterable[tuple[int, int]]) -> bool:
        """Empty the given cells as one undo step."""
        if not self._editable():
            return False
        old = [(r, c, self._grid[r][c]) for r, c in sorted(set(cells))
               if 0 <= r < len(self._grid) and 0 <= c < self._cols and self._grid[r][c]]
        if not old:
            return False
        new = [(r, c, "") for r, c, _ in old]
        self.undo_stack.push(_Command(translate("TableView", "Clear cells"), self, ("_set_cells", (new,)),
                                      ("_set_cells", (old,))))
        return True

    def _set_cells(self, changes: Sequence[tuple[int, int, str]]) -> None:
        for r, c, text in changes:
            self._grid[r][c] = text
        if changes:
            rows = [r for r, _, _ in changes]
            cols = [c for _, c, _ in changes]
            self.dataChanged.emit(self.index(min(rows), min(cols)), self.index(max(rows), max(cols)),
                                  [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole])

    def insert_rows(self, row: int, count: int = 1) -> bool:
        if not self._editable() or count < 1 or not 0 <= row <= len(self._grid):
            return False
        before = self._state()
        grid = [list(r) for r in self._grid]
        grid[row:row] = [[""] * self._cols for _ in range(count)]
        merges = []
        for m in self._merges:
            start, span = _shift_insert(m.row, m.rowspan, row, count)
            merges.append(CellRange(start, m.col, span, m.colspan))
        header = self._header_rows + (count if row < self._header_rows else 0)
        after = _State(tuple(tuple(r) for r in grid), tuple(merges), header, self._cols)
        self._push(_count(count, translate("TableView", "Insert 1 row"),
                          translate("TableView", "Insert {n} rows")), before, after,
                   ("rows+", row, count), ("rows-", row, count))
        return True

    def remove_rows(self, row: int, count: int = 1) -> bool:
        if (not self._editable() or count < 1 or row < 0 or row + count > len(self._grid)):
            return False
        before = self._state()
        grid = [list(r) for r in self._grid]
        merges = []
        for m in self._merges:
            start, span = _shift_remove(m.row, m.rowspan, row, count)
            if span >= 1:
                merges.append((m, CellRange(start, m.col, span, m.colspan)))
        del grid[row:row + count]
        # a merge whose anchor row goes keeps its text: it moves to the new anchor
        for old, new in merges:
            if not row <= old.row < row + count:
                continue
            text = self._grid[old.row][old.col]
            if text and not grid[new.row][new.col]:
                grid[new.row][new.col] = text
        kept = [new for _, new in merges if new.rowspan > 1 or new.colspan > 1]
        overlap = max(0, min(self._header_rows, row + count) - row)
        after = _State(tuple(tuple(r) for r in grid), tuple(kept), self._header_rows - overlap,
                       self._cols)
        self._push(_count(count, translate("TableView", "Delete 1 row"),
                          translate("TableView", "Delete {n} rows")), before, after,
                   ("rows-", row, count), ("rows+", row, count))
        return True

    def insert_columns(self, col: int, count: int = 1) -> bool:
        if not self._editable() or count < 1 or not 0 <= col <= self._cols:
            return False
        before = self._state()
        grid = [r[:col] + [""] * count + r[col:] for r in self._grid]
        merges = []
        for m in self._merges:
            start, span = _shift_insert(m.col, m.colspan, col, count)
            merges.append(CellRange(m.row, start, m.rowspan, span))
        after = _State(tuple(tuple(r) for r in grid), tuple(merges), self._header_rows,
                       self._cols + count)
        self._push(_count(count, translate("TableView", "Insert 1 column"),
                          translate("TableView", "Insert {n} columns")), before, after,
                   ("cols+", col, count), ("cols-", col, count))
        return True

    def remove_columns(self, col: int, count: int = 1) -> bool:
        if not self._editable() or count < 1 or col < 0 or col + count > self._cols:
            return False
        before = self._state()
        grid = [r[:col] + r[col + count:] for r in self._grid]
        kept = []
        for m in self._merges:
            start, span = _shift_remove(m.col, m.colspan, col, count)
            if span < 1:
                continue
            new = CellRange(m.row, start, m.rowspan, span)
            if col <= m.col < col + count:
                text = self._grid[m.row][m.col]
                if text and not grid[new.row][new.col]:
                    grid[new.row][new.col] = text
            if new.rowspan > 1 or new.colspan > 1:
                kept.append(new)
        after = _State(tuple(tuple(r) for r in grid), tuple(kept), self._header_rows,
                       self._cols - count)
        self._push(_count(count, translate("TableView", "Delete 1 column"),
                          translate("TableView", "Delete {n} columns")), before, after,
                   ("cols-", col, count), ("cols+", col, count))
        return True

    def merge(self, r0: int, c0: int, r1: int, c1: int) -> bool:
        """Merge the block (grown to take in merges it cuts); the texts of its cells join
        in the top-left one, as they would read."""
        if not self._editable():
            return False
        r0, r1 = sorted((r0, r1))
        c0, c1 = sorted((c0, c1))
        if r0 < 0 or c0 < 0 or r1 >= len(self._grid) or c1 >= self._cols:
            return False
        grown = True
        while grown:
            grown = False
            for m in self._merges:
                if _intersects(m, r0, c0, r1, c1) and not (
                        r0 <= m.row and m.last_row <= r1 and c0 <= m.col and m.last_col <= c1):
                    r0, c0 = min(r0, m.row), min(c0, m.col)
                    r1, c1 = max(r1, m.last_row), max(c1, m.last_col)
                    grown = True
        if r0 == r1 and c0 == c1:
            return False
        before = self._state()
        grid = [list(r) for r in self._grid]
        texts = [grid[r][c] for r in range(r0, r1 + 1) for c in range(c0, c1 + 1) if grid[r][c]]
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                grid[r][c] = ""
        grid[r0][c0] = " ".join(texts)
        merges = [m for m in self._merges if not _intersects(m, r0, c0, r1, c1)]
        merges.append(CellRange(r0, c0, r1 - r0 + 1, c1 - c0 + 1))
        after = _State(tuple(tuple(r) for r in grid), tuple(merges), self._header_rows, self._cols)
        self._push(translate("TableView", "Merge cells"), before, after, None, None)
        return True

    def split(self, row: int, col: int) -> bool:
        """Undo the merge covering (row, col); its text stays in the top-left cell."""
        if not self._editable():
            return False
        target = self.merge_at(row, col)
        if target is None:
            return False
        before = self._state()
        merges = [m for m in self.merges() if m != target]
        after = _State(before.grid, tuple(merges), self._header_rows, self._cols)
        self._push(translate("TableView", "Split cell"), before, after, None, None)
        return True

    def set_header_rows(self, n: int) -> bool:
        """Make the first `n` rows the header (bold, kept text in a spreadsheet)."""
        n = max(0, min(n, len(self._grid)))
        if not self._editable() or n == self._header_rows:
            return False
        before = self._state()
        after = _State(before.grid, before.merges, n, self._cols)
        self._push(translate("TableView", "Header rows"), before, after, None, None)
        return True

    # ---------------------------------------------------------------- applying steps

    def _push(self, text: str, before: _State, after: _State,
              redo_op: tuple[str, int, int] | None, undo_op: tuple[str, int, int] | None) -> None:
        self.undo_stack.push(_Command(text, self, ("_apply", (after, redo_op)),
                                      ("_apply", (before, undo_op))))

    def _apply(self, state: _State, op: tuple[str, int, int] | None) -> None:
        """Put `state` in place; `op` names the rows/columns inserted or removed on the way,
        so views and persistent indexes follow them instead of a reset."""

        root = QModelIndex()
        if op is not None:
            # First the pure insertion/removal (the cells that stay keep their text, as
            # views and QAbstractItemModelTester expect), then every other change.
            kind, at, count = op
            end = at + count - 1
            if kind == "rows+":
                self.beginInsertRows(root, at, end)
                self._grid[at:at] = [list(r) for r in state.grid[at:end + 1]]
                self.endInsertRows()
            elif kind == "rows-":
                self.beginRemoveRows(root, at, end)
                del self._grid[at:end + 1]
                self.endRemoveRows()
            elif kind == "cols+":
                self.beginInsertColumns(root, at, end)
                for line, new in zip(self._grid, state.grid, strict=True):
                    line[at:at] = new[at:end + 1]
                self._cols += count
                self.endInsertColumns()
            else:
                self.beginRemoveColumns(root, at, end)
                for line in self._grid:
                    del line[at:end + 1]
                self._cols -= count
                self.endRemoveColumns()
        self._grid = [list(r) for r in state.grid]
        self._cols = state.cols
        self._header_rows = state.header_rows
        self._merges = list(state.merges)
        if self._grid and self._cols:
            # texts may have moved anywhere (merge joins, an anchor moving down), and the
            # header rows' font with them
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._grid) - 1, self._cols - 1))
        self.spansChanged.emit()


class LiveTables(QObject):
    """Feeds one answer's chunks to a StreamParser and keeps a TableModel per table, filled
    row by row as the rows close. One LiveTables per answer (per page part)."""

    tableStarted = Signal(object)  # TableModel (empty, streaming)
    tableFinished = Signal(object)  # TableModel

    def __init__(self, source: str = "", parent: QObject | None = None,
                 first_number: int = 1) -> None:
        super().__init__(parent)
        self.source = source
        self.first_number = first_number
        self.models: list[TableModel] = []
        self._parser = StreamParser()
        self._closed = False

    def feed(self, chunk: str) -> None:
        if self._closed or not chunk:
            return
        for event in self._parser.feed(chunk):
            self._handle(event)

    def close(self) -> None:
        """The answer ended: tables still open end here."""
        if self._closed:
            return
        self._closed = True
        for event in self._parser.close():
            self._handle(event)
        for model in self.models:
            model.finish_stream()

    def _handle(self, event) -> None:
        if isinstance(event, TableStarted):
            model = TableModel(title=translate("TableView", "Table {n}").format(
                n=self.first_number + event.index), source=self.source)
            model.begin_stream()
            self.models.append(model)
            self.tableStarted.emit(model)
        elif isinstance(event, RowAdded):
            self.models[event.table_index].add_event(event)
        elif isinstance(event, TableFinished):
            model = self.models[event.index]
            model.finish_stream(event.table)
            self.tableFinished.emit(model)
        elif isinstance(event, TextAdded):
            pass


def models_for_text(text: str, source: str = "", first_number: int = 1,
                    task: str = "") -> list[TableModel]:
    """Models for the tables of a finished answer (a stored result being shown again);
    a key-fields answer (JSON) shows as its field/value and line-item tables."""
    from desktop_ocr.core.export import fields_tables
    from desktop_ocr.core.tables import parse_tables

    tables = parse_tables(text)
    if not tables and task == "fields":
        tables = fields_tables(text)
    return [TableModel(t, title=translate("TableView", "Table {n}").format(n=first_number + i),
                       source=source)
            for i, t in enumerate(tables)]
