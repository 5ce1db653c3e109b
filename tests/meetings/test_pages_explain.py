"""Pages that explain themselves (issue 13, point 2), on the clinician's episode pages: triage
and source start blank, an error summary that links to each field, the clock badge never says
"On track" without a meeting arranged, overdue in days and hours, the person's other pages
linked, and members the person chose not to invite (or who did not consent to contact) shown as
such and never picked silently."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from meetings.models import Meeting
from meetings.rules import clock_time_left
from meetings.selectors import clock_policy
from tests import factories as f
from tests.meetings.helpers import held_meeting, recent_episode

pytestmark = pytest.mark.django_db


def test_triage_and_source_start_blank_and_are_asked_for(client, clinician, team):
    client.force_login(clinician)
    page = client.get(reverse("meetings:episode_new")).content.decode()
    for name in ("referral_source", "triage_category"):
        select = re.search(rf'<select name="{name}".*?</select>', page, re.S).group(0)
        assert not re.search(r'<option value="[^"]+" selected>', select), name
        assert '<option value=""' in select
    response = client.post(reverse("meetings:episode_new"), {"team": team.pk})
    page = response.content.decode()
    # The error summary at the top links to each field in error.
    summary = page.split("data-error-summary", 1)[1].split("</div>", 1)[0]
    assert "There is a problem" in summary
    assert 'href="#id_triage_category"' in summary
    assert "Choose the triage category." in summary
    assert 'href="#id_referral_source"' in summary
    assert page.index("data-error-summary") < page.index('name="nhs_number"')


def test_the_badge_never_says_on_track_without_a_meeting_arranged(
    client, team, clinician, clinician2
):
    episode = recent_episode(team, [clinician, clinician2], hours_ago=1)
    client.force_login(clinician)
    for url in (reverse("meetings:episode_detail", args=[episode.pk]), reverse("home")):
        page = client.get(url).content.decode()
        assert "On track" not in page, url
        assert "No meeting arranged:" in page, url
    start = timezone.now() + timedelta(hours=2)
    client.post(
        reverse("meetings:meeting_new", args=[episode.pk]),
        {
            "scheduled_start": timezone.localtime(start).strftime("%Y-%m-%dT%H:%M"),
            "duration_minutes": 60,
            "location": "home",
            "staff": [clinician.pk, clinician2.pk],
        },
    )
    assert Meeting.objects.filter(episode=episode).exists()
    page = client.get(reverse("meetings:episode_detail", args=[episode.pk])).content.decode()
    assert "On track:" in page and "No meeting arranged:" not in page


def test_overdue_reads_in_days_and_hours():
    due = timezone.now()
    level, words = clock_time_left(
        first_meeting_due_at=due, policy=clock_policy(), now=due + timedelta(days=2, hours=3)
    )
    assert (level, words) == ("danger", "Overdue by 2 days 3 h")
    _, words = clock_time_left(
        first_meeting_due_at=due, policy=clock_policy(), now=due + timedelta(hours=1, minutes=5)
    )
    assert words == "Overdue by 1 h 05 min"


def test_the_episode_and_meeting_pages_link_the_persons_other_pages(
    client, team, clinician, clinician2
):
    episode = recent_episode(team, [clinician, clinician2], hours_ago=30)
    meeting = held_meeting(episode, [clinician])
    person = episode.service_user_id
    client.force_login(clinician)
    links = [
        reverse("networks:network_map", args=[person]),
        reverse("outcomes:person_measures", args=[person]),
        reverse("outcomes:survey_issue", args=[person]),
        reverse("networks:peer_assignments", args=[person]),
    ]
    for url in (
        reverse("meetings:episode_detail", args=[episode.pk]),
        reverse("meetings:meeting_detail", args=[episode.pk, meeting.pk]),
    ):
        page = client.get(url).content.decode()
        for link in links:
            assert f'href="{link}"' in page, (url, link)
    page = client.get(
        reverse("meetings:meeting_detail", args=[episode.pk, meeting.pk])
    ).content.decode()
    assert reverse("outcomes:meeting_fidelity", args=[meeting.pk]) in page


def test_members_not_to_be_invited_or_not_consenting_are_shown_and_not_picked_silently(
    client, team, clinician, clinician2
):
    episode = recent_episode(team, [clinician, clinician2], hours_ago=2)
    f.make_member(episode.service_user, name="Nadia", relationship="aunt")
    unwanted = f.make_member(
        episode.service_user,
        name="Uriah",
        relationship="uncle",
        contact_consent="agreed",
        consent_recorded_at=timezone.now(),
        consent_recorded_by=clinician,
        person_wants_invited=False,
        not_invited_reason="We argue",
    )
    client.force_login(clinician)
    url = reverse("meetings:meeting_new", args=[episode.pk])
    page = client.get(url).content.decode()
    assert "Nadia (aunt) - not yet asked for consent to be contacted: no invitation is sent" in page
    assert "Uriah (uncle) - the person chose not to invite them" in page
    start = timezone.now() + timedelta(hours=2)
    response = client.post(
        url,
        {
            "scheduled_start": timezone.localtime(start).strftime("%Y-%m-%dT%H:%M"),
            "duration_minutes": 60,
            "location": "home",
            "staff": [clinician.pk, clinician2.pk],
            "network_members": [unwanted.pk],
        },
    )
    assert response.status_code == 200
    assert "The person chose not to invite Uriah" in response.content.decode()
    assert not Meeting.objects.filter(episode=episode).exists()
