"""The file against the record: the plan the preview shows and the import writes.

`build_plan` is pure: the rows, the facts read from the record, the options and nothing else.

1. Within the file: one row per person and time point; one trial arm and one identity (name,
   date of birth) per person across their lines.
2. Against the record, for people in the uploader's teams only (records.py): the person must be
   in the chosen team (a number not in the uploader's teams is "not found in your teams", the
   same words whether or not anyone else holds it); administrators may ask to register people
   not found. The trial arm must agree with the arm on record. When the file carries names or a
   date of birth, they must match the record (accents, case and apostrophes aside) unless the
   uploader confirmed that NHS number as the same person.
3. Timing: a follow-up is not dated before the person's baseline assessment and lies within its
   window (outcomes.rules.assessment_timing_error); a relapse is not dated before the baseline;
   a new or changed baseline must leave the follow-ups on record inside their windows. A person
   with no baseline anywhere is a warning.
4. The action: a row matching no assessment is added. One matching an assessment with the same
   values is unchanged (so a cumulative file imports again cleanly). One with different values
   is updated in update mode and refused in add mode, with a hint to use update mode.

The import does not plan again: it writes the plan staged at preview (writing.py) once it has
checked, under lock, that the record gives the facts the plan was built on
(records.facts_fingerprint): the same file, options and facts give the same plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from outcomes.importing import checks
from outcomes.importing.problems import Problem, Severity, refused, warning
from outcomes.importing.records import COMPARED_FIELDS, AssessmentFact, Facts, PersonFact
from outcomes.importing.values import ImportRow

NOT_FOUND = "Not found in your teams."
FIELD_LABELS = {
    "assessed_on": "assessed on",
    "symptom_level": "symptom level",
    "relapse": "relapse",
    "relapse_on": "relapse date",
    "hospital_bed_days": "hospital days",
    "disability_benefit": "disability benefit",
    "neuroleptic_use": "neuroleptic use",
    "work_or_study": "work or study",
}


class Action(StrEnum):
    ADD = "add"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    REFUSED = "refused"


@dataclass(frozen=True)
class Options:
    team_id: int
    update: bool
    register_new: bool = False
    same_person: frozenset[str] = frozenset()
    has_relapse_on: bool = True


@dataclass(frozen=True, slots=True)
class Change:
    field: str
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class Planned:
    row: ImportRow
    action: Action
    person_id: int | None  # None: a person this import registers
    assessment_id: int | None = None
    changes: tuple[Change, ...] = ()


@dataclass(frozen=True, slots=True)
class IdentityCheck:
    """A name or date of birth in the file that differs from the record, side by side."""

    line: int
    nhs_number: str
    person_id: int
    file: tuple[str, str, date | None]
    record: tuple[str, str, date | None]


@dataclass
class Plan:
    rows_total: int = 0
    planned: list[Planned] = field(default_factory=list)  # every row that was read, by line
    problems: list[Problem] = field(default_factory=list)
    new_people: dict[str, ImportRow] = field(default_factory=dict)  # NHS number -> first row
    arm_updates: dict[int, str] = field(default_factory=dict)  # person id -> arm
    identity: list[IdentityCheck] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        return any(p.severity == Severity.REFUSED for p in self.problems)

    def count(self, action: Action) -> int:
        return sum(1 for p in self.planned if p.action == action)

    @property
    def refused_rows(self) -> int:
        return len({p.line for p in self.problems if p.severity == Severity.REFUSED and p.line > 1})

    @property
    def warned_rows(self) -> int:
        return len({p.line for p in self.problems if p.severity == Severity.WARNING and p.line > 1})


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _changes(row: ImportRow, existing: AssessmentFact, *, has_relapse_on: bool) -> list[Change]:
    changes = []
    for name in COMPARED_FIELDS:
        if name == "relapse_on" and not has_relapse_on:
            continue
        before, after = getattr(existing, name), getattr(row, name)
        if before != after:
            changes.append(Change(FIELD_LABELS[name], _text(before), _text(after)))
    return changes


def build_plan(
    rows: list[ImportRow],
    problems: list[Problem],
    facts: Facts,
    options: Options,
    *,
    rows_total: int,
) -> Plan:
    """The plan for `rows` (the rows that were read; `problems` already holds what is wrong
    with the others and with the file) against `facts` (module docstring)."""
    plan = Plan(rows_total=rows_total, problems=list(problems))
    bad = checks.within_file(rows, plan.problems)
    in_file = {(r.nhs_number, r.timepoint_months) for r in rows}
    file_baseline = {r.nhs_number: r.assessed_on for r in rows if r.timepoint_months == 0}
    identity_listed: set[str] = set()
    for row in rows:
        found: list[Problem] = []
        person = facts.people.get(row.nhs_number)
        if person is None and not options.register_new:
            plan.problems.append(refused(row.line, "nhs_number", NOT_FOUND))
            plan.planned.append(Planned(row, Action.REFUSED, None))
            continue
        if person is not None and person.team_id != options.team_id:
            plan.problems.append(
                refused(
                    row.line,
                    "nhs_number",
                    "This person is on record in another of your teams: import their rows into "
                    "that team.",
                    person.team_name,
                )
            )
            plan.planned.append(Planned(row, Action.REFUSED, person.id))
            continue
        person_id = person.id if person else None
        if person is None:
            plan.new_people.setdefault(row.nhs_number, row)
        else:
            _check_person(row, person, options, plan, found, identity_listed)
        baseline = file_baseline.get(row.nhs_number)
        if baseline is None and person_id is not None:
            baseline = facts.baseline_on(person_id)
        checks.check_timing(row, baseline, found)
        if row.timepoint_months == 0 and person_id is not None:
            checks.check_follow_ups_on_record(row, facts.follow_ups(person_id), in_file, found)
        existing = facts.assessment(person_id, row.timepoint_months) if person_id else None
        planned = _action(row, existing, person_id, options, found)
        plan.problems.extend(found)
        if row.line in bad or (found and any(p.severity == Severity.REFUSED for p in found)):
            planned = Planned(row, Action.REFUSED, person_id)
        plan.planned.append(planned)
    plan.planned.sort(key=lambda p: p.row.line)
    return plan


def _check_person(
    row: ImportRow,
    person: PersonFact,
    options: Options,
    plan: Plan,
    found: list[Problem],
    confirmed: set[str],
) -> None:
    if person.trial_arm and person.trial_arm != row.trial_arm:
        found.append(
            refused(
                row.line,
                "trial_arm",
                "The trial arm differs from the arm on record.",
            )
        )
    elif not person.trial_arm:
        plan.arm_updates[person.id] = row.trial_arm
    if checks.identity_differs(row, person):
        if row.nhs_number in options.same_person:
            found.append(
                warning(
                    row.line,
                    "",
                    "Confirmed as the same person, although the name or date "
                    "of birth in the file differs from the record.",
                )
            )
        else:
            found.append(
                refused(
                    row.line,
                    "nhs_number",
                    "The name or date of birth differs from the "
                    "record: check the NHS number, or confirm it is the same person.",
                )
            )
        if row.nhs_number not in confirmed:
            confirmed.add(row.nhs_number)
            plan.identity.append(
                IdentityCheck(
                    line=row.line,
                    nhs_number=row.nhs_number,
                    person_id=person.id,
                    file=(row.given_name, row.family_name, row.date_of_birth),
                    record=(person.given_name, person.family_name, person.date_of_birth),
                )
            )


def _action(
    row: ImportRow,
    existing: AssessmentFact | None,
    person_id: int | None,
    options: Options,
    found: list[Problem],
) -> Planned:
    if existing is None:
        return Planned(row, Action.ADD, person_id)
    changes = _changes(row, existing, has_relapse_on=options.has_relapse_on)
    if not changes:
        return Planned(row, Action.UNCHANGED, person_id, existing.id)
    if not options.update:
        found.append(
            refused(
                row.line,
                "",
                "Already recorded with different values: use update mode to change it.",
                "differs in " + ", ".join(c.field for c in changes),
            )
        )
        return Planned(row, Action.REFUSED, person_id, existing.id)
    if not options.has_relapse_on and not row.relapse and existing.relapse_on is not None:
        found.append(
            refused(
                row.line,
                "relapse",
                "The record has a relapse date, which needs relapse = "
                "yes: add a relapse_on column (blank to clear the date).",
            )
        )
    return Planned(row, Action.UPDATE, person_id, existing.id, tuple(changes))
