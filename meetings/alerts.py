"""The alert outbox: raising alert rows exactly once, and delivering them at least once.

Raising inserts with ON CONFLICT DO NOTHING against the unique (subject, kind) constraints, so
two sweeps, a retried task or a killed worker can never write a second alert. Delivery claims
undelivered rows with SKIP LOCKED, writes one in-app notification per recipient (unique, so a
repeat writes nothing) and emails them; a row is marked delivered only after both succeeded.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Q
from django.urls import NoReverseMatch, reverse

from meetings.models import Alert, Episode, Prescription
from pod.foundation.emails import email_send
from pod.foundation.models import Notification, User
from pod.foundation.task_queue import task_send

# The Celery task that delivers the outbox, named rather than imported: meetings.tasks imports
# this module (README "Architecture").
DELIVER_ALERTS_TASK = "meetings.tasks.deliver_alerts"

logger = logging.getLogger(__name__)


def alert_raise(
    *,
    episode: Episode,
    kind: str,
    message: str,
    now: datetime,
    prescription: Prescription | None = None,
) -> bool:
    """Insert one alert unless one of this (subject, kind) exists, and hand a new one to
    delivery after commit. True when it was new."""
    created = alerts_raise_many(
        [(episode.pk, prescription.pk if prescription else None, kind, message)], now=now
    )
    if created:
        delivery_enqueue_on_commit()
    return bool(created)


def alerts_raise_many(
    rows: Sequence[tuple[int, int | None, str, str]], *, now: datetime
) -> list[tuple[int, str]]:
    """Insert (episode id, prescription id or None, kind, message) rows in one statement;
    returns the (episode id, kind) of those that were new. The caller enqueues delivery.

    ON CONFLICT DO NOTHING makes the unique (subject, kind) constraints the arbiter, so
    concurrent callers cannot both insert the same alert, and neither fails.
    """
    if not rows:
        return []
    values = ", ".join(["(%s, %s, %s, %s, %s, 0, '')"] * len(rows))
    params: list[str | int | datetime | None] = []
    for episode_id, prescription_id, kind, message in rows:
        params += [kind, episode_id, prescription_id, message, now]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Alert._meta.db_table} "
            "(kind, episode_id, prescription_id, message, raised_at, delivery_attempts, last_error)"
            f" VALUES {values} ON CONFLICT DO NOTHING RETURNING episode_id, kind",
            params,
        )
        return [(episode_id, kind) for episode_id, kind in cursor.fetchall()]


def delivery_enqueue_on_commit() -> None:
    """Nudge delivery once the transaction that raised alerts commits. Only a nudge: the beat
    schedule runs delivery every minute, so a broker outage (logged by `task_send`, never
    raised into the clinical write) delays an alert by a minute at most and never loses it."""
    transaction.on_commit(_enqueue_delivery)


def _enqueue_delivery() -> None:
    task_send(DELIVER_ALERTS_TASK)


def alert_recipients(alert: Alert) -> list[User]:
    """Who hears of an alert: the core team; breaches and medication alerts also go to the
    team's service managers (escalation), and medication alerts to the prescriber."""
    episode = alert.episode
    recipients = Q(core_episodes=episode)
    if alert.escalates_to_managers:
        recipients |= Q(role=User.Role.SERVICE_MANAGER, memberships__team=episode.team_id)
    if alert.prescription is not None:
        recipients |= Q(pk=alert.prescription.prescriber_id)
    return list(User.objects.filter(recipients, is_active=True).distinct().order_by("pk"))


def _episode_path(episode_id: int) -> str:
    try:
        return reverse("meetings:episode_detail", args=[episode_id])
    except NoReverseMatch:
        return f"/admin/meetings/episode/{episode_id}/change/"


def alert_deliver(alert: Alert, *, now: datetime) -> None:
    """Deliver one alert in-app and by email. Safe to repeat; raises if email fails."""
    recipients = alert_recipients(alert)
    Notification.objects.bulk_create(
        [Notification(user=user, alert=alert) for user in recipients], ignore_conflicts=True
    )
    addresses = sorted({user.email for user in recipients if user.email})
    if addresses:
        email_send(
            "alert",
            to=addresses,
            context={"alert": alert, "episode_path": _episode_path(alert.episode_id)},
        )
    alert.delivered_at = now
    alert.save(update_fields=["delivered_at"])


def alerts_deliver_pending(*, now: datetime, batch_size: int = 100) -> int:
    """Deliver every undelivered alert; returns how many were delivered.

    1. Claim a batch of undelivered alerts with FOR UPDATE SKIP LOCKED, so two workers never
       deliver the same row at the same time.
    2. Deliver each inside a savepoint: a failure (mail server down, one bad row) rolls back
       that alert's notifications, counts the attempt, stores the error on the row and leaves
       it undelivered for the next run; the rest of the run goes on without it.
    3. A worker killed mid-way commits nothing for the batch, so the rows stay undelivered and
       the next run delivers them (at least once; notifications are unique so never doubled).
    """
    delivered = 0
    failed_ids: set[int] = set()
    while True:
        with transaction.atomic():
            batch = list(
                Alert.objects.filter(delivered_at__isnull=True)
                .exclude(pk__in=failed_ids)
                .select_related("episode__team", "prescription")
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("raised_at")[:batch_size]
            )
            if not batch:
                return delivered
            for alert in batch:
                try:
                    with transaction.atomic():
                        alert_deliver(alert, now=now)
                    delivered += 1
                except Exception as exc:  # any failure leaves it for a retry
                    # The id and the exception's class only: its message (kept on the row, in
                    # last_error) may name a recipient.
                    logger.error("alert %s not delivered (%s)", alert.pk, type(exc).__name__)
                    failed_ids.add(alert.pk)
                    Alert.objects.filter(pk=alert.pk).update(
                        delivery_attempts=alert.delivery_attempts + 1, last_error=str(exc)[:500]
                    )
