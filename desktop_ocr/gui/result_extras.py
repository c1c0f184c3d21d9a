"""What the CPU engine's second reading adds under a result: doubtful words marked in the
result view (both readings on hover) with their count, and the codes found as chips.

`ResultExtras` is driven by the window with three calls: `add(result, document)` when a
result arrives (it is queued for the second reading, gui/second_reader.py), `show(results)`
once the result view holds those results' text, and `forget()` when their document goes.
The marks are laid on the view's text where each result's text is found in it, so they
hold for one result, for a page of regions headed by their labels and for the whole
document's pages alike, and they never need the view to be filled again.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QToolTip, QVBoxLayout, QWidget

from desktop_ocr.core.codes import Code
from desktop_ocr.core.documents import Document
from desktop_ocr.core.doubt import doubts_from_json
from desktop_ocr.core.results import PartResult
from desktop_ocr.gui.code_chips import CodeChips
from desktop_ocr.gui.doubt_marks import clear_doubts, count_text, doubt_at, mark_doubts
from desktop_ocr.gui.i18n import translate
from desktop_ocr.gui.second_reader import SecondReader, needs


def _quiet(widget: QWidget) -> str:
    """Text half way to the background: quieter on light and dark palettes alike."""
    fg = widget.palette().color(QPalette.ColorRole.WindowText)
    bg = widget.palette().color(QPalette.ColorRole.Window)
    mix = [round(0.6 * a + 0.4 * b) for a, b in zip(fg.getRgb()[:3], bg.getRgb()[:3], strict=True)]
    return "#{:02x}{:02x}{:02x}".format(*mix)


class ExtrasBar(QWidget):
    """Under the result: the doubtful-word count and the code chips (hidden when empty)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 2)
        layout.setSpacing(2)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        self.doubt_label = QLabel()
        self.doubt_label.setObjectName("doubtCount")
        self.doubt_label.setAccessibleName(translate("ResultExtras", "Doubtful words"))
        row.addWidget(self.doubt_label, 1)
        layout.addLayout(row)
        self.chips = CodeChips(self)
        self.chips.setAccessibleName(translate("ResultExtras", "Codes found"))
        layout.addWidget(self.chips)
        self.doubt_label.hide()
        self.setVisible(False)

    def set_doubts(self, text: str, tip: str = "", hint: str = "") -> None:
        """The count (or what is being done); `hint` follows it in a quieter colour."""
        shown = html.escape(text)
        if hint:
            shown += f' <span style="color: {_quiet(self)};">{html.escape(hint)}</span>'
        self.doubt_label.setText(shown)
        self.doubt_label.setToolTip(tip)
        self.doubt_label.setVisible(bool(text))
        self._update_visible()

    def set_codes(self, codes: Sequence[Code]) -> None:
        self.chips.set_codes(codes)
        self._update_visible()

    def _update_visible(self) -> None:
        self.setVisible(not self.doubt_label.isHidden() or bool(self.chips.chips))


class ResultExtras(QObject):
    def __init__(self, view: QPlainTextEdit, library=None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.view = view
        self.bar = ExtrasBar()
        self.reader = SecondReader(library, self)
        self.reader.prefer = self.is_shown
        self.reader.read.connect(self._on_read)
        self.reader.changed.connect(self._update_label)
        self._shown: list[PartResult] = []
        self._starts: dict[int, int] = {}  # id(result) -> where its text starts in the view
        self.marked = 0  # doubtful words marked in the view now
        view.viewport().installEventFilter(self)

    # ---------------------------------------------------------------- the window's calls

    def add(self, result: PartResult, document: Document) -> bool:
        """A result arrived for `document` (shown or not): read it again in the background
        when it needs it. True when queued."""
        return self.reader.queue(result, document)

    def show(self, results: Sequence[PartResult]) -> None:
        """The view now shows these results' text (in this order): mark their doubts, show
        their codes."""
        self._shown = list(results)
        self.refresh()

    def forget(self, keep=None) -> None:
        """Their document went (or, with `keep`, the results it says no to): stop reading
        them, show nothing."""
        self.reader.cancel(keep)
        if keep is None:
            self._shown = []
            self.refresh()

    def is_shown(self, result: PartResult) -> bool:
        return any(r is result for r in self._shown)

    def shutdown(self) -> None:
        self.reader.shutdown()

    # ---------------------------------------------------------------- showing

    def refresh(self) -> None:
        """Lay every mark again (the view was filled anew), show the codes, the count."""
        self.marked = self._mark_all()
        self._show_codes()
        self._update_label()

    def _show_codes(self) -> None:
        codes: list[Code] = []
        for r in self._shown:
            for d in (r.extra or {}).get("codes") or []:
                code = Code.from_dict(d)
                if all((c.format, c.text) != (code.format, code.text) for c in codes):
                    codes.append(code)
        self.bar.set_codes(codes)

    def _mark_all(self) -> int:
        """Where each shown result's text starts in the view (searched in order), and its
        doubts marked there."""
        doc = self.view.document()
        undo = doc.isUndoRedoEnabled()
        doc.setUndoRedoEnabled(False)  # the marks are no edit of the user's to undo
        try:
            clear_doubts(doc)
            text = self.view.toPlainText()
            self._starts = {}
            at, marked = 0, 0
            for r in self._shown:
                body = r.text.rstrip("\n") if r.ok else ""
                found = text.find(body, at) if body else -1
                if found < 0:
                    continue  # edited in the view, or not shown: nothing to lay marks on
                at = found + len(body)
                self._starts[id(r)] = found
                marked += self._mark(r, text, found)
            return marked
        finally:
            doc.setUndoRedoEnabled(undo)

    def _mark(self, result: PartResult, text: str, found: int) -> int:
        # only where the view still shows the word the doubt is about (the user may edit)
        doubts = [d for d in doubts_from_json((result.extra or {}).get("doubts"))
                  if text[found + d.start:found + d.end] == d.vlm]
        if not doubts:
            return 0
        qt_offset = len(text[:found].encode("utf-16-le")) // 2
        return mark_doubts(self.view.document(), doubts, qt_offset)

    def _update_label(self) -> None:
        checking = any(self.reader.pending(r) and needs(r).doubts for r in self._shown)
        checked = any("doubts" in (r.extra or {}) for r in self._shown)
        if checking:
            self.bar.set_doubts(translate("ResultExtras", "Checking the words with the CPU engine…"),
                                translate("ResultExtras", "The CPU engine reads the same image again "
                                                          "to find words worth a second look"))
        elif checked:
            self.bar.set_doubts(
                count_text(self.marked),
                translate("ResultExtras", "Words the CPU engine read otherwise are underlined in amber")
                if self.marked else translate("ResultExtras", "The CPU engine read every word alike"),
                translate("ResultExtras", "— hover an underlined word for the CPU engine's reading")
                if self.marked else "")
        else:
            self.bar.set_doubts("")

    def _on_read(self, result: PartResult) -> None:
        """One result got its second reading: mark just its words (a long document's
        other pages are not laid again), update the chips and the count."""
        if not self.is_shown(result):
            return
        found = self._starts.get(id(result))
        if found is not None:
            doc = self.view.document()
            undo = doc.isUndoRedoEnabled()
            doc.setUndoRedoEnabled(False)
            try:
                self.marked += self._mark(result, self.view.toPlainText(), found)
            finally:
                doc.setUndoRedoEnabled(undo)
        self._show_codes()
        self._update_label()

    # ---------------------------------------------------------------- hover

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.ToolTip and watched is self.view.viewport():
            cursor = self.view.cursorForPosition(event.pos())
            tip = doubt_at(self.view.document(), cursor.position())
            if not tip and cursor.position() > 0:  # the right half of a word's last letter
                tip = doubt_at(self.view.document(), cursor.position() - 1)
            if tip:
                QToolTip.showText(event.globalPos(), tip, self.view.viewport())
                return True
            QToolTip.hideText()
        return super().eventFilter(watched, event)
