"""Flag: an open breach or override (meetings.Alert of the kinds that escalate to managers).

Active while the episode is open, inactive after. A breach of the 24-hour first meeting is an
administrative flag; a medication-rule override or violation a drug flag. The alert's message
(ids and the prescriber's reason, never a name) is the code's text. The team's clinicians see
their teams' flags; service managers, who get these alerts and see them on the dashboard, see
their teams' flags too (and nothing else about the person).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from meetings.models import Alert, Episode
from meetings.selectors import episodes_for
from pod.fhir import terminology as t
from pod.fhir.registry import CLINICAL, MANAGER, Include, Mapper, instant, reference, register
from pod.foundation.access import teams_for
from pod.foundation.models import User

FLAG_KINDS = (
    Alert.Kind.BREACHED,
    Alert.Kind.MEDICATION_OVERRIDE,
    Alert.Kind.MEDICATION_VIOLATION,
)
CATEGORY = {
    Alert.Kind.BREACHED: ("admin", "Administrative"),
    Alert.Kind.MEDICATION_OVERRIDE: ("drug", "Drug"),
    Alert.Kind.MEDICATION_VIOLATION: ("drug", "Drug"),
}


@register
class FlagMapper(Mapper):
    type_name = "Flag"
    description = (
        "A breach of the 24-hour first meeting, or a medication-rule override or violation: "
        "active while the episode is open. Readable by the team's clinicians and its service "
        "managers."
    )
    model = Alert
    roles = CLINICAL | {MANAGER}
    person_path = "episode__service_user_id"
    team_path = "episode__team_id"
    date_path = "raised_at"
    created_path = "raised_at"
    statuses = {
        "active": ~Q(episode__status=Episode.Status.CLOSED),
        "inactive": Q(episode__status=Episode.Status.CLOSED),
    }
    includes = (Include("patient", "Patient", "episode__service_user_id"),)

    def visible(self, user: User) -> QuerySet[Alert]:
        flags = Alert.objects.filter(kind__in=FLAG_KINDS)
        if user.role == MANAGER:
            return flags.filter(episode__team__in=teams_for(user))
        return flags.filter(episode__in=episodes_for(user))

    def prepare(self, rows: QuerySet[Any]) -> QuerySet[Any]:
        return rows.select_related("episode")

    def to_fhir(self, row: Alert) -> dict[str, Any]:
        out = self.start(row)
        closed = row.episode.status == Episode.Status.CLOSED
        out["status"] = "inactive" if closed else "active"
        code, display = CATEGORY[Alert.Kind(row.kind)]
        out["category"] = [{"coding": [t.coding(t.FLAG_CATEGORY, code, display)]}]
        out["code"] = {
            "coding": [t.coding(t.pod_system("alert-kind"), row.kind, row.get_kind_display())],
            "text": row.message,
        }
        out["subject"] = reference("Patient", row.episode.service_user_id)
        period = {"start": instant(row.raised_at)}
        if closed and row.episode.closed_at is not None:
            period["end"] = instant(max(row.episode.closed_at, row.raised_at))
        out["period"] = period
        return out
