"""Benchmark the service manager's dashboards on a synthetic trust-scale database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pod_bench DEBUG=1 SECRET_KEY=x \\
        .venv/bin/python -m benchmarks.dashboards [--people 1000 50000] [--runs 5]

Creates the database if it is missing (its name must contain "bench": this empties it),
migrates it, then for each number of people fills it and measures, and writes the figures to
benchmarks/dashboards/RESULTS.md (or --output). Run from the repository root.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import django

# Django must be set up before any module that defines or imports models is imported.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pod.settings")
django.setup()

import psycopg2  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from benchmarks.dashboards import generate, report, run  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
# --freshness-only writes here, keeping RESULTS.md's full run.
FRESHNESS_RESULTS = Path(__file__).resolve().parent / "RESULTS-freshness.md"


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.dashboards",
        description="Fill a benchmark database and measure the dashboards "
        "(ORM against hand-written SQL).",
    )
    parser.add_argument(
        "--people",
        type=int,
        nargs="+",
        default=[1_000, 50_000],
        help="the data sizes to fill and measure, in people (default: 1000 50000)",
    )
    parser.add_argument("--runs", type=int, default=5, help="timed runs per measurement")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument(
        "--skip-fill",
        action="store_true",
        help="measure the data already loaded (give its size as --people) without refilling",
    )
    parser.add_argument(
        "--freshness-only",
        action="store_true",
        help="measure only the trust's and the service's dashboards with and without the "
        "kept figures (issue 17, point 4); RESULTS.md then holds only that table",
    )
    return parser.parse_args(argv)


def _ensure_database(db: dict[str, Any]) -> None:
    """Create the benchmark database if it is missing, with the planner settings production
    uses (RESULTS.md, Notes)."""
    conn = psycopg2.connect(
        dbname="postgres",
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
    )
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]])
        if cursor.fetchone() is None:
            print(f"Creating database {db['NAME']}")
            cursor.execute(f'CREATE DATABASE "{db["NAME"]}"')
        # Planner settings for a database that lives in memory or on SSD, as production's
        # should: JIT compilation costs ~0.4 s per dashboard query here and saves nothing;
        # random_page_cost 1.1 lets the planner walk the team's episodes through their indexes
        # instead of scanning every meeting.
        cursor.execute(f'ALTER DATABASE "{db["NAME"]}" SET jit = off')
        cursor.execute(f'ALTER DATABASE "{db["NAME"]}" SET random_page_cost = 1.1')
    conn.close()


def main(argv: list[str]) -> int:
    options = _arguments(argv)
    if options.freshness_only and options.output == RESULTS:
        options.output = FRESHNESS_RESULTS
    db = settings.DATABASES["default"]
    if "bench" not in db["NAME"]:
        print(
            f"Refusing to run on database {db['NAME']!r}: the benchmark empties the database it "
            "runs on. Point DATABASE_URL at a database whose name contains 'bench'.",
            file=sys.stderr,
        )
        return 2
    _ensure_database(db)
    call_command("migrate", verbosity=0)
    now = run.utc_now_minute()
    sizes: dict[int, report.Size] = {}
    for people in sorted(set(options.people)):
        counts: dict[str, float] = {}
        if not options.skip_fill:
            print(f"Filling {people:,} people ...")
            counts = generate.fill(connection, people=people, now=now)
        print(f"Measuring at {people:,} people ...")
        t0 = time.monotonic()
        load_before = os.getloadavg()[0]
        sections = {} if options.freshness_only else run.measure_sections(now, runs=options.runs)
        pages = {} if options.freshness_only else run.measure_pages(now, runs=options.runs)
        fresh = run.measure_freshness(now, runs=options.runs)
        load = (load_before, os.getloadavg()[0])
        print(f"  measured in {time.monotonic() - t0:.0f} s, load {load[0]:.1f} -> {load[1]:.1f}")
        sizes[people] = report.Size(
            counts=counts, sections=sections, pages=pages, load=load, freshness=fresh
        )
        print(report.console(sections, pages, fresh))
    options.output.write_text(report.markdown(now=now, runs=options.runs, sizes=sizes))
    print(f"Wrote {options.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
