"""The outbox delivers every alert at least once: a notification per recipient, never doubled,
and an email per recipient through the message outbox, sent one at a time; `delivered_at` is
when the last of them was sent."""

import threading
import time
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection

from meetings import alerts
from meetings.alerts import alerts_deliver_pending
from meetings.models import Alert
from meetings.sweeps import first_meeting_sweep
from meetings.tasks import deliver_alerts
from pod.foundation import outbox
from pod.foundation.models import Notification
from pod.foundation.outbox import messages_deliver_due
from pod.foundation.outbox_models import OutboxMessage
from pod.tasks import deliver_messages
from tests import factories as f


@pytest.fixture
def no_nudges(settings):
    """As if the broker lost every nudge: only the beat schedule's runs deliver."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with (
        mock.patch("meetings.alerts._enqueue_delivery"),
        mock.patch.object(outbox, "task_send"),
    ):
        yield


@pytest.fixture
def undelivered_breach(episode, manager, no_nudges):
    first_meeting_sweep(now=episode.first_meeting_due_at)
    alert = Alert.objects.get(episode=episode, kind="breached")
    assert alert.queued_at is None and alert.delivered_at is None
    return alert


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


@pytest.mark.hazard("HAZ-02.C2", "HAZ-02.C5")
@pytest.mark.django_db(transaction=True)
def test_it_notifies_and_owes_one_email_per_recipient_and_stamps_the_delivery_time(
    undelivered_breach, clinician, clinician2, manager, mailoutbox
):
    raised = undelivered_breach.raised_at
    assert alerts_deliver_pending(now=raised + timedelta(seconds=10)) == 1
    undelivered_breach.refresh_from_db()
    assert undelivered_breach.queued_at == raised + timedelta(seconds=10)
    assert undelivered_breach.delivered_at is None  # the emails have not left yet
    assert set(
        Notification.objects.filter(alert=undelivered_breach).values_list("user", flat=True)
    ) == {
        clinician.pk,
        clinician2.pk,
        manager.pk,
    }
    owed = OutboxMessage.objects.filter(kind="alert", cause=f"alert:{undelivered_breach.pk}")
    assert sorted(owed.values_list("to_address", flat=True)) == sorted(
        [clinician.email, clinician2.email, manager.email]
    )
    assert mailoutbox == []
    clock = Clock(raised + timedelta(seconds=30))
    messages_deliver_due(limit=2, clock=clock)
    undelivered_breach.refresh_from_db()
    assert undelivered_breach.delivered_at is None  # one email still to go
    clock.now = raised + timedelta(seconds=45)
    messages_deliver_due(clock=clock)
    undelivered_breach.refresh_from_db()
    assert undelivered_breach.delivered_at == raised + timedelta(seconds=45)
    assert sorted(m.to[0] for m in mailoutbox) == sorted(
        [clinician.email, clinician2.email, manager.email]
    )


@pytest.mark.hazard("HAZ-02.C2", "HAZ-02.C5")
@pytest.mark.django_db(transaction=True)
def test_the_delivery_tasks_run_twice_send_nothing_twice(undelivered_breach, mailoutbox):
    for _ in range(2):
        deliver_alerts.apply()
        deliver_messages.apply()
    assert len(mailoutbox) == 3
    assert len({m.to[0] for m in mailoutbox}) == 3
    assert Notification.objects.filter(alert=undelivered_breach).count() == 3


@pytest.mark.hazard("HAZ-02.C2")
@pytest.mark.django_db(transaction=True)
def test_repeating_a_delivery_writes_no_second_notification_and_owes_no_second_email(
    undelivered_breach,
):
    now = undelivered_breach.raised_at
    alerts_deliver_pending(now=now)
    Alert.objects.filter(pk=undelivered_breach.pk).update(queued_at=None)  # as if redelivered
    alerts_deliver_pending(now=now)
    assert Notification.objects.filter(alert=undelivered_breach).count() == 3
    assert OutboxMessage.objects.filter(cause=f"alert:{undelivered_breach.pk}").count() == 3


@pytest.mark.hazard("HAZ-02.C2", "HAZ-02.C5")
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_while_handing_alerts_over_leaves_no_half_and_no_double(
    team, referral_at, no_nudges, mailoutbox
):
    """Killed after 46 of 100 alerts' emails were owed: the batch rolls back as a whole (nothing
    had left the process), and the next run owes each email exactly once."""
    clinician = f.make_user("clinician", team)
    no_address = f.make_user("clinician", team, email="")  # one email per alert
    for _ in range(100):
        f.make_episode(
            team=team, core_team=[clinician, no_address], referral_received_at=referral_at
        )
    due = referral_at + timedelta(hours=24)
    assert first_meeting_sweep(now=due) == 100
    real_owe = alerts.message_owe
    calls = {"n": 0}

    def owe_then_die(**kwargs):
        calls["n"] += 1
        if calls["n"] > 46:
            raise SystemExit("worker killed")
        return real_owe(**kwargs)

    with mock.patch.object(alerts, "message_owe", owe_then_die), pytest.raises(SystemExit):
        alerts_deliver_pending(now=due)
    assert not OutboxMessage.objects.exists()
    assert not Alert.objects.filter(queued_at__isnull=False).exists()
    assert alerts_deliver_pending(now=due) == 100
    assert messages_deliver_due() == 100
    assert alerts_deliver_pending(now=due) == 0 and messages_deliver_due() == 0
    assert len(mailoutbox) == 100
    assert len({m.subject for m in mailoutbox}) == 100  # one per alert (the episode differs)
    assert not Alert.objects.filter(delivered_at__isnull=True).exists()


@pytest.mark.hazard("HAZ-02.C2")
@pytest.mark.django_db(transaction=True)
def test_a_failed_email_leaves_the_alert_undelivered_until_a_later_run_sends_it(
    undelivered_breach, mailoutbox
):
    now = undelivered_breach.raised_at + timedelta(minutes=1)
    alerts_deliver_pending(now=now)
    with mock.patch.object(
        outbox.EmailMultiAlternatives, "send", side_effect=ConnectionError("smtp down")
    ):
        assert messages_deliver_due(clock=Clock(now)) == 0
    undelivered_breach.refresh_from_db()
    assert undelivered_breach.delivered_at is None
    failed = OutboxMessage.objects.filter(cause=f"alert:{undelivered_breach.pk}")
    assert all("smtp down" in m.last_error for m in failed)
    assert Notification.objects.filter(alert=undelivered_breach).count() == 3  # in-app is there
    assert messages_deliver_due(clock=Clock(now + timedelta(minutes=1))) == 3
    undelivered_breach.refresh_from_db()
    assert undelivered_breach.delivered_at == now + timedelta(minutes=1)
    assert any("breached" in m.subject for m in mailoutbox)


@pytest.mark.hazard("HAZ-02.C2")
@pytest.mark.django_db(transaction=True)
def test_an_alert_for_people_without_an_address_is_delivered_in_the_application(
    team, referral_at, no_nudges
):
    clinician = f.make_user("clinician", team, email="")
    colleague = f.make_user("clinician", team, email="")
    episode = f.make_episode(
        team=team, core_team=[clinician, colleague], referral_received_at=referral_at
    )
    due = episode.first_meeting_due_at
    first_meeting_sweep(now=due)
    alerts_deliver_pending(now=due)
    alert = Alert.objects.get(episode=episode, kind="breached")
    assert alert.delivered_at == due
    assert Notification.objects.filter(alert=alert, user=clinician).exists()
    assert not OutboxMessage.objects.exists()


@pytest.mark.hazard("HAZ-02.C5")
@pytest.mark.django_db(transaction=True)
def test_two_workers_recording_an_alerts_last_two_emails_at_once_stamp_it_delivered(
    undelivered_breach, monkeypatch
):
    """Each worker, in its own transaction, sees the other's email as not yet sent unless the
    hook takes turns on the alert row; without that neither would stamp the alert."""
    now = undelivered_breach.raised_at
    alerts_deliver_pending(now=now)
    emails = OutboxMessage.objects.filter(cause=f"alert:{undelivered_breach.pk}").order_by("pk")
    OutboxMessage.objects.filter(pk=emails[0].pk).update(state="sent", sent_at=now)
    first, second = (outbox._claim_one(now=now) for _ in range(2))
    first_in_hook, second_started = threading.Event(), threading.Event()

    def hook(message):
        alerts.alert_email_sent(message)
        if message.pk == first.pk:
            first_in_hook.set()
            second_started.wait(5)
            time.sleep(0.5)  # the first transaction stays open while the second records

    monkeypatch.setitem(outbox._SENT_HOOKS, "alert", hook)

    def record_second():
        try:
            first_in_hook.wait(5)
            second_started.set()
            outbox._record_sent(second, sent_at=second.queued_at, answer="250 OK")
        finally:
            connection.close()

    worker = threading.Thread(target=record_second)
    worker.start()
    outbox._record_sent(first, sent_at=first.queued_at, answer="250 OK")
    worker.join(10)
    undelivered_breach.refresh_from_db()
    assert undelivered_breach.delivered_at is not None
