"""The meeting lifecycle from the meeting page (issue 10, point 1): the episode's clinicians
cancel, reschedule and correct; the history shows the earlier version; closing lists the future
meetings and cancels them once confirmed; attendance is recorded, not assumed."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from meetings.models import Episode, Meeting, MeetingChange
from meetings.services.meetings import meeting_schedule
from tests import factories as f
from tests.meetings.helpers import held_meeting, recent_episode

pytestmark = pytest.mark.django_db


def _fmt(dt):
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


def _schedule(episode, start, staff):
    return meeting_schedule(
        episode=episode,
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=1),
        location="home",
        staff=staff,
        created_by=None,
        now=timezone.now(),
    )


def _token(page: str) -> str:
    match = re.search(r'name="submission_token" value="([^"]+)"', page)
    assert match, "the form carries a one-time submission token"
    return match.group(1)


@pytest.fixture
def scheduled(team, clinician, clinician2):
    episode = recent_episode(team, [clinician, clinician2], hours_ago=2)
    meeting = _schedule(episode, timezone.now() + timedelta(hours=3), [clinician, clinician2])
    return episode, meeting


@pytest.mark.hazard("HAZ-09.C20")
def test_a_clinician_cancels_from_the_meeting_page_once_however_often_it_is_sent(
    client, clinician, scheduled
):
    episode, meeting = scheduled
    client.force_login(clinician)
    detail = reverse("meetings:meeting_detail", args=[episode.pk, meeting.pk])
    url = reverse("meetings:meeting_cancel", args=[episode.pk, meeting.pk])
    assert url in client.get(detail).content.decode()
    form = client.get(url).content.decode()
    data = {
        "called_off_by": "team",
        "reason": "Both staff are off sick.",
        **{"submission_token": _token(form)},
    }
    first = client.post(url, data)
    second = client.post(url, data, follow=True)  # a double click
    assert first.status_code == 302
    assert "already been saved" in second.content.decode()  # the token, not the status check
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.CANCELLED
    assert MeetingChange.objects.filter(meeting=meeting).count() == 1
    page = client.get(detail).content.decode()
    assert "called off by the team" in page and "Both staff are off sick." in page
    assert "History of this meeting" in page


def test_a_cancellation_without_a_reason_is_refused_at_the_field(client, clinician, scheduled):
    episode, meeting = scheduled
    client.force_login(clinician)
    url = reverse("meetings:meeting_cancel", args=[episode.pk, meeting.pk])
    response = client.post(url, {"called_off_by": "person", "reason": ""})
    assert response.status_code == 200
    assert "reason" in response.context["form"].errors
    assert Meeting.objects.get(pk=meeting.pk).status == Meeting.Status.SCHEDULED


def test_another_teams_clinician_cannot_cancel(client, outsider, scheduled):
    episode, meeting = scheduled
    client.force_login(outsider)
    url = reverse("meetings:meeting_cancel", args=[episode.pk, meeting.pk])
    response = client.post(url, {"called_off_by": "team", "reason": "Not mine."})
    assert response.status_code == 404
    assert Meeting.objects.get(pk=meeting.pk).status == Meeting.Status.SCHEDULED


@pytest.mark.hazard("HAZ-09.C21")
def test_a_clinician_reschedules_and_the_page_shows_the_earlier_version(
    client, team, clinician, clinician2, scheduled
):
    episode, meeting = scheduled
    old_start = meeting.scheduled_start
    client.force_login(clinician)
    url = reverse("meetings:meeting_reschedule", args=[episode.pk, meeting.pk])
    form = client.get(url)
    assert form.status_code == 200
    new_start = (timezone.now() + timedelta(days=1)).replace(second=0, microsecond=0)
    response = client.post(
        url,
        {
            "scheduled_start": _fmt(new_start),
            "duration_minutes": "90",
            "location": "video",
            "location_detail": "Link sent by text",
            "staff": [clinician.pk, clinician2.pk],
            "reason": "Jordan would rather talk by video this week.",
            "submission_token": _token(form.content.decode()),
        },
    )
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.scheduled_start == new_start and meeting.location == "video"
    assert meeting.scheduled_end - meeting.scheduled_start == timedelta(minutes=90)
    page = client.get(
        reverse("meetings:meeting_detail", args=[episode.pk, meeting.pk])
    ).content.decode()
    assert "Rescheduled" in page and "Jordan would rather talk by video" in page
    assert f"{timezone.localtime(old_start):%H:%M}" in page  # the earlier time is visible
    assert "The person&#x27;s home" in page  # the earlier place, too


def test_a_reschedule_to_an_impossible_year_is_a_field_error(client, clinician, scheduled):
    episode, meeting = scheduled
    client.force_login(clinician)
    url = reverse("meetings:meeting_reschedule", args=[episode.pk, meeting.pk])
    for value in ("9999-12-31T23:30", "0001-01-01T00:00", "2026-13-45T99:99"):
        response = client.post(
            url,
            {
                "scheduled_start": value,
                "duration_minutes": "60",
                "location": "home",
                "staff": [clinician.pk],
                "reason": "Moved.",
            },
        )
        assert response.status_code == 200, value
        assert "scheduled_start" in response.context["form"].errors, value
    assert not MeetingChange.objects.exists()


@pytest.mark.hazard("HAZ-07.C20")
def test_a_clinician_corrects_a_held_record_with_someone_who_came_uninvited(
    client, team, clinician, clinician2
):
    episode = recent_episode(team, [clinician, clinician2], hours_ago=30)
    meeting = held_meeting(episode, [clinician, clinician2])
    cousin = f.make_member(episode.service_user, name="Robin Cousin", category="family")
    person = meeting.participants.get(kind="service_user")
    client.force_login(clinician)
    url = reverse("meetings:meeting_correct", args=[episode.pk, meeting.pk])
    detail = reverse("meetings:meeting_detail", args=[episode.pk, meeting.pk])
    assert url in client.get(detail).content.decode()
    form = client.get(url)
    assert "Robin Cousin" in form.content.decode()
    response = client.post(
        url,
        {
            "actual_start": _fmt(meeting.actual_start),
            "actual_end": _fmt(meeting.actual_start + timedelta(minutes=40)),
            "location": "home",
            f"attended_{person.pk}": "on",
            "came_members": [cousin.pk],
            "reason": "Only Jordan and Robin were there; the staff were recorded by mistake.",
            "submission_token": _token(form.content.decode()),
        },
    )
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.staff_present == 0 and meeting.network_members_present == 1
    page = client.get(detail).content.decode()
    assert "Record corrected" in page and "recorded by mistake" in page
    assert "Came without an invitation" in page
    # The earlier version: both staff attended.
    assert page.count(f"{clinician}: invited, attended") == 1


def test_the_held_form_ticks_nobody_by_default_and_a_held_meeting_is_not_recorded_again(
    client, team, clinician, clinician2, scheduled
):
    episode, meeting = scheduled
    client.force_login(clinician)
    url = reverse("meetings:meeting_record_held", args=[episode.pk, meeting.pk])
    form = client.get(url).context["form"]
    boxes = [name for name in form.fields if name.startswith("attended_")]
    assert len(boxes) == 3
    assert not any(form[name].value() for name in boxes)
    held = held_meeting(episode, [clinician], hours_after_referral=0.5)
    again = client.get(reverse("meetings:meeting_record_held", args=[episode.pk, held.pk]))
    assert again.status_code == 302  # back to the meeting page: correct it instead


@pytest.mark.hazard("HAZ-09.C22")
def test_closing_lists_the_future_meetings_and_cancels_them_once_confirmed(
    client, clinician, scheduled
):
    episode, meeting = scheduled
    client.force_login(clinician)
    link = reverse("meetings:meeting_detail", args=[episode.pk, meeting.pk])
    assert link in client.get(reverse("home")).content.decode()
    url = reverse("meetings:episode_close", args=[episode.pk])
    page = client.get(url)
    content = page.content.decode()
    assert "Meetings of this episode still scheduled" in content
    listed = page.context["form"].initial["listed_meetings"]
    assert listed == str(meeting.pk)
    data = {
        "closure_outcome": "Moved away; care with the new area's team.",
        "closed_at": _fmt(timezone.now()),
        "listed_meetings": listed,
    }
    refused = client.post(url, data)
    assert "cancel_meetings" in refused.context["form"].errors
    assert Episode.objects.get(pk=episode.pk).status != Episode.Status.CLOSED

    done = client.post(url, {**data, "cancel_meetings": "on"}, follow=True)
    assert "1 scheduled meeting cancelled" in done.content.decode()
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.CANCELLED
    assert link not in client.get(reverse("home")).content.decode()


def test_closing_asks_again_when_a_meeting_was_arranged_after_the_list(
    client, clinician, clinician2, scheduled
):
    episode, meeting = scheduled
    client.force_login(clinician)
    url = reverse("meetings:episode_close", args=[episode.pk])
    listed = client.get(url).context["form"].initial["listed_meetings"]
    later = _schedule(episode, timezone.now() + timedelta(days=2), [clinician2])
    response = client.post(
        url,
        {
            "closure_outcome": "Done.",
            "closed_at": _fmt(timezone.now()),
            "listed_meetings": listed,
            "cancel_meetings": "on",
        },
    )
    assert "changed since this page was drawn" in str(response.context["form"].errors)
    assert later.pk in [m.pk for m in response.context["future_meetings"]]
    assert not Meeting.objects.filter(status=Meeting.Status.CANCELLED).exists()
