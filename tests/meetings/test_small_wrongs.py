"""Small wrongs that erode trust (issue 13, point 6): a meeting held at another time than
arranged is titled with the time it was held; the care plan's "who was involved" names each
person once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from meetings.services.care_plans import care_plan_version_create
from meetings.services.meetings import meeting_record_held, meeting_schedule
from tests import factories as f
from tests.meetings.helpers import recent_episode

pytestmark = pytest.mark.django_db


def _meeting(episode, clinician, members, *, start, held_start):
    meeting = meeting_schedule(
        episode=episode,
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=1),
        location="home",
        staff=[clinician],
        network_members=members,
        created_by=clinician,
        now=start - timedelta(hours=1),  # arranged before it
    )
    return meeting_record_held(
        meeting=meeting,
        actual_start=held_start,
        actual_end=held_start + timedelta(hours=1),
        attended={p.pk: True for p in meeting.participants.all()},
        recorded_by=clinician,
        now=timezone.now(),
    )


def test_a_meeting_held_at_another_time_is_titled_with_the_time_it_was_held(
    client, team, clinician, clinician2
):
    episode = recent_episode(team, [clinician, clinician2], hours_ago=100)
    arranged = episode.referral_received_at + timedelta(hours=2)
    held = arranged + timedelta(days=2, hours=3)
    meeting = _meeting(episode, clinician, [], start=arranged, held_start=held)
    client.force_login(clinician)
    page = client.get(
        reverse("meetings:meeting_detail", args=[episode.pk, meeting.pk])
    ).content.decode()
    held_local, arranged_local = timezone.localtime(held), timezone.localtime(arranged)
    assert f"<title>Meeting {held_local:%-d %b} · POD</title>" in page
    assert f"Network meeting, held {held_local:%a %-d %b %Y %H:%M}" in page
    assert f"Arranged for {arranged_local:%a %-d %b %Y %H:%M}" in page


def test_the_care_plan_names_each_person_involved_once(client, team, clinician, clinician2):
    episode = recent_episode(team, [clinician, clinician2], hours_ago=30)
    sister = f.make_member(episode.service_user, name="Dana Rivers", relationship="sister")
    start = episode.referral_received_at + timedelta(hours=2)
    meeting = _meeting(episode, clinician, [sister], start=start, held_start=start)
    care_plan_version_create(
        episode=episode,
        meeting=meeting,
        what_matters="Sleep",
        actions="Walks",
        responsible="Dana",
        person_views="",
        person_agreed=True,
        involved_members=[sister],  # attended the meeting AND ticked as involved
        created_by=clinician,
    )
    client.force_login(clinician)
    page = client.get(reverse("meetings:care_plan", args=[episode.pk])).content.decode()
    involved = page.split("Who was involved</dt>")[1].split("</dd>")[0]
    assert involved.count("Dana Rivers") == 1
    assert involved.count("The person") == 1
