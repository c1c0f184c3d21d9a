"""File-dialog filters of the export formats, from core/export.py's one list."""

from __future__ import annotations

from desktop_ocr.core.export import FORMAT_NAMES, FORMATS


def export_filters() -> list[str]:
    """One filter per export format, in core/export.py's order ("Excel workbook (*.xlsx)")."""
    return [f"{FORMAT_NAMES.get(fmt, fmt.upper())} (*.{fmt})" for fmt in FORMATS]


def export_filter() -> str:
    return ";;".join(export_filters())


def filter_for(fmt: str) -> str:
    return f"{FORMAT_NAMES.get(fmt, fmt.upper())} (*.{fmt})"
