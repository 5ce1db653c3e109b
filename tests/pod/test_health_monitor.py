"""/health/monitor/ means it: 200 only while the database and the broker answer, every periodic
task completed on time, nothing waits undelivered too long and no clock check keeps failing;
503 naming what is wrong otherwise. /health/ stays the load balancer's one-query probe."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from meetings import rules
from meetings.models import Alert, ClockCheckFailure
from meetings.sweeps import CLOCK_RETRY_AFTER, first_meeting_sweep
from pod.beat_schedule import beat_schedule_sync
from pod.foundation.emails import RenderedEmail
from pod.foundation.heartbeats import heartbeat_record
from pod.foundation.models import SweepHeartbeat
from pod.foundation.outbox import Recipient, message_owe
from pod.foundation.outbox_models import OutboxMessage
from pod.tasks import deliver_messages
from tests import factories as f
from tests.workers import broker_at, free_port

URL = "/health/monitor/"
pytestmark = pytest.mark.django_db(transaction=True)  # the checks read in their own threads


def all_tasks_completed(ago=timedelta(0)):
    for entry in django_settings.CELERY_BEAT_SCHEDULE.values():
        heartbeat_record(entry["task"], now=timezone.now() - ago)


def monitor(client):
    response = client.get(URL, HTTP_ACCEPT="application/json")
    return response.status_code, response.json()


def test_it_answers_200_when_everything_is_well(client):
    all_tasks_completed()
    status, body = monitor(client)
    assert status == 200, body
    assert body["status"] == "ok"
    assert set(body["checks"]) == {
        "database",
        "broker",
        "periodic_tasks",
        "undelivered_messages",
        "clock_checks",
    }
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["undelivered_messages"]["detail"] == "nothing undelivered"


@pytest.mark.hazard("HAZ-01.C9")
def test_a_periodic_task_late_past_its_interval_and_grace_turns_it_red(client, settings):
    settings.POD_HEALTH_SWEEP_GRACE_MINUTES = 5
    all_tasks_completed()
    limit = timedelta(minutes=6)  # every minute, plus five minutes' grace
    SweepHeartbeat.objects.filter(task_name="meetings.tasks.first_meeting_sweep").update(
        completed_at=timezone.now() - limit + timedelta(seconds=20)
    )
    status, body = monitor(client)
    assert status == 200, body
    SweepHeartbeat.objects.filter(task_name="meetings.tasks.first_meeting_sweep").update(
        completed_at=timezone.now() - limit - timedelta(seconds=1)
    )
    status, body = monitor(client)
    assert status == 503
    assert body["status"] == "failing"
    check = body["checks"]["periodic_tasks"]
    assert not check["ok"]
    assert "first-meeting-sweep last completed 6 min ago (limit 6 min)" in check["detail"]


@pytest.mark.hazard("HAZ-01.C9")
def test_a_periodic_task_that_never_completed_turns_it_red_once_its_first_run_was_due(
    client, settings
):
    settings.POD_HEALTH_SWEEP_GRACE_MINUTES = 5
    all_tasks_completed()
    beat = SweepHeartbeat.objects.filter(task_name="pod.tasks.deliver_messages")
    # Just put on the schedule (a new install, a new task): not yet due.
    beat.update(completed_at=None, expected_since=timezone.now() - timedelta(minutes=5))
    status, body = monitor(client)
    assert status == 200, body
    assert "deliver-messages not yet due" in body["checks"]["periodic_tasks"]["detail"]
    beat.update(expected_since=timezone.now() - timedelta(minutes=6, seconds=1))
    status, body = monitor(client)
    assert status == 503
    assert (
        "deliver-messages has never completed in 6 min on the schedule"
        in (body["checks"]["periodic_tasks"]["detail"])
    )
    beat.delete()  # beat's schedule was never synchronised
    status, body = monitor(client)
    assert (
        "deliver-messages is not on beat's schedule" in body["checks"]["periodic_tasks"]["detail"]
    )


@pytest.mark.hazard("HAZ-01.C9")
def test_syncing_beats_schedule_expects_each_task_from_then_on():
    SweepHeartbeat.objects.all().delete()
    before = timezone.now()
    beat_schedule_sync()
    beats = SweepHeartbeat.objects.all()
    assert {b.task_name for b in beats} == {
        e["task"] for e in django_settings.CELERY_BEAT_SCHEDULE.values()
    }
    assert all(b.completed_at is None and b.expected_since >= before for b in beats)
    heartbeat_record("pod.tasks.deliver_messages", now=before)
    beat_schedule_sync()  # a later sync keeps what it knew
    assert SweepHeartbeat.objects.get(task_name="pod.tasks.deliver_messages").completed_at == before


@pytest.mark.hazard("HAZ-01.C9")
def test_each_completed_run_of_a_scheduled_task_is_recorded():
    before = timezone.now()
    deliver_messages.apply()
    beat = SweepHeartbeat.objects.get(task_name="pod.tasks.deliver_messages")
    assert beat.completed_at >= before
    heartbeat_record("pod.tasks.deliver_messages", now=before - timedelta(hours=1))
    beat.refresh_from_db()
    assert beat.completed_at >= before  # never moved backwards


@pytest.mark.hazard("HAZ-02.C6")
def test_an_email_undelivered_too_long_turns_it_red(client, clinician, settings, monkeypatch):
    settings.POD_HEALTH_UNDELIVERED_MINUTES = 15
    monkeypatch.setattr("pod.foundation.outbox.task_send", lambda *args: False)  # not sent
    all_tasks_completed()
    owed_at = timezone.now() - timedelta(minutes=14, seconds=50)
    message_owe(
        kind="note",
        cause="test:1",
        recipient=Recipient.for_user(clinician),
        email=RenderedEmail("s", "t", ""),
        now=owed_at,
    )
    status, body = monitor(client)
    assert status == 200, body
    assert body["checks"]["undelivered_messages"]["detail"] == "oldest undelivered email: 15 min"
    OutboxMessage.objects.update(queued_at=owed_at - timedelta(seconds=20))
    status, body = monitor(client)
    assert status == 503
    assert (
        "the oldest undelivered email is 15 min old (limit 15 min)"
        in (body["checks"]["undelivered_messages"]["detail"])
    )
    OutboxMessage.objects.update(state="failed")  # given up: still undelivered
    assert monitor(client)[0] == 503
    OutboxMessage.objects.update(state="sent", sent_at=timezone.now())
    assert monitor(client)[0] == 200


@pytest.mark.hazard("HAZ-02.C6")
def test_an_alert_undelivered_too_long_turns_it_red(client, episode, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # nothing delivers it
    all_tasks_completed()
    first_meeting_sweep(now=episode.first_meeting_due_at)
    Alert.objects.update(raised_at=timezone.now() - timedelta(minutes=16))
    status, body = monitor(client)
    assert status == 503
    assert (
        "the oldest undelivered alert is 16 min old"
        in (body["checks"]["undelivered_messages"]["detail"])
    )


@pytest.mark.hazard("HAZ-01.C9")
def test_an_episode_whose_clock_check_keeps_failing_turns_it_red(
    client, episode, monkeypatch, settings
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.POD_HEALTH_CLOCK_FAILURES = 3
    all_tasks_completed()
    real_rule = rules.clock_alerts_due
    failing = {"on": True}

    def rule(**kwargs):
        if failing["on"]:
            raise ValueError("cannot judge this clock")
        return real_rule(**kwargs)

    monkeypatch.setattr(rules, "clock_alerts_due", rule)
    now = episode.first_meeting_due_at
    for attempt in range(1, 4):
        first_meeting_sweep(now=now)
        failure = ClockCheckFailure.objects.get(episode=episode)
        assert (failure.failures, failure.error_class) == (attempt, "ValueError")
        status, body = monitor(client)
        assert status == (503 if attempt >= 3 else 200), body
        now += CLOCK_RETRY_AFTER
    status, body = monitor(client)
    assert body["checks"]["clock_checks"]["detail"] == (
        f"Unavailable: clock checks keep failing: episode {episode.pk} (3 times)"
    )
    failing["on"] = False  # the fault is fixed: the next check succeeds and clears the count
    first_meeting_sweep(now=now)
    assert not ClockCheckFailure.objects.exists()
    assert monitor(client)[1]["checks"]["clock_checks"] == {"ok": True, "detail": "OK"}


def test_a_broker_that_cannot_be_reached_turns_it_red(client):
    all_tasks_completed()
    with broker_at(f"redis://127.0.0.1:{free_port()}/0"):
        status, body = monitor(client)
    assert status == 503
    assert body["checks"]["broker"] == {
        "ok": False,
        "detail": "Unavailable: cannot reach the broker (OperationalError)",
    }


def test_the_load_balancers_probe_stays_one_query_and_green(client, django_assert_num_queries):
    # Beat has never run, so the monitor is red; the probe does not care.
    SweepHeartbeat.objects.all().delete()
    assert client.get(URL, HTTP_ACCEPT="application/json").status_code == 503
    with django_assert_num_queries(1):
        response = client.get("/health/")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_it_names_no_one(client, team, referral_at, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    person = f.make_service_user(team, given_name="Jordan", family_name="Rivers")
    clinician = f.make_user("clinician", team, email="chris@example.nhs.uk")
    colleague = f.make_user("clinician", team)
    episode = f.make_episode(
        team=team,
        core_team=[clinician, colleague],
        service_user=person,
        referral_received_at=referral_at,
    )
    first_meeting_sweep(now=episode.first_meeting_due_at)
    body = client.get(URL, HTTP_ACCEPT="application/json").content.decode()
    for personal in ("Jordan", "Rivers", person.nhs_number, "chris@example.nhs.uk"):
        assert personal not in body
