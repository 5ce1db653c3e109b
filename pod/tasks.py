"""Celery tasks of the `pod` app (Celery's autodiscovery looks for `<app>.tasks`): the message
outbox and housekeeping of the foundation, run by beat (settings.CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from pod.foundation.outbox import messages_deliver_due
from pod.foundation.submissions import submissions_forget


@shared_task
def deliver_messages() -> int:
    """Every minute (beat), and after each transaction that owes a message: send the outbox's
    due messages one at a time (pod/foundation/outbox.py). Safe to run twice or concurrently."""
    return messages_deliver_due()


@shared_task
def forget_old_submissions() -> int:
    """Daily: delete one-time form tokens older than a week."""
    return submissions_forget(now=timezone.now())
