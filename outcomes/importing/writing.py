"""Write a plan: a handful of statements, whatever the number of rows.

1. People the plan registers: one INSERT (Django's bulk_create, which PostgreSQL receives as
   INSERT ... SELECT FROM UNNEST(arrays)), with the file's names and date of birth or the
   placeholders "Imported" "Person" until the team meets them.
2. Trial arms for people on record without one: one UPDATE per arm.
3. New assessments: one INSERT. A row that someone else added since the plan was read violates
   the unique (person, time point) constraint and rolls everything back: add never overwrites.
4. Changed assessments (update mode): one INSERT ... ON CONFLICT (person, time point) DO UPDATE
   of the compared fields (the relapse date only when the file has that column).

Every statement runs inside `pghistory.context(user=..., outcome_import=...)`, so the audit
trigger (pod/foundation/audit.py) attributes each person and assessment it writes - including
each update's before and after - to the uploader who pressed "Import" and to the import job,
whether it runs in the web request or in a Celery worker.

The values were checked row by row (values.py, planning.py) with the model's own limits, and the
database's constraints (time points, bed-days, relapse date, NHS number digits, one assessment per
time point) stand behind them; tests/outcomes/test_import_engine.py proves that every row the
planner accepts passes the model's full_clean().
"""

from __future__ import annotations

import pghistory
from django.db import transaction

from networks.models import ServiceUser
from outcomes.importing.planning import (
    PLACEHOLDER_FAMILY_NAME,
    PLACEHOLDER_GIVEN_NAME,
    Action,
    Plan,
)
from outcomes.importing.records import COMPARED_FIELDS
from outcomes.importing.values import ImportRow
from outcomes.models import OutcomeAssessment


def _assessment(row: ImportRow, person_id: int, recorded_by_id: int | None) -> OutcomeAssessment:
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


@transaction.atomic
def plan_write(
    plan: Plan,
    *,
    team_id: int,
    recorded_by_id: int | None,
    import_id: int,
    has_relapse_on: bool,
) -> None:
    """Write `plan` (refused plans are a programming error: ValueError). IntegrityError when
    the record changed underneath it; nothing is written then."""
    if plan.refused:
        raise ValueError("a refused plan cannot be written")
    with pghistory.context(user=recorded_by_id, outcome_import=import_id):
        new_people = [
            ServiceUser(
                nhs_number=nhs,
                given_name=row.given_name or PLACEHOLDER_GIVEN_NAME,
                family_name=row.family_name or PLACEHOLDER_FAMILY_NAME,
                date_of_birth=row.date_of_birth,
                team_id=team_id,
                trial_arm=row.trial_arm,
            )
            for nhs, row in plan.new_people.items()
        ]
        person_ids = {p.nhs_number: p.pk for p in ServiceUser.objects.bulk_create(new_people)}
        for arm in sorted(set(plan.arm_updates.values())):
            ServiceUser.objects.filter(
                pk__in=[pk for pk, a in plan.arm_updates.items() if a == arm], trial_arm=""
            ).update(trial_arm=arm)
        added: list[OutcomeAssessment] = []
        updated: list[OutcomeAssessment] = []
        for planned in plan.planned:
            if planned.action not in (Action.ADD, Action.UPDATE):
                continue
            person_id = planned.person_id or person_ids[planned.row.nhs_number]
            assessment = _assessment(planned.row, person_id, recorded_by_id)
            (added if planned.action == Action.ADD else updated).append(assessment)
        if added:
            OutcomeAssessment.objects.bulk_create(added)
        if updated:
            OutcomeAssessment.objects.bulk_create(
                updated,
                update_conflicts=True,
                unique_fields=["service_user", "timepoint_months"],
                update_fields=[
                    name for name in COMPARED_FIELDS if has_relapse_on or name != "relapse_on"
                ],
            )
