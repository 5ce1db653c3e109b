"""What an import finds wrong with a file, grouped for the page and listed in full for the report.

A Problem is refused (the whole file is then refused: all or nothing) or a warning (the row is
imported, and the preview says why it deserves a look). Messages are the same sentence for every
row they apply to - the row's own value or the other line it clashes with goes in `detail` - so
that 20,000 rows with one fault read as one line on the page: "lines 2-20001: ...".
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TypedDict


class Severity(StrEnum):
    REFUSED = "refused"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One fault at one line (the header is line 1) and column ("" for the whole row/file)."""

    line: int
    column: str
    message: str
    severity: Severity = Severity.REFUSED
    detail: str = ""


class ProblemGroup(TypedDict):
    """Rows sharing one fault, as the page shows them: `lines` as text ("2-401, 405"),
    capped at `GROUP_RANGES` ranges; `more` counts the lines left out of the text."""

    severity: str
    column: str
    message: str
    count: int
    lines: str
    more: int


# The page shows at most this many groups, each with at most this many line ranges: a file of
# 20,000 different faults gives a page of a few kilobytes; the report (CSV) has every line.
PAGE_GROUPS = 50
GROUP_RANGES = 20


def refused(line: int, column: str, message: str, detail: str = "") -> Problem:
    return Problem(line, column, message, Severity.REFUSED, detail)


def warning(line: int, column: str, message: str, detail: str = "") -> Problem:
    return Problem(line, column, message, Severity.WARNING, detail)


def line_ranges(lines: Sequence[int], *, limit: int = GROUP_RANGES) -> tuple[str, int]:
    """Sorted line numbers as "2-401, 405, 410-412", at most `limit` ranges; returns the text and
    how many lines the text leaves out."""
    ranges: list[tuple[int, int]] = []
    for number in sorted(set(lines)):
        if ranges and number == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], number)
        else:
            ranges.append((number, number))
    shown = ranges[:limit]
    text = ", ".join(str(a) if a == b else f"{a}\u2013{b}" for a, b in shown)
    left_out = sum(b - a + 1 for a, b in ranges[limit:])
    return text, left_out


def group(
    problems: Iterable[Problem], *, limit: int = PAGE_GROUPS
) -> tuple[list[ProblemGroup], int]:
    """Problems sharing severity, column and message, refusals first then by first line; at most
    `limit` groups. Returns the groups and how many groups were left out."""
    lines: dict[tuple[str, str, str], list[int]] = {}
    for problem in problems:
        lines.setdefault((problem.severity, problem.column, problem.message), []).append(
            problem.line
        )
    keys = sorted(lines, key=lambda k: (k[0] != Severity.REFUSED, min(lines[k]), k))
    groups: list[ProblemGroup] = []
    for severity, column, message in keys[:limit]:
        numbers = lines[(severity, column, message)]
        text, more = line_ranges(numbers)
        groups.append(
            ProblemGroup(
                severity=severity,
                column=column,
                message=message,
                count=len(set(numbers)),
                lines=text,
                more=more,
            )
        )
    return groups, max(0, len(keys) - limit)


REPORT_HEADER = ("line", "column", "severity", "message", "detail")


def report_csv(problems: Iterable[Problem]) -> str:
    """Every problem as CSV (REPORT_HEADER), in line order. Text a spreadsheet would run as a
    formula (starting = + - @) is quoted with a leading apostrophe: details echo the file."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(REPORT_HEADER)
    for p in sorted(problems, key=lambda p: (p.line, p.severity != Severity.REFUSED, p.column)):
        writer.writerow([p.line, p.column, p.severity.value, p.message, _safe_cell(p.detail)])
    return out.getvalue()


def _safe_cell(text: str) -> str:
    if text and text[0] in "=+-@\t\r":
        return "'" + text
    return text
