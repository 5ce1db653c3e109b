"""What the record already holds about the people a file names: two queries, whatever its size.

Only people in the uploader's teams are ever read (`scope_team_ids`; None = every team, for an
administrator or the command line). A person outside them is therefore not merely hidden from
the messages: the import never knows they exist, so nothing it says can reveal it.

With `lock`, the people are locked against change (`FOR SHARE`) and, with `lock_assessments`,
their assessments against change too (`FOR UPDATE`: update mode, which overwrites them) until
the transaction ends: the import re-reads them under lock and writes only if they still say what
the preview was built on. Add mode needs no lock on assessments: it never overwrites one (the
unique constraint refuses a row added meanwhile), and one changed after the check is a later
change that the import leaves as it is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import connection

from networks.models import ServiceUser
from outcomes.models import OutcomeAssessment
from pod.foundation.models import Team

# The fields an import compares and writes, in the order the preview shows them.
COMPARED_FIELDS: tuple[str, ...] = (
    "assessed_on",
    "symptom_level",
    "relapse",
    "relapse_on",
    "hospital_bed_days",
    "disability_benefit",
    "neuroleptic_use",
    "work_or_study",
)
_COLUMN_OF = {f.name: str(f.column) for f in OutcomeAssessment._meta.concrete_fields}
COMPARED_COLUMNS = tuple(_COLUMN_OF[name] for name in COMPARED_FIELDS)


@dataclass(frozen=True, slots=True)
class PersonFact:
    id: int
    nhs_number: str
    team_id: int
    team_name: str
    trial_arm: str
    given_name: str
    preferred_name: str
    family_name: str
    date_of_birth: date | None


@dataclass(frozen=True, slots=True)
class AssessmentFact:
    id: int
    person_id: int
    timepoint_months: int
    assessed_on: date
    symptom_level: str
    relapse: bool
    relapse_on: date | None
    hospital_bed_days: int
    disability_benefit: bool
    neuroleptic_use: bool
    work_or_study: bool


@dataclass
class Facts:
    """People in scope by NHS number, and their assessments by person id and time point."""

    people: dict[str, PersonFact] = field(default_factory=dict)
    assessments: dict[int, dict[int, AssessmentFact]] = field(default_factory=dict)

    def assessment(self, person_id: int, timepoint_months: int) -> AssessmentFact | None:
        return self.assessments.get(person_id, {}).get(timepoint_months)

    def baseline_on(self, person_id: int) -> date | None:
        baseline = self.assessment(person_id, 0)
        return baseline.assessed_on if baseline else None

    def follow_ups(self, person_id: int) -> list[AssessmentFact]:
        """The person's assessments after baseline, by time point."""
        held = self.assessments.get(person_id)
        if not held:
            return []
        return [held[months] for months in sorted(held) if months]


def _people_sql(*, scoped: bool, lock: bool) -> str:
    person, team = ServiceUser._meta, Team._meta
    return (
        f"SELECT p.id, p.nhs_number, p.team_id, t.name, p.trial_arm, p.given_name, "
        f"p.preferred_name, p.family_name, p.date_of_birth "
        f"FROM {person.db_table} p JOIN {team.db_table} t ON t.id = p.team_id "
        f"WHERE p.nhs_number = ANY(%s)"
        + (" AND p.team_id = ANY(%s)" if scoped else "")
        + (" FOR SHARE OF p" if lock else "")
    )


def _assessments_sql(*, lock: bool) -> str:
    return (
        f"SELECT id, service_user_id, timepoint_months, {', '.join(COMPARED_COLUMNS)} "
        f"FROM {OutcomeAssessment._meta.db_table} WHERE service_user_id = ANY(%s)"
        + (" FOR UPDATE" if lock else "")
    )


def load_facts(
    nhs_numbers: Collection[str],
    *,
    scope_team_ids: Collection[int] | None,
    lock: bool = False,
    lock_assessments: bool = False,
) -> Facts:
    """The people with these NHS numbers in the teams `scope_team_ids` (None: any team), and
    all their assessments. Two queries, each with its list as one array parameter (`= ANY`),
    whatever the number of rows; locks as the module docstring says."""
    facts = Facts()
    if not nhs_numbers:
        return facts
    params: list[Any] = [list(nhs_numbers)]
    if scope_team_ids is not None:
        params.append(list(scope_team_ids))
    with connection.cursor() as cursor:
        cursor.execute(_people_sql(scoped=scope_team_ids is not None, lock=lock), params)
        for row in cursor.fetchall():
            person = PersonFact(*row)
            facts.people[person.nhs_number] = person
        if not facts.people:
            return facts
        cursor.execute(
            _assessments_sql(lock=lock_assessments), [[p.id for p in facts.people.values()]]
        )
        for row in cursor.fetchall():
            assessment = AssessmentFact(*row)
            facts.assessments.setdefault(assessment.person_id, {})[assessment.timepoint_months] = (
                assessment
            )
    return facts


def _key(fact: PersonFact | AssessmentFact) -> str:
    return "|".join(str(getattr(fact, name)) for name in type(fact).__slots__)


def facts_fingerprint(facts: Facts) -> str:
    """SHA-256 of everything a plan was built on from the record: the people (as read, in the
    uploader's teams) and all their assessments. The same facts, file and options give the same
    plan (planning.build_plan is pure), so an import whose facts re-read under lock have this
    fingerprint may write the staged plan as previewed."""
    digest = hashlib.sha256()
    for nhs in sorted(facts.people):
        digest.update(f"p|{_key(facts.people[nhs])}\n".encode())
    for person_id in sorted(facts.assessments):
        held = facts.assessments[person_id]
        for months in sorted(held):
            digest.update(f"a|{_key(held[months])}\n".encode())
    return digest.hexdigest()
