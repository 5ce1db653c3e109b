"""The periodic checks behind the two clinical rules. Celery tasks in meetings.tasks call these.

Deadline on the row, sweep with a claim (after healthchecks.io's `sendalerts`): the database is
the clock and the broker only carries work, so a lost or repeated task changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Min, Q, QuerySet
from django.utils import timezone

from meetings import medication_rules, rules
from meetings.alerts import alerts_raise_many, delivery_enqueue_on_commit
from meetings.models import Alert, ClockCheckFailure, Episode, Meeting, Prescription
from meetings.selectors import (
    clock_policy,
    counting_policy,
    episode_held_meetings,
    held_meeting_facts,
)

if TYPE_CHECKING:
    pass

logger = logging.getLogger(__name__)

# How long an episode whose clock check raised waits before the sweep tries it again: long enough
# that a failing row costs the sweep little, short against the 24-hour window.
CLOCK_RETRY_AFTER = timedelta(minutes=10)

_CLOCK_MESSAGES = {
    rules.UNSCHEDULED: "Episode {id} ({team}): no network meeting has been arranged {hours:g} "
    "hours after the referral received {received}. The first meeting is due by {due}.",
    rules.AT_RISK: "Episode {id} ({team}): the first network meeting is due by {due} and nothing "
    "is held or scheduled before then.",
    rules.BREACHED: "Episode {id} ({team}): the {window:g}-hour first network meeting was not "
    "held by {due} (referral received {received}). Escalated to the service manager.",
}


def _fmt(instant: datetime) -> str:
    return timezone.localtime(instant).strftime("%a %d %b %H:%M")


class DueClock(Protocol):
    """A row the sweep claimed (`due_clocks`): the episode's columns the check reads."""

    @property
    def pk(self) -> int: ...
    @property
    def referral_received_at(self) -> datetime: ...
    @property
    def first_meeting_due_at(self) -> datetime: ...
    @property
    def status(self) -> str: ...
    @property
    def team__name(self) -> str: ...


def due_clocks(*, now: datetime, batch_size: int) -> QuerySet[Episode, DueClock]:
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
    3. Decide each episode's due kinds and next check time with meetings.rules
       (`clock_check`). An episode whose check raises is logged with its id and the exception
       class only (no personal data) and checked again CLOCK_RETRY_AFTER later: one bad row
       neither rolls back the batch nor makes every sweep fail on it again (as healthchecks'
       `sendalerts` keeps going past one check that fails). Its failures in a row are counted
       (ClockCheckFailure, reported by /health/monitor/); a check that succeeds clears them.
    4. Raise the batch's alerts in one INSERT ... ON CONFLICT DO NOTHING (unique per episode
       and kind), store the next check times in one UPDATE, enqueue delivery once on commit.
    5. Repeat until no due episode is left.
    """
    policy = clock_policy()
    raised_total = 0
    while True:
        with transaction.atomic():
            episodes = list(due_clocks(now=now, batch_size=batch_size))
            if not episodes:
                return raised_total
            ids = [e.pk for e in episodes]
            # episode id -> (first held meeting's start, earliest scheduled meeting's start)
            times: dict[int, tuple[datetime | None, datetime | None]] = {
                row["episode_id"]: (row["held"], row["scheduled"])
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
            failed: list[tuple[int, str]] = []
            for episode in episodes:
                try:
                    first_held, earliest_scheduled = times.get(episode.pk, (None, None))
                    alerts, next_check = clock_check(
                        episode,
                        first_held=first_held,
                        earliest_scheduled=earliest_scheduled,
                        raised=raised[episode.pk],
                        policy=policy,
                        now=now,
                    )
                except Exception as exc:  # one bad episode must not stop the others
                    # The id and the exception's class only: its message may quote the record.
                    logger.error(
                        "clock check of episode %s failed (%s); next try in %d min",
                        episode.pk,
                        type(exc).__name__,
                        CLOCK_RETRY_AFTER // timedelta(minutes=1),
                    )
                    next_checks.append((episode.pk, now + CLOCK_RETRY_AFTER))
                    failed.append((episode.pk, type(exc).__qualname__))
                    continue
                new_alerts += alerts
                next_checks.append((episode.pk, next_check))
            created = alerts_raise_many(new_alerts, now=now)
            _next_checks_store(next_checks)
            _clock_failures_store(failed, checked=ids, now=now)
            if created:
                raised_total += len(created)
                delivery_enqueue_on_commit()
        if len(episodes) < batch_size:
            return raised_total


def clock_check(
    episode: DueClock,
    *,
    first_held: datetime | None,
    earliest_scheduled: datetime | None,
    raised: set[str],
    policy: rules.ClockPolicy,
    now: datetime,
) -> tuple[list[tuple[int, None, str, str]], datetime | None]:
    """One claimed episode's check, with no database access: the alert rows to raise
    ((episode id, None, kind, message), as alerts_raise_many takes them) and the next check
    time (None: nothing can fall due any more; never at or before `now`). `episode` is a row of
    `due_clocks`; `first_held` and `earliest_scheduled` the starts of its first held and its
    earliest scheduled meeting (None: there is none); `raised` the clock alert kinds it already
    has."""
    facts = rules.ClockFacts(
        referral_received_at=episode.referral_received_at,
        first_meeting_due_at=episode.first_meeting_due_at,
        first_meeting_held_at=first_held,
        earliest_scheduled_start=earliest_scheduled,
        closed=episode.status == Episode.Status.CLOSED,
        raised=frozenset(raised),
    )
    due_kinds = rules.clock_alerts_due(facts=facts, policy=policy, now=now)
    hours = policy.unscheduled_after / timedelta(hours=1)
    window = policy.window / timedelta(hours=1)
    alerts: list[tuple[int, None, str, str]] = [
        (
            episode.pk,
            None,
            kind,
            _CLOCK_MESSAGES[kind].format(
                id=episode.pk,
                team=episode.team__name,
                hours=hours,
                window=window,
                received=_fmt(episode.referral_received_at),
                due=_fmt(episode.first_meeting_due_at),
            ),
        )
        for kind in due_kinds
    ]
    next_check = rules.clock_next_check_at(
        facts=replace(facts, raised=facts.raised | set(due_kinds)), policy=policy, now=now
    )
    # Never leave a row due "now" after it was handled, or the loop would spin.
    if next_check is not None and next_check <= now:
        next_check = now + timedelta(minutes=1)
    return alerts, next_check


def _next_checks_store(pairs: list[tuple[int, datetime | None]]) -> None:
    """Store each claimed episode's next check time in one UPDATE ... FROM (VALUES ...).

    Django's bulk_update writes the same as one CASE WHEN per row, which PostgreSQL evaluates
    against every row: about 23 ms for a batch of 100 against 6.5 ms for this statement (timed
    by hand on the dashboard benchmark's database). The column is bookkeeping, left out of the
    audit trail (pod/foundation/audit.py)."""
    if not pairs:
        return
    table = connection.ops.quote_name(Episode._meta.db_table)
    column_name = Episode._meta.get_field("clock_next_check_at").column
    if column_name is None:  # only a field without a column of its own has none
        raise TypeError("Episode.clock_next_check_at has no database column")
    column = connection.ops.quote_name(column_name)
    values = ", ".join(["(%s::bigint, %s::timestamptz)"] * len(pairs))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS e SET {column} = v.next_check "
            f"FROM (VALUES {values}) AS v(id, next_check) WHERE e.id = v.id",
            [value for pair in pairs for value in pair],
        )


def _clock_failures_store(
    failed: list[tuple[int, str]], *, checked: list[int], now: datetime
) -> None:
    """Count one more failure in a row for each (episode id, exception class) in `failed`, and
    clear the count of every other episode in `checked`, whose check succeeded."""
    failed_ids = {episode_id for episode_id, _ in failed}
    ClockCheckFailure.objects.filter(episode_id__in=set(checked) - failed_ids).delete()
    if not failed:
        return
    table = connection.ops.quote_name(ClockCheckFailure._meta.db_table)
    values = ", ".join(["(%s, 1, %s, %s, %s)"] * len(failed))
    params: list[int | str | datetime] = []
    for episode_id, error_class in failed:
        params += [episode_id, now, now, error_class[:200]]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} AS f "
            "(episode_id, failures, first_failed_at, last_failed_at, error_class) "
            f"VALUES {values} ON CONFLICT (episode_id) DO UPDATE SET "
            "failures = f.failures + 1, last_failed_at = EXCLUDED.last_failed_at, "
            "error_class = EXCLUDED.error_class",
            params,
        )


def prescriptions_audit(*, now: datetime, batch_size: int = 1000) -> int:
    """Check every prescription not yet audited, however it reached the table (service, admin,
    import, SQL); raise one `medication_violation` alert for each that breaks the rule.
    Returns how many violation alerts were raised.

    1. Claim unaudited rows through the partial index `prescription_unaudited`, SKIP LOCKED.
    2. Read, in one query, the held meetings of the batch's episodes, and count for each row
       the network meetings that count towards it (meetings.medication_rules: plausible,
       attended, distinct, started at or before it and recorded held before it was created).
       A continuing row that names no entry of the current-medication list is judged as new.
    3. Judge each row with meetings.rules. A row whose judgement raises is logged with its id
       and the exception class only, left unaudited and skipped for the rest of this run, so it
       cannot stop the others; the next run (every five minutes) tries it again.
    4. Raise the violations' alerts in one INSERT (unique per prescription and kind), mark the
       judged rows audited.
    """
    required = settings.POD_MEETINGS_BEFORE_MEDICATION
    policy = counting_policy()
    violations = 0
    failed_ids: set[int] = set()
    while True:
        with transaction.atomic():
            batch = list(
                Prescription.objects.filter(audited_at__isnull=True)
                .exclude(pk__in=failed_ids)
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("created_at")[:batch_size]
            )
            if not batch:
                return violations
            held = episode_held_meetings({p.episode_id for p in batch})
            new_alerts: list[tuple[int, int | None, str, str]] = []
            audited: list[int] = []
            for prescription in batch:
                try:
                    counted = medication_rules.counted_meeting_ids(
                        [held_meeting_facts(m) for m in held.get(prescription.episode_id, [])],
                        before=prescription.prescribed_at,
                        policy=policy,
                        now=prescription.created_at,
                    )
                    alert = _prescription_check(prescription, counted=counted, required=required)
                except Exception as exc:  # one bad row must not stop the others
                    # The id and the exception's class only: its message may quote the record.
                    logger.error(
                        "audit of prescription %s failed (%s); next try on the next run",
                        prescription.pk,
                        type(exc).__name__,
                    )
                    failed_ids.add(prescription.pk)
                    continue
                if alert is not None:
                    new_alerts.append(alert)
                audited.append(prescription.pk)
            created = alerts_raise_many(new_alerts, now=now)
            if created:
                violations += len(created)
                delivery_enqueue_on_commit()
            Prescription.objects.filter(pk__in=audited).update(audited_at=now)
        if len(batch) < batch_size:
            return violations


def _prescription_check(
    prescription: Prescription, *, counted: list[int], required: int
) -> tuple[int, int | None, str, str] | None:
    """One claimed prescription's judgement, with no database access: the violation alert row
    to raise ((episode id, prescription id, kind, message), as alerts_raise_many takes them), or
    None when it keeps the rule. `counted`: ids of the network meetings that count towards it
    now (the meetings' records as they stand, after any correction)."""
    held = len(counted)
    is_new = prescription.is_new or prescription.current_medication_id is None
    if not rules.prescription_violates_rule(
        is_new=is_new,
        meetings_held_before=held,
        meetings_required=required,
        override_reason=prescription.override_reason,
        override_explanation=prescription.override_explanation,
    ):
        return None
    return (
        prescription.episode_id,
        prescription.pk,
        Alert.Kind.MEDICATION_VIOLATION,
        violation_words(prescription, counted=counted, required=required),
    )


def violation_words(prescription: Prescription, *, counted: list[int], required: int) -> str:
    """The audit's finding for a prescription that breaks the rule, in words that say how.

    Two ways a new medicine ends up short of `required` counted meetings:
    - it went through POD's prescribing form (it stored the meetings it counted,
      `counted_meeting_ids`) and a held meeting's record was corrected afterwards, so that
      meeting no longer counts (meetings.services.lifecycle.meeting_correct reopens the audit);
    - it did not go through the form (admin, import or a direct database change).
    """
    held = len(counted)
    then = prescription.counted_meeting_ids
    no_longer = [i for i in then or [] if i not in set(counted)]
    if no_longer and then is not None:
        lost = ", ".join(str(i) for i in no_longer)
        return (
            f"Episode {prescription.episode_id}: a new medicine (prescription "
            f"{prescription.pk}) was prescribed when {len(then)} "
            f"of {prescription.meetings_required or required} network meetings counted. A "
            "held meeting's record was corrected afterwards: "
            f"{held} of {required} now count (no longer counting: meeting {lost}). There was "
            "no rapid-response override. See the meeting's history for the correction."
        )
    return (
        f"Episode {prescription.episode_id}: a new medicine "
        f"(prescription {prescription.pk}) was recorded after {held} "
        f"of {required} network meetings, without a rapid-response override."
        + (
            " It did not go through POD's prescribing form (admin, import or direct "
            "database change)."
            if then is None
            else ""
        )
    )
