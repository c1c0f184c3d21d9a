"""Doubtful words in a result's text view: a wavy amber underline on a faint amber tint,
the CPU engine's reading on hover, and the count for a label.

`mark_doubts(document, doubts, offset=0)` underlines each `core.doubt.Doubt` span of the
text in a QTextDocument (a QTextEdit's or QTextBrowser's `document()`); the text view
shows the char format's tooltip by itself. `offset` is where the result's text starts in
the document (several results in one view). The marks carry a property of their own, so
`clear_doubts` removes exactly them and nothing the user formatted; an edit of the text
keeps the marks on the words they were made for. Offsets in a Doubt count Python
characters; Qt counts UTF-16 units, so the spans are converted (a character beyond the
BMP, e.g. a rare CJK ideograph, is two of them).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QColor, QTextCharFormat, QTextCursor, QTextDocument, QTextFormat

from desktop_ocr.core.doubt import Doubt

# Marks this module made (so clearing leaves every other format alone).
DOUBT_PROPERTY = QTextFormat.Property.UserProperty + 16


def marks_colours() -> tuple[QColor, QColor]:
    """The underline and the tint for this palette: gui/look.py's warning accent, amber (it
    reads on light and dark palettes, unlike red on dark); a wavy underline alone is one
    thin pixel, so a faint tint of it makes the word findable."""
    from desktop_ocr.gui import look

    line = look.accent("warning")
    tint = QColor(line)
    tint.setAlpha(72 if look.is_dark() else 56)
    return line, tint


def tooltip(doubt: Doubt) -> str:
    if doubt.cpu:
        return QCoreApplication.translate("DoubtMarks", "Doubtful: the CPU engine read “{cpu}” here").format(cpu=doubt.cpu)
    return QCoreApplication.translate("DoubtMarks", "Doubtful: the CPU engine read something else here")


def count_text(n: int) -> str:
    """For the label beside the result: "3 doubtful words"."""
    if n == 0:
        return QCoreApplication.translate("DoubtMarks", "No doubtful words")
    return QCoreApplication.translate("DoubtMarks", "1 doubtful word") if n == 1 else QCoreApplication.translate("DoubtMarks", "{n} doubtful words").format(n=n)


def _utf16(text: str, index: int) -> int:
    return len(text[:index].encode("utf-16-le")) // 2


def mark_doubts(document: QTextDocument, doubts: Sequence[Doubt], offset: int = 0) -> int:
    """Underline `doubts` (spans of the text that starts at `offset`, a Qt position, in
    `document`); returns how many were marked (spans past the end are skipped)."""
    text = document.toPlainText()
    start_py = _py_index(text, offset)  # where the result's text starts, as a Python index
    end = document.characterCount() - 1
    marked = 0
    for d in doubts:
        a = offset + _utf16(text[start_py:], d.start)
        b = offset + _utf16(text[start_py:], d.end)
        if a >= b or b > end:
            continue
        cursor = QTextCursor(document)
        cursor.setPosition(a)
        cursor.setPosition(b, QTextCursor.MoveMode.KeepAnchor)
        fmt = QTextCharFormat()
        fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
        line, tint = marks_colours()
        fmt.setUnderlineColor(line)
        fmt.setBackground(tint)
        fmt.setToolTip(tooltip(d))
        fmt.setProperty(DOUBT_PROPERTY, True)
        cursor.mergeCharFormat(fmt)
        marked += 1
    return marked


def _py_index(text: str, qt_pos: int) -> int:
    units = 0
    for i, ch in enumerate(text):
        if units >= qt_pos:
            return i
        units += 2 if ord(ch) > 0xFFFF else 1
    return len(text)


def clear_doubts(document: QTextDocument) -> int:
    """Remove every mark `mark_doubts` made; returns how many fragments were cleared."""
    cleared = 0
    block = document.begin()
    spans: list[tuple[int, int]] = []
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            frag = it.fragment()
            if frag.isValid() and frag.charFormat().boolProperty(DOUBT_PROPERTY):
                spans.append((frag.position(), frag.position() + frag.length()))
            it += 1
        block = block.next()
    for a, b in spans:
        cursor = QTextCursor(document)
        cursor.setPosition(a)
        cursor.setPosition(b, QTextCursor.MoveMode.KeepAnchor)
        fmt = cursor.charFormat()
        fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.NoUnderline)
        fmt.clearProperty(QTextFormat.Property.TextUnderlineColor)
        fmt.clearProperty(QTextFormat.Property.TextToolTip)
        fmt.clearBackground()
        fmt.clearProperty(DOUBT_PROPERTY)
        cursor.setCharFormat(fmt)
        cleared += 1
    return cleared


def doubt_at(document: QTextDocument, position: int) -> str:
    """The tooltip of the mark at a Qt position ("" when none): what hovering shows."""
    cursor = QTextCursor(document)
    cursor.setPosition(min(position + 1, document.characterCount() - 1))
    fmt = cursor.charFormat()
    return fmt.toolTip() if fmt.boolProperty(DOUBT_PROPERTY) else ""
