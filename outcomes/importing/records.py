"""What the record already holds about the people a file names: two queries, whatever its size.

Only people in the uploader's teams are ever read (`scope_team_ids`; None = every team, for an
administrator or the command line). A person outside them is therefore not merely hidden from
the messages: the import never knows they exist, so nothing it says can reveal it.

With `lock`, the rows read are locked (`SELECT ... FOR UPDATE`) until the transaction ends: the
import re-reads them under lock and writes only if they still say what the preview was built on.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date

from networks.models import ServiceUser
from outcomes.models import OutcomeAssessment

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
        held = self.assessments.get(person_id, {})
        return [held[months] for months in sorted(held) if months]


def load_facts(
    nhs_numbers: Collection[str], *, scope_team_ids: Collection[int] | None, lock: bool = False
) -> Facts:
    """The people with these NHS numbers in the teams `scope_team_ids` (None: any team), and
    all their assessments. Two queries; with `lock`, both sets of rows are locked."""
    facts = Facts()
    if not nhs_numbers:
        return facts
    people = ServiceUser.objects.filter(nhs_number__in=list(nhs_numbers))
    if scope_team_ids is not None:
        people = people.filter(team_id__in=list(scope_team_ids))
    if lock:
        people = people.select_for_update(of=("self",))
    for row in people.values_list(
        "id",
        "nhs_number",
        "team_id",
        "team__name",
        "trial_arm",
        "given_name",
        "preferred_name",
        "family_name",
        "date_of_birth",
    ).order_by():
        person = PersonFact(*row)
        facts.people[person.nhs_number] = person
    if not facts.people:
        return facts
    assessments = OutcomeAssessment.objects.filter(
        service_user_id__in=[p.id for p in facts.people.values()]
    )
    if lock:
        assessments = assessments.select_for_update()
    for values in assessments.values_list(
        "id", "service_user_id", "timepoint_months", *COMPARED_FIELDS
    ).order_by():
        assessment = AssessmentFact(*values)
        facts.assessments.setdefault(assessment.person_id, {})[assessment.timepoint_months] = (
            assessment
        )
    return facts
