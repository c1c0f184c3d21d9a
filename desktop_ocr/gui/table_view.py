"""The table tab: one editable grid per table of the answer ("Table 1", "Table 2", ...).

Each grid is a QTableView over a TableModel (table_model.py), with the model's merges
shown as spans, a context menu and a small toolbar for the edits, and copy of the
selection as TSV + an HTML table, which Excel and LibreOffice paste as cells.
Shortcuts are bound to the grid itself (not the window), so they never clash with the
window's own and only act on the grid that has the focus.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QT_TRANSLATE_NOOP, QMimeData, QModelIndex, QPoint, Qt, Signal
from PySide6.QtGui import QAction, QFont, QFontMetrics, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QMenu,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from desktop_ocr.core.export import table_html, table_tsv
from desktop_ocr.core.tables import Table
from desktop_ocr.gui import look
from desktop_ocr.gui.i18n import translate
from desktop_ocr.gui.table_model import TableModel

__all__ = ["TableGrid", "TableTabs", "clipboard_mime"]

MAX_COLUMN_WIDTH = 320
MIN_COLUMN_WIDTH = 40
FIT_ROWS = 500  # widths and heights come from the first rows: a huge table must not stall


def clipboard_mime(table: Table) -> QMimeData:
    """TSV (text/plain) and an HTML table (text/html) for one block of cells; cells that a
    spreadsheet would run as formulas are neutralised (core.export.csv_safe)."""
    mime = QMimeData()
    mime.setText(table_tsv(table))
    mime.setHtml('<html><head><meta charset="utf-8"></head><body>'
                 f"{table_html(table)}</body></html>")
    return mime


class TableGrid(QTableView):
    """One table as an editable grid."""

    copied = Signal(int, int)  # rows, columns put on the clipboard

    def __init__(self, model: TableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # No Python reference to the model here: a grid's wrapper is freed inside Qt's
        # destructor, and a model freed from there would signal into half-gone objects.
        # Whoever shows the model keeps it (the window's store, the live feeder).
        self.setModel(model)
        self.setAccessibleName(translate("TableView", "Table"))
        look.focus_ring(self, "tableGrid")
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                             | QAbstractItemView.EditTrigger.EditKeyPressed
                             | QAbstractItemView.EditTrigger.AnyKeyPressed)
        self.setWordWrap(True)
        self.setAlternatingRowColors(False)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.horizontalHeader().setDefaultSectionSize(110)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu)
        self._build_actions()
        model.spansChanged.connect(self.sync_spans)
        model.rowsInserted.connect(self._follow)
        model.streamFinished.connect(self.fit_columns)
        # bound methods, not lambdas: Qt drops them when the grid goes, the model stays
        model.undo_stack.indexChanged.connect(self._on_changed)
        model.streamFinished.connect(self.update_actions)
        self.selectionModel().selectionChanged.connect(self._on_changed)
        self.sync_spans()
        if not model.streaming:
            self.fit_columns()
        self.update_actions()

    # ---------------------------------------------------------------- actions

    def _act(self, text: str, slot, keys=(), tip: str = "") -> QAction:
        action = QAction(text, self)
        if keys:
            action.setShortcuts([QKeySequence(k) for k in keys])
        action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        if tip:
            action.setToolTip(f"{tip} ({QKeySequence(keys[0]).toString(QKeySequence.SequenceFormat.NativeText)})"
                              if keys else tip)
            action.setStatusTip(tip)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        a = self._act
        self.undo_action = a(translate("TableView", "Undo"), self.undo, ["Ctrl+Z"], translate("TableView", "Undo the last change to this table"))
        self.redo_action = a(translate("TableView", "Redo"), self.redo, ["Ctrl+Shift+Z", "Ctrl+Y"], translate("TableView", "Redo"))
        self.copy_action = a(translate("TableView", "Copy"), self.copy_selection, ["Ctrl+C"],
                             translate("TableView", "Copy the selected cells; they paste as a table into a spreadsheet"))
        self.insert_above_action = a(translate("TableView", "Insert row above"), self.insert_row_above, ["Ctrl+Alt+Up"],
                                     translate("TableView", "Insert a row above the selection"))
        self.insert_below_action = a(translate("TableView", "Insert row below"), self.insert_row_below, ["Ctrl+Alt+Down"],
                                     translate("TableView", "Insert a row below the selection"))
        self.delete_row_action = a(translate("TableView", "Delete row"), self.delete_rows, ["Ctrl+-"],
                                   translate("TableView", "Delete the selected rows"))
        self.insert_left_action = a(translate("TableView", "Insert column left"), self.insert_column_left,
                                    ["Ctrl+Alt+Left"], translate("TableView", "Insert a column left of the selection"))
        self.insert_right_action = a(translate("TableView", "Insert column right"), self.insert_column_right,
                                     ["Ctrl+Alt+Right"], translate("TableView", "Insert a column right of the selection"))
        self.delete_column_action = a(translate("TableView", "Delete column"), self.delete_columns, ["Ctrl+Shift+-"],
                                      translate("TableView", "Delete the selected columns"))
        self.merge_action = a(translate("TableView", "Merge cells"), self.merge_selection, ["Ctrl+M"],
                              translate("TableView", "Merge the selected cells into one"))
        self.split_action = a(translate("TableView", "Split cell"), self.split_selection, ["Ctrl+Shift+M"],
                              translate("TableView", "Split the merged cells in the selection"))
        self.header_action = a(translate("TableView", "Header rows down to here"), self.header_to_here, [],
                               translate("TableView", "Make the rows down to this one the table's header (bold)"))
        self.clear_action = a(translate("TableView", "Clear cells"), self.clear_selection, [Qt.Key.Key_Delete],
                              translate("TableView", "Empty the selected cells"))
        # the toolbar is narrow: short labels there, the full ones in the menu
        for action, short in ((self.insert_below_action, translate("TableView", "+Row")),
                              (self.delete_row_action, translate("TableView", "−Row")),
                              (self.insert_right_action, translate("TableView", "+Col")),
                              (self.delete_column_action, translate("TableView", "−Col")),
                              (self.merge_action, translate("TableView", "Merge")), (self.split_action, translate("TableView", "Split"))):
            action.setIconText(short)

    @property
    def table_model(self) -> TableModel:
        return self.model()  # type: ignore[return-value]

    def _live_model(self) -> TableModel | None:
        # None once the model is gone (the view then holds Qt's empty model)
        m = self.model()
        if isinstance(m, TableModel) and shiboken6.isValid(m) and shiboken6.isValid(m.undo_stack):
            return m
        return None

    def _on_changed(self, *_args) -> None:
        self.update_actions()

    def menu_actions(self) -> list[QAction | None]:
        return [self.undo_action, self.redo_action, None, self.copy_action, self.clear_action, None,
                self.insert_above_action, self.insert_below_action, self.delete_row_action, None,
                self.insert_left_action, self.insert_right_action, self.delete_column_action, None,
                self.merge_action, self.split_action, self.header_action]

    def toolbar_actions(self) -> list[QAction | None]:
        return [self.undo_action, self.redo_action, None, self.insert_below_action,
                self.delete_row_action, self.insert_right_action, self.delete_column_action,
                self.merge_action, self.split_action, self.copy_action]

    def update_actions(self) -> None:
        m = self._live_model()
        if m is None:
            for action in self.actions():
                action.setEnabled(False)
            return
        editable = not m.streaming
        stack = m.undo_stack
        self.undo_action.setEnabled(editable and stack.canUndo())
        self.redo_action.setEnabled(editable and stack.canRedo())
        self.undo_action.setStatusTip(translate("TableView", "Undo {what}").format(
            what=stack.undoText()).strip())
        self.redo_action.setStatusTip(translate("TableView", "Redo {what}").format(
            what=stack.redoText()).strip())
        box = self.selected_box()
        has = box is not None
        self.copy_action.setEnabled(has)
        for action in (self.clear_action, self.insert_above_action, self.insert_below_action,
                       self.delete_row_action, self.insert_left_action, self.insert_right_action,
                       self.delete_column_action, self.header_action):
            action.setEnabled(editable and has)
        self.merge_action.setEnabled(editable and has and box is not None
                                     and (box[0] != box[2] or box[1] != box[3]))
        self.split_action.setEnabled(editable and has and bool(self._merges_in_selection()))

    def _menu(self, pos: QPoint) -> None:
        self.update_actions()
        menu = QMenu(self)
        for action in self.menu_actions():
            if action is None:
                menu.addSeparator()
            else:
                menu.addAction(action)
        menu.popup(self.viewport().mapToGlobal(pos))

    # ---------------------------------------------------------------- spans and layout

    def sync_spans(self) -> None:
        self.clearSpans()
        for m in self.table_model.spans():
            self.setSpan(m.row, m.col, m.rowspan, m.colspan)

    def fit_columns(self) -> None:
        """Columns as wide as their widest line, leaving out cells that span several
        columns (Qt's own fit counts their whole text against the first one)."""
        model = self._live_model()
        if model is None:
            return
        wide = {(m.row, m.col) for m in model.spans() if m.colspan > 1}
        plain, bold = self.fontMetrics(), QFontMetrics(self._bold_font())
        pad = 2 * self.style().pixelMetric(self.style().PixelMetric.PM_FocusFrameHMargin) + 10
        widths = [0] * model.columnCount()
        for r in range(min(model.rowCount(), FIT_ROWS)):
            fm = bold if r < model.header_rows else plain
            for c in range(len(widths)):
                text = model.text(r, c)
                if text and (r, c) not in wide:
                    widths[c] = max(widths[c], *(fm.horizontalAdvance(t) for t in text.splitlines()))
        header = self.horizontalHeader()
        for c, w in enumerate(widths):
            header.resizeSection(c, max(MIN_COLUMN_WIDTH, min(MAX_COLUMN_WIDTH, w + pad)))
        if model.rowCount() <= FIT_ROWS:
            self.resizeRowsToContents()

    def _bold_font(self) -> QFont:
        font = QFont(self.font())
        font.setBold(True)
        return font

    def _follow(self, _parent: QModelIndex, _first: int, last: int) -> None:
        # While rows stream in, keep the newest one in sight unless the user scrolled up.
        if not self.table_model.streaming:
            return
        bar = self.verticalScrollBar()
        if bar.value() >= bar.maximum() - 2:
            self.scrollToBottom()

    # ---------------------------------------------------------------- selection

    def selected_cells(self) -> list[tuple[int, int]]:
        return sorted({(i.row(), i.column()) for i in self.selectionModel().selectedIndexes()})

    def selected_box(self) -> tuple[int, int, int, int] | None:
        """(top, left, bottom, right) around the selection, or the current cell."""
        cells = self.selected_cells()
        if not cells:
            cur = self.currentIndex()
            if not cur.isValid():
                return None
            cells = [(cur.row(), cur.column())]
        rows = [r for r, _ in cells]
        cols = [c for _, c in cells]
        return min(rows), min(cols), max(rows), max(cols)

    def _selected_lines(self, axis: int) -> list[int]:
        cells = self.selected_cells()
        if not cells and self.currentIndex().isValid():
            cur = self.currentIndex()
            cells = [(cur.row(), cur.column())]
        return sorted({cell[axis] for cell in cells})

    def _merges_in_selection(self):
        box = self.selected_box()
        if box is None:
            return []
        r0, c0, r1, c1 = box
        return [m for m in self.table_model.spans()
                if not (m.last_row < r0 or m.row > r1 or m.last_col < c0 or m.col > c1)]

    def select_box(self, r0: int, c0: int, r1: int, c1: int) -> None:
        from PySide6.QtCore import QItemSelection, QItemSelectionModel

        model = self.table_model
        selection = QItemSelection(model.index(r0, c0), model.index(r1, c1))
        self.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.selectionModel().setCurrentIndex(model.index(r0, c0),
                                              QItemSelectionModel.SelectionFlag.NoUpdate)

    # ---------------------------------------------------------------- edits

    def undo(self) -> None:
        if not self.table_model.streaming:
            self.table_model.undo_stack.undo()

    def redo(self) -> None:
        if not self.table_model.streaming:
            self.table_model.undo_stack.redo()

    def _runs(self, lines: list[int]) -> list[tuple[int, int]]:
        """Contiguous (start, count) runs of `lines`, last first (so removals keep indexes)."""
        runs: list[tuple[int, int]] = []
        for n in lines:
            if runs and runs[-1][0] + runs[-1][1] == n:
                runs[-1] = (runs[-1][0], runs[-1][1] + 1)
            else:
                runs.append((n, 1))
        return runs[::-1]

    def _macro(self, text: str, steps) -> None:
        stack = self.table_model.undo_stack
        stack.beginMacro(text)
        try:
            for step in steps:
                step()
        finally:
            stack.endMacro()

    def insert_row_above(self) -> None:
        rows = self._selected_lines(0)
        if rows:
            self.table_model.insert_rows(rows[0], len(rows))

    def insert_row_below(self) -> None:
        rows = self._selected_lines(0)
        if rows:
            self.table_model.insert_rows(rows[-1] + 1, len(rows))

    def delete_rows(self) -> None:
        runs = self._runs(self._selected_lines(0))
        if runs:
            self._macro(translate("TableView", "Delete rows"), [lambda s=s, n=n: self.table_model.remove_rows(s, n)
                                        for s, n in runs])

    def insert_column_left(self) -> None:
        cols = self._selected_lines(1)
        if cols:
            self.table_model.insert_columns(cols[0], len(cols))

    def insert_column_right(self) -> None:
        cols = self._selected_lines(1)
        if cols:
            self.table_model.insert_columns(cols[-1] + 1, len(cols))

    def delete_columns(self) -> None:
        runs = self._runs(self._selected_lines(1))
        if runs:
            self._macro(translate("TableView", "Delete columns"), [lambda s=s, n=n: self.table_model.remove_columns(s, n)
                                           for s, n in runs])

    def merge_selection(self) -> None:
        box = self.selected_box()
        if box is not None and self.table_model.merge(*box):
            m = self.table_model.merge_at(box[0], box[1])
            if m is not None:
                self.select_box(m.row, m.col, m.last_row, m.last_col)

    def split_selection(self) -> None:
        merges = self._merges_in_selection()
        if merges:
            self._macro(translate("TableView", "Split cells"), [lambda m=m: self.table_model.split(m.row, m.col)
                                        for m in merges])

    def clear_selection(self) -> None:
        self.table_model.clear_cells(self.selected_cells())

    def header_to_here(self) -> None:
        rows = self._selected_lines(0)
        if rows:
            self.table_model.set_header_rows(rows[-1] + 1)

    # ---------------------------------------------------------------- copy

    def selection_table(self) -> Table | None:
        """The selected block as a Table (cells inside the box but not selected: empty)."""
        box = self.selected_box()
        if box is None:
            return None
        r0, c0, r1, c1 = box
        table = self.table_model.sub_table(r0, c0, r1, c1)
        selected = set(self.selected_cells())
        if selected and len(selected) < (r1 - r0 + 1) * (c1 - c0 + 1):
            grid = table.to_grid()
            covered = {(r, c) for m in self.table_model.spans()
                       for r in range(m.row, m.last_row + 1) for c in range(m.col, m.last_col + 1)
                       if (m.row, m.col) in selected}
            for r in range(r0, r1 + 1):
                for c in range(c0, c1 + 1):
                    if (r, c) not in selected and (r, c) not in covered:
                        grid[r - r0][c - c0] = ""
            table = Table.from_grid(grid, table.merged_ranges(), table.header_rows)
        return table

    def copy_selection(self) -> bool:
        table = self.selection_table()
        if table is None:
            return False
        QGuiApplication.clipboard().setMimeData(clipboard_mime(table))
        self.copied.emit(table.n_rows, table.n_cols)
        return True


class TableTabs(QWidget):
    """Every table of the shown answer, one grid per tab, with an edit toolbar."""

    EMPTY_TEXT = QT_TRANSLATE_NOOP("TableView", "Tables in the answer appear here as an editable grid.")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.toolbar = QToolBar(translate("TableView", "Table"))
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        # compact buttons: the right pane is narrow and every table action should show
        self.toolbar.setStyleSheet("QToolButton { padding: 1px 1px; margin: 0px; }")
        self.toolbar.layout().setSpacing(0)
        self.toolbar.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.toolbar)
        self.stack = QStackedWidget()
        self.placeholder = QLabel(translate("TableView", self.EMPTY_TEXT))
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setEnabled(False)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(self.tabs)
        layout.addWidget(self.stack, 1)
        self.tabs.currentChanged.connect(self._on_current)
        self._on_current(-1)

    # ---------------------------------------------------------------- content

    def grids(self) -> list[TableGrid]:
        return [self.tabs.widget(i) for i in range(self.tabs.count())]  # type: ignore[misc]

    def models(self) -> list[TableModel]:
        return [g.table_model for g in self.grids()]

    def tables(self) -> list[Table]:
        return [m.to_table() for m in self.models()]

    def current_grid(self) -> TableGrid | None:
        w = self.tabs.currentWidget()
        return w if isinstance(w, TableGrid) else None

    def clear(self) -> None:
        while self.tabs.count():
            w = self.tabs.widget(0)
            self.tabs.removeTab(0)
            w.deleteLater()
        self.stack.setCurrentWidget(self.placeholder)
        self._on_current(-1)

    def add_model(self, model: TableModel) -> TableGrid:
        grid = TableGrid(model)
        n = self.tabs.count() + 1
        i = self.tabs.addTab(grid, translate("TableView", "Table {n}").format(n=n))
        tip = (translate("TableView", "{source} — table {n}").format(source=model.source, n=n)
               if model.source else translate("TableView", "Table {n}").format(n=n))
        if model.caption:
            tip += f": {model.caption}"
        self.tabs.setTabToolTip(i, tip)
        self.stack.setCurrentWidget(self.tabs)
        if self.tabs.count() == 1:
            self._on_current(0)
        return grid

    def set_models(self, models: list[TableModel]) -> None:
        """Show these tables; the grids already showing them stay (selection, scroll)."""
        current = self.models()
        if len(current) == len(models) and all(a is b for a, b in zip(current, models, strict=True)):
            return
        self.clear()
        for model in models:
            self.add_model(model)

    def _on_current(self, _index: int) -> None:
        self.toolbar.clear()
        grid = self.current_grid()
        self.toolbar.setEnabled(grid is not None)
        if grid is None:
            return
        grid.update_actions()
        for action in grid.toolbar_actions():
            if action is None:
                self.toolbar.addSeparator()
            else:
                self.toolbar.addAction(action)
