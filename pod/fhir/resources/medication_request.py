"""MedicationRequest: a prescription (meetings.Prescription) under the 3-meetings rule.

The medicine is POD's free text (no dm+d code is recorded). New or continuing, and whether it
is an antipsychotic, are categories in POD's code systems. What the rule found is the
`medication-rule` extension: the meetings held before it, the decision stored with the
prescription (the meetings counted, as Encounter references whose ids are the meetings', the
threshold in force and the counting rule's version), and the outcome — continuing (the rule
does not apply), met, overridden (rapid response, with the prescriber's written reason) or
violated (a violation alert from the prescription audit). A continuing medicine names the
current-medication list entry it continues (extension `continues-current-medication`). Status:
active while the episode is open; unknown after it closes (POD does not record when a medicine
stops).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from meetings.models import Alert, CurrentMedication, Episode, Prescription
from meetings.selectors import episodes_for
from pod.fhir import terminology as t
from pod.fhir.registry import (
    CLINICAL,
    Include,
    Mapper,
    fhir_date,
    instant,
    reference,
    register,
)
from pod.foundation.models import User


def rule_outcome(row: Prescription, *, violated: bool) -> str:
    """continuing | overridden | violated | met, from the stored prescription and its alerts."""
    if not row.is_new:
        return "continuing"
    if row.override_reason:
        return "overridden"
    return "violated" if violated else "met"


def rule_parts(row: Prescription, outcome: str) -> list[dict[str, Any]]:
    """The parts of the `medication-rule` extension, in the documented order (terminology)."""
    parts: list[dict[str, Any]] = []
    if row.meetings_held_before is not None:
        parts.append({"url": "meetingsHeldBefore", "valueUnsignedInt": row.meetings_held_before})
    parts.extend(
        {"url": "countedMeeting", "valueReference": reference("Encounter", meeting_id)}
        for meeting_id in row.counted_meeting_ids or []
    )
    if row.meetings_required is not None:
        parts.append({"url": "meetingsRequired", "valueUnsignedInt": row.meetings_required})
    if row.rule_version:
        parts.append({"url": "ruleVersion", "valueString": row.rule_version})
    parts.append({"url": "outcome", "valueCode": outcome})
    if row.override_reason:
        parts.append({"url": "overrideReason", "valueCode": row.override_reason})
        parts.append({"url": "overrideExplanation", "valueString": row.override_explanation})
    return parts


def continues(entry: CurrentMedication) -> dict[str, Any]:
    """The `continues-current-medication` extension for the list entry `entry`."""
    parts: list[dict[str, Any]] = [
        {
            "url": "entry",
            "valueIdentifier": {
                "system": t.pod_system("current-medication"),
                "value": str(entry.pk),
            },
        },
        {"url": "medicine", "valueString": entry.medicine},
    ]
    if entry.dose:
        parts.append({"url": "dose", "valueString": entry.dose})
    parts.append(
        {
            "url": "source",
            "valueCoding": t.coding(
                t.pod_system("current-medication-source"),
                entry.source,
                entry.get_source_display(),
            ),
        }
    )
    if entry.source_detail:
        parts.append({"url": "sourceDetail", "valueString": entry.source_detail})
    parts.append({"url": "sourceDate", "valueDate": fhir_date(entry.source_date)})
    parts.append({"url": "recorded", "valueDateTime": instant(entry.recorded_at)})
    return {"url": t.pod_extension("continues-current-medication"), "extension": parts}


@register
class MedicationRequestMapper(Mapper):
    type_name = "MedicationRequest"
    description = (
        "A prescription: the medicine (text) and dose, new or continuing and whether it is an "
        "antipsychotic (category), the prescriber, when, the meeting whose decision it came "
        "from, and what the 3-meetings-before-medication rule found (extension "
        "medication-rule: meetings held before it, the meetings counted as Encounter "
        "references, the threshold, the rule's version, outcome, override reason); a "
        "continuing medicine names the current-medication list entry it continues (extension "
        "continues-current-medication)."
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
        return rows.select_related(
            "episode", "prescriber", "decision", "current_medication"
        ).annotate(fhir_violated=Exists(violation))

    def to_fhir(self, row: Prescription) -> dict[str, Any]:
        out = self.start(row)
        outcome = rule_outcome(row, violated=bool(getattr(row, "fhir_violated", False)))
        extensions = [
            {"url": t.pod_extension("medication-rule"), "extension": rule_parts(row, outcome)}
        ]
        if row.current_medication is not None:
            extensions.append(continues(row.current_medication))
        out["extension"] = extensions
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
