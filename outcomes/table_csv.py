"""A dashboard table as a CSV download: what the page shows, every row of it."""

from __future__ import annotations

import csv
import io
from typing import Any

from outcomes.rules import Cell
from outcomes.tables import Table, fmt


def pct(cell: Cell) -> str:
    """A Cell as a bare percentage for the CSV ('suppressed', or '-' without data)."""
    if cell.suppressed:
        return "suppressed"
    return "-" if cell.percent is None else f"{cell.percent:.1f}"


def to_csv(table: Table) -> str:
    """The table as CSV text: a header row, shares as bare percentages, and any text a
    spreadsheet would run as a formula quoted."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.headers)
    for row in table.rows:
        writer.writerow([_csv_value(v) for v in row])
    return out.getvalue()


def _csv_value(value: Any) -> str:
    if isinstance(value, Cell):
        return pct(value)
    text = fmt(value)
    # Spreadsheet formula injection: a cell starting with = + - @ is read as a formula.
    if text and text[0] in "=+-@" and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
