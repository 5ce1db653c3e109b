"""Appointment and Encounter: each network meeting (meetings.Meeting) as both.

The Appointment is the meeting as arranged: scheduled start and end, who was invited, and
their attendance once recorded (participant.status: accepted = attended, declined = did not
attend, needs-action = not recorded yet); cancelled with its reason (coded by who called it off)
and when (extension `meeting-cancelled`). A rescheduled meeting is the same row, so the same
Appointment (and Encounter) id with the new times. The Encounter is the meeting as it happened
(or is planned to): its class from the place (home -> HH, video -> VR, otherwise AMB), who took
part, the episode, when it was recorded held and whether after the event (`recorded-held`),
and whether it counts as a network meeting for the medication rule
(`counts-as-network-meeting`). Both carry the place as a contained Location typed
with POD's meeting-location code (and v3 RoleCode where one fits). People deliberately not
invited are left out, and the meeting's words and decisions stay out of the API.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, ClassVar

from django.db.models import Q, QuerySet

from meetings.models import CalledOffBy, Meeting, Participant
from meetings.selectors import PERSON_FIRST, episodes_for
from pod.fhir import terminology as t
from pod.fhir.registry import CLINICAL, Include, Mapper, instant, reference, register
from pod.foundation.models import User

LOCATION_ROLE_CODE = {
    Meeting.Location.HOME: ("PTRES", "Patient's Residence"),
    Meeting.Location.HOSPITAL: ("HOSP", "Hospital"),
    Meeting.Location.COMMUNITY: ("COMM", "Community Location"),
}
ENCOUNTER_CLASS = {
    Meeting.Location.HOME: ("HH", "home health"),
    Meeting.Location.VIDEO: ("VR", "virtual"),
}
AMBULATORY = ("AMB", "ambulatory")
# Who called a meeting off -> the nearest code of HL7's appointment-cancellation-reason: the
# person is the patient (pat), the team the provider (prov); the network is neither (other).
CANCELLATION_REASON_CODE = {
    CalledOffBy.PERSON: ("pat", "Patient"),
    CalledOffBy.TEAM: ("prov", "Provider"),
    CalledOffBy.NETWORK: ("other", "Other"),
}
NETWORK_MEETING = {
    "coding": [t.coding(t.pod_system("encounter-type"), "network-meeting", "Network meeting")],
    "text": "Network meeting",
}


def contained_location(row: Meeting) -> dict[str, Any]:
    codings = [t.coding(t.pod_system("meeting-location"), row.location, row.get_location_display())]
    role = LOCATION_ROLE_CODE.get(Meeting.Location(row.location))
    if role is not None:
        codings.append(t.coding(t.V3_ROLE_CODE, *role))
    location: dict[str, Any] = {
        "resourceType": "Location",
        "id": "location",
        "mode": "instance",
        "type": [{"coding": codings, "text": row.get_location_display()}],
    }
    if row.location_detail:
        location["description"] = row.location_detail
    return location


@dataclass(frozen=True)
class Attendee:
    """An invited participant, as the resources show them: a member by id, staff by name."""

    kind: str
    member_id: int | None
    attended: bool | None
    username: str | None
    first_name: str | None
    last_name: str | None


def attendees_by_meeting(meeting_ids: list[int]) -> dict[int, list[Attendee]]:
    """The invited participants of these meetings, the person first, then the network, then
    staff: one query, plain values. (Model instances per participant and member of staff made a
    bulk export three times slower: benchmarks/fhir_export/RESULTS.md.)"""
    out: dict[int, list[Attendee]] = defaultdict(list)
    rows = (
        Participant.objects.filter(meeting_id__in=meeting_ids, invited=True)
        .order_by("meeting_id", PERSON_FIRST, "pk")
        .values_list(
            "meeting_id",
            "kind",
            "network_member_id",
            "attended",
            "staff__username",
            "staff__first_name",
            "staff__last_name",
        )
    )
    for meeting_id, kind, member_id, attended, username, first_name, last_name in rows:
        out[meeting_id].append(Attendee(kind, member_id, attended, username, first_name, last_name))
    return out


def invited(row: Meeting) -> list[Attendee]:
    attendees: list[Attendee] = getattr(row, "fhir_attendees", [])
    return attendees


def actor(row: Meeting, participant: Attendee) -> dict[str, Any]:
    if participant.kind == Participant.Kind.SERVICE_USER:
        return reference("Patient", row.episode.service_user_id)
    if participant.kind == Participant.Kind.NETWORK_MEMBER:
        return reference("RelatedPerson", participant.member_id)
    name = f"{participant.first_name or ''} {participant.last_name or ''}".strip()
    return t.staff_ref(participant.username or "", name or participant.username or "")


class MeetingMapper(Mapper):
    """What Appointment and Encounter share: the rows, the access and the search."""

    model = Meeting
    roles = CLINICAL
    person_path = "episode__service_user_id"
    team_path = "episode__team_id"
    date_path = "scheduled_start"
    audit_table = "meetings_meeting"
    created_path = "created_at"
    includes: ClassVar[tuple[Include, ...]] = (
        Include("patient", "Patient", "episode__service_user_id"),
    )

    def visible(self, user: User) -> QuerySet[Meeting]:
        return Meeting.objects.filter(episode__in=episodes_for(user))

    def prepare(self, rows: QuerySet[Any]) -> QuerySet[Any]:
        return rows.select_related("episode").defer("episode__reason", "episode__closure_outcome")

    def attach(self, rows: list[Any]) -> None:
        found = attendees_by_meeting([row.pk for row in rows])
        for row in rows:
            row.fhir_attendees = found.get(row.pk, [])


@register
class AppointmentMapper(MeetingMapper):
    type_name = "Appointment"
    description = (
        "A network meeting as arranged: booked, fulfilled (held) or cancelled with its reason "
        "(coded pat / prov / other by who called it off) and when (extension "
        "meeting-cancelled); scheduled start and end (a rescheduled meeting keeps its id); "
        "the person, network members and staff invited, with "
        "attendance once recorded; the place's type."
    )
    statuses = {
        "booked": Q(status=Meeting.Status.SCHEDULED),
        "fulfilled": Q(status=Meeting.Status.HELD),
        "cancelled": Q(status=Meeting.Status.CANCELLED),
    }
    STATUS = {"scheduled": "booked", "held": "fulfilled", "cancelled": "cancelled"}

    def to_fhir(self, row: Meeting) -> dict[str, Any]:
        out = self.start(row)
        out["contained"] = [contained_location(row)]
        out["status"] = self.STATUS[row.status]
        if row.status == Meeting.Status.CANCELLED:
            cancelled = cancellation(row)
            if cancelled is not None:
                out["extension"] = [cancelled]
            reason = cancelation_reason(row)
            if reason:
                out["cancelationReason"] = reason
        out["serviceType"] = [NETWORK_MEETING]
        out["start"] = instant(row.scheduled_start)
        out["end"] = instant(row.scheduled_end)
        out["created"] = instant(row.created_at)
        participants = [{"actor": actor(row, p), "status": _attendance(p)} for p in invited(row)]
        participants.append({"actor": {"reference": "#location"}, "status": "accepted"})
        out["participant"] = participants
        return out


def cancelation_reason(row: Meeting) -> dict[str, Any]:
    """Appointment.cancelationReason: the reason as text, coded by who called it off (HL7's
    nearest code, then POD's own); {} when neither is recorded."""
    out: dict[str, Any] = {}
    if row.cancelled_by:
        party = CalledOffBy(row.cancelled_by)
        out["coding"] = [
            t.coding(t.APPOINTMENT_CANCELLATION_REASON, *CANCELLATION_REASON_CODE[party]),
            t.coding(t.pod_system("called-off-by"), party.value, party.label),
        ]
    if row.cancelled_reason:
        out["text"] = row.cancelled_reason
    return out


def cancellation(row: Meeting) -> dict[str, Any] | None:
    """The `meeting-cancelled` extension (when, by whom), or None when neither is recorded."""
    parts: list[dict[str, Any]] = []
    if row.cancelled_at is not None:
        parts.append({"url": "at", "valueDateTime": instant(row.cancelled_at)})
    if row.cancelled_by:
        party = CalledOffBy(row.cancelled_by)
        parts.append(
            {
                "url": "calledOffBy",
                "valueCoding": t.coding(t.pod_system("called-off-by"), party.value, party.label),
            }
        )
    if not parts:
        return None
    return {"url": t.pod_extension("meeting-cancelled"), "extension": parts}


def held_extensions(row: Meeting) -> list[dict[str, Any]]:
    """The Encounter's `recorded-held` and `counts-as-network-meeting` extensions, for what is
    recorded (nothing for a meeting not held)."""
    out: list[dict[str, Any]] = []
    if row.status != Meeting.Status.HELD:
        return out
    parts: list[dict[str, Any]] = []
    if row.recorded_held_at is not None:
        parts.append({"url": "recorded", "valueDateTime": instant(row.recorded_held_at)})
    if row.recorded_after_event is not None:
        parts.append({"url": "afterTheEvent", "valueBoolean": row.recorded_after_event})
    if parts:
        out.append({"url": t.pod_extension("recorded-held"), "extension": parts})
    if row.counts_as_network_meeting is not None:
        out.append(
            {
                "url": t.pod_extension("counts-as-network-meeting"),
                "valueBoolean": row.counts_as_network_meeting,
            }
        )
    return out


def _attendance(participant: Attendee) -> str:
    if participant.attended is True:
        return "accepted"
    if participant.attended is False:
        return "declined"
    return "needs-action"


@register
class EncounterMapper(MeetingMapper):
    type_name = "Encounter"
    description = (
        "A network meeting as it happened (finished), is planned, or was cancelled: its class "
        "from the place (home HH, video VR, otherwise AMB), the period (actual times once "
        "held), the staff and network members who took part (all those invited while "
        "planned), the episode, the place's type and the team; once held, when it was recorded "
        "and whether after the event (extension recorded-held), and whether it counts as a "
        "network meeting for the medication rule (extension counts-as-network-meeting)."
    )
    statuses = {
        "planned": Q(status=Meeting.Status.SCHEDULED),
        "finished": Q(status=Meeting.Status.HELD),
        "cancelled": Q(status=Meeting.Status.CANCELLED),
    }
    STATUS = {"scheduled": "planned", "held": "finished", "cancelled": "cancelled"}
    includes = (
        *MeetingMapper.includes,
        Include("episode-of-care", "EpisodeOfCare", "episode_id"),
        Include("appointment", "Appointment", "pk"),
    )

    def to_fhir(self, row: Meeting) -> dict[str, Any]:
        out = self.start(row)
        out["contained"] = [contained_location(row)]
        extensions = held_extensions(row)
        if extensions:
            out["extension"] = extensions
        out["status"] = self.STATUS[row.status]
        code, display = ENCOUNTER_CLASS.get(Meeting.Location(row.location), AMBULATORY)
        out["class"] = t.coding(t.V3_ACT_CODE, code, display)
        out["type"] = [NETWORK_MEETING]
        out["subject"] = reference("Patient", row.episode.service_user_id)
        out["episodeOfCare"] = [reference("EpisodeOfCare", row.episode_id)]
        held = row.status == Meeting.Status.HELD
        took_part = [
            p
            for p in invited(row)
            if p.kind != Participant.Kind.SERVICE_USER and (p.attended is True or not held)
        ]
        if took_part:
            out["participant"] = [
                {
                    "type": [
                        {"coding": [t.coding(t.V3_PARTICIPATION_TYPE, "PART", "Participation")]}
                    ],
                    "individual": actor(row, p),
                }
                for p in took_part
            ]
        out["appointment"] = [reference("Appointment", row.pk)]
        if held and row.actual_start and row.actual_end:
            out["period"] = {"start": instant(row.actual_start), "end": instant(row.actual_end)}
        else:
            out["period"] = {
                "start": instant(row.scheduled_start),
                "end": instant(row.scheduled_end),
            }
        out["location"] = [{"location": {"reference": "#location"}}]
        out["serviceProvider"] = reference("Organization", row.episode.team_id)
        return out
