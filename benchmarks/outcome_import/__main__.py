"""Run the outcome-import benchmark: `python -m benchmarks.outcome_import [--rows 100000]`.

    SECRET_KEY=x DATABASE_URL=postgres://postgres@127.0.0.1:5432/pod \\
        .venv/bin/python -m benchmarks.outcome_import

Creates (and drops at the end, unless --keep) the database `pod_bench_outcome_import` on the
server in DATABASE_URL, builds one team with rows/4 people, and times, in each round: a bare
COPY of the rows into the assessments table and into a bare temporary table, and the import of
the same rows as a file (preview, then "Import"). Then once each: the same file for people with
no trial arm on record yet, a cumulative file (all the rows, after the first 90% were imported)
in add mode, and the rows with one in ten changed in update mode.
Writes benchmarks/outcome_import/RESULTS.md (or --output). See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pod.settings")
django.setup()

from django.db import connection  # noqa: E402

from benchmarks.outcome_import import data, measure, report  # noqa: E402
from benchmarks.sweep.database import drop_database, recreate_database  # noqa: E402
from networks.models import ServiceUser  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.outcome_import")
    parser.add_argument("--rows", type=int, default=100_000, help="rows in the file (default)")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds (median reported)")
    parser.add_argument("--database-name", default="pod_bench_outcome_import")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--output", default=str(RESULTS), help="'-' prints the report")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    options = _arguments(argv)
    log = print
    recreate_database(options.database_name, log)
    try:
        people = (options.rows + 3) // 4
        started = time.perf_counter()
        world = data.build_world(people)
        log(f"{people:,} people in {time.perf_counter() - started:.1f} s")
        rows = data.assessment_rows(world, options.rows)
        file, copy_csv = data.import_file(rows), data.copy_file(rows)
        rounds: list[report.Round] = []
        for number in range(1, options.rounds + 1):
            load = os.getloadavg()[0]
            copy_table = measure.time_copy(copy_csv, into_table=True)
            data.clear_assessments(world.team)
            copy_bare = measure.time_copy(copy_csv, into_table=False)
            timing = measure.time_import(world, file, mode="add", name=f"round-{number}.csv")
            data.clear_assessments(world.team)
            timing.job.delete()  # the same bytes would find this job: each round starts afresh
            rounds.append(report.Round(copy_table, copy_bare, timing, load))
            log(report.round_line(number, rounds[-1]))
        without_arms = _without_arms(world, file)
        cumulative = _cumulative(world, rows)
        updated = _update(world, rows)
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            server = cursor.fetchone()[0].split(",")[0]
        text = report.markdown(
            rows=options.rows,
            people=people,
            rounds=rounds,
            extra=[
                (
                    "the same file, people without a recorded trial arm (the import records "
                    "each: an audited UPDATE per person)",
                    without_arms,
                ),
                (
                    "cumulative (add mode): the file again after its first 90% was imported",
                    cumulative,
                ),
                ("update mode: the file with one row in ten changed", updated),
            ],
            python=platform.python_version(),
            server=server,
            cpus=os.cpu_count() or 0,
            median=statistics.median,
        )
    finally:
        if not options.keep:
            drop_database(options.database_name, log)
    if options.output == "-":
        print(text)
    else:
        Path(options.output).write_text(text)
        log(f"wrote {options.output}")
    return 0


def _say(label: str, timing: measure.ImportTiming) -> measure.ImportTiming:
    job = timing.job
    print(
        f"{label}: {job.added:,} added, {job.updated:,} updated, {job.unchanged:,} unchanged in "
        f"{timing.total:.1f} s (preview {timing.preview:.1f} s, import {timing.write:.1f} s)"
    )
    return timing


def _without_arms(world: data.World, file: bytes) -> measure.ImportTiming:
    ServiceUser.objects.filter(team=world.team).update(trial_arm="")
    timing = measure.time_import(world, file, mode="add", name="no-arms.csv")
    data.clear_assessments(world.team)
    timing.job.delete()
    return _say("people without arms", timing)


def _cumulative(world: data.World, rows: list[dict[str, object]]) -> measure.ImportTiming:
    first = len(rows) * 9 // 10
    measure.time_import(world, data.import_file(rows[:first]), mode="add", name="first.csv")
    timing = measure.time_import(world, data.import_file(rows), mode="add", name="all.csv")
    return _say("cumulative", timing)


def _update(world: data.World, rows: list[dict[str, object]]) -> measure.ImportTiming:
    changed = [
        {**row, "hospital_days": int(str(row["hospital_days"])) + 1} if i % 10 == 0 else row
        for i, row in enumerate(rows)
    ]
    timing = measure.time_import(world, data.import_file(changed), mode="update", name="upd.csv")
    return _say("update", timing)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
