"""Benchmark of the 24-hour first-meeting sweep (issue 2, "Performance").

The claim under test: the sweep's cost depends on the number of *open* clocks, not on how many
episodes have ever been closed, because it reaches the due rows through the partial index
`episode_clock_due` (closed episodes carry `clock_next_check_at = NULL`, so they are not in it).

What runs (see `run`):
1. One database per size (default `pod_bench_sweep_10000` and `pod_bench_sweep_1000000`) on the
   server named by DATABASE_URL is dropped, created and migrated; Django's default connection is
   pointed at it before its first query (see `use_database`).
2. Trusts, teams, staff and 100 open clocks that are due now (some with meetings) are written
   with SQL; closed episodes (each with its service user, one held meeting, and an alert for one
   in ten) are generated with INSERT ... SELECT generate_series in chunks, printing progress
   (secondary indexes rebuilt after the load, foreign-key triggers off during it); then
   VACUUM ANALYZE.
3. In rounds that alternate between the databases (so a change in machine load hits both), with
   the same `now`, it times:
   - the sweep itself, `first_meeting_sweep(now=..., batch_size=500)`, with the 100 clocks reset
     to due and their alerts deleted before every run;
   - the same work written as raw SQL (one query reads the batch and its facts, one INSERT
     raises every alert, one UPDATE stores the next check times), as a floor for the sweep;
   - the sweep's own selection (the ORM queryset it runs, in a transaction), the same selection
     written as raw SQL on the partial index, and the ORM's SQL run on a bare cursor.
   It records the plans (EXPLAIN ANALYZE) to show the partial index in use.
4. The figures go to meetings/benchmarks/RESULTS.md; the databases are dropped.

Broker publishes are not timed: `alert_raise` enqueues delivery on commit, and that call is
replaced by a counter here (the count is reported), so the figures are database work only.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from unittest import mock

import psycopg2
from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from meetings import alerts as alerts_module
from meetings import rules
from meetings.models import Episode
from meetings.selectors import clock_policy
from meetings.sweeps import _CLOCK_MESSAGES, _fmt, due_clocks, first_meeting_sweep

RESULTS_PATH = Path(__file__).resolve().parent / "RESULTS.md"
BATCH_SIZE = 500

# The sweep's claim (meetings.sweeps.due_clocks) written by hand: the same rows and columns,
# through the partial index, locked the same way.
RAW_SELECTION = (
    "SELECT e.id, e.referral_received_at, e.first_meeting_due_at, e.status, t.name "
    "FROM meetings_episode e JOIN pod_team t ON t.id = e.team_id "
    "WHERE e.clock_next_check_at IS NOT NULL AND e.clock_next_check_at <= %s "
    "ORDER BY e.clock_next_check_at LIMIT 500 FOR UPDATE OF e SKIP LOCKED"
)

Log = Callable[[str], None]


@dataclass
class SizeResult:
    closed: int
    sweep_ms: list[float] = field(default_factory=list)
    alerts_per_sweep: int = 0
    queries_per_sweep: int = 0
    enqueues_per_sweep: int = 0
    orm_selection_ms: list[float] = field(default_factory=list)
    raw_selection_ms: list[float] = field(default_factory=list)
    orm_sql_raw_ms: list[float] = field(default_factory=list)
    raw_work_ms: list[float] = field(default_factory=list)
    plan: list[str] = field(default_factory=list)
    orm_plan: list[str] = field(default_factory=list)
    table_sizes: dict[str, str] = field(default_factory=dict)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


# --- The database --------------------------------------------------------------------------


def _server_connection():
    """A psycopg2 connection to the maintenance database of the server in DATABASE_URL."""
    db = settings.DATABASES["default"]
    conn = psycopg2.connect(
        dbname="postgres",
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
    )
    conn.autocommit = True
    return conn


def use_database(name: str) -> None:
    """Point Django's default connection at `name` before it queries anything.

    This is what Django's own test runner does for the test database (creation.py sets both
    `settings.DATABASES[alias]["NAME"]` and `connection.settings_dict["NAME"]`, which are the
    same dict): close the connection, rename, and the next query connects to the new database.
    """
    connections.close_all()
    settings.DATABASES["default"]["NAME"] = name
    connection.settings_dict["NAME"] = name


def recreate_database(name: str, log: Log) -> None:
    configured = settings.DATABASES["default"]["NAME"]
    if name == configured or "bench" not in name:
        raise ValueError(
            f"refusing to drop {name!r}: the benchmark database must differ from the configured "
            f"one ({configured!r}) and contain 'bench' in its name"
        )
    connections.close_all()
    conn = _server_connection()
    try:
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cur.execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()
    log(f"created database {name}")
    use_database(name)
    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    log(f"migrated in {time.perf_counter() - started:.1f} s")


def drop_database(name: str, log: Log) -> None:
    connections.close_all()
    conn = _server_connection()
    try:
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        conn.close()
    log(f"dropped database {name}")


# --- Data ----------------------------------------------------------------------------------


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


# --- The measurements ----------------------------------------------------------------------


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


@contextmanager
def counted_enqueues():
    """Replace the on-commit broker publish of `alert_raise` with a counter."""
    calls = {"n": 0}

    def fake() -> None:
        calls["n"] += 1

    with mock.patch("meetings.alerts._enqueue_delivery", fake):
        yield calls


def _timed(fn: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn()
    return (time.perf_counter() - started) * 1000, result


def orm_selection(now: datetime) -> list:
    """The sweep's selection, exactly as meetings.sweeps.first_meeting_sweep writes it."""
    with transaction.atomic():
        return list(due_clocks(now=now, batch_size=BATCH_SIZE))


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


def raw_sql_sweep(*, now: datetime, batch_size: int = BATCH_SIZE) -> int:
    """The sweep's work in three statements per batch: a yardstick, not production code.

    It applies the same pure rules (meetings.rules) and writes the same rows as
    first_meeting_sweep, but reads the batch and its facts in one query and writes all alerts
    in one INSERT ... ON CONFLICT DO NOTHING and all next-check times in one UPDATE.
    """
    policy = clock_policy()
    hours = policy.unscheduled_after.total_seconds() / 3600
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
                facts = rules.ClockFacts(
                    referral_received_at=referral,
                    first_meeting_due_at=due,
                    first_meeting_held_at=held,
                    earliest_scheduled_start=scheduled,
                    closed=status == Episode.Status.CLOSED,
                    raised=frozenset(kinds),
                )
                new = rules.clock_alerts_due(facts=facts, policy=policy, now=now)
                for kind in new:
                    message = _CLOCK_MESSAGES[kind].format(
                        id=pk, team=team, hours=hours, received=_fmt(referral), due=_fmt(due)
                    )
                    alerts += [kind, pk, message, now]
                next_check = rules.clock_next_check_at(
                    facts=replace(facts, raised=facts.raised | set(new)), policy=policy, now=now
                )
                if next_check is not None and next_check <= now:
                    next_check = now + timedelta(minutes=1)
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
                    transaction.on_commit(alerts_module._enqueue_delivery)
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


def explain_orm_selection(now: datetime) -> list[str]:
    with transaction.atomic():
        qs = due_clocks(now=now, batch_size=BATCH_SIZE)
        plan = qs.explain(analyze=True, costs=False, timing=False, summary=False)
        transaction.set_rollback(True)
    return plan.splitlines()


@dataclass
class Dataset:
    """One benchmark database: `closed` closed episodes plus the same open clocks."""

    closed: int
    name: str
    open_ids: list[int]
    result: SizeResult


def orm_sql(now: datetime) -> tuple[str, tuple]:
    """The SQL text and parameters of the sweep's ORM selection."""
    with transaction.atomic():
        qs = due_clocks(now=now, batch_size=BATCH_SIZE)
        return qs.query.sql_with_params()


def orm_sql_raw(sql: str, params: tuple) -> list[tuple]:
    """The SQL the sweep's ORM selection sends (compiled beforehand), on a bare cursor."""
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def profile_once(ds: Dataset, *, now: datetime) -> None:
    """Untimed: how many alerts and queries one sweep makes, the plans, the sizes."""
    use_database(ds.name)
    r = ds.result
    with counted_enqueues() as enqueues:
        reset_open_clocks(ds.open_ids)
        with CaptureQueriesContext(connection) as queries:
            r.alerts_per_sweep = first_meeting_sweep(now=now, batch_size=BATCH_SIZE)
        r.queries_per_sweep = len(queries)
        r.enqueues_per_sweep = enqueues["n"]
    reset_open_clocks(ds.open_ids)
    r.plan = explain_raw_selection(now)
    r.orm_plan = explain_orm_selection(now)
    r.table_sizes = table_sizes()


def time_round(ds: Dataset, *, now: datetime, selection_repeats: int) -> None:
    """One timed round on one database: a sweep, the same work in raw SQL, the selections.

    Each round reconnects (the databases alternate), so it first runs everything once untimed.
    """
    use_database(ds.name)
    r, open_ids = ds.result, ds.open_ids
    with counted_enqueues():
        for timed in (False, True):
            reset_open_clocks(open_ids)
            ms, raised = _timed(lambda: first_meeting_sweep(now=now, batch_size=BATCH_SIZE))
            if raised != r.alerts_per_sweep:
                raise RuntimeError(f"sweep raised {raised}, expected {r.alerts_per_sweep}")
            if timed:
                r.sweep_ms.append(ms)
            reset_open_clocks(open_ids)
            ms, raised = _timed(lambda: raw_sql_sweep(now=now, batch_size=BATCH_SIZE))
            if raised != r.alerts_per_sweep:
                raise RuntimeError(f"raw sweep raised {raised}, expected {r.alerts_per_sweep}")
            if timed:
                r.raw_work_ms.append(ms)
    # The selections, with every clock due (as the sweep sees them), interleaved.
    reset_open_clocks(open_ids)
    sql, params = orm_sql(now)
    kinds = (
        (lambda: orm_selection(now), r.orm_selection_ms),
        (lambda: raw_selection(now), r.raw_selection_ms),
        (lambda: orm_sql_raw(sql, params), r.orm_sql_raw_ms),
    )
    for fn, _ in kinds:
        fn()  # warm-up
    for _ in range(selection_repeats):
        for fn, into in kinds:
            ms, rows = _timed(fn)
            if len(rows) != len(open_ids):
                raise RuntimeError(f"selection returned {len(rows)} rows, not {len(open_ids)}")
            into.append(ms)


# --- The report ----------------------------------------------------------------------------


def _machine() -> dict[str, str]:
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    with connection.cursor() as cur:
        cur.execute("SELECT version()")
        pg = cur.fetchone()[0].split(" on ")[0]
        cur.execute("SHOW shared_buffers")
        shared_buffers = cur.fetchone()[0]
    try:
        commit = subprocess.run(
            ["git", "describe", "--always", "--dirty"],  # "-dirty": uncommitted changes too
            capture_output=True,
            text=True,
            check=False,
            cwd=Path(__file__).resolve().parent,
        ).stdout.strip()
    except OSError:
        commit = ""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "cpus": str(os.cpu_count()),
        "cpu": cpu,
        "memory": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "postgres": pg,
        "shared_buffers": shared_buffers,
        "python": platform.python_version(),
        "commit": commit,
        "load": f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}",
    }


def _verdict(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def render(
    results: list[SizeResult],
    *,
    now: datetime,
    open_count: int,
    repeats: int,
    selection_repeats: int,
    machine: dict[str, str],
    command: str,
    generation_s: float,
) -> str:
    small, large = results[0], results[-1]

    def ratios(num: str, den: str) -> list[float]:
        return [median(getattr(r, num)) / median(getattr(r, den)) for r in results]

    def listed(values: list[float], digits: int) -> str:
        return ", ".join(
            f"{v:.{digits}f}x at {r.closed:,}" for v, r in zip(values, results, strict=True)
        )

    flat = median(large.sweep_ms) / median(small.sweep_ms)
    flat_min = min(large.sweep_ms) / min(small.sweep_ms)
    orm = ratios("orm_selection_ms", "raw_selection_ms")
    whole = ratios("sweep_ms", "raw_selection_ms")
    work = ratios("sweep_ms", "raw_work_ms")
    lines = [
        "# Benchmark: the 24-hour first-meeting sweep",
        "",
        "Written by `manage.py bench_sweep` (meetings/benchmarks/sweep.py); do not edit by hand.",
        "",
        f"- Run at: {timezone.localtime():%Y-%m-%d %H:%M %Z} (sweep `now` = "
        f"{timezone.localtime(now):%Y-%m-%d %H:%M:%S %Z}), commit `{machine['commit']}`",
        f"- Machine: {machine['cpus']} CPUs ({machine['cpu']}), {machine['memory']} memory; "
        f"load average at the end {machine['load']} (other work shared this machine, so "
        "single figures are noisy; the medians and the alternating rounds are there for that)",
        f"- {machine['postgres']}, shared_buffers {machine['shared_buffers']}, "
        f"Python {machine['python']}, Django's debug cursor off",
        f"- Data: one database per size, each with the same {open_count} open clocks, all due "
        "at `now` (40 % breach, 30 % raise `unscheduled` and `at_risk`, 20 % have a meeting "
        "after the due time and raise `at_risk`, 10 % have one in time and raise nothing), "
        "among the closed episodes below. Each closed episode has its own service user and one "
        "held meeting; one in ten has a delivered alert. Generating the data (INSERT ... SELECT "
        f"generate_series in chunks of 100,000, then VACUUM ANALYZE) took {generation_s:.0f} s.",
        f"- {repeats} rounds alternate between the sizes (small, large, large, small, ...). In "
        "each, the clocks are reset to due and their alerts deleted (then VACUUM) before every "
        "run; one untimed sweep follows the reconnect; then one sweep and one raw-SQL sweep are "
        f"timed, and each selection {selection_repeats} times, interleaved. Figures are medians "
        "of wall-clock time in the Django process, round trips to PostgreSQL on 127.0.0.1 and "
        "the COMMIT included. Broker publishes are counted, not timed.",
        "",
        "Rerun (a few minutes; creates and then drops `pod_bench_sweep_<size>` on the server in "
        "DATABASE_URL):",
        "",
        "```",
        command,
        "```",
        "",
        "## Figures (milliseconds, median)",
        "",
        "| closed episodes | sweep (whole) | alerts raised | queries | sweep's selection (ORM) "
        "| same selection, raw SQL | the ORM's SQL, raw | same work, raw SQL |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.closed:,} | {median(r.sweep_ms):.1f} | {r.alerts_per_sweep} | "
            f"{r.queries_per_sweep} | {median(r.orm_selection_ms):.2f} | "
            f"{median(r.raw_selection_ms):.2f} | {median(r.orm_sql_raw_ms):.2f} | "
            f"{median(r.raw_work_ms):.1f} |"
        )
    lines += [
        "",
        "- *sweep (whole)*: `first_meeting_sweep(now=now, batch_size=500)`, one transaction.",
        "- *sweep's selection (ORM)*: the queryset the sweep claims its batch with "
        "(`meetings.sweeps.due_clocks`), evaluated in a transaction.",
        "- *same selection, raw SQL*: `"
        + RAW_SELECTION.replace("%s", ":now")
        + "` in a transaction.",
        "- *the ORM's SQL, raw*: the SQL text Django generates for the sweep's selection, run on "
        "a bare cursor: the database's share of the ORM selection, without building objects.",
        "- *same work, raw SQL*: `raw_sql_sweep` in sweep.py, the sweep's work in three "
        "statements (one read of the batch with its meeting times and raised alerts, one "
        "multi-row INSERT ... ON CONFLICT DO NOTHING of the alerts, one UPDATE ... FROM VALUES "
        "of the next-check times), same rules, same rows written.",
        "",
        "## Targets (issue 2, Performance)",
        "",
        f"1. **Flat as closed episodes grow {large.closed // max(small.closed, 1)}x**: sweep at "
        f"{large.closed:,} / sweep at {small.closed:,} = **{flat:.2f}x** on medians "
        f"({flat_min:.2f}x on the fastest runs); target <= 1.5x: {_verdict(flat <= 1.5)}.",
        f"2. **Within 2x of the same selection written as raw SQL**, read as the sweep's "
        f"selection against that raw SQL: {listed(orm, 2)}; target <= 2x: "
        f"{_verdict(max(orm) <= 2)}.",
        f"3. Read as the *whole* sweep against that selection: {listed(whole, 0)}: "
        f"{_verdict(max(whole) <= 2)}, and it cannot be: besides the selection the sweep reads "
        f"the meetings and alerts of the batch and writes {large.alerts_per_sweep} alert rows "
        f"and {open_count} next-check times in the same transaction.",
        f"4. The whole sweep against the same work written as raw SQL: {listed(work, 1)} "
        f"(against 2x: {_verdict(max(work) <= 2)}).",
        "",
        f"Plan of the raw selection at {large.closed:,} closed episodes (EXPLAIN ANALYZE): an "
        "index scan of the partial index, already in `clock_next_check_at` order:",
        "",
        "```",
        *large.plan,
        "```",
        "",
        "Plan of the sweep's ORM selection at the same size (joined to the team, FOR UPDATE OF "
        "the episode); it reaches the rows through the same partial index (PostgreSQL proves "
        "`clock_next_check_at <= now` implies the index's `IS NOT NULL`):",
        "",
        "```",
        *large.orm_plan,
        "```",
        "",
        "Sizes at the largest run: "
        + ", ".join(f"{k} {v}" for k, v in large.table_sizes.items())
        + ". The partial index holds only the open clocks, whatever the number of closed "
        "episodes.",
        "",
        "## Where the sweep's time goes",
        "",
        f"- One sweep of {open_count} due clocks is {small.queries_per_sweep} queries: the claim "
        "(1), the meeting times of the batch (1), the alerts already raised (1), one INSERT of "
        f"every new alert ({small.alerts_per_sweep} rows, `alerts_raise_many`) and one bulk "
        "UPDATE of the next-check times (1); BEGIN and COMMIT are not counted. Every query is "
        "an index lookup by id or by the partial index, which is why the time does not grow "
        "with the closed episodes.",
        f"- The sweep's selection through the ORM ({median(large.orm_selection_ms):.1f} ms at "
        f"{large.closed:,}; `meetings.sweeps.due_clocks`, read as plain rows) against the same "
        f"selection written by hand ({median(large.raw_selection_ms):.1f} ms): the difference "
        "is Django building and compiling the query (about a millisecond of Python), which "
        "does not grow with the data.",
        f"- On-commit broker publishes per sweep: {small.enqueues_per_sweep} (the sweep enqueues "
        "delivery once per batch; counted, not timed, so these figures are database work only).",
        "",
        "Every timed run (ms):",
        "",
    ]
    for r in results:
        lines.append(
            f"- {r.closed:,} closed: sweep {', '.join(f'{x:.1f}' for x in r.sweep_ms)}; "
            f"same work raw {', '.join(f'{x:.1f}' for x in r.raw_work_ms)}; selections (min): "
            f"ORM {min(r.orm_selection_ms):.2f}, raw {min(r.raw_selection_ms):.2f}, "
            f"ORM's SQL raw {min(r.orm_sql_raw_ms):.2f}"
        )
    lines.append("")
    return "\n".join(lines)


def run(
    *,
    db_name: str,
    sizes: list[int],
    open_count: int,
    repeats: int,
    selection_repeats: int,
    chunk: int,
    output: Path | None,
    keep_db: bool,
    command: str,
    log: Log,
) -> list[SizeResult]:
    """Build one database per size, then time them in alternating rounds.

    Alternating (small, large, large, small, ...) rather than measuring one size after the
    other means a change in the machine's load during the run falls on both sizes alike.
    """
    settings.DEBUG = False  # no query log in the timed code (CaptureQueriesContext forces its own)
    sizes = sorted(sizes)
    now = timezone.now().replace(microsecond=0)
    datasets: list[Dataset] = []
    generation_s = 0.0
    try:
        for size in sizes:
            name = f"{db_name}_{size}"
            started = time.perf_counter()
            recreate_database(name, log)
            teams = load_base()
            open_ids = load_open_clocks(now=now, teams=teams, count=open_count)
            log(f"{len(open_ids)} open clocks due at {now:%Y-%m-%d %H:%M:%S %Z}")
            load_closed(now=now, teams=teams, target=size, chunk=chunk, log=log)
            analyse()
            generation_s += time.perf_counter() - started
            datasets.append(Dataset(size, name, open_ids, SizeResult(closed=size)))
        for ds in datasets:
            profile_once(ds, now=now)
            log(
                f"{ds.closed:,} closed: one sweep = {ds.result.queries_per_sweep} queries, "
                f"{ds.result.alerts_per_sweep} alerts"
            )
        for i in range(repeats):
            order = datasets if i % 2 == 0 else list(reversed(datasets))
            for ds in order:
                time_round(ds, now=now, selection_repeats=selection_repeats)
            log(
                f"round {i + 1}/{repeats}: "
                + "; ".join(
                    f"{ds.closed:,} closed: sweep {ds.result.sweep_ms[-1]:.1f} ms, "
                    f"raw work {ds.result.raw_work_ms[-1]:.1f} ms"
                    for ds in datasets
                )
            )
        machine = _machine()
    finally:
        if not keep_db:
            for ds in datasets:
                drop_database(ds.name, log)
    results = [ds.result for ds in datasets]
    for r in results:
        log(
            f"{r.closed:,} closed: sweep median {median(r.sweep_ms):.1f} ms, ORM selection "
            f"{median(r.orm_selection_ms):.2f} ms, raw selection {median(r.raw_selection_ms):.2f} "
            f"ms, same work raw {median(r.raw_work_ms):.1f} ms"
        )
    text = render(
        results,
        now=now,
        open_count=open_count,
        repeats=repeats,
        selection_repeats=selection_repeats,
        machine=machine,
        command=command,
        generation_s=generation_s,
    )
    if output is not None:
        output.write_text(text)
        log(f"wrote {output}")
    else:
        log(text)
    return results
