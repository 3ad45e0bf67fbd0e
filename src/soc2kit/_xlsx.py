"""Small helpers over openpyxl shared by every XLSX the kit writes (control matrix, access-review
worksheet): text cells that can never become formulas, bold frozen headers, filters, sensible widths,
and an atomic save."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from soc2kit._fs import atomic_write_bytes

_MAX_WIDTH = 60


def workbook():
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    return wb


def set_text(cell, value: Any) -> None:
    """Store ``value`` as a literal: strings starting with ``=`` stay text, never a formula."""
    if value is None:
        cell.value = None
        return
    if isinstance(value, bool):
        cell.value = "yes" if value else "no"
        return
    if isinstance(value, int | float):
        cell.value = value
        return
    text = str(value)
    # Excel refuses control characters other than tab/newline in cell text.
    text = "".join(ch if ch in "\t\n" or ord(ch) >= 32 else " " for ch in text)
    cell.value = text[:32767]
    cell.data_type = "s"


def add_table_sheet(wb, title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], *, widths: dict[str, int] | None = None,
                    wrap: Iterable[str] = ()) -> Any:
    """A sheet with a bold, frozen header row, an auto-filter over the data and column widths."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(title=title[:31])
    header_font = Font(bold=True, color="FFFFFF")
    header_fill = PatternFill("solid", fgColor="1F3A5F")
    for c, name in enumerate(columns, start=1):
        cell = ws.cell(row=1, column=c)
        set_text(cell, name)
        cell.font = header_font
        cell.fill = header_fill
        cell.alignment = Alignment(vertical="top", wrap_text=True)
    longest = [len(c) for c in columns]
    wrap_cols = {columns.index(w) + 1 for w in wrap if w in columns}
    top = Alignment(vertical="top")
    wrapped = Alignment(vertical="top", wrap_text=True)
    n = 1
    for n, row in enumerate(rows, start=2):
        for c, value in enumerate(row, start=1):
            cell = ws.cell(row=n, column=c)
            set_text(cell, value)
            cell.alignment = wrapped if c in wrap_cols else top
            if value is not None:
                longest[c - 1] = max(longest[c - 1], min(len(str(value)), _MAX_WIDTH))
    for c, name in enumerate(columns, start=1):
        width = (widths or {}).get(name) or min(max(longest[c - 1] + 2, 8), _MAX_WIDTH)
        ws.column_dimensions[get_column_letter(c)].width = width
    ws.freeze_panes = "B2" if len(columns) > 1 else "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(n, 1)}"
    return ws


def to_bytes(wb) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def save(wb, path: Path) -> Path:
    atomic_write_bytes(path, to_bytes(wb))
    return path


def read_rows(path: Path, sheet: str | None = None) -> list[list[str]]:
    """Every row of a sheet (the first by default) as text cells, for reading worksheets back."""
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        ws = wb[sheet] if sheet else wb.worksheets[0]
        out = []
        for row in ws.iter_rows(values_only=True):
            out.append(["" if v is None else (v.isoformat()[:10] if hasattr(v, "isoformat") else str(v)) for v in row])
        return out
    finally:
        wb.close()
