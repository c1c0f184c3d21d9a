"""Formula safety of what the app puts on the clipboard: the automatic copy after a snip or
paste (TSV + HTML) and the grid's Copy, on the same hostile cells as the file exports."""

from __future__ import annotations

import pytest
from hostile_cells import HARMLESS, HOSTILE, html_cells, runs_as_formula
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from desktop_ocr.core.tables import Table
from desktop_ocr.gui.clipboard import formats
from desktop_ocr.gui.table_model import TableModel
from desktop_ocr.gui.table_view import TableTabs


def tsv_cells(text: str) -> list[str]:
    return [c for line in text.splitlines() for c in line.split("\t")]


def _check(cells: list[str]) -> None:
    # THEN no cell would start a formula in a spreadsheet, each hostile one is there with
    # a leading apostrophe, and the harmless ones are unchanged
    assert not [c for c in cells if runs_as_formula(c)]
    assert sum(c.startswith("'") for c in cells) == len(HOSTILE)
    for cell in HARMLESS:
        assert cell in cells


def test_automatic_copy_of_a_table_answer_is_neutralised():
    # GIVEN a table answer (as a snip or paste recognises it) holding formula payloads
    cells = [" ".join(c.split()) for c in HOSTILE] + HARMLESS
    rows = "".join(f"<tr><td>{c}</td></tr>" for c in cells)
    answer = f"<table>{rows}</table>"
    # WHEN it goes to the clipboard
    payload = formats.payload_for(answer, "table")
    # THEN both flavours are safe
    _check(tsv_cells(payload.text))
    _check(html_cells(payload.html))


@pytest.fixture
def tabs(qtbot):
    widget = TableTabs()
    qtbot.addWidget(widget)
    widget.resize(500, 400)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    QGuiApplication.clipboard().clear()


def test_grid_copy_is_neutralised(tabs, qtbot):
    # GIVEN a grid of the hostile and harmless cells
    grid_rows = [[c] for c in HOSTILE + HARMLESS]
    grid = tabs.add_model(TableModel(Table.from_grid(grid_rows)))
    grid.setFocus()
    qtbot.waitUntil(grid.hasFocus, timeout=2_000)
    # WHEN all of it is copied with Ctrl+C
    grid.select_box(0, 0, len(grid_rows) - 1, 0)
    qtbot.keyClick(grid, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    mime = QGuiApplication.clipboard().mimeData()
    # THEN the HTML flavour is safe, and so is the TSV one (quoted cells unwrapped)
    _check(html_cells(mime.html()))
    import csv
    import io

    tsv = [r[0] for r in csv.reader(io.StringIO(mime.text()), delimiter="\t") if r]
    _check(tsv)
