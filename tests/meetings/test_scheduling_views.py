"""Scheduling: default invitations, warnings that do not block, emailed .ics, the daily run."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from meetings.models import Meeting, Participant
from meetings.rules import LONDON
from tests import factories as f
from tests.meetings.helpers import recent_episode


def _form_data(start, staff, members=(), **kw):
    return {
        "scheduled_start": timezone.localtime(start).strftime("%Y-%m-%dT%H:%M"),
        "duration_minutes": 60,
        "location": "home",
        "location_detail": "",
        "staff": [u.pk for u in staff],
        "network_members": [m.pk for m in members],
        "days": kw.pop("days", 3),
        **kw,
    }


@pytest.mark.hazard("HAZ-09.C1")
def test_it_ticks_consenting_wanted_members_by_default(client, team, clinician, clinician2):
    episode = recent_episode(team, [clinician, clinician2], hours_ago=2)
    yes = f.make_member(
        episode.service_user,
        contact_consent="agreed",
        consent_recorded_at=timezone.now(),
        consent_recorded_by=clinician,
    )
    no_consent = f.make_member(episode.service_user)
    unwanted = f.make_member(
        episode.service_user,
        contact_consent="agreed",
        consent_recorded_at=timezone.now(),
        consent_recorded_by=clinician,
        person_wants_invited=False,
        not_invited_reason="We argue",
    )
    client.force_login(clinician)
    form = client.get(reverse("meetings:meeting_new", args=[episode.pk])).context["form"]
    assert form.initial["network_members"] == [yes.pk]
    assert no_consent.pk not in form.initial["network_members"]
    assert unwanted.pk not in form.initial["network_members"]


@pytest.mark.hazard("HAZ-09.C1")
def test_it_invites_by_email_with_ics_only_members_who_consented_and_gave_an_address(
    client, team, clinician, clinician2, django_capture_on_commit_callbacks
):
    episode = recent_episode(team, [clinician, clinician2], hours_ago=2)
    stamp = {"consent_recorded_at": timezone.now(), "consent_recorded_by": clinician}
    with_email = f.make_member(
        episode.service_user, contact_consent="agreed", email="sis@example.org", **stamp
    )
    no_email = f.make_member(episode.service_user, contact_consent="agreed", **stamp)
    no_consent = f.make_member(episode.service_user, email="no@example.org")
    client.force_login(clinician)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("meetings:meeting_new", args=[episode.pk]),
            _form_data(
                timezone.now() + timedelta(hours=3),
                [clinician, clinician2],
                [with_email, no_email, no_consent],
            ),
        )
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["sis@example.org"]]
    name, content, mimetype = mail.outbox[0].attachments[0]
    assert name == "invitation.ics" and mimetype.startswith("text/calendar; method=REQUEST")
    assert "BEGIN:VEVENT" in content and "METHOD:REQUEST" in content
    meeting = Meeting.objects.get()
    assert meeting.participants.filter(kind=Participant.Kind.SERVICE_USER, invited=True).exists()
    assert meeting.participants.filter(kind="network_member").count() == 3


@pytest.mark.hazard("HAZ-04.C3")
def test_it_warns_but_schedules_with_one_staff_outside_the_core_team_after_the_due_time(
    client, team, clinician, clinician2, prescriber
):
    episode = recent_episode(team, [clinician, clinician2], hours_ago=2)
    client.force_login(clinician)
    response = client.post(
        reverse("meetings:meeting_new", args=[episode.pk]),
        _form_data(episode.first_meeting_due_at + timedelta(hours=2), [prescriber]),
        follow=True,
    )
    page = response.content.decode()
    assert Meeting.objects.count() == 1
    assert "Fewer than 2 staff" in page
    assert "No member of the core team" in page
    assert "after the 24-hour first-meeting due time" in page


def test_it_warns_when_staff_are_double_booked(client, team, clinician, clinician2):
    first = recent_episode(team, [clinician, clinician2], hours_ago=2)
    second = recent_episode(team, [clinician, clinician2], hours_ago=2)
    start = timezone.now() + timedelta(hours=3)
    client.force_login(clinician)
    client.post(
        reverse("meetings:meeting_new", args=[first.pk]), _form_data(start, [clinician, clinician2])
    )
    response = client.post(
        reverse("meetings:meeting_new", args=[second.pk]),
        _form_data(start + timedelta(minutes=30), [clinician, clinician2]),
        follow=True,
    )
    assert Meeting.objects.count() == 2
    assert "already has another meeting at this time" in response.content.decode()


def test_it_shows_bad_scheduling_input_at_the_field_and_saves_nothing(
    client, team, clinician, clinician2
):
    episode = recent_episode(team, [clinician, clinician2], hours_ago=2)
    client.force_login(clinician)
    url = reverse("meetings:meeting_new", args=[episode.pk])
    before = episode.referral_received_at - timedelta(hours=5)
    for data, field in [
        (_form_data(before, [clinician]), "scheduled_start"),
        (_form_data(timezone.now(), [clinician], duration_minutes=0), "duration_minutes"),
        (_form_data(timezone.now(), []), "staff"),
        ({**_form_data(timezone.now(), [clinician]), "location": "moon"}, "location"),
    ]:
        response = client.post(url, data)
        assert response.status_code == 200
        assert field in response.context["form"].errors
    assert Meeting.objects.count() == 0


@pytest.mark.hazard("HAZ-08.C2")
def test_it_schedules_a_daily_run_one_per_london_day(client, team, clinician, clinician2):
    episode = recent_episode(team, [clinician, clinician2], hours_ago=1)
    client.force_login(clinician)
    start = timezone.now() + timedelta(hours=3)
    response = client.post(
        reverse("meetings:meeting_daily_run", args=[episode.pk]),
        _form_data(start, [clinician, clinician2], days=5),
    )
    assert response.status_code == 302
    days = [
        m.scheduled_start.astimezone(LONDON).date()
        for m in Meeting.objects.order_by("scheduled_start")
    ]
    assert len(days) == 5 and len(set(days)) == 5
    assert (days[-1] - days[0]).days == 4
