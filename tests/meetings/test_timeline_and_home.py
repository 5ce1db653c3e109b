"""The episode timeline in order, and the clinician's home: clocks, meetings, alerts, caseload."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from meetings.alerts import alert_raise
from meetings.services.care_plans import care_plan_version_create
from meetings.services.dialogic_record import decision_add, utterance_add
from meetings.services.episodes import episode_close
from meetings.services.meetings import meeting_schedule
from meetings.services.prescriptions import prescription_create
from networks.models import PeerContact
from pod.foundation.models import Notification
from tests import factories as f
from tests.meetings.helpers import held_meeting, person_participant, recent_episode


def test_it_tells_the_episode_in_chronological_order(
    client, team, clinician, prescriber, peer_worker
):
    episode = recent_episode(team, [clinician, prescriber], hours_ago=50)
    meetings = [
        held_meeting(episode, [clinician, prescriber], hours_after_referral=h) for h in (2, 20, 40)
    ]
    utterance_add(
        meeting=meetings[0],
        participant=person_participant(meetings[0]),
        kind="voice",
        words="I want my life back",
        recorded_by=clinician,
    )
    decision_add(
        meeting=meetings[1],
        kind="care",
        text="Daily visits",
        person_agreed=True,
        recorded_by=clinician,
    )
    care_plan_version_create(
        episode=episode,
        meeting=meetings[1],
        what_matters="College",
        actions="Visits",
        responsible="Team",
        person_views="",
        person_agreed=True,
        involved_members=[],
        created_by=clinician,
    )
    PeerContact.objects.create(
        service_user=episode.service_user,
        peer=peer_worker,
        contact_at=episode.referral_received_at + timedelta(hours=30),
        mode="phone",
        duration_minutes=20,
        purpose="support",
    )
    prescription_create(
        episode=episode,
        medicine="Sertraline",
        is_antipsychotic=False,
        prescriber=prescriber,
        prescribed_at=timezone.now() - timedelta(minutes=1),
        now=timezone.now(),
    )
    episode_close(episode=episode, outcome="Well", closed_at=timezone.now(), now=timezone.now())
    client.force_login(clinician)
    response = client.get(reverse("meetings:episode_timeline", args=[episode.pk]))
    events = response.context["events"]
    assert [e.at for e in events] == sorted(e.at for e in events)
    kinds = [e.kind for e in events]
    assert kinds[0] == "referral" and kinds[-1] == "closure"
    for kind in (
        "clock",
        "meeting",
        "record",
        "decision",
        "care_plan",
        "peer_contact",
        "prescription",
    ):
        assert kind in kinds
    page = response.content.decode()
    assert "I want my life back" in page and "clock stopped" in page


@pytest.mark.hazard("HAZ-01.C5")
def test_it_shows_the_clinician_what_needs_them_now(client, team, clinician, clinician2, outsider):
    mine = recent_episode(team, [clinician, clinician2], hours_ago=21)
    start = timezone.now() + timedelta(minutes=5)
    meeting_schedule(
        episode=mine,
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=1),
        location="home",
        staff=[clinician],
        created_by=None,
        now=timezone.now(),
    )
    hidden = recent_episode(
        outsider.teams.first(),
        [outsider, f.make_user("clinician", outsider.teams.first())],
        hours_ago=1,
    )
    alert_raise(episode=mine, kind="at_risk", message="Clock at risk", now=timezone.now())
    from meetings.alerts import alerts_deliver_pending

    alerts_deliver_pending(now=timezone.now())
    client.force_login(clinician)
    response = client.get("/")
    page = response.content.decode()
    clock = response.context["clocks"][0]
    assert clock.episode == mine and clock.level == "danger" and "left" in clock.words
    assert "Urgent:" in page  # words as well as colour
    assert str(hidden.service_user) not in page
    assert len(response.context["caseload"]) == 1
    assert "Clock at risk" in page
    assert response.context["today"] or response.context["tomorrow"]
    note = Notification.objects.get(user=clinician)
    client.post(reverse("notification_read", args=[note.pk]))
    note.refresh_from_db()
    assert note.read_at is not None
    assert "Clock at risk" not in client.get("/").content.decode()


@pytest.mark.hazard("HAZ-02.C3")
def test_it_refuses_to_mark_someone_elses_alert(client, team, clinician, clinician2, outsider):
    episode = recent_episode(team, [clinician, clinician2])
    alert_raise(episode=episode, kind="at_risk", message="x", now=timezone.now())
    from meetings.alerts import alerts_deliver_pending

    alerts_deliver_pending(now=timezone.now())
    note = Notification.objects.filter(user=clinician).first()
    client.force_login(outsider)
    assert client.post(reverse("notification_read", args=[note.pk])).status_code == 404
    note.refresh_from_db()
    assert note.read_at is None


def test_it_gives_peers_and_managers_a_simple_home(client, peer_worker, manager):
    for user in (peer_worker, manager):
        client.force_login(user)
        response = client.get("/")
        assert response.status_code == 200 and "Unread alerts" in response.content.decode()
