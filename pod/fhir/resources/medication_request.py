"""MedicationRequest: a prescription (meetings.Prescription) under the 3-meetings rule.

The medicine is POD's free text (no dm+d code is recorded). New or continuing, and whether it
is an antipsychotic, are categories in POD's code systems. What the rule found is the
`medication-rule` extension: the meetings held before it, and the outcome — continuing (the
rule does not apply), met, overridden (rapid response, with the prescriber's written reason) or
violated (a violation alert from the prescription audit). Status: active while the episode is
open; unknown after it closes (POD does not record when a medicine stops).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from meetings.models import Alert, Episode, Prescription
from meetings.selectors import episodes_for
from pod.fhir import terminology as t
from pod.fhir.registry import CLINICAL, Include, Mapper, instant, reference, register
from pod.foundation.models import User


def rule_outcome(row: Prescription, *, violated: bool) -> str:
    """continuing | overridden | violated | met, from the stored prescription and its alerts."""
    if not row.is_new:
        return "continuing"
    if row.override_reason:
        return "overridden"
    return "violated" if violated else "met"


@register
class MedicationRequestMapper(Mapper):
    type_name = "MedicationRequest"
    description = (
        "A prescription: the medicine (text) and dose, new or continuing and whether it is an "
        "antipsychotic (category), the prescriber, when, the meeting whose decision it came "
        "from, and what the 3-meetings-before-medication rule found (extension "
        "medication-rule: meetings held before it, outcome, override reason)."
    )
    model = Prescription
    roles = CLINICAL
    person_path = "episode__service_user_id"
    team_path = "episode__team_id"
    date_path = "prescribed_at"
    audit_table = "meetings_prescription"
    created_path = "created_at"
    statuses = {
        "active": ~Q(episode__status=Episode.Status.CLOSED),
        "unknown": Q(episode__status=Episode.Status.CLOSED),
    }
    includes = (Include("patient", "Patient", "episode__service_user_id"),)

    def visible(self, user: User) -> QuerySet[Prescription]:
        return Prescription.objects.filter(episode__in=episodes_for(user))

    def prepare(self, rows: QuerySet[Any]) -> QuerySet[Any]:
        violation = Alert.objects.filter(
            prescription=OuterRef("pk"), kind=Alert.Kind.MEDICATION_VIOLATION
        )
        return rows.select_related("episode", "prescriber", "decision").annotate(
            fhir_violated=Exists(violation)
        )

    def to_fhir(self, row: Prescription) -> dict[str, Any]:
        out = self.start(row)
        outcome = rule_outcome(row, violated=bool(getattr(row, "fhir_violated", False)))
        parts: list[dict[str, Any]] = []
        if row.meetings_held_before is not None:
            parts.append(
                {"url": "meetingsHeldBefore", "valueUnsignedInt": row.meetings_held_before}
            )
        parts.append({"url": "outcome", "valueCode": outcome})
        if row.override_reason:
            parts.append({"url": "overrideReason", "valueCode": row.override_reason})
            parts.append({"url": "overrideExplanation", "valueString": row.override_explanation})
        out["extension"] = [{"url": t.pod_extension("medication-rule"), "extension": parts}]
        out["status"] = "unknown" if row.episode.status == Episode.Status.CLOSED else "active"
        out["intent"] = "order"
        novelty = "new" if row.is_new else "continuing"
        categories = [
            {
                "coding": [
                    t.coding(
                        t.pod_system("medication-novelty"),
                        novelty,
                        "New medicine" if row.is_new else "Continuing medicine",
                    )
                ],
                "text": "New medicine" if row.is_new else "Continuing medicine",
            }
        ]
        if row.is_antipsychotic:
            categories.append(
                {
                    "coding": [
                        t.coding(t.pod_system("medication-class"), "antipsychotic", "Antipsychotic")
                    ],
                    "text": "Antipsychotic (neuroleptic)",
                }
            )
        out["category"] = categories
        out["medicationCodeableConcept"] = {"text": row.medicine}
        out["subject"] = reference("Patient", row.episode.service_user_id)
        if row.decision is not None:
            out["encounter"] = reference("Encounter", row.decision.meeting_id)
        out["authoredOn"] = instant(row.prescribed_at)
        out["requester"] = t.staff_reference(row.prescriber)
        if row.dose:
            out["dosageInstruction"] = [{"text": row.dose}]
        return out
