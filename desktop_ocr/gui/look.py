"""The window's look: the theme (system, light, dark), colours taken from the palette, icons.

Every colour the window draws comes from here and is worked out from the current palette,
so a dark palette (the desktop's, or the dark theme) gets dark tints with light text and a
light one light tints with dark text. Widgets that bake a colour into a style sheet call
`follow_palette` to redo it when the palette changes (the theme can change while the
window is open).

Icons: the desktop's icon theme first (freedesktop names), else the bundled SVGs in
resources/icons, light or dark after the palette.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPalette
from PySide6.QtWidgets import QApplication, QWidget

from desktop_ocr.gui.resources import resource_path

THEMES = ("system", "light", "dark")

# Our icon name -> the freedesktop icon theme's name for the same thing ("" = none there).
THEME_ICONS = {
    "open": "document-open", "open-folder": "folder-open", "paste": "edit-paste", "snip": "",
    "recognise": "", "recognise-all": "", "cancel": "process-stop", "copy": "edit-copy",
    "export": "document-save-as", "zoom-in": "zoom-in", "zoom-out": "zoom-out",
    "fit-page": "zoom-fit-best", "fit-width": "", "actual-size": "zoom-original",
    "rotate-right": "object-rotate-right", "rotate-left": "object-rotate-left",
    "previous": "go-previous", "next": "go-next", "history": "document-open-recent",
    "preferences": "preferences-system", "engine": "", "close": "window-close",
    "details": "dialog-information",
}

# Hues that carry a meaning; `accent()` adapts them to the palette.
_ACCENTS = {
    "info": "#2f7fd8",
    "ok": "#2e9d4f",
    "warning": "#d9822b",
    "error": "#d64545",
}

_original: tuple[str, QPalette] | None = None


# ---------------------------------------------------------------- colours

def palette() -> QPalette:
    app = QGuiApplication.instance()
    return app.palette() if app is not None else QPalette()


def is_dark(pal: QPalette | None = None) -> bool:
    """Whether text is light on a dark window."""
    pal = pal or palette()
    return pal.color(QPalette.ColorRole.Window).lightness() < \
        pal.color(QPalette.ColorRole.WindowText).lightness()


def mix(a: QColor, b: QColor, t: float) -> QColor:
    """`a` moved a share `t` of the way towards `b`."""
    return QColor(round(a.red() + (b.red() - a.red()) * t),
                  round(a.green() + (b.green() - a.green()) * t),
                  round(a.blue() + (b.blue() - a.blue()) * t))


def accent(kind: str, pal: QPalette | None = None) -> QColor:
    """A meaningful colour ("info", "ok", "warning", "error", "muted") that reads as text or
    a mark on this palette's window: lighter on a dark palette, deeper on a light one."""
    pal = pal or palette()
    window = pal.color(QPalette.ColorRole.Window)
    text = pal.color(QPalette.ColorRole.WindowText)
    if kind == "muted":
        return mix(text, window, 0.45)
    base = QColor(_ACCENTS[kind])
    return mix(base, QColor("white"), 0.25) if is_dark(pal) else mix(base, QColor("black"), 0.25)


@dataclass(frozen=True)
class Tone:
    """A tinted box: background, border, and the text (the palette's own) on it."""

    background: QColor
    border: QColor
    text: QColor


def tone(kind: str, pal: QPalette | None = None) -> Tone:
    pal = pal or palette()
    window = pal.color(QPalette.ColorRole.Window)
    base = QColor(_ACCENTS.get(kind, _ACCENTS["info"]))
    dark = is_dark(pal)
    return Tone(mix(window, base, 0.22 if dark else 0.12), mix(window, base, 0.7),
                pal.color(QPalette.ColorRole.WindowText))


def css(colour: QColor) -> str:
    return colour.name(QColor.NameFormat.HexRgb)


def box_style(selector: str, kind: str, pal: QPalette | None = None) -> str:
    """A style sheet for a tinted frame `selector` and the labels and flat buttons in it."""
    t = tone(kind, pal)
    return (f"{selector} {{ background: {css(t.background)}; border: 1px solid {css(t.border)};"
            f" border-radius: 4px; }} {selector} QLabel {{ color: {css(t.text)}; background: transparent; }}"
            f" {selector} QToolButton {{ color: {css(t.text)}; }}")


def _palette_key() -> tuple[int, int]:
    pal = palette()
    return (pal.color(QPalette.ColorRole.Window).rgb(), pal.color(QPalette.ColorRole.WindowText).rgb())


class _PaletteWatch(QObject):
    """Calls back when the application's palette changes: a theme switch, or the desktop
    turning dark. (A widget with a style sheet of its own gets no palette events: the
    application's signal reaches it all the same.) A child of the widget, so the
    connection ends with it."""

    def __init__(self, widget: QWidget, callback: Callable[[], None]) -> None:
        super().__init__(widget)
        self.callback = callback
        self.key = _palette_key()
        app = QGuiApplication.instance()
        if app is not None:
            app.paletteChanged.connect(self.changed)

    def changed(self, *_args) -> None:
        key = _palette_key()
        if key != self.key:
            self.key = key
            self.callback()


def follow_palette(widget: QWidget, callback: Callable[[], None]) -> None:
    """Call `callback` now and whenever the application's palette changes."""
    _PaletteWatch(widget, callback)
    callback()


def focus_ring(widget: QWidget, name: str) -> None:
    """A frame in the highlight colour while `widget` (a view: the page, the text, a
    list) has the keyboard: the styles draw nothing on a focused view, so a keyboard user
    would not see where typing and arrow keys go. The same width either way, so nothing
    moves."""
    widget.setObjectName(name)
    widget.setStyleSheet(f"#{name} {{ border: 1px solid palette(mid); padding: 1px; }}"
                         f" #{name}:focus {{ border: 2px solid palette(highlight); padding: 0px; }}")


# ---------------------------------------------------------------- themes

def dark_palette() -> QPalette:
    p = QPalette()
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    colours = {
        role.Window: "#2b2d31", role.WindowText: "#e6e7e9", role.Base: "#1e1f22",
        role.AlternateBase: "#26282c", role.ToolTipBase: "#3a3d42", role.ToolTipText: "#e6e7e9",
        role.PlaceholderText: "#8d9096", role.Text: "#e6e7e9", role.Button: "#35383d",
        role.ButtonText: "#e6e7e9", role.BrightText: "#ff6b6b", role.Light: "#4a4d53",
        role.Midlight: "#3f4247", role.Mid: "#2f3135", role.Dark: "#1b1c1f", role.Shadow: "#0e0f10",
        role.Highlight: "#3d7bd9", role.HighlightedText: "#ffffff", role.Link: "#7fb2ff",
        role.LinkVisited: "#b99cff",
    }
    for r, c in colours.items():
        p.setColor(r, QColor(c))
    for r in (role.WindowText, role.Text, role.ButtonText, role.PlaceholderText):
        p.setColor(group.Disabled, r, QColor("#7b7e84"))
    p.setColor(group.Disabled, role.Highlight, QColor("#4a4d53"))
    return p


def apply_theme(theme: str, app: QApplication | None = None) -> None:
    """Follow the desktop ("system"), or the Fusion style with a light or dark palette."""
    global _original
    app = app or QApplication.instance()
    if app is None:
        return
    if _original is None:
        _original = (app.style().name(), QPalette(app.palette()))
    hints = app.styleHints()
    if theme not in ("light", "dark"):
        style, pal = _original
        if app.style().name() != style:
            app.setStyle(style)
        app.setPalette(pal)
        if hasattr(hints, "unsetColorScheme"):  # Qt 6.8: the desktop decides again
            hints.unsetColorScheme()
        icon.cache_clear()
        return
    if app.style().name().lower() != "fusion":
        app.setStyle("Fusion")
    if hasattr(hints, "setColorScheme"):  # Qt 6.8: native dialogs and title bars follow
        hints.setColorScheme(Qt.ColorScheme.Dark if theme == "dark" else Qt.ColorScheme.Light)
    app.setPalette(dark_palette() if theme == "dark" else app.style().standardPalette())
    icon.cache_clear()


# ---------------------------------------------------------------- icons

def icon_file(name: str, dark: bool) -> str:
    return resource_path(f"icons/{'dark' if dark else 'light'}/{name}.svg")


@cache
def _icon(name: str, dark: bool) -> QIcon:
    fallback = QIcon(icon_file(name, dark))
    themed = THEME_ICONS.get(name, "")
    return QIcon.fromTheme(themed, fallback) if themed else fallback


def icon(name: str) -> QIcon:
    """The icon for `name` (an entry of THEME_ICONS) on the current palette."""
    return _icon(name, is_dark())


icon.cache_clear = _icon.cache_clear  # type: ignore[attr-defined]
