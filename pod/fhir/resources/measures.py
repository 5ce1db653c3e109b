"""QuestionnaireResponse and Observation: a scored measure (outcomes.ScoredMeasure).

PHQ-9 and GAD-7 answers are items whose linkId is the item's LOINC code (PHQ-9 panel 44249-1,
GAD-7 panel 69737-5; codes as listed by LOINC's PHQ-SADS panel 69729-2), with the total as its
own item; their totals are Observations coded LOINC 44261-6 (PHQ-9 total score) and 70274-6
(GAD-7 total score), the severity band as the interpretation's text. DIALOG has no LOINC code:
its eleven items are linked by POD ids with the domain names as text (outcomes.rules), and
its Observation carries the two means as components. One Observation per measure, same id as
its QuestionnaireResponse, derived from it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet

from networks.selectors import service_users_for
from outcomes import scoring
from outcomes.models import ScoredMeasure
from pod.fhir import terminology as t
from pod.fhir.registry import (
    CLINICAL,
    Include,
    Mapper,
    SearchError,
    SearchParam,
    fhir_date,
    reference,
    register,
)
from pod.foundation.models import User

PHQ9_ITEMS = (
    ("44250-9", "Little interest or pleasure in doing things"),
    ("44255-8", "Feeling down, depressed, or hopeless"),
    ("44259-0", "Trouble falling or staying asleep, or sleeping too much"),
    ("44254-1", "Feeling tired or having little energy"),
    ("44251-7", "Poor appetite or overeating"),
    (
        "44258-2",
        "Feeling bad about yourself-or that you are a failure or have let yourself or "
        "your family down",
    ),
    (
        "44252-5",
        "Trouble concentrating on things, such as reading the newspaper or watching television",
    ),
    (
        "44253-3",
        "Moving or speaking so slowly that other people could have noticed. Or the "
        "opposite-being so fidgety or restless that you have been moving around a lot more than "
        "usual",
    ),
    ("44260-8", "Thoughts that you would be better off dead, or of hurting yourself in some way"),
)
GAD7_ITEMS = (
    ("69725-0", "Feeling nervous, anxious or on edge"),
    ("68509-9", "Not being able to stop or control worrying"),
    ("69733-4", "Worrying too much about different things"),
    ("69734-2", "Trouble relaxing"),
    ("69735-9", "Being so restless that it is hard to sit still"),
    ("69689-8", "Becoming easily annoyed or irritable"),
    ("69736-7", "Feeling afraid as if something awful might happen"),
)
TOTALS = {
    "PHQ9": ("44261-6", "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]"),
    "GAD7": ("70274-6", "Generalized anxiety disorder 7 item (GAD-7) total score [Reported.PHQ]"),
}
DIALOG_ITEMS = tuple(
    (f"dialog-{i}", name)
    for i, name in enumerate((*scoring.DIALOG_LIFE_DOMAINS, *scoring.DIALOG_TREATMENT), start=1)
)
SURVEY = {
    "coding": [t.coding(t.OBSERVATION_CATEGORY, "survey", "Survey")],
    "text": "Survey",
}


def _score(value: int | Decimal) -> dict[str, Any]:
    # JSON numbers: a Decimal mean (two places) becomes the float that prints the same.
    number = float(value) if isinstance(value, Decimal) else value
    return {"value": number, "unit": "{score}", "system": t.UCUM, "code": "{score}"}


class MeasureMapper(Mapper):
    model = ScoredMeasure
    roles = CLINICAL
    person_path = "service_user_id"
    team_path = "service_user__team_id"
    date_path = "completed_on"
    created_path = "created_at"
    includes = (Include("patient", "Patient", "service_user_id"),)

    def visible(self, user: User) -> QuerySet[ScoredMeasure]:
        if user.role not in CLINICAL:
            return ScoredMeasure.objects.none()
        return ScoredMeasure.objects.filter(service_user__in=service_users_for(user))

    def prepare(self, rows: QuerySet[Any]) -> QuerySet[Any]:
        return rows.select_related("recorded_by")


@register
class QuestionnaireResponseMapper(MeasureMapper):
    type_name = "QuestionnaireResponse"
    description = (
        "A PHQ-9, GAD-7 or DIALOG completed by the person: each item's score (PHQ-9 and GAD-7 "
        "items by their LOINC codes, with the total), when, and who recorded it."
    )
    statuses = {"completed": Q()}

    def to_fhir(self, row: ScoredMeasure) -> dict[str, Any]:
        out = self.start(row)
        out["status"] = "completed"
        out["subject"] = reference("Patient", row.service_user_id)
        out["authored"] = fhir_date(row.completed_on)
        if row.recorded_by is not None:
            out["author"] = t.staff_reference(row.recorded_by)
        out["source"] = reference("Patient", row.service_user_id)
        items_by_instrument = {"PHQ9": PHQ9_ITEMS, "GAD7": GAD7_ITEMS, "DIALOG": DIALOG_ITEMS}
        definitions = items_by_instrument[row.instrument]
        items = [
            {"linkId": link, "text": text, "answer": [{"valueInteger": score}]}
            for (link, text), score in zip(definitions, row.item_scores, strict=False)
        ]
        if row.instrument in TOTALS and row.total is not None:
            code, display = TOTALS[row.instrument]
            items.append({"linkId": code, "text": display, "answer": [{"valueInteger": row.total}]})
        out["item"] = items
        return out


@register
class ObservationMapper(MeasureMapper):
    type_name = "Observation"
    description = (
        "The score of a PHQ-9 (LOINC 44261-6) or GAD-7 (LOINC 70274-6) as a total with its "
        "severity band, or a DIALOG's two means (life domains, treatment) as components; "
        "derived from the QuestionnaireResponse of the same id."
    )
    statuses = {"final": Q()}
    extra_params = (
        SearchParam(
            "code",
            "token",
            "http://loinc.org|44261-6 (PHQ-9 total), "
            "http://loinc.org|70274-6 (GAD-7 total), or <POD measure system>|DIALOG",
        ),
    )

    def filter_param(self, rows: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        if name != "code":
            return super().filter_param(rows, name, value)
        instruments = set()
        for token in value.split(","):
            system, _, code = token.rpartition("|")
            for instrument, (loinc, _display) in TOTALS.items():
                if code == loinc and system in ("", t.LOINC):
                    instruments.add(instrument)
            if code == "DIALOG" and system in ("", t.pod_system("measure")):
                instruments.add("DIALOG")
            if not code:
                raise SearchError("code: give system|code or a code")
        return rows.filter(instrument__in=instruments)

    def to_fhir(self, row: ScoredMeasure) -> dict[str, Any]:
        out = self.start(row)
        out["status"] = "final"
        out["category"] = [SURVEY]
        out["subject"] = reference("Patient", row.service_user_id)
        out["effectiveDateTime"] = fhir_date(row.completed_on)
        out["derivedFrom"] = [reference("QuestionnaireResponse", row.pk)]
        if row.instrument in TOTALS:
            code, display = TOTALS[row.instrument]
            out["code"] = {"coding": [t.coding(t.LOINC, code, display)], "text": display}
            if row.total is not None:
                out["valueQuantity"] = _score(row.total)
            if row.band:
                out["interpretation"] = [{"text": row.band}]
            return out
        out["code"] = {
            "coding": [t.coding(t.pod_system("measure"), "DIALOG", "DIALOG")],
            "text": "DIALOG",
        }
        components = []
        for key, label, value in (
            ("life-domains-mean", "Mean of the 8 life domains (1-7)", row.life_domains_mean),
            ("treatment-mean", "Mean of the 3 treatment items (1-7)", row.treatment_mean),
        ):
            if value is not None:
                components.append(
                    {
                        "code": {
                            "coding": [t.coding(t.pod_system("measure"), f"DIALOG-{key}", label)],
                            "text": label,
                        },
                        "valueQuantity": _score(value),
                    }
                )
        if components:
            out["component"] = components
        else:
            out["dataAbsentReason"] = {"text": "No score"}
        return out
