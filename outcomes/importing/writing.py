"""Stage a previewed plan, then write it: a fixed handful of statements, whatever the rows.

Staging (at preview, `plan_stage`): every row of a plan that refuses nothing is COPYed into
outcomes.models.OutcomeImportRow with its action (add, update, unchanged) and the person it
belongs to. The table has no trigger and no foreign key: as fast as a bare COPY.

Writing (at "Import", `staged_write`, inside the transaction that re-read the record under lock
and found it as the preview read it):

1. People the plan registers: one INSERT (Django's bulk_create), with the file's names and date
   of birth or the placeholders "Imported" "Person" until the team meets them; the staged rows
   then point at them (one UPDATE).
2. Trial arms for people on record without one: one UPDATE (only where the arm is still blank).
3. New assessments: one INSERT ... SELECT from the staged rows. A row someone else added since
   the record was read violates the unique (person, time point) constraint and rolls the whole
   import back: add never overwrites.
4. Changed assessments (update mode): the same with ON CONFLICT (person, time point) DO UPDATE of
   the compared fields (the relapse date only when the file has that column).
5. The staged rows are deleted.

Every statement runs inside `pghistory.context(user=..., outcome_import=...)`, so the audit
trigger (pod/foundation/audit.py) attributes each person and assessment written - each update
with its before and after - to the uploader who pressed "Import" and to the import, in the web
request or in a Celery worker alike.

The values were checked row by row (values.py, planning.py) with the model's own limits, and the
database's constraints (time points, bed-days, relapse date, NHS number digits, one assessment per
time point) stand behind them; tests/outcomes/test_import_engine.py proves that every row the
planner accepts passes the model's full_clean().
"""

from __future__ import annotations

import csv
import hashlib
import io

import pghistory
from django.db import connection

from networks.models import ServiceUser
from outcomes.importing.checks import PLACEHOLDER_FAMILY_NAME, PLACEHOLDER_GIVEN_NAME
from outcomes.importing.planning import Action, Plan
from outcomes.importing.records import COMPARED_FIELDS
from outcomes.importing.values import ImportRow
from outcomes.models import OutcomeAssessment, OutcomeImportRow

# The staged columns, in the order plan_stage writes them (None is an unquoted empty cell: NULL).
STAGED = (
    "line",
    "action",
    "nhs_number",
    "person_id",
    "trial_arm",
    "given_name",
    "family_name",
    "date_of_birth",
    "timepoint_months",
    *COMPARED_FIELDS,
)


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


_STAGE = _quote(OutcomeImportRow._meta.db_table)
_ASSESSMENTS = _quote(OutcomeAssessment._meta.db_table)
_PEOPLE = _quote(ServiceUser._meta.db_table)
_COLUMN = {f.name: _quote(str(f.column)) for f in OutcomeAssessment._meta.concrete_fields}


def _assessment(row: ImportRow, person_id: int, recorded_by_id: int | None) -> OutcomeAssessment:
    """The model instance a row stands for (the tests hold the bulk write to the model's own
    validation through it)."""
    return OutcomeAssessment(
        service_user_id=person_id,
        recorded_by_id=recorded_by_id,
        timepoint_months=row.timepoint_months,
        assessed_on=row.assessed_on,
        symptom_level=row.symptom_level,
        relapse=row.relapse,
        relapse_on=row.relapse_on,
        hospital_bed_days=row.hospital_bed_days,
        disability_benefit=row.disability_benefit,
        neuroleptic_use=row.neuroleptic_use,
        work_or_study=row.work_or_study,
    )


def plan_unstage(job_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {_STAGE} WHERE job_id = %s", [job_id])


def _flag(value: bool) -> str:
    return "t" if value else "f"


def plan_stage(plan: Plan, *, job_id: int) -> str:
    """Replace the job's staged rows with the plan's rows and return the plan's fingerprint:
    a SHA-256 over every staged row (its action, person and values) and every trial arm the plan
    records. A refused plan stages nothing and has no fingerprint ("")."""
    plan_unstage(job_id)
    if plan.refused or not plan.planned:
        return ""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for planned in plan.planned:
        r = planned.row
        writer.writerow(
            (
                job_id,
                r.line,
                planned.action.value,
                r.nhs_number,
                planned.person_id,
                r.trial_arm,
                r.given_name,
                r.family_name,
                r.date_of_birth,
                r.timepoint_months,
                r.assessed_on,
                r.symptom_level,
                _flag(r.relapse),
                r.relapse_on,
                r.hospital_bed_days,
                _flag(r.disability_benefit),
                _flag(r.neuroleptic_use),
                _flag(r.work_or_study),
            )
        )
    staged = buffer.getvalue()
    digest = hashlib.sha256(staged.encode())
    digest.update(repr(sorted(plan.arm_updates.items())).encode())
    columns = ", ".join(_quote(name) for name in ("job_id", *STAGED))
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(
            f"COPY {_STAGE} ({columns}) FROM STDIN WITH "
            "(FORMAT csv, FORCE_NOT_NULL (given_name, family_name))",
            io.StringIO(staged),
        )
    return digest.hexdigest()


def staged_nhs_numbers(job_id: int) -> list[str]:
    """The NHS numbers of a job's staged plan: the people whose record it was built on."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT nhs_number FROM {_STAGE} WHERE job_id = %s", [job_id])
        return [nhs for (nhs,) in cursor.fetchall()]


def _register(job_id: int, team_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT ON (nhs_number) nhs_number, trial_arm, given_name, family_name, "
            f"date_of_birth FROM {_STAGE} WHERE job_id = %s AND person_id IS NULL "
            f"ORDER BY nhs_number, line",
            [job_id],
        )
        new_people = [
            ServiceUser(
                nhs_number=nhs,
                trial_arm=arm,
                given_name=given or PLACEHOLDER_GIVEN_NAME,
                family_name=family or PLACEHOLDER_FAMILY_NAME,
                date_of_birth=born,
                team_id=team_id,
            )
            for nhs, arm, given, family, born in cursor.fetchall()
        ]
        if not new_people:
            return
        ServiceUser.objects.bulk_create(new_people)
        cursor.execute(
            f"UPDATE {_STAGE} s SET person_id = p.id FROM {_PEOPLE} p "
            f"WHERE s.job_id = %s AND s.person_id IS NULL AND p.nhs_number = s.nhs_number",
            [job_id],
        )


def _insert_sql(action: str, upsert: list[str] | None) -> str:
    written = [*("timepoint_months",), *COMPARED_FIELDS]
    sql = (
        f"INSERT INTO {_ASSESSMENTS} ({_COLUMN['service_user']}, {_COLUMN['recorded_by']}, "
        f"{_COLUMN['created_at']}, {', '.join(_COLUMN[n] for n in written)}) "
        f"SELECT person_id, %s, statement_timestamp(), {', '.join(written)} FROM {_STAGE} "
        f"WHERE job_id = %s AND action = '{action}'"
    )
    if upsert is not None:
        updates = ", ".join(f"{_COLUMN[n]} = EXCLUDED.{_COLUMN[n]}" for n in upsert)
        sql += (
            f" ON CONFLICT ({_COLUMN['service_user']}, {_COLUMN['timepoint_months']}) "
            f"DO UPDATE SET {updates}"
        )
    return sql


def staged_write(
    job_id: int, *, team_id: int, recorded_by_id: int | None, has_relapse_on: bool
) -> None:
    """Write the job's staged plan (module docstring, steps 1-5). Call inside the transaction
    that locked the record and checked it is as the plan read it. IntegrityError when the
    record changed underneath even so (a row added where none was)."""
    updated = [name for name in COMPARED_FIELDS if has_relapse_on or name != "relapse_on"]
    with pghistory.context(user=recorded_by_id, outcome_import=job_id):
        _register(job_id, team_id)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {_PEOPLE} p SET trial_arm = s.trial_arm FROM (SELECT DISTINCT "
                f"person_id, trial_arm FROM {_STAGE} WHERE job_id = %s) s "
                f"WHERE p.id = s.person_id AND p.trial_arm = ''",
                [job_id],
            )
            cursor.execute(_insert_sql(Action.ADD, None), [recorded_by_id, job_id])
            cursor.execute(_insert_sql(Action.UPDATE, updated), [recorded_by_id, job_id])
    plan_unstage(job_id)
