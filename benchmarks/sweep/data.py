"""The benchmark's data, written with SQL: the organisation, the open clocks due at `now`, and
the closed episodes generated in chunks (INSERT ... SELECT generate_series)."""

from __future__ import annotations

import time
from datetime import datetime

from django.db import connection

from benchmarks.sweep.database import Log


def load_base() -> list[int]:
    """Four trusts, an EIP and a CRT team in each, two clinicians per team. Returns team ids."""
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO pod_trust (name, code) "
            "SELECT 'Bench Trust ' || g, 'BT' || g FROM generate_series(1, 4) g"
        )
        cur.execute(
            "INSERT INTO pod_team (trust_id, name, kind) "
            "SELECT t.id, k.kind || ' team', k.kind FROM pod_trust t "
            "CROSS JOIN (VALUES ('EIP'), ('CRT')) k(kind) ORDER BY t.id, k.kind"
        )
        cur.execute("SELECT id FROM pod_team ORDER BY id")
        teams = [row[0] for row in cur.fetchall()]
        cur.execute(
            "INSERT INTO pod_user (password, is_superuser, username, first_name, last_name, "
            "email, is_staff, is_active, date_joined, role, profession) "
            "SELECT '!', false, 'bench' || g, 'Bench', 'Clinician ' || g, "
            "'bench' || g || '@example.invalid', false, true, now(), 'clinician', 'nurse' "
            "FROM generate_series(1, %s) g",
            [2 * len(teams)],
        )
        cur.execute(
            "INSERT INTO pod_teammembership (user_id, team_id, joined_on) "
            "SELECT u.id, (%s::bigint[])[1 + (row_number() OVER (ORDER BY u.id) - 1) %% %s], "
            "NULL FROM pod_user u",
            [teams, len(teams)],
        )
    return teams


def load_open_clocks(*, now: datetime, teams: list[int], count: int) -> list[int]:
    """`count` open episodes whose clocks are due at `now`, in four situations:

    40 %: referred 25 h ago, nothing arranged      -> `breached`
    30 %: referred 21 h ago, nothing arranged      -> `unscheduled` and `at_risk`
    20 %: referred 21 h ago, meeting after the due  -> `at_risk`
    10 %: referred 5 h ago, meeting before the due  -> nothing; next check moves on
    Each clock's first check is referral + 4 h, as `episode_open` would store it.
    """
    with connection.cursor() as cur:
        cur.execute(
            """
            WITH src AS (
                SELECT g,
                       %(now)s::timestamptz - make_interval(secs => g)
                         - CASE WHEN g <= %(count)s * 0.4 THEN interval '25 hours'
                                WHEN g <= %(count)s * 0.9 THEN interval '21 hours'
                                ELSE interval '5 hours' END AS referral
                FROM generate_series(1, %(count)s) g
            ), su AS (
                INSERT INTO networks_serviceuser (nhs_number, given_name, family_name,
                    preferred_name, date_of_birth, phone, email, address, postcode, trial_arm,
                    created_at, team_id)
                SELECT (9000000000 + g)::text, 'Open', 'Clock ' || g, '', date '1990-01-01',
                       '', '', '', '', 'POD', %(now)s, (%(teams)s::bigint[])[1 + g %% %(nteams)s]
                FROM src
                RETURNING id, team_id, nhs_number
            )
            INSERT INTO meetings_episode (referral_received_at, referral_source, triage_category,
                reason, status, first_meeting_due_at, first_meeting_held_at,
                time_to_first_meeting, clock_next_check_at, closed_at, closure_outcome,
                created_at, created_by_id, service_user_id, team_id)
            SELECT src.referral, 'gp', 'C', 'Benchmark open clock', 'referred',
                   src.referral + interval '24 hours', NULL, NULL,
                   src.referral + interval '4 hours', NULL, '', %(now)s, NULL, su.id, su.team_id
            FROM su JOIN src ON su.nhs_number = (9000000000 + src.g)::text
            """,
            {"now": now, "count": count, "teams": teams, "nteams": len(teams)},
        )
        # Newest referral first: the 5-hour group (10 %), then the 21-hour group (50 %).
        cur.execute(
            "SELECT id FROM meetings_episode WHERE reason = 'Benchmark open clock' "
            "ORDER BY referral_received_at DESC"
        )
        ids = [row[0] for row in cur.fetchall()]
        before_due = ids[: int(count * 0.1)]
        after_due = ids[int(count * 0.1) : int(count * 0.3)]
        # A meeting arranged after the due time (at risk), and one before it (in time).
        for episode_ids, offset in ((after_due, "26 hours"), (before_due, "20 hours")):
            cur.execute(
                "INSERT INTO meetings_meeting (scheduled_start, scheduled_end, location, "
                "location_detail, status, actual_start, actual_end, cancelled_reason, created_at,"
                " created_by_id, episode_id) "
                f"SELECT e.referral_received_at + interval '{offset}', "
                f"e.referral_received_at + interval '{offset}' + interval '1 hour', 'home', '', "
                "'scheduled', NULL, NULL, '', %s, NULL, e.id "
                "FROM meetings_episode e WHERE e.id = ANY(%s)",
                [now, episode_ids],
            )
    return ids


_CLOSED_CHUNK_SQL = """
WITH su AS (
    INSERT INTO networks_serviceuser (nhs_number, given_name, family_name, preferred_name,
        date_of_birth, phone, email, address, postcode, trial_arm, created_at, team_id)
    SELECT (1000000000 + g)::text, 'Closed', 'Person ' || g, '',
           date '1960-01-01' + (g %% 15000), '', '', '', '',
           CASE WHEN g %% 2 = 0 THEN 'POD' ELSE 'TAU' END, %(now)s,
           (%(teams)s::bigint[])[1 + g %% %(nteams)s]
    FROM generate_series(%(lo)s, %(hi)s) g
    RETURNING id, team_id, nhs_number
), ep AS (
    INSERT INTO meetings_episode (referral_received_at, referral_source, triage_category, reason,
        status, first_meeting_due_at, first_meeting_held_at, time_to_first_meeting,
        clock_next_check_at, closed_at, closure_outcome, created_at, created_by_id,
        service_user_id, team_id)
    SELECT r.at, 'gp', 'C', 'Benchmark closed episode', 'closed', r.at + interval '24 hours',
           r.at + interval '10 hours', interval '10 hours', NULL, r.at + interval '90 days',
           'Discharged', %(now)s, NULL, su.id, su.team_id
    FROM su, LATERAL (
        SELECT %(now)s::timestamptz - interval '100 days'
               - (su.nhs_number::bigint %% 1000) * interval '1 day'
               - (su.nhs_number::bigint %% 86400) * interval '1 second' AS at
    ) r
    RETURNING id, first_meeting_held_at
), mt AS (
    INSERT INTO meetings_meeting (scheduled_start, scheduled_end, location, location_detail,
        status, actual_start, actual_end, cancelled_reason, created_at, created_by_id, episode_id)
    SELECT ep.first_meeting_held_at, ep.first_meeting_held_at + interval '1 hour', 'home', '',
           'held', ep.first_meeting_held_at, ep.first_meeting_held_at + interval '1 hour', '',
           %(now)s, NULL, ep.id
    FROM ep
)
INSERT INTO meetings_alert (kind, message, raised_at, delivered_at, delivery_attempts,
    last_error, episode_id, prescription_id)
SELECT 'unscheduled', 'Benchmark closed-episode alert', ep.first_meeting_held_at,
       ep.first_meeting_held_at, 1, '', ep.id, NULL
FROM ep WHERE ep.id %% 10 = 0
"""


def closed_count() -> int:
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM meetings_episode WHERE status = 'closed'")
        return cur.fetchone()[0]


def load_closed(*, now: datetime, teams: list[int], target: int, chunk: int, log: Log) -> None:
    """Top the closed episodes up to `target`, in chunks of `chunk`, printing progress."""
    have = closed_count()
    todo = target - have
    if todo <= 0:
        return
    log(f"generating {todo:,} closed episodes ({have:,} -> {target:,}), chunks of {chunk:,}")
    started = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("SET synchronous_commit TO off")  # bulk load; durability is not the point
        # No foreign-key triggers during the load: every generated row references rows that
        # exist by construction (the check constraints still apply).
        cur.execute("SET session_replication_role TO replica")
        # Secondary indexes that back no constraint are dropped for the load and built again
        # afterwards from their own definitions (a sorted build beats row-by-row upkeep).
        cur.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i "
            "JOIN pg_class c ON c.relname = i.indexname "
            "WHERE i.schemaname = 'public' AND i.tablename = ANY(%s) "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = c.oid)",
            [list(_LOADED_TABLES)],
        )
        dropped = cur.fetchall()
        for name, _ in dropped:
            cur.execute(f'DROP INDEX "{name}"')
        done = 0
        while done < todo:
            n = min(chunk, todo - done)
            lo = have + done + 1
            cur.execute(
                _CLOSED_CHUNK_SQL,
                {"now": now, "teams": teams, "nteams": len(teams), "lo": lo, "hi": lo + n - 1},
            )
            done += n
            elapsed = time.perf_counter() - started
            rate = done / elapsed if elapsed else 0.0
            eta = (todo - done) / rate if rate else 0.0
            log(
                f"  {have + done:>10,} / {target:,} closed episodes  "
                f"{rate:,.0f} episodes/s  elapsed {elapsed:.0f} s  eta {eta:.0f} s"
            )
        log(f"  rebuilding {len(dropped)} secondary indexes")
        for _, definition in dropped:
            cur.execute(definition)
        cur.execute("SET session_replication_role TO DEFAULT")
        cur.execute("SET synchronous_commit TO DEFAULT")
    log(f"generated in {time.perf_counter() - started:.1f} s")


_LOADED_TABLES = ("networks_serviceuser", "meetings_episode", "meetings_meeting", "meetings_alert")


def analyse() -> None:
    with connection.cursor() as cur:
        for table in _LOADED_TABLES:
            cur.execute(f"VACUUM ANALYZE {table}")


def table_sizes() -> dict[str, str]:
    sizes = {}
    with connection.cursor() as cur:
        for name in ("meetings_episode", "episode_clock_due", "meetings_meeting", "meetings_alert"):
            cur.execute("SELECT pg_size_pretty(pg_total_relation_size(%s::regclass))", [name])
            sizes[name] = cur.fetchone()[0]
    return sizes


def reset_open_clocks(open_ids: list[int]) -> None:
    """Every open clock due again (first check at referral + 4 h), with no alerts raised.

    VACUUM then clears the dead index entries the previous run left (every sweep rewrites its
    rows), so each repetition starts alike rather than with an ever-growing dead tail.
    """
    with connection.cursor() as cur:
        cur.execute("DELETE FROM meetings_alert WHERE episode_id = ANY(%s)", [open_ids])
        cur.execute(
            "UPDATE meetings_episode SET clock_next_check_at = "
            "referral_received_at + interval '4 hours' WHERE id = ANY(%s)",
            [open_ids],
        )
        cur.execute("VACUUM meetings_episode, meetings_alert")
