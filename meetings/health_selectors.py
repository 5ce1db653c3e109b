"""Reads for the monitoring endpoint (pod/health.py): what meetings has left undone."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Min

from meetings.models import Alert, ClockCheckFailure


def oldest_undelivered_alert_raised_at() -> datetime | None:
    """When the oldest alert not yet delivered (in-app and every email sent) was raised; None
    when every alert has been delivered. Through the partial index `alert_undelivered`."""
    oldest: datetime | None = Alert.objects.filter(delivered_at__isnull=True).aggregate(
        oldest=Min("raised_at")
    )["oldest"]
    return oldest


def clock_checks_failing(*, min_failures: int) -> list[ClockCheckFailure]:
    """Episodes whose 24-hour clock check has failed at least `min_failures` times in a row,
    most failures first (at most 20: enough to act on)."""
    return list(
        ClockCheckFailure.objects.filter(failures__gte=min_failures).order_by(
            "-failures", "episode_id"
        )[:20]
    )
