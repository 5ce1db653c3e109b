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
from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from kombu.exceptions import OperationalError

from meetings.alerts import alerts_deliver_pending
from meetings.models import Alert, Meeting
from meetings.services.meeting_messages import owe_meeting_messages
from meetings.services.meetings import meeting_schedule_with_invitations
from meetings.sweeps import first_meeting_sweep
from pod.foundation.models import SweepHeartbeat
from pod.foundation.outbox import messages_deliver_due
from pod.foundation.outbox_models import OutboxMessage
from pod.foundation.task_queue import task_send
from tests import factories as f
from tests.mail import copies_per_message, mail_log
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
    f.make_member(
        episode.service_user,
        email="sis@example.org",
        contact_consent="agreed",
        consent_recorded_at=timezone.now(),
        consent_recorded_by=clinician,
    )
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
        "could not send task pod.tasks.deliver_messages (OperationalError)"
    ]
    # The invitation is owed in the database all the same; the next run sends it.
    assert OutboxMessage.objects.filter(kind="meeting_invitation", state="pending").count() == 1


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


@pytest.mark.hazard("HAZ-09.C34")
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_redis_stopped_while_a_meeting_is_scheduled_moved_and_cancelled_loses_no_message(
    team, referral_at, settings, tmp_path, caplog
):
    """A Redis of the test's own is stopped; a meeting is scheduled, moved and cancelled (each
    in its own transaction, each nudge lost); Redis comes back; a real beat and worker send every
    member the invitation, the change and the cancellation, in that order, once each."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    redis = RedisServer(tmp_path)
    redis.start()
    clinician = f.make_user("clinician", team)
    colleague = f.make_user("clinician", team)
    episode = f.make_episode(
        team=team, core_team=[clinician, colleague], referral_received_at=referral_at
    )
    addresses = ["sam@example.org", "fran@example.org", "kit@example.org"]
    for address in addresses:
        f.make_member(
            episode.service_user,
            email=address,
            contact_consent="agreed",
            consent_recorded_at=timezone.now(),
            consent_recorded_by=clinician,
        )
    log = tmp_path / "mail.jsonl"
    env = process_env(
        redis.url, EMAIL_BACKEND="tests.mail.FileLogBackend", POD_TEST_MAIL_LOG=str(log)
    )
    processes = []
    start = referral_at + timedelta(hours=2)
    try:
        with broker_at(redis.url):
            redis.stop()
            with caplog.at_level(logging.WARNING, logger="pod.foundation.task_queue"):
                started = time.monotonic()
                meeting = meeting_schedule_with_invitations(
                    episode=episode,
                    scheduled_start=start,
                    scheduled_end=start + timedelta(hours=1),
                    location="home",
                    staff=[clinician],
                    network_members=None,
                    created_by=clinician,
                    now=start - timedelta(hours=1),  # arranged before it
                )
                with transaction.atomic():
                    meeting.scheduled_start += timedelta(hours=3)
                    meeting.scheduled_end += timedelta(hours=3)
                    meeting.save()
                    owe_meeting_messages(meeting, kind="update", now=timezone.now())
                with transaction.atomic():
                    meeting.status = Meeting.Status.CANCELLED
                    meeting.save()
                    owe_meeting_messages(meeting, kind="cancellation", now=timezone.now())
                assert time.monotonic() - started < 30  # never held up by the outage
            lost = [r.getMessage() for r in caplog.records]
            assert lost == ["could not send task pod.tasks.deliver_messages (OperationalError)"] * 3
            assert OutboxMessage.objects.filter(state="pending").count() == 3 * 3
            redis.start()
            PeriodicTask.objects.update(last_run_at=timezone.now() - timedelta(hours=1))
            processes.append(start_celery("worker", env, "-l", "warning"))
            processes.append(start_celery("beat", env, "-l", "warning", "--pidfile="))
            wait_for(
                lambda: not OutboxMessage.objects.exclude(state="sent").exists(),
                timeout=120,
                what="beat and the worker to send the meeting's messages",
                process=processes[0],
            )
            # Redelivered and repeated runs send nothing again.
            for _ in range(2):
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
    sent = mail_log(log)
    for address in addresses:
        subjects = [m["subject"].split(":")[0] for m in sent if m["to"] == [address]]
        assert subjects == ["Invitation", "Changed", "Cancelled"], (address, subjects)
    # Nine messages to the members, no other (the clinicians also get the clock's alerts).
    assert len([m for m in sent if m["to"][0] in addresses]) == 9
