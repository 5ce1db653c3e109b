"""Builders shared by the episode page tests."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from meetings.models import Participant
from meetings.services.meetings import meeting_record_held, meeting_schedule
from tests import factories as f


def recent_episode(team, core_team, *, hours_ago: float = 30, **kw):
    """An episode referred `hours_ago` ago (so meetings can be held in the past)."""
    referral = timezone.now() - timedelta(hours=hours_ago)
    return f.make_episode(
        team=team, core_team=core_team, referral_received_at=referral, now=timezone.now(), **kw
    )


def held_meeting(episode, staff, *, hours_after_referral: float = 2, attend_all: bool = True):
    start = episode.referral_received_at + timedelta(hours=hours_after_referral)
    meeting = meeting_schedule(
        episode=episode,
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=1),
        location="home",
        staff=staff,
        created_by=None,
        now=start - timedelta(hours=1),  # arranged before it took place
    )
    attended = {p.pk: attend_all for p in meeting.participants.all()}
    return meeting_record_held(
        meeting=meeting,
        actual_start=start,
        actual_end=start + timedelta(hours=1),
        attended=attended,
        recorded_by=None,
        now=timezone.now(),
    )


def person_participant(meeting):
    return meeting.participants.get(kind=Participant.Kind.SERVICE_USER)


def agreed_member(service_user, recorded_by, **kw):
    """A network member with an email address who agreed to be contacted (recorded now)."""
    return f.make_member(
        service_user,
        **{
            "name": "Robin",
            "email": "robin@example.org",
            "contact_consent": "agreed",
            "consent_recorded_at": timezone.now(),
            "consent_recorded_by": recorded_by,
            **kw,
        },
    )


def future_meeting(episode, staff, *, days: float = 1, members=None):
    """A meeting arranged now for `days` ahead, an hour long, at home."""
    now = timezone.now()
    return meeting_schedule(
        episode=episode,
        scheduled_start=now + timedelta(days=days),
        scheduled_end=now + timedelta(days=days, hours=1),
        location="home",
        staff=staff,
        network_members=members,
        created_by=staff[0],
        now=now,
    )
