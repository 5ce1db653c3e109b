"""The alert outbox: raising alert rows exactly once, and delivering them at least once.

Raising inserts with ON CONFLICT DO NOTHING against the unique (subject, kind) constraints, so
two sweeps, a retried task or a killed worker can never write a second alert. Delivery claims
alerts not yet handed over with SKIP LOCKED and, in one transaction per alert, writes one in-app
notification per recipient (unique, so a repeat writes nothing) and owes one email per recipient
to the message outbox (pod/foundation/outbox.py; unique per alert, kind and recipient, so a
repeat owes nothing). Nothing leaves the process in that transaction, so a killed worker loses
or doubles nothing there; the outbox sends the emails one at a time, and when the last of an
alert's emails has gone, `alert_email_sent` stamps the alert's `delivered_at`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Max, Q
from django.urls import reverse

from meetings.models import Alert, Episode, Prescription
from meetings.reviews import review_open_for_alert
from meetings.selectors import episodes_for
from pod.foundation.emails import email_render
from pod.foundation.models import Notification, User
from pod.foundation.outbox import Recipient, message_owe
from pod.foundation.outbox_models import OutboxMessage
from pod.foundation.task_queue import task_send

# The Celery task that delivers the outbox, named rather than imported: meetings.tasks imports
# this module (README "Architecture").
DELIVER_ALERTS_TASK = "meetings.tasks.deliver_alerts"
# The outbox's kind for alert emails; their cause is "alert:<id>" (`alert_cause`).
ALERT_EMAIL = "alert"

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


def manager_alert_path(alert: Alert) -> str:
    """Where a service manager's alert email points: the review page of the alert (opened now
    if it was not yet, meetings/services/reviews.py), which shows the facts the rule used and
    takes the manager's decision; never the episode, which a manager may not open. An alert
    that is not reviewed points at the section of the dashboard that counts it."""
    review = review_open_for_alert(alert)
    if review is not None:
        return reverse("meetings:review_detail", args=[review.pk])
    section = "medication" if alert.prescription_id is not None else "first-meeting"
    return f"{reverse('outcomes:dashboard')}#{section}"


def alert_link(alert: Alert, user: User) -> tuple[str, str]:
    """(path, what it opens) for `user`'s copy of `alert`: a page they may open. The episode for
    a clinician who may open it; the review for a service manager (`manager_alert_path`);
    otherwise their home page, which lists their alerts."""
    if episodes_for(user).filter(pk=alert.episode_id).exists():
        return reverse("meetings:episode_detail", args=[alert.episode_id]), "the episode"
    if user.role == User.Role.SERVICE_MANAGER:
        return manager_alert_path(alert), "the review"
    return reverse("home"), "your alerts in POD"


def alert_cause(alert_id: int) -> str:
    """The outbox cause of an alert's emails."""
    return f"alert:{alert_id}"


def alert_deliver(alert: Alert, *, now: datetime) -> int:
    """Hand one alert to its recipients: an in-app notification each, and an email each (owed
    to the outbox) for those with an address. Stamps `queued_at`, and `delivered_at` at once
    when no email is owed. Returns how many emails were newly owed. Safe to repeat: both writes
    are unique per recipient. Raises what rendering or the database raise.

    An alert escalated to the managers opens its review here too (issue 13), in the same
    transaction, so the managers' queue and the email's link appear together."""
    review_open_for_alert(alert)
    recipients = alert_recipients(alert)
    Notification.objects.bulk_create(
        [Notification(user=user, alert=alert) for user in recipients], ignore_conflicts=True
    )
    owed = 0
    emailed = [user for user in recipients if user.email]
    for user in emailed:
        path, opens = alert_link(alert, user)
        email = email_render(
            "alert",
            {"alert": alert, "link": f"{settings.SITE_URL}{path}", "link_opens": opens},
        )
        try:
            owed += message_owe(
                kind=ALERT_EMAIL,
                cause=alert_cause(alert.pk),
                recipient=Recipient.for_user(user),
                email=email,
                now=now,
            )
        except ValidationError as exc:  # a malformed address: the others still get theirs
            # Ids and the exception's class only: the error quotes the address.
            logger.error(
                "alert %s: no email to user %s (%s)", alert.pk, user.pk, type(exc).__name__
            )
    alert.queued_at = now
    fields = ["queued_at"]
    if not emailed:
        alert.delivered_at = now
        fields.append("delivered_at")
    alert.save(update_fields=fields)
    return owed


def alerts_deliver_pending(*, now: datetime, batch_size: int = 100) -> int:
    """Hand every alert not yet handed over to its recipients; returns how many were.

    1. Claim a batch of alerts without `queued_at` with FOR UPDATE SKIP LOCKED, so two workers
       never hand over the same row at the same time.
    2. Deliver each inside a savepoint (`alert_deliver`): a failure (a template error, one bad
       row) rolls back that alert's notifications and emails, counts the attempt, stores the
       error on the row and leaves it for the next run; the rest of the run goes on without it.
    3. Nothing here leaves the process: a worker killed mid-batch commits nothing for the batch
       and the next run hands it over, owing each email once (the outbox is unique per alert
       and recipient). The emails go out one at a time from the outbox.
    """
    delivered = 0
    failed_ids: set[int] = set()
    while True:
        with transaction.atomic():
            batch = list(
                Alert.objects.filter(queued_at__isnull=True)
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


def alert_email_sent(message: OutboxMessage) -> None:
    """The outbox's hook for a sent alert email (registered in MeetingsConfig.ready): once every
    email of the alert has been sent, stamp its `delivered_at` with when the last one was.

    The alert row is locked first, so two workers recording the alert's last two emails at
    the same moment take turns, and the second sees the first's email as sent.
    """
    alert_id = int(message.cause.removeprefix("alert:"))
    alert = (
        Alert.objects.select_for_update()
        .filter(pk=alert_id, delivered_at__isnull=True, queued_at__isnull=False)
        .first()
    )
    if alert is None:
        return
    emails = OutboxMessage.objects.filter(kind=ALERT_EMAIL, cause=message.cause)
    if emails.exclude(state=OutboxMessage.State.SENT).exists():
        return
    alert.delivered_at = emails.aggregate(last=Max("sent_at"))["last"]
    alert.save(update_fields=["delivered_at"])
