"""The comparison: the sweep's selection and its whole work written as raw SQL, a yardstick for
the ORM's figures (not production code)."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from django.db import connection, transaction

from benchmarks.sweep.orm_runs import BATCH_SIZE
from meetings.alerts import delivery_enqueue_on_commit
from meetings.selectors import clock_policy
from meetings.sweeps import clock_check

# The sweep's claim (meetings.sweeps.due_clocks) written by hand: the same rows and columns,
# through the partial index, locked the same way.
RAW_SELECTION = (
    "SELECT e.id, e.referral_received_at, e.first_meeting_due_at, e.status, t.name "
    "FROM meetings_episode e JOIN pod_team t ON t.id = e.team_id "
    "WHERE e.clock_next_check_at IS NOT NULL AND e.clock_next_check_at <= %s "
    "ORDER BY e.clock_next_check_at LIMIT 500 FOR UPDATE OF e SKIP LOCKED"
)


def raw_selection(now: datetime) -> list[tuple]:
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(RAW_SELECTION, [now])
        return cur.fetchall()


_RAW_WORK_READ = """
SELECT e.id, e.referral_received_at, e.first_meeting_due_at, e.status, t.name, m.held,
       m.scheduled, coalesce(a.kinds, '{}')
FROM (
    SELECT id, referral_received_at, first_meeting_due_at, status, team_id, clock_next_check_at
    FROM meetings_episode
    WHERE clock_next_check_at IS NOT NULL AND clock_next_check_at <= %(now)s
    ORDER BY clock_next_check_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED
) e
JOIN pod_team t ON t.id = e.team_id
LEFT JOIN LATERAL (
    SELECT min(actual_start) FILTER (WHERE status = 'held') AS held,
           min(scheduled_start) FILTER (WHERE status = 'scheduled') AS scheduled
    FROM meetings_meeting WHERE episode_id = e.id
) m ON true
LEFT JOIN LATERAL (
    SELECT array_agg(kind) AS kinds FROM meetings_alert
    WHERE episode_id = e.id AND prescription_id IS NULL
) a ON true
ORDER BY e.clock_next_check_at
"""


class _Row(NamedTuple):
    """One row of _RAW_WORK_READ's batch, in the shape meetings.sweeps.clock_check reads."""

    pk: int
    referral_received_at: datetime
    first_meeting_due_at: datetime
    status: str
    team__name: str


def raw_sql_sweep(*, now: datetime, batch_size: int = BATCH_SIZE) -> int:
    """The sweep's work in three statements per batch: a yardstick, not production code.

    It makes the same decisions (meetings.sweeps.clock_check, on meetings.rules) and writes the
    same rows as first_meeting_sweep, but reads the batch and its facts in one query and writes
    all alerts in one INSERT ... ON CONFLICT DO NOTHING and all next-check times in one UPDATE.
    """
    policy = clock_policy()
    raised_total = 0
    while True:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(_RAW_WORK_READ, {"now": now, "limit": batch_size})
            rows = cur.fetchall()
            if not rows:
                return raised_total
            alerts: list[object] = []
            updates: list[object] = []
            for pk, referral, due, status, team, held, scheduled, kinds in rows:
                new, next_check = clock_check(
                    _Row(pk, referral, due, status, team),
                    first_held=held,
                    earliest_scheduled=scheduled,
                    raised=set(kinds),
                    policy=policy,
                    now=now,
                )
                for _, _, kind, message in new:
                    alerts += [kind, pk, message, now]
                updates += [pk, next_check]
            if alerts:
                values = ", ".join(["(%s, %s, NULL, %s, %s, 0, '')"] * (len(alerts) // 4))
                cur.execute(
                    "INSERT INTO meetings_alert (kind, episode_id, prescription_id, message, "
                    f"raised_at, delivery_attempts, last_error) VALUES {values} "
                    "ON CONFLICT DO NOTHING RETURNING id",
                    alerts,
                )
                created = len(cur.fetchall())
                raised_total += created
                if created:
                    delivery_enqueue_on_commit()
            values = ", ".join(["(%s::bigint, %s::timestamptz)"] * len(rows))
            cur.execute(
                "UPDATE meetings_episode e SET clock_next_check_at = v.next_check "
                f"FROM (VALUES {values}) v(id, next_check) WHERE e.id = v.id",
                updates,
            )
        if len(rows) < batch_size:
            return raised_total


def explain_raw_selection(now: datetime) -> list[str]:
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " + RAW_SELECTION, [now])
        plan = [row[0] for row in cur.fetchall()]
        transaction.set_rollback(True)
    return plan
