"""Reads that join a person's network (networks app) with their episodes and meetings.

For the two network pages that show meetings data (meetings/views/network_pages.py): the
peer's page for one person (upcoming meetings, as time and place only) and the network map
(the network "at referral", and who came to meetings). They live in meetings because networks
sits below it and may not import it (README "Architecture").

Every function runs a fixed number of queries whatever the size of the network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TypedDict

from django.db.models import Count, Q, QuerySet

from meetings.models import Episode, Meeting, Participant
from meetings.rules import NETWORK_BASELINE_AFTER
from networks import rules
from networks.models import NetworkMember, PeerContact, ServiceUser
from networks.selectors import all_members, members_as_of, sector_counts


class UpcomingMeeting(TypedDict):
    """A meeting as a peer may see it: when and where, nothing else."""

    scheduled_start: datetime
    scheduled_end: datetime
    location: str  # Meeting.Location value
    location_detail: str
    location_label: str  # the location as people read it


def upcoming_meetings_for_peer(service_user: ServiceUser, now: datetime) -> QuerySet[Meeting]:
    """The scheduled meetings not yet over, soonest first (the primary key breaking ties), as
    rows holding only time and place. Page them and hand the template `as_upcoming(page)`,
    never the rows: values, not model instances, so a template cannot reach the episode, the
    record or the decisions through a peer's page."""
    return (
        Meeting.objects.filter(
            episode__service_user=service_user,
            status=Meeting.Status.SCHEDULED,
            scheduled_end__gte=now,
        )
        .order_by("scheduled_start", "pk")
        .only("scheduled_start", "scheduled_end", "location", "location_detail")
    )


def as_upcoming(meetings: list[Meeting]) -> list[UpcomingMeeting]:
    """Meetings of `upcoming_meetings_for_peer` as time and place only."""
    labels = dict(Meeting.Location.choices)
    return [
        UpcomingMeeting(
            scheduled_start=m.scheduled_start,
            scheduled_end=m.scheduled_end,
            location=m.location,
            location_detail=m.location_detail,
            location_label=labels.get(m.location, m.location),
        )
        for m in meetings
    ]


def latest_episode(service_user: ServiceUser) -> Episode | None:
    """The person's most recent episode by referral, with only the fields the map needs."""
    return (
        Episode.objects.filter(service_user=service_user)
        .order_by("-referral_received_at")
        .only("id", "referral_received_at", "first_meeting_held_at", "service_user_id")
        .first()
    )


def baseline_instant(episode: Episode | None) -> datetime | None:
    """The instant "at referral" stands for in the measures and the first snapshot.

    The network is mapped at the first network meeting, not at the referral itself, so "at
    referral" means: as recorded by meetings.rules.NETWORK_BASELINE_AFTER (24 hours) after the
    first meeting (or after the referral while no meeting has been held). None: the person has
    no episode.
    """
    if episode is None:
        return None
    start = episode.first_meeting_held_at or episode.referral_received_at
    return start + NETWORK_BASELINE_AFTER


class SectorRow(TypedDict):
    """The size of one sector of the network (networks.rules.SECTORS) at referral and now."""

    key: str
    label: str
    at_referral: int
    now: int
    growth: int  # now - at referral


@dataclass
class NetworkMeasures:
    baseline_at: datetime | None
    rows: list[SectorRow] = field(default_factory=list)  # one per sector, in SECTORS' order
    total_at_referral: int = 0
    total_now: int = 0
    growth: int = 0
    members_attended: int = 0
    attendances: int = 0
    # member id -> number of meetings attended / number of peer contacts
    attended_by_member: dict[int, int] = field(default_factory=dict)
    contacts_by_member: dict[int, int] = field(default_factory=dict)
    contacts_with_person: int = 0
    contacts_total: int = 0


def network_measures(
    service_user: ServiceUser, now: datetime, members: list[NetworkMember] | None = None
) -> NetworkMeasures:
    """Size by sector at referral and now, growth, meeting attendance by members, and peer
    contacts per member. Five queries at most, whatever the size of the network."""
    members = all_members(service_user) if members is None else members
    baseline_at = baseline_instant(latest_episode(service_user))
    now_counts = sector_counts(members_as_of(members, now))
    base_counts = (
        sector_counts(members_as_of(members, baseline_at))
        if baseline_at
        else dict.fromkeys(now_counts, 0)
    )
    result = NetworkMeasures(baseline_at=baseline_at)
    for key, label, _cats in rules.SECTORS:
        result.rows.append(
            SectorRow(
                key=key,
                label=label,
                at_referral=base_counts[key],
                now=now_counts[key],
                growth=now_counts[key] - base_counts[key],
            )
        )
    result.total_at_referral = sum(base_counts.values())
    result.total_now = sum(now_counts.values())
    result.growth = result.total_now - result.total_at_referral

    attended = (
        Participant.objects.filter(
            kind=Participant.Kind.NETWORK_MEMBER,
            network_member__service_user=service_user,
            attended=True,
            meeting__status=Meeting.Status.HELD,
        )
        .values("network_member_id")
        .annotate(n=Count("id"))
    )
    result.attended_by_member = {row["network_member_id"]: row["n"] for row in attended}
    result.members_attended = len(result.attended_by_member)
    result.attendances = sum(result.attended_by_member.values())

    through = PeerContact.members.through
    per_member = (
        through.objects.filter(peercontact__service_user=service_user)
        .values("networkmember_id")
        .annotate(n=Count("id"))
    )
    result.contacts_by_member = {row["networkmember_id"]: row["n"] for row in per_member}
    totals = PeerContact.objects.filter(service_user=service_user).aggregate(
        total=Count("id"), with_person=Count("id", filter=Q(with_service_user=True))
    )
    result.contacts_total = totals["total"]
    result.contacts_with_person = totals["with_person"]
    return result
