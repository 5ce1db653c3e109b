"""Celery tasks: thin interfaces over meetings.sweeps and meetings.alerts. They take no
arguments or ids, are idempotent, and are safe to run twice or concurrently."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from meetings import alerts, sweeps
from meetings.services.invitations import meeting_invitations_send


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
    """After a meeting is scheduled: email invitations with a .ics file to consenting members."""
    return meeting_invitations_send(meeting_id, now=timezone.now())
