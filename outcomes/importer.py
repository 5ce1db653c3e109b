"""Import historical or trial outcome data from CSV, all or nothing.

Columns: rules.IMPORT_COLUMNS (a header row is required; any order).

1. Every row is checked first; each problem is reported with its line number (the header is
   line 1) and reason. If there is any problem, nothing is written.
2. Otherwise, in one transaction: people not yet known are created in the named team, by NHS
   number, with placeholder names ("Imported" "Person") and no date of birth, to be corrected
   when the team meets them; each assessment is written.

A person who already belongs to another team, a trial arm that contradicts the one on record,
an assessment that already exists, or the same person and time point twice in the file are
errors, not silent overwrites.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from typing import IO

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from networks.models import ServiceUser
from networks.rules import nhs_number_is_valid, normalise_nhs_number
from outcomes import rules
from outcomes.models import OutcomeAssessment
from pod.foundation.models import Team, User

PLACEHOLDER_GIVEN_NAME = "Imported"
PLACEHOLDER_FAMILY_NAME = "Person"
YES_NO = {
    "yes": True,
    "y": True,
    "true": True,
    "1": True,
    "no": False,
    "n": False,
    "false": False,
    "0": False,
}
MAX_ROWS = 100_000
_SYMPTOM_LEVELS_OR = rules.listed(OutcomeAssessment.SymptomLevel.values, "or")
_TIMEPOINTS_OR = rules.listed([str(months) for months in rules.OUTCOME_TIMEPOINTS], "or")


@dataclass
class ImportResult:
    errors: list[tuple[int, str]] = field(default_factory=list)
    created_people: int = 0
    assessments: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class ImportRow:
    """One good row of the file: a person (by NHS number, with their trial arm) and their
    outcomes at one time point."""

    nhs_number: str
    trial_arm: str
    timepoint_months: int
    assessed_on: date
    symptom_level: str
    hospital_bed_days: int
    relapse: bool
    disability_benefit: bool
    neuroleptic_use: bool
    work_or_study: bool


def _parse_row(raw: dict[str, str]) -> tuple[ImportRow | None, list[str]]:
    """The row, or None with every problem found in it."""
    problems: list[str] = []
    value = {k: (raw.get(k) or "").strip() for k in rules.IMPORT_COLUMNS}
    nhs = normalise_nhs_number(value["nhs_number"])
    if not nhs_number_is_valid(nhs):
        problems.append(f"nhs_number {value['nhs_number']!r} is not a valid NHS number")
    arm = value["trial_arm"].upper()
    if arm not in ("POD", "TAU"):
        problems.append(f"trial_arm must be POD or TAU, not {value['trial_arm']!r}")
    timepoint: int | None
    try:
        timepoint = int(value["timepoint_months"])
        if timepoint not in rules.OUTCOME_TIMEPOINTS:
            raise ValueError
    except ValueError:
        timepoint = None
        problems.append(
            f"timepoint_months must be {_TIMEPOINTS_OR}, not {value['timepoint_months']!r}"
        )
    assessed_on: date | None
    try:
        assessed_on = date.fromisoformat(value["assessed_on"])
    except ValueError:
        assessed_on = None
        problems.append(f"assessed_on must be a date as YYYY-MM-DD, not {value['assessed_on']!r}")
    symptom = value["symptom_level"].lower()
    if symptom not in OutcomeAssessment.SymptomLevel.values:
        problems.append(
            f"symptom_level must be {_SYMPTOM_LEVELS_OR}, not {value['symptom_level']!r}"
        )
    days: int | None
    try:
        days = int(value["hospital_days"])
        if not 0 <= days <= rules.MAX_HOSPITAL_BED_DAYS:
            raise ValueError
    except ValueError:
        days = None
        problems.append(
            f"hospital_days must be a whole number from 0 to {rules.MAX_HOSPITAL_BED_DAYS}, "
            f"not {value['hospital_days']!r}"
        )
    flags: dict[str, bool] = {}
    for name in ("relapse", "disability_benefit", "neuroleptic_use", "work_or_study"):
        flag = YES_NO.get(value[name].lower())
        if flag is None:
            problems.append(f"{name} must be yes or no, not {value[name]!r}")
        else:
            flags[name] = flag
    if problems or timepoint is None or assessed_on is None or days is None:
        return None, problems
    return ImportRow(
        nhs_number=nhs,
        trial_arm=arm,
        timepoint_months=timepoint,
        assessed_on=assessed_on,
        symptom_level=symptom,
        hospital_bed_days=days,
        relapse=flags["relapse"],
        disability_benefit=flags["disability_benefit"],
        neuroleptic_use=flags["neuroleptic_use"],
        work_or_study=flags["work_or_study"],
    ), []


def import_outcomes(
    stream: IO[str], *, team: Team, recorded_by: User | None, dry_run: bool = False
) -> ImportResult:
    """Check every row, then (if all are good and not `dry_run`) write them all."""
    result = ImportResult()
    reader = csv.DictReader(stream)
    headers = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in rules.IMPORT_COLUMNS if c not in headers]
    if missing:
        result.errors.append((1, "missing column(s): " + ", ".join(missing)))
        return result
    reader.fieldnames = headers
    rows: list[tuple[int, ImportRow]] = []
    seen: dict[tuple[str, int], int] = {}
    for raw in reader:
        line = reader.line_num
        if len(rows) >= MAX_ROWS:
            result.errors.append((line, f"more than {MAX_ROWS} rows; split the file"))
            break
        if not any((v or "").strip() for v in raw.values() if isinstance(v, str)):
            continue  # a blank line
        if raw.get(None):
            result.errors.append((line, "more values than columns"))
            continue
        row, problems = _parse_row(raw)
        for problem in problems:
            result.errors.append((line, problem))
        if row is None:
            continue
        key = (row.nhs_number, row.timepoint_months)
        if key in seen:
            result.errors.append((line, f"the same person and time point as line {seen[key]}"))
            continue
        seen[key] = line
        rows.append((line, row))
    if not rows and not result.errors:
        result.errors.append((1, "the file has no rows"))
    # Checks against what is already on record (two queries, whatever the file's size).
    numbers = {row.nhs_number for _line, row in rows}
    people = {p.nhs_number: p for p in ServiceUser.objects.filter(nhs_number__in=numbers)}
    existing = set(
        OutcomeAssessment.objects.filter(service_user__nhs_number__in=numbers).values_list(
            "service_user__nhs_number", "timepoint_months"
        )
    )
    arms: dict[str, tuple[str, int]] = {}
    for line, row in rows:
        person = people.get(row.nhs_number)
        if person and person.team_id != team.pk:
            result.errors.append((line, "this NHS number belongs to a person of another team"))
        if person and person.trial_arm and person.trial_arm != row.trial_arm:
            result.errors.append(
                (
                    line,
                    f"trial_arm {row.trial_arm} contradicts the arm on record ({person.trial_arm})",
                )
            )
        earlier = arms.setdefault(row.nhs_number, (row.trial_arm, line))
        if earlier[0] != row.trial_arm:
            result.errors.append(
                (line, f"trial_arm {row.trial_arm} contradicts line {earlier[1]} ({earlier[0]})")
            )
        if (row.nhs_number, row.timepoint_months) in existing:
            result.errors.append((line, "an assessment at this time point is already recorded"))
    result.errors.sort(key=lambda e: e[0])
    if result.errors or dry_run:
        return result
    try:
        _write(rows, people, team=team, recorded_by=recorded_by, result=result)
    except IntegrityError:  # another import wrote the same person or assessment meanwhile
        result.errors.append(
            (1, "these records changed while importing; nothing was imported - please try again")
        )
    return result


@transaction.atomic
def _write(
    rows: list[tuple[int, ImportRow]],
    people: dict[str, ServiceUser],
    *,
    team: Team,
    recorded_by: User | None,
    result: ImportResult,
) -> None:
    new_people = []
    for _line, row in rows:
        nhs = row.nhs_number
        if nhs not in people:
            person = ServiceUser(
                nhs_number=nhs,
                given_name=PLACEHOLDER_GIVEN_NAME,
                family_name=PLACEHOLDER_FAMILY_NAME,
                date_of_birth=None,
                team=team,
                trial_arm=row.trial_arm,
            )
            person.full_clean(validate_unique=False, validate_constraints=False)
            people[nhs] = person
            new_people.append(person)
    ServiceUser.objects.bulk_create(new_people)
    to_set_arm = [p for p in people.values() if not p.trial_arm and p.pk]
    arm_of = {row.nhs_number: row.trial_arm for _l, row in rows}
    for person in to_set_arm:
        person.trial_arm = arm_of[person.nhs_number]
    if to_set_arm:
        ServiceUser.objects.bulk_update(to_set_arm, ["trial_arm"])
    assessments = []
    for _line, row in rows:
        assessment = OutcomeAssessment(
            service_user=people[row.nhs_number],
            recorded_by=recorded_by,
            timepoint_months=row.timepoint_months,
            assessed_on=row.assessed_on,
            symptom_level=row.symptom_level,
            relapse=row.relapse,
            hospital_bed_days=row.hospital_bed_days,
            disability_benefit=row.disability_benefit,
            neuroleptic_use=row.neuroleptic_use,
            work_or_study=row.work_or_study,
        )
        assessment.full_clean(validate_unique=False, validate_constraints=False)
        assessments.append(assessment)
    OutcomeAssessment.objects.bulk_create(assessments)
    result.created_people = len(new_people)
    result.assessments = len(assessments)


def import_outcomes_text(
    text: str, *, team: Team, recorded_by: User | None, dry_run: bool = False
) -> ImportResult:
    """import_outcomes for a file already read as text."""
    return import_outcomes(
        io.StringIO(text, newline=""), team=team, recorded_by=recorded_by, dry_run=dry_run
    )


def decode_upload(data: bytes) -> str:
    """Decode an uploaded file (UTF-8, with or without a BOM from Excel)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValidationError({"file": "The file must be saved as CSV in UTF-8."}) from error
