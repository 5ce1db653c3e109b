"""Checks of the outcome import that compare a row with other rows or with the record: one
place for each rule, pure (no database, no clock). planning.build_plan applies them."""

from __future__ import annotations

import unicodedata
from datetime import date

from outcomes import rules
from outcomes.importing.problems import Problem, refused, warning
from outcomes.importing.records import AssessmentFact, PersonFact
from outcomes.importing.values import ImportRow

# The names of a person registered by an import until the team meets them.
PLACEHOLDER_GIVEN_NAME = "Imported"
PLACEHOLDER_FAMILY_NAME = "Person"


def name_key(name: str) -> str:
    """A name as compared: accents, case, apostrophe style, spaces and hyphens ignored
    ("O’Brien" = "o'brien" = "OBrien"; "Siobhán" = "Siobhan")."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(ch for ch in decomposed.casefold() if ch.isalnum())


def identity_differs(row: ImportRow, person: PersonFact) -> bool:
    """Does the file's name or date of birth contradict the record? Only what both know is
    compared: placeholder names and a missing date of birth on record compare with nothing."""
    if row.date_of_birth and person.date_of_birth and row.date_of_birth != person.date_of_birth:
        return True
    named = (person.given_name, person.family_name) != (
        PLACEHOLDER_GIVEN_NAME,
        PLACEHOLDER_FAMILY_NAME,
    )
    if named and row.family_name and name_key(row.family_name) != name_key(person.family_name):
        return True
    if named and row.given_name:
        given = name_key(row.given_name)
        if given not in (name_key(person.given_name), name_key(person.preferred_name)):
            return True
    return False


def within_file(rows: list[ImportRow], problems: list[Problem]) -> set[int]:
    """Step 1; returns the lines refused."""
    bad: set[int] = set()
    seen: dict[tuple[str, int], int] = {}
    first: dict[str, ImportRow] = {}
    for row in rows:
        key = (row.nhs_number, row.timepoint_months)
        if key in seen:
            problems.append(
                refused(
                    row.line,
                    "",
                    "The same person and time point are on an earlier line.",
                    f"line {seen[key]}",
                )
            )
            bad.add(row.line)
        seen.setdefault(key, row.line)
        earlier = first.setdefault(row.nhs_number, row)
        if earlier.trial_arm != row.trial_arm:
            problems.append(
                refused(
                    row.line,
                    "trial_arm",
                    "The trial arm differs from this person's earlier line.",
                    f"line {earlier.line}",
                )
            )
            bad.add(row.line)
        if (earlier.given_name, earlier.family_name, earlier.date_of_birth) != (
            row.given_name,
            row.family_name,
            row.date_of_birth,
        ):
            problems.append(
                refused(
                    row.line,
                    "",
                    "The name or date of birth differs from this person's earlier line.",
                    f"line {earlier.line}",
                )
            )
            bad.add(row.line)
    return bad


def check_timing(row: ImportRow, baseline: date | None, found: list[Problem]) -> None:
    if baseline is None:
        if row.timepoint_months:
            found.append(
                warning(
                    row.line,
                    "assessed_on",
                    "This person has no baseline assessment, so "
                    "the date could not be checked against the time point.",
                )
            )
        return
    message = rules.assessment_timing_error(
        assessed_on=row.assessed_on, baseline_on=baseline, timepoint_months=row.timepoint_months
    )
    if message:
        found.append(refused(row.line, "assessed_on", message))
    if row.relapse_on is not None and row.relapse_on < baseline:
        found.append(
            refused(
                row.line,
                "relapse_on",
                "The relapse date is before the person's baseline assessment.",
            )
        )


def check_follow_ups_on_record(
    row: ImportRow,
    follow_ups: list[AssessmentFact],
    in_file: set[tuple[str, int]],
    found: list[Problem],
) -> None:
    """A new or moved baseline must leave the follow-ups already on record (and not replaced
    by this file) inside their windows."""
    for follow_up in follow_ups:
        if (row.nhs_number, follow_up.timepoint_months) in in_file:
            continue
        if rules.assessment_timing_error(
            assessed_on=follow_up.assessed_on,
            baseline_on=row.assessed_on,
            timepoint_months=follow_up.timepoint_months,
        ):
            found.append(
                refused(
                    row.line,
                    "assessed_on",
                    "A follow-up on record would no longer fit this baseline date.",
                    f"{follow_up.timepoint_months} months",
                )
            )
