"""The 24-hour rule end to end: episode_open -> sweep -> alert rows -> delivery."""

import threading
from datetime import datetime, timedelta

import pytest
from django.core import mail
from django.db import connection

from meetings.models import Alert, Episode
from meetings.services.episodes import episode_close
from meetings.services.meetings import meeting_record_held, meeting_schedule
from meetings.sweeps import first_meeting_sweep
from pod.foundation.localtime import LONDON
from tests import factories as f


def kinds(episode):
    return sorted(Alert.objects.filter(episode=episode).values_list("kind", flat=True))


@pytest.mark.hazard("HAZ-01.C1")
def test_it_sets_the_due_time_and_first_check_on_referral(episode, referral_at):
    assert episode.first_meeting_due_at == referral_at + timedelta(hours=24)
    assert episode.clock_next_check_at == referral_at + timedelta(hours=4)
    assert episode.status == Episode.Status.REFERRED


@pytest.mark.hazard("HAZ-01.C1", "HAZ-01.C2")
@pytest.mark.django_db(transaction=True)
def test_it_raises_nothing_one_second_before_due_and_breached_at_due(episode):
    due = episode.first_meeting_due_at
    first_meeting_sweep(now=due - timedelta(hours=5))  # unscheduled
    first_meeting_sweep(now=due - timedelta(hours=4))  # at risk
    assert kinds(episode) == ["at_risk", "unscheduled"]
    assert first_meeting_sweep(now=due - timedelta(seconds=1)) == 0
    assert "breached" not in kinds(episode)
    assert first_meeting_sweep(now=due) == 1
    assert kinds(episode) == ["at_risk", "breached", "unscheduled"]


@pytest.mark.hazard("HAZ-01.C3", "HAZ-10.C2")
@pytest.mark.django_db(transaction=True)
def test_it_escalates_a_breach_to_the_teams_service_managers(episode, manager, clinician):
    first_meeting_sweep(now=episode.first_meeting_due_at)
    breach = Alert.objects.get(episode=episode, kind="breached")
    assert breach.delivered_at is not None  # delivered after commit (eager in tests)
    notified = set(breach.notifications.values_list("user__username", flat=True))
    assert {"manager", "clinician", "clinician2"} <= notified
    assert any(manager.email in m.to for m in mail.outbox)
    # The email does not name the person (confidentiality).
    assert all(episode.service_user.family_name not in m.body for m in mail.outbox)


@pytest.mark.hazard("HAZ-08.C1")
@pytest.mark.django_db(transaction=True)
def test_it_counts_24_elapsed_hours_across_the_clock_change(team, clinician, clinician2):
    referral = datetime(2025, 10, 25, 10, 0, tzinfo=LONDON)
    episode = f.make_episode(
        team=team, core_team=[clinician, clinician2], referral_received_at=referral
    )
    due_local = datetime(2025, 10, 26, 9, 0, tzinfo=LONDON)  # 24 elapsed hours (clocks went back)
    assert episode.first_meeting_due_at == due_local
    first_meeting_sweep(now=due_local - timedelta(seconds=1))
    assert "breached" not in kinds(episode)
    first_meeting_sweep(now=due_local)
    assert "breached" in kinds(episode)


@pytest.mark.hazard("HAZ-02.C1")
@pytest.mark.django_db(transaction=True)
def test_running_the_sweep_twice_gives_one_alert(episode):
    due = episode.first_meeting_due_at
    first_meeting_sweep(now=due)
    Episode.objects.filter(pk=episode.pk).update(clock_next_check_at=due)  # as if a retry
    first_meeting_sweep(now=due)
    first_meeting_sweep(now=due + timedelta(minutes=1))
    assert Alert.objects.filter(episode=episode, kind="breached").count() == 1


@pytest.mark.hazard("HAZ-02.C1")
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sweeps_give_one_alert(team, clinician, clinician2, referral_at):
    episodes = [
        f.make_episode(
            team=team, core_team=[clinician, clinician2], referral_received_at=referral_at
        )
        for _ in range(20)
    ]
    due = episodes[0].first_meeting_due_at
    barrier = threading.Barrier(2)
    errors = []

    def run():
        try:
            barrier.wait()
            first_meeting_sweep(now=due, batch_size=3)
        except Exception as exc:  # pragma: no cover - surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Alert.objects.filter(kind="breached").count() == 20
    assert Episode.objects.filter(clock_next_check_at__lte=due).count() == 0


@pytest.mark.hazard("HAZ-01.C4")
@pytest.mark.django_db(transaction=True)
def test_a_first_meeting_held_in_time_stops_the_clock(episode, clinician, clinician2, referral_at):
    start = referral_at + timedelta(hours=20)
    meeting = meeting_schedule(
        episode=episode,
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=1),
        location="home",
        staff=[clinician, clinician2],
        created_by=clinician,
        now=referral_at,
    )
    meeting_record_held(
        meeting=meeting,
        actual_start=start,
        actual_end=start + timedelta(minutes=70),
        attended={p.pk: True for p in meeting.participants.all()},
        recorded_by=clinician,
        now=start + timedelta(hours=2),
    )
    episode.refresh_from_db()
    assert episode.status == Episode.Status.ACTIVE
    assert episode.time_to_first_meeting == timedelta(hours=20)
    assert episode.clock_next_check_at is None
    first_meeting_sweep(now=episode.first_meeting_due_at + timedelta(days=1))
    assert kinds(episode) == []


@pytest.mark.hazard("HAZ-01.C2")
@pytest.mark.django_db(transaction=True)
def test_a_scheduled_meeting_prevents_the_warnings(episode, clinician, clinician2, referral_at):
    start = referral_at + timedelta(hours=3)
    meeting_schedule(
        episode=episode,
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=1),
        location="team_base",
        staff=[clinician, clinician2],
        created_by=clinician,
        now=referral_at,
    )
    first_meeting_sweep(now=episode.first_meeting_due_at - timedelta(minutes=1))
    assert kinds(episode) == []


@pytest.mark.hazard("HAZ-01.C4")
@pytest.mark.django_db(transaction=True)
def test_it_ignores_closed_episodes_however_many(team, clinician, clinician2, referral_at):
    episode = f.make_episode(
        team=team, core_team=[clinician, clinician2], referral_received_at=referral_at
    )
    episode_close(
        episode=episode,
        outcome="Moved away",
        closed_at=referral_at + timedelta(hours=1),
        now=referral_at + timedelta(hours=1),
    )
    assert first_meeting_sweep(now=referral_at + timedelta(days=3)) == 0
    assert kinds(episode) == []
