"""Celery tasks of the `pod` app (Celery's autodiscovery looks for `<app>.tasks`): the message
outbox and housekeeping of the foundation, run by beat (settings.CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from pod.foundation.audit_chain import CHAINS, verify_attribution, verify_chain
from pod.foundation.outbox import messages_deliver_due
from pod.foundation.submissions import submissions_forget

logger = logging.getLogger("pod.audit")


@shared_task
def deliver_messages() -> int:
    """Every minute (beat), and after each transaction that owes a message: send the outbox's
    due messages one at a time (pod/foundation/outbox.py). Safe to run twice or concurrently."""
    return messages_deliver_due()


@shared_task
def forget_old_submissions() -> int:
    """Daily: delete one-time form tokens older than a week."""
    return submissions_forget(now=timezone.now())


@shared_task
def audit_verify() -> bool:
    """Daily: check the audit's hash chains (manage.py audit_verify). Logs each chain's head, so
    the logs keep anchors the database's owner cannot rewrite, and an ERROR naming the first
    broken link. Returns True when every chain is intact."""
    intact = True
    for table in CHAINS:
        report = verify_chain(table)
        logger.info(
            "audit chain %s: %d rows intact; head %s:%d:%s",
            table,
            report.checked,
            table,
            report.head_seq,
            report.head_hash,
        )
        if report.first_break is not None:
            intact = False
            logger.error("audit chain broken: %s", report.first_break)
    unverified = verify_attribution()
    if unverified.unverified:
        logger.warning(
            "audit: %d change(s) claim a user or task without a valid signature (first ids %s)",
            unverified.unverified,
            unverified.examples,
        )
    return intact
