"""A meeting is arranged in the future, and one that already happened is recorded as such
(issue 10 review: scheduling a meeting in the past was allowed, so a prescriber could arrange
three meetings last week and record each held at once, and the network was sent invitations to
meetings that were over)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from meetings.models import Meeting, Participant
from meetings.services.lifecycle import meeting_reschedule
from meetings.services.meetings import (
    meeting_record_past,
    meeting_schedule,
    meetings_schedule_daily_run,
)
from pod.foundation.outbox_models import OutboxMessage
from tests import factories as f
from tests.meetings.helpers import agreed_member, future_meeting, recent_episode

pytestmark = pytest.mark.django_db


def _local(instant) -> str:
    return timezone.localtime(instant).strftime("%Y-%m-%dT%H:%M")


@pytest.mark.hazard("HAZ-04.C88")
def test_a_meeting_cannot_be_arranged_in_the_past(team, clinician, clinician2):
    episode = recent_episode(team, [clinician, clinician2], hours_ago=72)
    now = timezone.now()
    with pytest.raises(ValidationError) as refused:
        meeting_schedule(
            episode=episode,
            scheduled_start=now - timedelta(hours=30),
            scheduled_end=now - timedelta(hours=29),
            location="home",
            staff=[clinician, clinician2],
            created_by=clinician,
            now=now,
        )
    assert "Record a meeting that took place" in refused.value.message_dict["scheduled_start"][0]
    with pytest.raises(ValidationError):
        meetings_schedule_daily_run(
            episode=episode,
            first_start=now - timedelta(days=1),
            duration=timedelta(hours=1),
            days=2,
            location="home",
            staff=[clinician, clinician2],
            network_members=None,
            created_by=clinician,
            now=now,
        )
    assert not Meeting.objects.filter(episode=episode).exists()
    # A meeting arranged as it begins (a few minutes ago) is still an arrangement.
    meeting_schedule(
        episode=episode,
        scheduled_start=now - timedelta(minutes=10),
        scheduled_end=now + timedelta(minutes=50),
        location="home",
        staff=[clinician, clinician2],
        created_by=clinician,
        now=now,
    )


@pytest.mark.hazard("HAZ-04.C88")
def test_a_meeting_cannot_be_moved_into_the_past(team, clinician, clinician2):
    episode = recent_episode(team, [clinician, clinician2], hours_ago=72)
    now = timezone.now()
    meeting = meeting_schedule(
        episode=episode,
        scheduled_start=now + timedelta(hours=3),
        scheduled_end=now + timedelta(hours=4),
        location="home",
        staff=[clinician, clinician2],
        created_by=clinician,
        now=now,
    )
    with pytest.raises(ValidationError) as refused:
        meeting_reschedule(
            meeting=meeting,
            scheduled_start=now - timedelta(days=2),
            scheduled_end=now - timedelta(days=2) + timedelta(hours=1),
            location="home",
            location_detail="",
            staff=[clinician, clinician2],
            network_members=[],
            reason="Moved to when it really happened.",
            changed_by=clinician,
            now=now,
        )
    assert "scheduled_start" in refused.value.message_dict
    meeting.refresh_from_db()
    assert meeting.scheduled_start == now + timedelta(hours=3)


@pytest.mark.hazard("HAZ-04.C88")
def test_the_schedule_form_says_to_record_a_past_meeting_instead(
    client, team, clinician, clinician2
):
    episode = recent_episode(team, [clinician, clinician2], hours_ago=72)
    client.force_login(clinician)
    url = reverse("meetings:meeting_new", args=[episode.pk])
    page = client.get(url)
    response = client.post(
        url,
        {
            "submission_token": page.context["form"]["submission_token"].value(),
            "scheduled_start": _local(timezone.now() - timedelta(days=1)),
            "duration_minutes": "60",
            "location": "home",
            "staff": [clinician.pk, clinician2.pk],
        },
    )
    assert response.status_code == 200
    assert "cannot be arranged in the past" in response.context["form"].errors["scheduled_start"][0]
    assert not Meeting.objects.filter(episode=episode).exists()


@pytest.mark.hazard("HAZ-04.C88")
def test_a_meeting_that_took_place_is_recorded_held_with_who_was_there_and_no_messages(
    team, clinician, clinician2
):
    episode = recent_episode(team, [clinician, clinician2], hours_ago=72)
    came = agreed_member(episode.service_user, clinician)
    stayed_away = f.make_member(episode.service_user, name="Kit", email="kit@example.org")
    now = timezone.now()
    start = now - timedelta(hours=30)  # ended 29 hours ago: recorded after the event
    meeting = meeting_record_past(
        episode=episode,
        actual_start=start,
        actual_end=start + timedelta(hours=1),
        location="home",
        staff=[clinician, clinician2],
        person_attended=True,
        network_members=[came],
        recorded_by=clinician,
        now=now,
    )
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.HELD
    assert (meeting.actual_start, meeting.recorded_held_at) == (start, now)
    attended = {
        (p.kind, p.network_member_id or p.staff_id): p.attended for p in meeting.participants.all()
    }
    assert attended[(Participant.Kind.SERVICE_USER, None)] is True
    assert attended[(Participant.Kind.NETWORK_MEMBER, came.pk)] is True
    assert (Participant.Kind.NETWORK_MEMBER, stayed_away.pk) not in attended
    assert attended[(Participant.Kind.STAFF, clinician.pk)] is True
    assert meeting.counts_as_network_meeting
    assert meeting.recorded_after_event  # the manager sees the mark
    assert not OutboxMessage.objects.exists()  # nobody is invited to a meeting that is over


def test_a_meeting_that_took_place_cannot_be_in_the_future_or_before_the_referral(
    team, clinician, clinician2
):
    episode = recent_episode(team, [clinician, clinician2], hours_ago=5)
    now = timezone.now()
    for start, field in (
        (now + timedelta(hours=1), "actual_start"),
        (episode.referral_received_at - timedelta(hours=2), "actual_start"),
    ):
        with pytest.raises(ValidationError) as refused:
            meeting_record_past(
                episode=episode,
                actual_start=start,
                actual_end=start + timedelta(hours=1),
                location="home",
                staff=[clinician, clinician2],
                person_attended=True,
                recorded_by=clinician,
                now=now,
            )
        assert field in refused.value.message_dict
    assert not Meeting.objects.filter(episode=episode).exists()


def test_the_took_place_page_records_a_meeting(client, team, clinician, clinician2):
    episode = recent_episode(team, [clinician, clinician2], hours_ago=30)
    client.force_login(clinician)
    url = reverse("meetings:meeting_took_place", args=[episode.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert b"No invitation or message is sent" in page.content
    start = timezone.now() - timedelta(hours=5)
    response = client.post(
        url,
        {
            "submission_token": page.context["form"]["submission_token"].value(),
            "actual_start": _local(start),
            "actual_end": _local(start + timedelta(minutes=50)),
            "location": "home",
            "person_attended": "on",
            "staff": [clinician.pk, clinician2.pk],
        },
    )
    meeting = Meeting.objects.get(episode=episode)
    assert response.status_code == 302
    assert response["Location"] == reverse("meetings:meeting_detail", args=[episode.pk, meeting.pk])
    assert meeting.status == Meeting.Status.HELD
    assert meeting.created_by == clinician


def test_only_staff_of_the_team_attend(team, clinician, clinician2, outsider):
    episode = recent_episode(team, [clinician, clinician2], hours_ago=30)
    now = timezone.now()
    with pytest.raises(ValidationError) as refused:
        meeting_record_past(
            episode=episode,
            actual_start=now - timedelta(hours=3),
            actual_end=now - timedelta(hours=2),
            location="home",
            staff=[clinician, outsider],
            person_attended=True,
            recorded_by=clinician,
            now=now,
        )
    assert "staff" in refused.value.message_dict
    with pytest.raises(ValidationError):
        meeting_schedule(
            episode=episode,
            scheduled_start=now + timedelta(hours=3),
            scheduled_end=now + timedelta(hours=4),
            location="home",
            staff=[outsider],
            created_by=clinician,
            now=now,
        )
    assert not Meeting.objects.filter(episode=episode).exists()


@pytest.mark.hazard("HAZ-04.C42", "HAZ-04.C43")
def test_three_touching_meetings_recorded_this_morning_are_one_sitting_and_marked(
    team, clinician, clinician2, prescriber
):
    """Issue 10 review, F1: a prescriber recorded three touching 20-minute meetings of this
    morning in a minute and prescribed on '3 of 3', with no mark for the manager."""
    from meetings.services.prescriptions import prescription_create

    episode = recent_episode(team, [clinician, clinician2], hours_ago=30)
    now = timezone.now()
    start = now - timedelta(hours=2)
    for i in range(3):
        meeting_record_past(
            episode=episode,
            actual_start=start + timedelta(minutes=20 * i),
            actual_end=start + timedelta(minutes=20 * (i + 1)),
            location="home",
            staff=[clinician, clinician2],
            person_attended=True,
            recorded_by=clinician,
            now=now,
        )
    meetings = list(Meeting.objects.filter(episode=episode).order_by("actual_start"))
    assert [m.counts_as_network_meeting for m in meetings] == [True, False, False]
    assert all(m.recorded_after_event for m in meetings)  # none was arranged beforehand
    with pytest.raises(ValidationError, match="1 of 3 network meetings"):
        prescription_create(
            episode=episode,
            medicine="Olanzapine",
            is_antipsychotic=True,
            prescriber=prescriber,
            prescribed_at=now,
            now=now,
        )


@pytest.mark.hazard("HAZ-06.C90")
def test_a_member_no_longer_wanted_or_who_refused_is_taken_off_a_meeting_when_it_changes(
    team, clinician, clinician2
):
    """Issue 13 review: a member invited before the person said not to invite them (or before
    they refused contact) stayed invited through a reschedule and was still addressed."""
    from meetings.selectors import meeting_email_recipients
    from networks import services as network_services

    episode = recent_episode(team, [clinician, clinician2], hours_ago=30)
    now = timezone.now()
    unwanted = agreed_member(episode.service_user, clinician)
    refusing = agreed_member(episode.service_user, clinician, name="Kit", email="kit@example.org")
    meeting = future_meeting(episode, [clinician, clinician2], members=[unwanted, refusing])
    assert len(meeting_email_recipients(meeting)) == 2
    network_services.network_member_update(
        member=unwanted,
        updated_by=clinician,
        now=now,
        person_wants_invited=False,
        not_invited_reason="Does not want her to know about the crisis",
    )
    network_services.network_member_record_consent(
        member=refusing, consent="refused", recorded_by=clinician, now=now
    )
    assert meeting_email_recipients(meeting) == []  # neither is addressed any more
    meeting_reschedule(
        meeting=meeting,
        scheduled_start=now + timedelta(days=2),
        scheduled_end=now + timedelta(days=2, hours=1),
        location="home",
        location_detail="",
        staff=[clinician, clinician2],
        network_members=[],
        reason="The family asked for Thursday instead.",
        changed_by=clinician,
        now=now,
    )
    rows = {
        p.network_member_id: (p.invited, p.not_invited_reason)
        for p in meeting.participants.filter(kind=Participant.Kind.NETWORK_MEMBER)
    }
    assert rows[unwanted.pk] == (False, "Does not want her to know about the crisis")
    assert rows[refusing.pk] == (False, "Refused to be contacted by the team")


def test_a_meeting_cannot_be_moved_to_another_teams_staff(team, clinician, clinician2, outsider):
    episode = recent_episode(team, [clinician, clinician2], hours_ago=30)
    now = timezone.now()
    meeting = future_meeting(episode, [clinician, clinician2])
    with pytest.raises(ValidationError) as refused:
        meeting_reschedule(
            meeting=meeting,
            scheduled_start=now + timedelta(days=2),
            scheduled_end=now + timedelta(days=2, hours=1),
            location="home",
            location_detail="",
            staff=[clinician, outsider],
            network_members=[],
            reason="The family asked for Thursday instead.",
            changed_by=clinician,
            now=now,
        )
    assert "staff" in refused.value.message_dict
