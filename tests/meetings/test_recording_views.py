"""Recording a meeting: held with times and attendance, the person's words first, decisions,
the clock stopping, and care plan versions with who was involved."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from meetings.models import CarePlanVersion, Decision, Meeting, Participant, Utterance
from meetings.services.meetings import meeting_schedule
from tests import factories as f
from tests.meetings.helpers import held_meeting, person_participant, recent_episode


def _fmt(dt):
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


@pytest.mark.hazard("HAZ-01.C4")
def test_it_records_held_with_attendance_and_stops_the_clock_visibly(
    client, team, clinician, clinician2
):
    episode = recent_episode(team, [clinician, clinician2], hours_ago=5)
    start = episode.referral_received_at + timedelta(hours=2)
    meeting = meeting_schedule(
        episode=episode,
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=1),
        location="home",
        staff=[clinician, clinician2],
        created_by=None,
        now=start - timedelta(hours=1),  # arranged before it
    )
    person = person_participant(meeting)
    staff = list(meeting.participants.filter(kind="staff"))
    client.force_login(clinician)
    detail = client.get(reverse("meetings:episode_detail", args=[episode.pk])).content.decode()
    assert "The clock is running" in detail
    response = client.post(
        reverse("meetings:meeting_record_held", args=[episode.pk, meeting.pk]),
        {
            "actual_start": _fmt(start),
            "actual_end": _fmt(start + timedelta(minutes=50)),
            f"attended_{person.pk}": "on",
            f"attended_{staff[0].pk}": "on",
        },
        follow=True,
    )
    assert "the 24-hour clock has stopped" in response.content.decode()
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.HELD
    assert {p.pk: p.attended for p in meeting.participants.all()}[staff[1].pk] is False
    detail = client.get(reverse("meetings:episode_detail", args=[episode.pk])).content.decode()
    assert "Clock stopped" in detail and "within 24 hours" in detail


@pytest.mark.hazard("HAZ-04.C2")
def test_it_refuses_held_times_that_end_before_they_start(client, team, clinician, clinician2):
    episode = recent_episode(team, [clinician, clinician2], hours_ago=5)
    start = episode.referral_received_at + timedelta(hours=2)
    meeting = meeting_schedule(
        episode=episode,
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=1),
        location="home",
        staff=[clinician],
        created_by=None,
        now=start - timedelta(hours=1),  # arranged before it
    )
    client.force_login(clinician)
    response = client.post(
        reverse("meetings:meeting_record_held", args=[episode.pk, meeting.pk]),
        {"actual_start": _fmt(start), "actual_end": _fmt(start - timedelta(minutes=5))},
    )
    assert "end after it starts" in response.context["form"].errors["actual_end"][0]
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.SCHEDULED


def test_it_keeps_the_persons_words_first(client, team, clinician, clinician2):
    episode = recent_episode(team, [clinician, clinician2])
    meeting = held_meeting(episode, [clinician, clinician2])
    staff = meeting.participants.filter(kind="staff").first()
    url = reverse("meetings:utterance_add", args=[episode.pk, meeting.pk])
    client.force_login(clinician)
    response = client.post(url, {"participant": staff.pk, "kind": "voice", "words": "I think"})
    assert response.status_code == 200
    assert "person's own words first" in response.context["utterance_form"].errors["participant"][0]
    assert Utterance.objects.count() == 0
    client.post(
        url,
        {
            "participant": person_participant(meeting).pk,
            "kind": "voice",
            "words": "I have not slept for days.",
        },
    )
    client.post(url, {"participant": staff.pk, "kind": "reflection", "words": "I wonder..."})
    assert list(Utterance.objects.values_list("position", "participant__kind")) == [
        (1, "service_user"),
        (2, "staff"),
    ]


def test_it_refuses_an_empty_utterance_and_a_reflection_by_the_person(
    client, team, clinician, clinician2
):
    episode = recent_episode(team, [clinician, clinician2])
    meeting = held_meeting(episode, [clinician, clinician2])
    url = reverse("meetings:utterance_add", args=[episode.pk, meeting.pk])
    client.force_login(clinician)
    person = person_participant(meeting)
    response = client.post(url, {"participant": person.pk, "kind": "voice", "words": ""})
    assert "words" in response.context["utterance_form"].errors
    response = client.post(url, {"participant": person.pk, "kind": "reflection", "words": "x"})
    assert "professionals" in response.context["utterance_form"].errors["kind"][0]
    assert Utterance.objects.count() == 0


def test_it_records_decisions_and_refuses_an_empty_one(client, team, clinician, clinician2):
    episode = recent_episode(team, [clinician, clinician2])
    meeting = held_meeting(episode, [clinician, clinician2])
    url = reverse("meetings:decision_add", args=[episode.pk, meeting.pk])
    client.force_login(clinician)
    response = client.post(url, {"kind": "care", "text": ""})
    assert "text" in response.context["decision_form"].errors
    client.post(
        url, {"kind": "next_meeting", "text": "Meet again tomorrow at 10", "person_agreed": "yes"}
    )
    decision = Decision.objects.get()
    assert decision.person_agreed is True and decision.meeting == meeting


@pytest.mark.hazard("HAZ-07.C5")
def test_it_keeps_care_plan_versions_with_who_was_involved(client, team, clinician, clinician2):
    episode = recent_episode(team, [clinician, clinician2])
    sister = f.make_member(episode.service_user, name="Dana Rivers")
    meeting = held_meeting(episode, [clinician, clinician2])
    url = reverse("meetings:care_plan", args=[episode.pk])
    client.force_login(clinician)
    data = {
        "meeting": meeting.pk,
        "what_matters": "Getting back to college",
        "actions": "Daily meetings",
        "responsible": "Chris and Sam",
        "person_agreed": "yes",
        "involved_members": [sister.pk],
    }
    client.post(url, data)
    client.post(url, {**data, "actions": "Meetings every other day"})
    assert list(CarePlanVersion.objects.order_by("version").values_list("version", flat=True)) == [
        1,
        2,
    ]
    page = client.get(url).content.decode()
    assert "Version 2" in page and "Version 1" in page and "Dana Rivers" in page
    response = client.post(url, {**data, "what_matters": ""})
    assert "what_matters" in response.context["form"].errors
    assert CarePlanVersion.objects.count() == 2


@pytest.mark.hazard("HAZ-07.C5")
def test_it_closes_with_an_outcome_and_then_is_read_only(client, team, clinician, clinician2):
    episode = recent_episode(team, [clinician, clinician2])
    url = reverse("meetings:episode_close", args=[episode.pk])
    client.force_login(clinician)
    response = client.post(url, {"closure_outcome": "", "closed_at": _fmt(timezone.now())})
    assert "closure_outcome" in response.context["form"].errors
    client.post(
        url,
        {"closure_outcome": "Back at college; network strong.", "closed_at": _fmt(timezone.now())},
    )
    episode.refresh_from_db()
    assert episode.is_closed and episode.closure_outcome.startswith("Back at college")
    page = client.get(reverse("meetings:episode_detail", args=[episode.pk])).content.decode()
    assert "read-only" in page and "Schedule a meeting" not in page


def test_it_lists_participants_kinds(team, clinician, clinician2):
    episode = recent_episode(team, [clinician, clinician2])
    meeting = held_meeting(episode, [clinician, clinician2])
    assert sorted(meeting.participants.values_list("kind", flat=True)) == [
        Participant.Kind.SERVICE_USER,
        "staff",
        "staff",
    ]
