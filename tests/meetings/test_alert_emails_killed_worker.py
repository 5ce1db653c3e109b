"""A real Celery worker killed (SIGKILL) in the middle of sending a 300-alert batch's emails,
between the mail server taking one message and the database recording it: the next run sends
every remaining email once, and re-sends at most the one message that was in flight."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.db.models import Count
from django.utils import timezone

from meetings.alerts import alerts_deliver_pending, alerts_raise_many
from meetings.models import Alert
from pod.foundation.outbox import messages_deliver_due
from pod.foundation.outbox_models import OutboxMessage
from pod.tasks import deliver_messages
from tests import factories as f
from tests.mail import copies_per_message, mail_log
from tests.workers import process_env, start_celery, stop, wait_for

KILL_AFTER = 137
KINDS = ("unscheduled", "at_risk", "breached")


@pytest.mark.hazard("HAZ-02.C5")
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_resends_at_most_the_message_in_flight(
    team, referral_at, settings, tmp_path, monkeypatch
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr("pod.foundation.outbox.task_send", lambda *a: False)  # no nudges
    clinician = f.make_user("clinician", team)
    no_address = f.make_user("clinician", team, email="")
    episodes = [
        f.make_episode(
            team=team, core_team=[clinician, no_address], referral_received_at=referral_at
        )
        for _ in range(100)
    ]
    now = referral_at + timedelta(hours=24)
    rows = [(e.pk, None, kind, f"{kind} for episode {e.pk}") for e in episodes for kind in KINDS]
    assert len(alerts_raise_many(rows, now=now)) == 300
    assert alerts_deliver_pending(now=now) == 300
    assert OutboxMessage.objects.count() == 300  # one email per alert

    log = tmp_path / "mail.jsonl"
    queue = f"pod-test-{uuid.uuid4().hex[:8]}"
    env = process_env(
        django_settings.CELERY_BROKER_URL,
        EMAIL_BACKEND="tests.mail.FileLogBackend",
        POD_TEST_MAIL_LOG=str(log),
        POD_TEST_KILL_AFTER=str(KILL_AFTER),
    )
    worker = start_celery("worker", env, "-Q", queue, "-l", "warning")
    try:
        deliver_messages.apply_async(queue=queue)
        wait_for(lambda: worker.poll() is not None, timeout=120, what="the worker to be killed")
    finally:
        stop(worker)
    assert worker.returncode == -9  # SIGKILL, mid-batch
    assert len(mail_log(log)) == KILL_AFTER
    states = dict(OutboxMessage.objects.values_list("state").annotate(n=Count("pk")))
    assert states == {"sent": KILL_AFTER - 1, "sending": 1, "pending": 300 - KILL_AFTER}
    in_flight = OutboxMessage.objects.get(state="sending")

    # The next run, once the dead worker's claim has expired (beat runs it every minute).
    settings.EMAIL_BACKEND = "tests.mail.FileLogBackend"
    monkeypatch.setenv("POD_TEST_MAIL_LOG", str(log))
    monkeypatch.delenv("POD_TEST_KILL_AFTER", raising=False)
    after_lease = timezone.now() + timedelta(seconds=settings.POD_OUTBOX_LEASE_SECONDS)
    assert messages_deliver_due(clock=lambda: after_lease) == 300 - KILL_AFTER + 1
    assert messages_deliver_due(clock=lambda: after_lease) == 0

    copies = copies_per_message(log)
    assert len(copies) == 300  # every alert's email arrived
    doubled = [message for message, n in copies.items() if n > 1]
    # Only the message in flight when the worker died went twice, and only twice.
    assert doubled == [((in_flight.to_address,), in_flight.subject)]
    assert sum(copies.values()) == 301
    assert not OutboxMessage.objects.exclude(state="sent").exists()
    assert not Alert.objects.filter(delivered_at__isnull=True).exists()
