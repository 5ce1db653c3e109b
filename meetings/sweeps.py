"""The periodic checks behind the two clinical rules. Celery tasks in meetings.tasks call these.

Deadline on the row, sweep with a claim (after healthchecks.io's `sendalerts`): the database is
the clock and the broker only carries work, so a lost or repeated task changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Min, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from meetings import rules
from meetings.alerts import alert_raise, alerts_raise_many, delivery_enqueue_on_commit
from meetings.models import Alert, Episode, Meeting, Prescription
from meetings.selectors import clock_policy

logger = logging.getLogger(__name__)

_CLOCK_MESSAGES = {
    rules.UNSCHEDULED: "Episode {id} ({team}): no network meeting has been arranged {hours:g} "
    "hours after the referral received {received}. The first meeting is due by {due}.",
    rules.AT_RISK: "Episode {id} ({team}): the first network meeting is due by {due} and nothing "
    "is held or scheduled before then.",
    rules.BREACHED: "Episode {id} ({team}): the 24-hour first network meeting was not held by "
    "{due} (referral received {received}). Escalated to the service manager.",
}


def _fmt(instant: datetime) -> str:
    return timezone.localtime(instant).strftime("%a %d %b %H:%M")


def due_clocks(*, now: datetime, batch_size: int):
    """The sweep's claim: up to `batch_size` episodes whose next clock check has come.

    Reached through the partial index `episode_clock_due` (only open clocks are in it), locked
    FOR UPDATE SKIP LOCKED so a concurrent sweep takes other rows, and read as plain rows: the
    sweep needs six columns, not model instances.
    """
    return (
        Episode.objects.filter(clock_next_check_at__lte=now)
        .select_for_update(skip_locked=True, of=("self",))
        .order_by("clock_next_check_at")
        .values_list(
            "pk",
            "referral_received_at",
            "first_meeting_due_at",
            "status",
            "team__name",
            named=True,
        )[:batch_size]
    )


def first_meeting_sweep(*, now: datetime, batch_size: int = 500) -> int:
    """Raise the 24-hour clock alerts that are due; returns how many alerts were raised.

    1. In one transaction, claim a batch of due episodes (`due_clocks`).
    2. Read the facts for the whole batch in two queries (meeting times, raised kinds).
    3. Decide each episode's due kinds and next check time with meetings.rules.
    4. Raise the batch's alerts in one INSERT ... ON CONFLICT DO NOTHING (unique per episode
       and kind), store the next check times in one UPDATE, enqueue delivery once on commit.
    5. Repeat until no due episode is left.
    """
    policy = clock_policy()
    hours = policy.unscheduled_after.total_seconds() / 3600
    raised_total = 0
    while True:
        with transaction.atomic():
            episodes = list(due_clocks(now=now, batch_size=batch_size))
            if not episodes:
                return raised_total
            ids = [e.pk for e in episodes]
            times = {
                row["episode_id"]: row
                for row in Meeting.objects.filter(episode_id__in=ids)
                .values("episode_id")
                .annotate(
                    held=Min("actual_start", filter=Q(status=Meeting.Status.HELD)),
                    scheduled=Min("scheduled_start", filter=Q(status=Meeting.Status.SCHEDULED)),
                )
            }
            raised: dict[int, set[str]] = {pk: set() for pk in ids}
            for episode_id, kind in Alert.objects.filter(
                episode_id__in=ids, prescription__isnull=True
            ).values_list("episode_id", "kind"):
                raised[episode_id].add(kind)
            new_alerts: list[tuple[int, None, str, str]] = []
            next_checks: list[tuple[int, datetime | None]] = []
            for episode in episodes:
                row = times.get(episode.pk, {})
                facts = rules.ClockFacts(
                    referral_received_at=episode.referral_received_at,
                    first_meeting_due_at=episode.first_meeting_due_at,
                    first_meeting_held_at=row.get("held"),
                    earliest_scheduled_start=row.get("scheduled"),
                    closed=episode.status == Episode.Status.CLOSED,
                    raised=frozenset(raised[episode.pk]),
                )
                due_kinds = rules.clock_alerts_due(facts=facts, policy=policy, now=now)
                for kind in due_kinds:
                    message = _CLOCK_MESSAGES[kind].format(
                        id=episode.pk,
                        team=episode.team__name,
                        hours=hours,
                        received=_fmt(episode.referral_received_at),
                        due=_fmt(episode.first_meeting_due_at),
                    )
                    new_alerts.append((episode.pk, None, kind, message))
                next_check = rules.clock_next_check_at(
                    facts=replace(facts, raised=facts.raised | set(due_kinds)),
                    policy=policy,
                    now=now,
                )
                # Never leave a row due "now" after it was handled, or the loop would spin.
                if next_check is not None and next_check <= now:
                    next_check = now + timedelta(minutes=1)
                next_checks.append((episode.pk, next_check))
            created = alerts_raise_many(new_alerts, now=now)
            _next_checks_store(next_checks)
            if created:
                raised_total += len(created)
                delivery_enqueue_on_commit()
        if len(episodes) < batch_size:
            return raised_total


def _next_checks_store(pairs: list[tuple[int, datetime | None]]) -> None:
    """Store each claimed episode's next check time in one UPDATE ... FROM (VALUES ...).

    Django's bulk_update writes the same as one CASE WHEN per row, which PostgreSQL evaluates
    against every row: about 23 ms for a batch of 100 against 6.5 ms for this statement (timed
    by hand on the dashboard benchmark's database). The column is bookkeeping, left out of the
    audit trail (pod/foundation/audit.py)."""
    if not pairs:
        return
    table = connection.ops.quote_name(Episode._meta.db_table)
    column = connection.ops.quote_name(Episode._meta.get_field("clock_next_check_at").column)
    values = ", ".join(["(%s::bigint, %s::timestamptz)"] * len(pairs))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS e SET {column} = v.next_check "
            f"FROM (VALUES {values}) AS v(id, next_check) WHERE e.id = v.id",
            [value for pair in pairs for value in pair],
        )


def prescriptions_audit(*, now: datetime, batch_size: int = 1000) -> int:
    """Check every prescription not yet audited, however it reached the table (service, admin,
    import, SQL); raise one `medication_violation` alert for each that breaks the rule.

    1. Claim unaudited rows through the partial index `prescription_unaudited`, SKIP LOCKED.
    2. Count, in the same query, the held meetings of each row's episode at or before it.
    3. Raise an alert per violation (unique per prescription and kind), mark the rows audited.
    """
    required = settings.POD_MEETINGS_BEFORE_MEDICATION
    violations = 0
    held_before = (
        Meeting.objects.filter(
            episode_id=OuterRef("episode_id"),
            status=Meeting.Status.HELD,
            actual_start__lte=OuterRef("prescribed_at"),
        )
        .order_by()
        .values("episode_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    while True:
        with transaction.atomic():
            batch = list(
                Prescription.objects.filter(audited_at__isnull=True)
                .select_for_update(skip_locked=True, of=("self",))
                .annotate(held=Coalesce(Subquery(held_before), 0))
                .select_related("episode")
                .order_by("created_at")[:batch_size]
            )
            if not batch:
                return violations
            for prescription in batch:
                if rules.prescription_violates_rule(
                    is_new=prescription.is_new,
                    meetings_held_before=prescription.held,
                    meetings_required=required,
                    override_reason=prescription.override_reason,
                    override_explanation=prescription.override_explanation,
                ):
                    message = (
                        f"Episode {prescription.episode_id}: a new medicine "
                        f"(prescription {prescription.pk}) was recorded after {prescription.held} "
                        f"of {required} network meetings, without a rapid-response override. "
                        "It did not go through POD's prescribing form (admin, import or direct "
                        "database change)."
                    )
                    if alert_raise(
                        episode=prescription.episode,
                        prescription=prescription,
                        kind=Alert.Kind.MEDICATION_VIOLATION,
                        message=message,
                        now=now,
                    ):
                        violations += 1
            Prescription.objects.filter(pk__in=[p.pk for p in batch]).update(audited_at=now)
        if len(batch) < batch_size:
            return violations
