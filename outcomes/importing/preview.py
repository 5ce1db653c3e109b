"""The preview as stored on the job and drawn by the page: counts, grouped problems, the
before/after of each update and the identity checks side by side - each list capped, so a file
of any size gives a page of a few kilobytes (the problem report has every line)."""

from __future__ import annotations

from datetime import date
from typing import TypedDict

from outcomes import rules
from outcomes.importing import problems as problem_groups
from outcomes.importing.parsing import ParsedFile
from outcomes.importing.planning import Action, Plan

PAGE_CHANGES = 50  # updates shown with their before and after
PAGE_IDENTITY = 50  # identity differences shown side by side (and offered for confirmation)


class ChangeRow(TypedDict):
    line: int
    nhs_number: str
    person_id: int
    timepoint: str
    changes: list[tuple[str, str, str]]


class IdentityRow(TypedDict):
    line: int
    nhs_number: str
    nhs_digits: str
    person_id: int
    file: tuple[str, str, str]
    record: tuple[str, str, str]


class Summary(TypedDict):
    encoding: str
    delimiter: str
    columns: list[str]
    rows: int
    add: int
    update: int
    unchanged: int
    refused_rows: int
    warned_rows: int
    new_people: int
    arm_updates: int
    groups: list[problem_groups.ProblemGroup]
    groups_more: int
    changes: list[ChangeRow]
    changes_more: int
    identity: list[IdentityRow]
    identity_more: int


def nhs_spaced(digits: str) -> str:
    """An NHS number as people read it: 3-3-4 ("943 476 5919")."""
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}" if len(digits) == 10 else digits


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def summarise(plan: Plan, parsed: ParsedFile) -> Summary:
    groups, groups_more = problem_groups.group(plan.problems)
    updates = [p for p in plan.planned if p.action == Action.UPDATE]
    changes = [
        ChangeRow(
            line=p.row.line,
            nhs_number=nhs_spaced(p.row.nhs_number),
            person_id=p.person_id or 0,
            timepoint=rules.timepoint_label(p.row.timepoint_months),
            changes=[(c.field, c.before, c.after) for c in p.changes],
        )
        for p in updates[:PAGE_CHANGES]
    ]
    identity = [
        IdentityRow(
            line=check.line,
            nhs_number=nhs_spaced(check.nhs_number),
            nhs_digits=check.nhs_number,
            person_id=check.person_id,
            file=(check.file[0], check.file[1], _day(check.file[2])),
            record=(check.record[0], check.record[1], _day(check.record[2])),
        )
        for check in plan.identity[:PAGE_IDENTITY]
    ]
    return Summary(
        encoding=parsed.encoding,
        delimiter=parsed.delimiter_name,
        columns=sorted(parsed.columns, key=rules.IMPORT_COLUMN_NAMES.index),
        rows=plan.rows_total,
        add=plan.count(Action.ADD),
        update=len(updates),
        unchanged=plan.count(Action.UNCHANGED),
        refused_rows=plan.refused_rows,
        warned_rows=plan.warned_rows,
        new_people=len(plan.new_people),
        arm_updates=len(plan.arm_updates),
        groups=groups,
        groups_more=groups_more,
        changes=changes,
        changes_more=max(0, len(updates) - PAGE_CHANGES),
        identity=identity,
        identity_more=max(0, len(plan.identity) - PAGE_IDENTITY),
    )


def people_shown(summary: Summary) -> set[int]:
    """The people whose record the preview page shows (before values, name and date of birth):
    each is logged in the record-access log when the page is drawn."""
    shown = {row["person_id"] for row in summary.get("changes", [])}
    shown |= {row["person_id"] for row in summary.get("identity", [])}
    return {person_id for person_id in shown if person_id}
