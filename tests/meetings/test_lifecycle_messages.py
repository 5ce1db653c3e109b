"""Everyone invited is told of a cancellation or a change (issues 10 and 11).

The lifecycle's services owe the messages in their own transaction, through
meetings.services.meeting_messages.owe_meeting_messages: a cancellation from the meeting page
or by closing the episode owes a CANCEL to each invited member with an email address, a
reschedule owes a REQUEST with the next SEQUENCE, and a CANCEL to a member taken off the list.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from meetings.models import Meeting
from meetings.services.episodes import episode_close
from meetings.services.lifecycle import meeting_cancel, meeting_reschedule
from meetings.services.meetings import meeting_schedule_with_invitations
from pod.foundation.outbox_models import OutboxMessage
from tests import factories as f
from tests.meetings.helpers import recent_episode

pytestmark = [pytest.mark.django_db, pytest.mark.hazard("HAZ-09.C23")]


def _member(episode, clinician, name):
    return f.make_member(
        episode.service_user,
        name=name,
        email=f"{name.split()[0].lower()}@example.org",
        contact_consent="agreed",
        consent_recorded_at=timezone.now(),
        consent_recorded_by=clinician,
    )


def _scheduled(team, clinician, clinician2):
    episode = recent_episode(team, [clinician, clinician2], hours_ago=2)
    sam = _member(episode, clinician, "Sam Sister")
    fran = _member(episode, clinician, "Fran Friend")
    start = timezone.now() + timedelta(hours=3)
    meeting = meeting_schedule_with_invitations(
        episode=episode,
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=1),
        location="home",
        location_detail="",
        staff=[clinician],
        network_members=[sam, fran],
        created_by=clinician,
        now=timezone.now(),
    )
    return episode, meeting, sam, fran


def _owed(meeting, kind):
    return sorted(
        OutboxMessage.objects.filter(
            kind=kind, cause__startswith=f"meeting:{meeting.pk}:"
        ).values_list("recipient_key", flat=True)
    )


def test_cancelling_a_meeting_owes_each_invited_member_a_cancellation(team, clinician, clinician2):
    episode, meeting, sam, fran = _scheduled(team, clinician, clinician2)
    assert _owed(meeting, "meeting_invitation") == sorted([f"member:{sam.pk}", f"member:{fran.pk}"])
    meeting_cancel(
        meeting=meeting,
        called_off_by="person",
        reason="Jordan asked to meet next week instead.",
        changed_by=clinician,
        now=timezone.now(),
    )
    assert _owed(meeting, "meeting_cancellation") == sorted(
        [f"member:{sam.pk}", f"member:{fran.pk}"]
    )
    meeting.refresh_from_db()
    assert meeting.calendar_sequence == 1


def test_rescheduling_owes_an_update_and_a_cancel_to_whoever_is_taken_off(
    team, clinician, clinician2
):
    episode, meeting, sam, fran = _scheduled(team, clinician, clinician2)
    meeting_reschedule(
        meeting=meeting,
        scheduled_start=meeting.scheduled_start + timedelta(days=1),
        scheduled_end=meeting.scheduled_end + timedelta(days=1),
        location="home",
        location_detail="",
        staff=[clinician],
        network_members=[sam],
        reason="Tomorrow suits the family better.",
        changed_by=clinician,
        now=timezone.now(),
    )
    assert _owed(meeting, "meeting_update") == [f"member:{sam.pk}"]
    assert _owed(meeting, "meeting_uninvited") == [f"member:{fran.pk}"]
    meeting.refresh_from_db()
    assert meeting.calendar_sequence == 1


def test_closing_the_episode_owes_a_cancellation_for_each_future_meeting(
    team, clinician, clinician2
):
    episode, meeting, sam, fran = _scheduled(team, clinician, clinician2)
    now = timezone.now()
    episode_close(
        episode=episode,
        outcome="Well again; the network will meet by itself.",
        closed_at=now,
        now=now,
        cancel_meetings=[meeting.pk],
        closed_by=clinician,
    )
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.CANCELLED
    assert _owed(meeting, "meeting_cancellation") == sorted(
        [f"member:{sam.pk}", f"member:{fran.pk}"]
    )
