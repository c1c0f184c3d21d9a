"""Icons and other files shipped inside the package."""

from __future__ import annotations

from importlib import resources

from PySide6.QtGui import QIcon


def resource_path(name: str) -> str:
    return str(resources.files("desktop_ocr") / "resources" / name)


def app_icon() -> QIcon:
    return QIcon(resource_path("desktop-ocr.svg"))
