"""Celery tasks of the `pod` app (Celery's autodiscovery looks for `<app>.tasks`): housekeeping
of the foundation, run by beat (settings.CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from pod.foundation.submissions import submissions_forget


@shared_task
def forget_old_submissions() -> int:
    """Daily: delete one-time form tokens older than a week."""
    return submissions_forget(now=timezone.now())
