"""Derived bookkeeping does not flood the audit: the sweep moving a clock's next check writes no
event, while a clinical change to the same row does."""

from datetime import timedelta

import pytest

from meetings.models import Episode
from meetings.sweeps import first_meeting_sweep
from pod.foundation.audit_models import AuditEvent


def episode_events(episode):
    return AuditEvent.objects.filter(table_name="meetings_episode", row_id=str(episode.pk))


@pytest.mark.django_db(transaction=True)
def test_the_sweep_moving_the_next_check_writes_no_audit_event(episode):
    before = episode_events(episode).count()
    first_meeting_sweep(now=episode.referral_received_at + timedelta(hours=4))
    episode.refresh_from_db()
    assert episode.clock_next_check_at == episode.first_meeting_due_at - timedelta(hours=4)
    assert episode_events(episode).count() == before
    Episode.objects.filter(pk=episode.pk).update(reason="Changed by hand")
    assert episode_events(episode).count() == before + 1
