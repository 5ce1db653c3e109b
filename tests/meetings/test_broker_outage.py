"""A broker that cannot be reached never fails the clinical write that owed it work.

The lower modules send their tasks by name after commit (pod/foundation/task_queue.py); the
write has committed by then, so a broker outage may only delay the work, never undo the write.
"""

import logging
from datetime import timedelta
from unittest import mock

import pytest
from celery import Task
from kombu.exceptions import OperationalError

from meetings.alerts import alerts_deliver_pending
from meetings.models import Alert, Meeting
from meetings.services.meetings import meeting_schedule_with_invitations
from meetings.sweeps import first_meeting_sweep


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


@pytest.mark.hazard("HAZ-02.C2")
@pytest.mark.django_db(transaction=True)
def test_an_alert_raised_while_the_broker_is_down_is_kept_and_delivered_by_the_next_run(
    broker_down, episode, manager, mailoutbox
):
    due = episode.first_meeting_due_at
    assert first_meeting_sweep(now=due) == 1  # the sweep's transaction committed
    assert broker_down.call_count == 1
    breach = Alert.objects.get(episode=episode, kind="breached")
    assert breach.delivered_at is None
    # The beat schedule's next delivery run finds it in the outbox.
    assert alerts_deliver_pending(now=due + timedelta(minutes=1)) >= 1
    breach.refresh_from_db()
    assert breach.delivered_at is not None
    assert any(manager.email in m.to for m in mailoutbox)
