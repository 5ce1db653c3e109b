"""The outbox delivers every alert at least once, and never doubles a notification."""

from datetime import timedelta
from unittest import mock

import pytest

from meetings.alerts import alerts_deliver_pending
from meetings.models import Alert
from meetings.sweeps import first_meeting_sweep
from pod.foundation.models import Notification


@pytest.fixture
def undelivered_breach(episode, manager, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with mock.patch("meetings.alerts._enqueue_delivery"):  # as if the broker lost the message
        first_meeting_sweep(now=episode.first_meeting_due_at)
    alert = Alert.objects.get(episode=episode, kind="breached")
    assert alert.delivered_at is None
    return alert


@pytest.mark.hazard("HAZ-02.C2")
@pytest.mark.django_db(transaction=True)
def test_a_killed_delivery_is_delivered_on_the_next_run(undelivered_breach, mailoutbox):
    now = undelivered_breach.raised_at + timedelta(minutes=1)
    # The mail server fails (or the worker dies) mid-delivery: nothing is marked delivered.
    with mock.patch("meetings.alerts.email_send", side_effect=ConnectionError("smtp down")):
        assert alerts_deliver_pending(now=now) == 0
    undelivered_breach.refresh_from_db()
    assert undelivered_breach.delivered_at is None
    assert undelivered_breach.delivery_attempts == 1
    assert "smtp down" in undelivered_breach.last_error
    assert not Notification.objects.filter(alert=undelivered_breach).exists()
    # The next run delivers it.
    assert alerts_deliver_pending(now=now + timedelta(minutes=1)) >= 1
    undelivered_breach.refresh_from_db()
    assert undelivered_breach.delivered_at is not None
    assert Notification.objects.filter(alert=undelivered_breach, user__username="manager").exists()
    assert any("breached" in m.subject for m in mailoutbox)


@pytest.mark.hazard("HAZ-02.C2")
@pytest.mark.django_db(transaction=True)
def test_repeating_a_delivery_writes_no_second_notification(undelivered_breach):
    now = undelivered_breach.raised_at
    alerts_deliver_pending(now=now)
    count = Notification.objects.filter(alert=undelivered_breach).count()
    Alert.objects.filter(pk=undelivered_breach.pk).update(delivered_at=None)  # redelivered
    alerts_deliver_pending(now=now)
    assert Notification.objects.filter(alert=undelivered_breach).count() == count > 0
