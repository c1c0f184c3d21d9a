"""File-dialog filters of the export formats, from core/export.py's one list."""

from __future__ import annotations

from pathlib import Path

from desktop_ocr.core.export import FORMATS, ExportError, format_for
from desktop_ocr.gui.i18n import format_name


def export_filters() -> list[str]:
    """One filter per export format, in core/export.py's order ("Excel workbook (*.xlsx)")."""
    return [f"{format_name(fmt)} (*.{fmt})" for fmt in FORMATS]


def export_filter() -> str:
    return ";;".join(export_filters())


def filter_for(fmt: str) -> str:
    return f"{format_name(fmt)} (*.{fmt})"


def with_suffix_of(path: Path, selected_filter: str) -> Path:
    """`path` with the suffix of the dialog's chosen filter when it has no known one."""
    try:
        format_for(path)
        return path
    except ExportError:
        pass
    start = selected_filter.find("(*.")
    if start < 0:
        return path
    return path.with_name(path.name + selected_filter[start + 2:].split(")")[0].split()[0])
