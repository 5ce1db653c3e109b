"""The timed runs: the import (preview, then import) and a bare COPY of the same rows."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connection, transaction

from benchmarks.outcome_import import data
from outcomes.importing import jobs
from outcomes.models import OutcomeImport

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class ImportTiming:
    preview: float  # seconds: upload stored, file read, checked and planned
    write: float  # seconds: "Import" - read again, lock, re-plan, write
    preview_queries: int
    write_queries: int
    job: OutcomeImport

    @property
    def total(self) -> float:
        return self.preview + self.write


@contextmanager
def counting() -> Iterator[list[int]]:
    """Count the statements sent to the database (cheaply: no SQL text is kept)."""
    count = [0]

    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any):
        count[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield count


def time_import(world: data.World, file: bytes, *, mode: str, name: str) -> ImportTiming:
    """Upload (with the preview run in-process, as a Celery worker would) then import."""
    with counting() as queries:
        started = time.perf_counter()
        job, _ = jobs.import_submit(
            team=world.team,
            uploaded_by=world.manager,
            file_name=name,
            data=file,
            mode=mode,
            date_format="iso",
            inline=True,
            now=NOW,
        )
        previewed = time.perf_counter()
    preview_queries = queries[0]
    job.refresh_from_db()
    if job.status != OutcomeImport.Status.READY:
        raise RuntimeError(f"the benchmark file was refused: {job.preview.get('groups')}")
    with counting() as queries:
        started_write = time.perf_counter()
        jobs.import_start(job, user=world.manager, now=NOW, inline=True)
        written = time.perf_counter()
    job.refresh_from_db()
    if job.status != OutcomeImport.Status.IMPORTED:
        raise RuntimeError(f"the benchmark import did not complete: {job.note}")
    return ImportTiming(
        preview=previewed - started,
        write=written - started_write,
        preview_queries=preview_queries,
        write_queries=queries[0],
        job=job,
    )


def time_copy(copy_csv: str, *, into_table: bool) -> float:
    """Seconds for COPY of the rows: into outcomes_outcomeassessment itself (its indexes,
    constraints and audit trigger), or into a fresh temporary table with none of them."""
    columns = ", ".join(data.COPY_COLUMNS)
    with transaction.atomic(), connection.cursor() as cursor:
        table = "outcomes_outcomeassessment"
        if not into_table:
            table = "bench_copy_staging"
            cursor.execute(
                f"CREATE TEMP TABLE {table} ON COMMIT DROP AS SELECT {columns} "
                "FROM outcomes_outcomeassessment WITH NO DATA"
            )
        started = time.perf_counter()
        cursor.cursor.copy_expert(
            f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv)", io.StringIO(copy_csv)
        )
        return time.perf_counter() - started
