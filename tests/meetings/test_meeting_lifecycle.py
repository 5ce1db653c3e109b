"""A meeting's lifecycle (issue 10, point 1): cancel, reschedule and correct one meeting, each
change kept in its history; closing an episode cancels its future meetings; a cancelled first
meeting no longer counts as arranged for the 24-hour clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from meetings import selectors
from meetings.models import Alert, Episode, Meeting, MeetingChange, Participant
from meetings.services import episodes as episode_services
from meetings.services.episodes import episode_close, episode_scheduled_meetings
from meetings.services.lifecycle import meeting_cancel, meeting_correct, meeting_reschedule
from meetings.services.meetings import meeting_record_held, meeting_schedule
from meetings.sweeps import first_meeting_sweep
from tests import factories as f
from tests.meetings.helpers import agreed_member, held_meeting, recent_episode

pytestmark = pytest.mark.django_db


def _kinds(episode):
    return sorted(Alert.objects.filter(episode=episode).values_list("kind", flat=True))


def _schedule(episode, start, staff, *, now=None, members=None):
    return meeting_schedule(
        episode=episode,
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=1),
        location="home",
        staff=staff,
        network_members=members,
        created_by=None,
        now=now or timezone.now(),
    )


# --- Cancel -------------------------------------------------------------------------------------


@pytest.mark.hazard("HAZ-09.C20")
def test_it_cancels_a_meeting_saying_who_called_it_off_and_why(team, clinician, clinician2):
    episode = recent_episode(team, [clinician, clinician2], hours_ago=2)
    now = timezone.now()
    meeting = _schedule(episode, now + timedelta(hours=3), [clinician, clinician2])
    day = selectors.day_bounds(now)
    assert meeting in selectors.home_meetings(clinician, start=day[0], end=day[1] + timedelta(1))

    change = meeting_cancel(
        meeting=meeting,
        called_off_by="person",
        reason="Jordan is at the hospital with their mother today.",
        changed_by=clinician,
        now=now,
    )

    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.CANCELLED
    assert meeting.cancelled_by == "person"
    assert meeting.cancelled_at == now
    assert meeting.cancelled_reason.startswith("Jordan is at the hospital")
    assert change.kind == MeetingChange.Kind.CANCELLED
    assert change.changed_by == clinician
    assert change.before["status"] == "scheduled" and change.after["status"] == "cancelled"
    assert change.messages_owed  # those invited are owed a cancellation (issue 11 sends it)
    assert meeting not in selectors.home_meetings(
        clinician, start=day[0], end=day[1] + timedelta(1)
    )


@pytest.mark.parametrize(
    ("called_off_by", "reason", "field"),
    [("", "The person asked.", "called_off_by"), ("team", "   ", "reason")],
)
def test_it_refuses_a_cancellation_without_who_or_why(
    team, clinician, clinician2, called_off_by, reason, field
):
    episode = recent_episode(team, [clinician, clinician2], hours_ago=2)
    meeting = _schedule(episode, timezone.now() + timedelta(hours=3), [clinician])
    with pytest.raises(ValidationError) as caught:
        meeting_cancel(
            meeting=meeting,
            called_off_by=called_off_by,
            reason=reason,
            changed_by=clinician,
            now=timezone.now(),
        )
    assert field in caught.value.error_dict
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.SCHEDULED
    assert not MeetingChange.objects.exists()


def test_it_cancels_only_a_scheduled_meeting(team, clinician, clinician2):
    episode = recent_episode(team, [clinician, clinician2], hours_ago=30)
    meeting = held_meeting(episode, [clinician, clinician2])
    with pytest.raises(ValidationError, match="Only a scheduled meeting"):
        meeting_cancel(
            meeting=meeting,
            called_off_by="team",
            reason="Wrong meeting.",
            changed_by=clinician,
            now=timezone.now(),
        )
    assert Meeting.objects.get(pk=meeting.pk).status == Meeting.Status.HELD


@pytest.mark.hazard("HAZ-01.C20")
@pytest.mark.django_db(transaction=True)
def test_cancelling_the_only_first_meeting_five_hours_in_makes_the_sweep_raise_unscheduled(
    episode, clinician, clinician2, referral_at
):
    meeting = _schedule(
        episode,
        referral_at + timedelta(hours=3),
        [clinician, clinician2],
        now=referral_at + timedelta(hours=1),
    )
    first_meeting_sweep(now=referral_at + timedelta(hours=4))
    assert _kinds(episode) == []  # a meeting is arranged: nothing to warn about

    meeting_cancel(
        meeting=meeting,
        called_off_by="network",
        reason="The family cannot come.",
        changed_by=clinician,
        now=referral_at + timedelta(hours=5),
    )
    episode.refresh_from_db()
    assert episode.clock_next_check_at <= referral_at + timedelta(hours=5)  # due now

    first_meeting_sweep(now=referral_at + timedelta(hours=5))
    assert _kinds(episode) == ["unscheduled"]
    due = episode.first_meeting_due_at
    first_meeting_sweep(now=due - timedelta(hours=4, seconds=1))
    assert _kinds(episode) == ["unscheduled"]
    first_meeting_sweep(now=due - timedelta(hours=4))
    assert _kinds(episode) == ["at_risk", "unscheduled"]
    first_meeting_sweep(now=due - timedelta(seconds=1))
    assert "breached" not in _kinds(episode)
    first_meeting_sweep(now=due)
    assert _kinds(episode) == ["at_risk", "breached", "unscheduled"]


@pytest.mark.django_db(transaction=True)
def test_without_the_cancellation_the_arranged_meeting_keeps_the_sweep_quiet(
    episode, clinician, clinician2, referral_at
):
    # The counterpart of the test above: the same sweep raises nothing while the meeting stands.
    _schedule(
        episode,
        referral_at + timedelta(hours=3),
        [clinician, clinician2],
        now=referral_at + timedelta(hours=1),
    )
    first_meeting_sweep(now=referral_at + timedelta(hours=5))
    assert _kinds(episode) == []


# --- Reschedule ---------------------------------------------------------------------------------


@pytest.mark.hazard("HAZ-09.C21")
def test_it_reschedules_one_meeting_and_its_history_shows_each_change(team, clinician, clinician2):
    episode = recent_episode(team, [clinician, clinician2], hours_ago=2)
    sister = f.make_member(episode.service_user, name="Dana Rivers")
    friend = f.make_member(episode.service_user, name="Alex Friend")
    now = timezone.now()
    first_start = now + timedelta(hours=3)
    meeting = _schedule(episode, first_start, [clinician], members=[sister])
    third = f.make_user("clinician", team)

    meeting_reschedule(
        meeting=meeting,
        scheduled_start=first_start + timedelta(days=1),
        scheduled_end=first_start + timedelta(days=1, hours=1, minutes=30),
        location="community",
        location_detail="The library, room 2",
        staff=[clinician, third],
        network_members=[friend],
        reason="The person prefers the library, tomorrow.",
        changed_by=clinician2,
        now=now,
    )
    meeting_reschedule(
        meeting=meeting,
        scheduled_start=first_start + timedelta(days=2),
        scheduled_end=first_start + timedelta(days=2, hours=1),
        location="community",
        location_detail="The library, room 2",
        staff=[clinician, third],
        network_members=[friend],
        reason="The library is closed tomorrow.",
        changed_by=clinician,
        now=now,
    )

    assert Meeting.objects.filter(episode=episode).count() == 1  # one meeting, moved twice
    meeting.refresh_from_db()
    assert meeting.scheduled_start == first_start + timedelta(days=2)
    assert meeting.location == "community"
    invited = {
        (p.kind, p.staff_id or p.network_member_id)
        for p in meeting.participants.filter(invited=True)
    }
    assert invited == {
        ("service_user", None),
        ("staff", clinician.pk),
        ("staff", third.pk),
        ("network_member", friend.pk),
    }
    history = selectors.meeting_history(meeting)
    assert [h.change.kind for h in history] == ["rescheduled", "rescheduled"]
    first, second = (h.change for h in history)
    assert first.before["scheduled_start"] == first_start.isoformat()
    assert first.before["location"] == "home"
    assert "Dana Rivers (sister)" in {p["label"] for p in first.before["participants"]}
    assert "Dana Rivers (sister)" not in {p["label"] for p in first.after["participants"]}
    assert second.before == first.after
    assert first.messages_owed and second.messages_owed


def _reschedule(meeting, start, *, reason="Moved to suit the family.", staff=(), now=None):
    return meeting_reschedule(
        meeting=meeting,
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=1),
        location="home",
        location_detail="",
        staff=staff,
        network_members=[],
        reason=reason,
        changed_by=None,
        now=now or timezone.now(),
    )


@pytest.mark.parametrize(
    ("shift", "reason", "field"),
    [
        (timedelta(days=365 * 60), "Moved.", "scheduled_start"),  # decades ahead
        (-timedelta(days=2), "Moved.", "scheduled_start"),  # before the referral
        (timedelta(hours=5), "  ", "reason"),
    ],
)
def test_it_refuses_an_implausible_or_unexplained_reschedule(
    team, clinician, clinician2, shift, reason, field
):
    episode = recent_episode(team, [clinician, clinician2], hours_ago=2)
    start = timezone.now() + timedelta(hours=3)
    meeting = _schedule(episode, start, [clinician])
    with pytest.raises(ValidationError) as caught:
        _reschedule(meeting, timezone.now() + shift, reason=reason, staff=[clinician])
    assert field in caught.value.error_dict
    meeting.refresh_from_db()
    assert meeting.scheduled_start == start
    assert not MeetingChange.objects.exists()


def test_a_reschedule_that_changes_nothing_is_refused(team, clinician, clinician2):
    episode = recent_episode(team, [clinician, clinician2], hours_ago=2)
    start = timezone.now() + timedelta(hours=3)
    meeting = _schedule(episode, start, [clinician])
    with pytest.raises(ValidationError, match="Nothing was changed"):
        _reschedule(meeting, start, staff=[clinician])
    assert not MeetingChange.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_moving_the_first_meeting_past_the_due_time_raises_at_risk(
    episode, clinician, clinician2, referral_at
):
    meeting = _schedule(
        episode, referral_at + timedelta(hours=3), [clinician], now=referral_at + timedelta(hours=1)
    )
    _reschedule(
        meeting,
        referral_at + timedelta(hours=30),
        staff=[clinician],
        now=referral_at + timedelta(hours=5),
    )
    first_meeting_sweep(now=episode.first_meeting_due_at - timedelta(hours=4))
    assert _kinds(episode) == ["at_risk"]


# --- Correct a held meeting ---------------------------------------------------------------------


@pytest.mark.hazard("HAZ-07.C20")
def test_it_corrects_a_held_record_keeping_the_earlier_version(team, clinician, clinician2):
    episode = recent_episode(team, [clinician, clinician2], hours_ago=30)
    meeting = held_meeting(episode, [clinician, clinician2], hours_after_referral=2)
    # Added to the network after the meeting was arranged, so never invited to it.
    neighbour = f.make_member(episode.service_user, name="Pat Neighbour", category="friend")
    old_start = meeting.actual_start
    person = meeting.participants.get(kind=Participant.Kind.SERVICE_USER)
    staff = list(meeting.participants.filter(kind=Participant.Kind.STAFF).order_by("pk"))
    attended = {person.pk: True, staff[0].pk: True, staff[1].pk: False}

    change = meeting_correct(
        meeting=meeting,
        actual_start=old_start + timedelta(minutes=30),
        actual_end=old_start + timedelta(minutes=90),
        location="team_base",
        location_detail="Room 4",
        attended=attended,
        came_uninvited=[neighbour],
        reason="Started late; Sam was called away; Pat came with Jordan.",
        changed_by=clinician,
        now=timezone.now(),
    )

    meeting.refresh_from_db()
    episode.refresh_from_db()
    assert meeting.actual_start == old_start + timedelta(minutes=30)
    assert meeting.location == "team_base"
    assert episode.first_meeting_held_at == meeting.actual_start  # the clock follows
    came = meeting.participants.get(network_member=neighbour)
    assert (came.invited, came.attended) == (False, True)
    assert came.not_invited_reason == "Came without an invitation"
    assert (meeting.staff_present, meeting.network_members_present) == (1, 1)
    assert change.kind == MeetingChange.Kind.CORRECTED and not change.messages_owed
    assert change.before["actual_start"] == old_start.isoformat()
    assert change.before["location"] == "home"
    assert {p["label"] for p in change.before["participants"]} == {
        "The person",
        str(clinician),
        str(clinician2),
    }
    assert all(p["attended"] for p in change.before["participants"])


@pytest.mark.parametrize(
    ("start_shift", "end_shift", "reason", "field"),
    [
        (timedelta(hours=40), timedelta(hours=41), "Fix.", "actual_start"),  # in the future
        (timedelta(hours=-3), timedelta(hours=1), "Fix.", "actual_start"),  # before the referral
        (timedelta(hours=2), timedelta(hours=1), "Fix.", "actual_end"),  # ends before it starts
        (timedelta(hours=2), timedelta(hours=3), " ", "reason"),
    ],
)
def test_it_refuses_an_implausible_or_unexplained_correction(
    team, clinician, clinician2, start_shift, end_shift, reason, field
):
    episode = recent_episode(team, [clinician, clinician2], hours_ago=30)
    meeting = held_meeting(episode, [clinician, clinician2])
    referral = episode.referral_received_at
    with pytest.raises(ValidationError) as caught:
        meeting_correct(
            meeting=meeting,
            actual_start=referral + start_shift,
            actual_end=referral + end_shift,
            location="home",
            location_detail="",
            attended={},
            reason=reason,
            changed_by=clinician,
            now=timezone.now(),
        )
    assert field in caught.value.error_dict
    assert not MeetingChange.objects.exists()


def test_a_held_meeting_is_corrected_not_recorded_again(team, clinician, clinician2):
    episode = recent_episode(team, [clinician, clinician2], hours_ago=30)
    meeting = held_meeting(episode, [clinician, clinician2])
    with pytest.raises(ValidationError, match="already recorded as held"):
        meeting_record_held(
            meeting=meeting,
            actual_start=meeting.actual_start,
            actual_end=meeting.actual_end + timedelta(hours=1),
            attended={},
            recorded_by=clinician,
            now=timezone.now(),
        )
    assert Meeting.objects.get(pk=meeting.pk).actual_end == meeting.actual_end


# --- Closing an episode cancels its future meetings ---------------------------------------------


@pytest.mark.hazard("HAZ-09.C22")
def test_closing_an_episode_cancels_its_future_meetings_once_confirmed(team, clinician, clinician2):
    episode = recent_episode(team, [clinician, clinician2], hours_ago=30)
    held = held_meeting(episode, [clinician, clinician2])
    now = timezone.now()
    future = [_schedule(episode, now + timedelta(days=d), [clinician]) for d in (1, 2)]
    assert list(episode_scheduled_meetings(episode)) == future

    with pytest.raises(ValidationError) as caught:
        episode_close(episode=episode, outcome="Well again.", closed_at=now, now=now)
    assert "cancel_meetings" in caught.value.error_dict
    assert Episode.objects.get(pk=episode.pk).status != Episode.Status.CLOSED

    episode_close(
        episode=episode,
        outcome="Well again.",
        closed_at=now,
        now=now,
        cancel_meetings=[m.pk for m in future],
        closed_by=clinician,
    )

    episode.refresh_from_db()
    assert episode.status == Episode.Status.CLOSED
    for meeting in future:
        meeting.refresh_from_db()
        assert (meeting.status, meeting.cancelled_by) == ("cancelled", "team")
        change = meeting.changes.get()
        assert change.reason == "The episode was closed" and change.changed_by == clinician
    assert Meeting.objects.get(pk=held.pk).status == Meeting.Status.HELD
    assert list(selectors.home_meetings(clinician, start=now, end=now + timedelta(days=3))) == []


def test_a_meeting_arranged_after_the_list_was_shown_stops_the_closure(team, clinician, clinician2):
    episode = recent_episode(team, [clinician, clinician2], hours_ago=30)
    now = timezone.now()
    listed = _schedule(episode, now + timedelta(days=1), [clinician])
    _schedule(episode, now + timedelta(days=3), [clinician])  # arranged meanwhile
    with pytest.raises(ValidationError) as caught:
        episode_close(
            episode=episode,
            outcome="Well again.",
            closed_at=now,
            now=now,
            cancel_meetings=[listed.pk],
        )
    assert "cancel_meetings" in caught.value.error_dict
    assert not Meeting.objects.filter(status=Meeting.Status.CANCELLED).exists()


def test_a_closure_that_fails_part_way_cancels_nothing(team, clinician, clinician2, monkeypatch):
    # The cancellations and the closure are one transaction: a failure after the first
    # cancellation leaves every meeting scheduled and the episode open.
    episode = recent_episode(team, [clinician, clinician2], hours_ago=30)
    now = timezone.now()
    future = [_schedule(episode, now + timedelta(days=d), [clinician]) for d in (1, 2)]
    real = episode_services.meeting_cancel_locked
    calls = []

    def cancel_then_fail(**kwargs):
        calls.append(kwargs["meeting"].pk)
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return real(**kwargs)

    monkeypatch.setattr(episode_services, "meeting_cancel_locked", cancel_then_fail)
    with pytest.raises(RuntimeError):
        episode_close(
            episode=episode,
            outcome="Well again.",
            closed_at=now,
            now=now,
            cancel_meetings=[m.pk for m in future],
        )
    assert len(calls) == 2
    assert not Meeting.objects.filter(status=Meeting.Status.CANCELLED).exists()
    assert not MeetingChange.objects.exists()
    assert Episode.objects.get(pk=episode.pk).status != Episode.Status.CLOSED


@pytest.mark.hazard("HAZ-04.C24")
def test_a_correction_re_judges_which_meetings_count_for_the_medication_rule(
    team, clinician, clinician2
):
    episode = recent_episode(team, [clinician, clinician2], hours_ago=30)
    meeting = held_meeting(episode, [clinician, clinician2], hours_after_referral=2)
    meeting.refresh_from_db()
    assert meeting.counts_as_network_meeting  # an hour, two staff and the person
    staff = list(meeting.participants.filter(kind=Participant.Kind.STAFF).order_by("pk"))
    person = meeting.participants.get(kind=Participant.Kind.SERVICE_USER)

    # Corrected: only one of the staff was there, so it was not a network meeting.
    meeting_correct(
        meeting=meeting,
        actual_start=meeting.actual_start,
        actual_end=meeting.actual_end,
        location=meeting.location,
        location_detail=meeting.location_detail,
        attended={person.pk: True, staff[0].pk: True, staff[1].pk: False},
        came_uninvited=[],
        reason="Sam was called away before it began.",
        changed_by=clinician,
        now=timezone.now(),
    )
    meeting.refresh_from_db()
    assert not meeting.counts_as_network_meeting


@pytest.mark.hazard("HAZ-04.C24")
def test_a_cancelled_meeting_never_counts(team, clinician, clinician2):
    episode = recent_episode(team, [clinician, clinician2], hours_ago=2)
    start = timezone.now() + timedelta(hours=3)
    meeting = _schedule(episode, start, [clinician, clinician2])
    meeting_cancel(
        meeting=meeting,
        called_off_by="team",
        reason="Both clinicians are off sick today.",
        changed_by=clinician,
        now=timezone.now(),
    )
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.CANCELLED
    assert not meeting.counts_as_network_meeting
    with pytest.raises(ValidationError):
        meeting_record_held(
            meeting=meeting,
            actual_start=start,
            actual_end=start + timedelta(hours=1),
            attended={},
            recorded_by=clinician,
            now=timezone.now(),
        )


# --- Closing leaves nothing stranded, and cannot be dated before its record (issue 10 review) --


@pytest.mark.hazard("HAZ-09.C22")
def test_closing_cancels_a_meeting_in_progress_or_past_and_never_recorded_without_a_message(
    team, clinician, clinician2
):
    from pod.foundation.outbox_models import OutboxMessage

    episode = recent_episode(team, [clinician, clinician2], hours_ago=30)
    member = agreed_member(episode.service_user, clinician)
    now = timezone.now()
    in_progress = _schedule(episode, now - timedelta(minutes=4), [clinician], members=[member])
    later = now + timedelta(minutes=2)
    assert list(episode_scheduled_meetings(episode)) == [in_progress]
    before = OutboxMessage.objects.filter(kind="meeting_cancellation").count()
    with pytest.raises(ValidationError) as caught:
        episode_close(episode=episode, outcome="Well again.", closed_at=later, now=later)
    assert "cancel_meetings" in caught.value.error_dict
    # Two hours on, the meeting's time has passed: it is called off with no message.
    much_later = now + timedelta(hours=2)
    episode_close(
        episode=episode,
        outcome="Well again.",
        closed_at=much_later,
        now=much_later,
        cancel_meetings=[in_progress.pk],
    )
    in_progress.refresh_from_db()
    assert in_progress.status == Meeting.Status.CANCELLED
    assert not MeetingChange.objects.get(meeting=in_progress).messages_owed
    assert OutboxMessage.objects.filter(kind="meeting_cancellation").count() == before


def test_a_meeting_cancelled_after_its_time_tells_no_one(team, clinician, clinician2):
    from pod.foundation.outbox_models import OutboxMessage

    episode = recent_episode(team, [clinician, clinician2], hours_ago=30)
    member = agreed_member(episode.service_user, clinician)
    now = timezone.now()
    meeting = _schedule(episode, now + timedelta(hours=1), [clinician], members=[member])
    before = OutboxMessage.objects.filter(kind="meeting_cancellation").count()
    meeting_cancel(
        meeting=meeting,
        called_off_by="team",
        reason="It never happened and nobody recorded it.",
        changed_by=clinician,
        now=now + timedelta(days=3),
    )
    assert OutboxMessage.objects.filter(kind="meeting_cancellation").count() == before


@pytest.mark.hazard("HAZ-07.C89")
def test_an_episode_cannot_close_before_a_meeting_held_in_it(team, clinician, clinician2):
    episode = recent_episode(team, [clinician, clinician2], hours_ago=30)
    held = held_meeting(episode, [clinician, clinician2], hours_after_referral=20)
    now = timezone.now()
    with pytest.raises(ValidationError) as caught:
        episode_close(
            episode=episode,
            outcome="Well again.",
            closed_at=episode.referral_received_at + timedelta(minutes=30),
            now=now,
        )
    assert "closed_at" in caught.value.error_dict
    assert Episode.objects.get(pk=episode.pk).status != Episode.Status.CLOSED
    episode_close(episode=episode, outcome="Well again.", closed_at=held.actual_end, now=now)


@pytest.mark.hazard("HAZ-07.C89")
def test_an_episode_cannot_close_before_its_care_plan_was_written(team, clinician, clinician2):
    """Issue 13/10 review: closed three days back, after the care plan was written today."""
    from meetings.services.care_plans import care_plan_version_create

    episode = recent_episode(team, [clinician, clinician2], hours_ago=80)
    held = held_meeting(episode, [clinician, clinician2], hours_after_referral=2)
    care_plan_version_create(
        episode=episode,
        meeting=held,
        what_matters="Sleeping again; college in May.",
        actions="Daily meetings at home for a week.",
        responsible="Chris and Sam, with Dana.",
        person_views="I want to sleep.",
        person_agreed=True,
        involved_members=[],
        created_by=clinician,
    )
    now = timezone.now()
    with pytest.raises(ValidationError) as caught:
        episode_close(
            episode=episode,
            outcome="Well again.",
            closed_at=held.actual_end + timedelta(minutes=5),
            now=now,
        )
    assert "closed_at" in caught.value.error_dict
    episode_close(episode=episode, outcome="Well again.", closed_at=now, now=now)
