"""A broker that cannot be reached never fails the clinical write that owed it work.

The lower modules send their tasks by name after commit (pod/foundation/task_queue.py); the
write has committed by then, so a broker outage may only delay the work, never undo the write.
"""

import logging
import time
from datetime import timedelta
from unittest import mock

import pytest
from celery import Task
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from kombu.exceptions import OperationalError

from meetings.alerts import alerts_deliver_pending
from meetings.models import Alert, Meeting
from meetings.services.meetings import meeting_schedule_with_invitations
from meetings.sweeps import first_meeting_sweep
from pod.foundation.models import SweepHeartbeat
from pod.foundation.outbox import messages_deliver_due
from pod.foundation.outbox_models import OutboxMessage
from pod.foundation.task_queue import task_send
from tests import factories as f
from tests.mail import copies_per_message
from tests.workers import RedisServer, broker_at, process_env, start_celery, stop, wait_for


@pytest.fixture
def broker_down(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with mock.patch.object(
        Task, "apply_async", autospec=True, side_effect=OperationalError("Connection refused")
    ) as send:
        yield send


@pytest.mark.django_db(transaction=True)
def test_a_meeting_is_scheduled_while_the_broker_is_down(
    broker_down, episode, clinician, clinician2, referral_at, caplog
):
    start = referral_at + timedelta(hours=2)
    with caplog.at_level(logging.WARNING, logger="pod.foundation.task_queue"):
        meeting = meeting_schedule_with_invitations(
            episode=episode,
            scheduled_start=start,
            scheduled_end=start + timedelta(hours=1),
            location="home",
            staff=[clinician, clinician2],
            network_members=None,
            created_by=clinician,
            now=referral_at + timedelta(hours=1),
        )
    assert Meeting.objects.filter(pk=meeting.pk).exists()
    assert broker_down.call_count == 1  # it tried, after commit
    assert [r.getMessage() for r in caplog.records] == [
        "could not send task meetings.tasks.send_meeting_invitations (OperationalError)"
    ]


@pytest.mark.hazard("HAZ-02.C2", "HAZ-02.C6")
@pytest.mark.django_db(transaction=True)
def test_an_alert_raised_while_the_broker_is_down_is_kept_and_delivered_by_the_next_run(
    broker_down, episode, manager, mailoutbox
):
    due = episode.first_meeting_due_at
    assert first_meeting_sweep(now=due) == 1  # the sweep's transaction committed
    assert broker_down.call_count == 1
    breach = Alert.objects.get(episode=episode, kind="breached")
    assert breach.delivered_at is None
    # The beat schedule's next runs find it in the outboxes.
    assert alerts_deliver_pending(now=due + timedelta(minutes=1)) >= 1
    assert broker_down.call_count == 2  # the nudge to send its emails was lost too
    assert mailoutbox == []
    assert messages_deliver_due() == 3
    breach.refresh_from_db()
    assert breach.delivered_at is not None
    assert any(manager.email in m.to for m in mailoutbox)


@pytest.mark.hazard("HAZ-02.C6")
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_redis_stopped_while_alerts_are_raised_delays_them_and_loses_none(
    team, referral_at, settings, tmp_path, caplog
):
    """A Redis of the test's own is stopped; alerts are raised (their nudges are lost); Redis
    comes back; a real beat and worker deliver every email exactly once."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    redis = RedisServer(tmp_path)
    redis.start()
    clinician = f.make_user("clinician", team)
    colleague = f.make_user("clinician", team)
    episodes = [
        f.make_episode(
            team=team, core_team=[clinician, colleague], referral_received_at=referral_at
        )
        for _ in range(3)
    ]
    log = tmp_path / "mail.jsonl"
    env = process_env(
        redis.url, EMAIL_BACKEND="tests.mail.FileLogBackend", POD_TEST_MAIL_LOG=str(log)
    )
    processes = []
    try:
        with broker_at(redis.url):
            redis.stop()
            with caplog.at_level(logging.WARNING, logger="pod.foundation.task_queue"):
                started = time.monotonic()
                raised = first_meeting_sweep(now=referral_at + timedelta(hours=24))
                assert time.monotonic() - started < 10  # the sweep is not held up by the outage
            assert raised == 3
            assert "could not send task meetings.tasks.deliver_alerts (OperationalError)" in [
                r.getMessage() for r in caplog.records
            ]
            assert not OutboxMessage.objects.exists()
            assert Alert.objects.filter(delivered_at__isnull=True).count() == 3
            redis.start()
            # Beat's entries are due at once (as after a long outage), then worker and beat.
            PeriodicTask.objects.update(last_run_at=timezone.now() - timedelta(hours=1))
            processes.append(start_celery("worker", env, "-l", "warning"))
            processes.append(start_celery("beat", env, "-l", "warning", "--pidfile="))
            wait_for(
                lambda: not Alert.objects.filter(delivered_at__isnull=True).exists(),
                timeout=90,
                what="beat and the worker to deliver the alerts",
                process=processes[0],
            )
            # The next runs (beat's next minute, a redelivered task) send nothing again.
            for _ in range(2):
                task_send("meetings.tasks.deliver_alerts")
                task_send("pod.tasks.deliver_messages")
            wait_for(
                lambda: (
                    SweepHeartbeat.objects.filter(task_name="pod.tasks.deliver_messages")
                    .filter(completed_at__gt=timezone.now() - timedelta(seconds=2))
                    .exists()
                ),
                timeout=30,
                what="the repeated runs",
            )
            time.sleep(2)
    finally:
        for process in processes:
            stop(process)
        redis.stop()
    copies = copies_per_message(log)
    assert len(copies) == 3 * 2  # each alert's email to each of the two clinicians
    assert set(copies.values()) == {1}
    assert {to for (to,), _ in copies} == {clinician.email, colleague.email}
    assert {e.pk for e in episodes} == set(Alert.objects.values_list("episode_id", flat=True))
