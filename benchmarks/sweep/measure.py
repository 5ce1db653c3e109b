"""The measurements: one untimed profile per database, then timed rounds that alternate between
the databases, and `run`, which builds the databases, measures and writes the report."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from benchmarks.sweep.data import (
    analyse,
    load_base,
    load_closed,
    load_open_clocks,
    reset_open_clocks,
    table_sizes,
)
from benchmarks.sweep.database import Log, drop_database, recreate_database, use_database
from benchmarks.sweep.orm_runs import (
    BATCH_SIZE,
    counted_enqueues,
    explain_orm_selection,
    orm_selection,
    orm_sql,
    orm_sql_raw,
)
from benchmarks.sweep.raw_sql import explain_raw_selection, raw_selection, raw_sql_sweep
from benchmarks.sweep.report import machine, render
from benchmarks.sweep.results import SizeResult, median
from meetings.sweeps import first_meeting_sweep


@dataclass
class Dataset:
    """One benchmark database: `closed` closed episodes plus the same open clocks."""

    closed: int
    name: str
    open_ids: list[int]
    result: SizeResult


def _timed(fn: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn()
    return (time.perf_counter() - started) * 1000, result


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
    sweeps = (
        ("sweep", first_meeting_sweep, r.sweep_ms),
        ("raw sweep", raw_sql_sweep, r.raw_work_ms),
    )
    with counted_enqueues():
        for timed in (False, True):
            for name, sweep, into in sweeps:
                reset_open_clocks(open_ids)
                ms, raised = _timed(lambda s=sweep: s(now=now, batch_size=BATCH_SIZE))
                if raised != r.alerts_per_sweep:
                    raise RuntimeError(f"{name} raised {raised}, expected {r.alerts_per_sweep}")
                if timed:
                    into.append(ms)
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
        machine_facts = machine()
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
        machine=machine_facts,
        command=command,
        generation_s=generation_s,
    )
    if output is not None:
        output.write_text(text)
        log(f"wrote {output}")
    else:
        log(text)
    return results
