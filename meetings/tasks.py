"""Celery tasks: thin interfaces over meetings.sweeps and meetings.alerts. They take no
arguments or ids (but the old invitations task, kept for queued messages), are idempotent, and
are safe to run twice or concurrently."""

from __future__ import annotations

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from meetings import alerts, sweeps
from meetings.models import Meeting
from meetings.services.meeting_messages import owe_meeting_messages


@shared_task
def first_meeting_sweep() -> int:
    """Every minute (beat): raise due 24-hour clock alerts."""
    return sweeps.first_meeting_sweep(now=timezone.now())


@shared_task
def deliver_alerts() -> int:
    """Every minute (beat) and after each new alert: deliver the outbox in-app and by email."""
    return alerts.alerts_deliver_pending(now=timezone.now())


@shared_task
def audit_prescriptions() -> int:
    """Every five minutes (beat): check prescriptions however they reached the database."""
    return sweeps.prescriptions_audit(now=timezone.now())


@shared_task
def send_meeting_invitations(meeting_id: int) -> int:
    """Kept only for task messages queued by an earlier release, which sent invitations from this
    task: owes the meeting's invitations through the outbox instead (nothing new if they are
    owed already, nothing for a meeting since cancelled or deleted), so a redelivery sends nothing
    twice. Nothing sends this task any more; remove it in the release after next."""
    with transaction.atomic():
        meeting = Meeting.objects.filter(pk=meeting_id, status=Meeting.Status.SCHEDULED).first()
        if meeting is None:
            return 0
        return owe_meeting_messages(meeting, kind="invitation", now=timezone.now())
