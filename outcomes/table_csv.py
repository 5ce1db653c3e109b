"""A dashboard table as a CSV download: what the page shows, every row of it.

A column that holds estimates (shares, means, differences between arms) becomes four numeric
columns in the CSV: the value, the lower and upper ends of its 95% interval, and its n, so a
spreadsheet can read each as a number ("suppressed" in the value column, the rest blank, for a
suppressed cell)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from outcomes.rules import NO_DATA_TEXT, POINTS, Cell, Difference, Mean
from outcomes.tables import Table, fmt

Estimate = Cell | Mean | Difference
INTERVAL_SUFFIXES = (" lower 95%", " upper 95%", " n")


def pct(cell: Cell) -> str:
    """A Cell as a bare percentage for the CSV ('suppressed', or rules.NO_DATA_TEXT)."""
    if cell.suppressed:
        return "suppressed"
    return NO_DATA_TEXT if cell.percent is None else f"{cell.percent:.1f}"


def to_csv(table: Table, *, context_columns: Sequence[tuple[str, str]] = ()) -> str:
    """The table as CSV text: a header row, estimates as value, lower, upper and n columns,
    and any text a spreadsheet would run as a formula quoted. `context_columns`: (header,
    value) pairs appended to every row, saying what the figures cover (the period, the time
    point), so each row still says it once the file is filtered or pasted elsewhere."""
    expanded = {
        i for row in table.rows for i, value in enumerate(row) if isinstance(value, Estimate)
    }
    out = io.StringIO()
    writer = csv.writer(out)
    header: list[str] = []
    for i, title in enumerate(table.headers):
        header.append(title)
        if i in expanded:
            header.extend(title + suffix for suffix in INTERVAL_SUFFIXES)
    header.extend(title for title, _value in context_columns)
    writer.writerow(header)
    for row in table.rows:
        cells: list[str] = []
        for i, value in enumerate(row):
            if i in expanded:
                cells.extend(estimate_columns(value))
            else:
                cells.append(_csv_value(value))
        cells.extend(_csv_value(value) for _title, value in context_columns)
        writer.writerow(cells)
    return out.getvalue()


def _number(value: float | None, places: int) -> str:
    return "" if value is None else f"{value:.{places}f}"


def estimate_columns(value: Any) -> list[str]:
    """An estimate as [value, lower, upper, n] (percent to 1 place, means to 2); anything else
    in an estimate column as [its text, '', '', '']."""
    if isinstance(value, Cell):
        if value.suppressed:
            return ["suppressed", "", "", ""]
        return [pct(value), _number(value.lower, 1), _number(value.upper, 1), str(value.n)]
    if isinstance(value, Mean | Difference):
        if value.suppressed:
            return ["suppressed", "", "", ""]
        number = value.mean if isinstance(value, Mean) else value.estimate
        places = 1 if isinstance(value, Difference) and value.unit == POINTS else 2
        return [
            NO_DATA_TEXT if number is None else _number(number, places),
            _number(value.lower, places),
            _number(value.upper, places),
            str(value.n),
        ]
    return [_csv_value(value), "", "", ""]


def _csv_value(value: Any) -> str:
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
