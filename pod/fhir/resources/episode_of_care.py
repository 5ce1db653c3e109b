"""EpisodeOfCare: one episode (meetings.Episode), referral -> first meeting -> ... -> closed.

The 24-hour clock is carried by documented extensions where R4 has no element (the referral's
time and source, the triage category, when the first meeting is due and when it was held).
The reason for referral and the closure's words are POD's record of what was said, and stay out.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from meetings.models import Episode
from meetings.selectors import episodes_for
from pod.fhir import terminology as t
from pod.fhir.registry import CLINICAL, Include, Mapper, instant, reference, register
from pod.foundation.models import User

STATUS = {
    Episode.Status.REFERRED: "planned",
    Episode.Status.ACTIVE: "active",
    Episode.Status.CLOSED: "finished",
}


def status_history(row: Episode) -> list[dict[str, Any]]:
    """The statuses the episode has been through, with their periods, from its own instants:
    planned from the referral until the first meeting (or closure), active from the first
    meeting until closure, finished from closure."""
    history: list[dict[str, Any]] = []
    first_end = row.first_meeting_held_at or row.closed_at
    planned: dict[str, str] = {"start": instant(row.referral_received_at)}
    if first_end is not None:
        planned["end"] = instant(first_end)
    history.append({"status": "planned", "period": planned})
    if row.first_meeting_held_at is not None:
        active = {"start": instant(row.first_meeting_held_at)}
        if row.closed_at is not None:
            active["end"] = instant(row.closed_at)
        history.append({"status": "active", "period": active})
    if row.closed_at is not None:
        history.append({"status": "finished", "period": {"start": instant(row.closed_at)}})
    return history


@register
class EpisodeOfCareMapper(Mapper):
    type_name = "EpisodeOfCare"
    description = (
        "An episode of care: status (planned until the first network meeting, active, "
        "finished) and its history, the team responsible, the care team, and in extensions "
        "the referral (received, source), the triage category and the first meeting's due and "
        "held times."
    )
    model = Episode
    roles = CLINICAL
    person_path = "service_user_id"
    team_path = "team_id"
    date_path = "referral_received_at"
    audit_table = "meetings_episode"
    created_path = "created_at"
    statuses = {
        "planned": Q(status=Episode.Status.REFERRED),
        "active": Q(status=Episode.Status.ACTIVE),
        "finished": Q(status=Episode.Status.CLOSED),
    }
    includes = (
        Include("patient", "Patient", "service_user_id"),
        Include("organization", "Organization", "team_id"),
        Include("team", "CareTeam", "pk"),
    )

    def visible(self, user: User) -> QuerySet[Episode]:
        return episodes_for(user)

    def to_fhir(self, row: Episode) -> dict[str, Any]:
        out = self.start(row)
        extensions: list[dict[str, Any]] = [
            {
                "url": t.pod_extension("episode-referral"),
                "extension": [
                    {"url": "received", "valueDateTime": instant(row.referral_received_at)},
                    {
                        "url": "source",
                        "valueCoding": t.coding(
                            t.pod_system("referral-source"),
                            row.referral_source,
                            row.get_referral_source_display(),
                        ),
                    },
                ],
            },
            {
                "url": t.pod_extension("episode-triage"),
                "valueCoding": t.coding(
                    t.pod_system("uk-mental-health-triage"),
                    row.triage_category,
                    row.get_triage_category_display(),
                ),
            },
            {
                "url": t.pod_extension("first-meeting-due"),
                "valueDateTime": instant(row.first_meeting_due_at),
            },
        ]
        if row.first_meeting_held_at is not None:
            extensions.append(
                {
                    "url": t.pod_extension("first-meeting-held"),
                    "valueDateTime": instant(row.first_meeting_held_at),
                }
            )
        out["extension"] = extensions
        out["status"] = STATUS[Episode.Status(row.status)]
        out["statusHistory"] = status_history(row)
        out["type"] = [
            {
                "coding": [
                    t.coding(t.pod_system("episode-type"), "pod", "Peer-supported Open Dialogue")
                ],
                "text": "Peer-supported Open Dialogue",
            }
        ]
        out["patient"] = reference("Patient", row.service_user_id)
        out["managingOrganization"] = reference("Organization", row.team_id)
        period = {"start": instant(row.referral_received_at)}
        if row.closed_at is not None:
            period["end"] = instant(row.closed_at)
        out["period"] = period
        out["team"] = [reference("CareTeam", row.pk)]
        return out
