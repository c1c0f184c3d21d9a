"""File-dialog filters of the export formats, from core/export.py's one list."""

from __future__ import annotations

from desktop_ocr.core.export import FORMATS
from desktop_ocr.gui.i18n import format_name


def export_filters() -> list[str]:
    """One filter per export format, in core/export.py's order ("Excel workbook (*.xlsx)")."""
    return [f"{format_name(fmt)} (*.{fmt})" for fmt in FORMATS]


def export_filter() -> str:
    return ";;".join(export_filters())


def filter_for(fmt: str) -> str:
    return f"{format_name(fmt)} (*.{fmt})"
