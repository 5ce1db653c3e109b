"""Benchmark what each page costs, and the throughput of the busiest pages under gunicorn.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pod_bench SECRET_KEY=x \\
        .venv/bin/python -m benchmarks.pages [--people 1000 50000] [--load-at 1000]

Same database rules as benchmarks.dashboards (the name must contain "bench": it is emptied and
refilled by benchmarks/dashboards/generate.py, and kept). Writes benchmarks/pages/RESULTS.md
(or --output). Run from the repository root; needs `wrk` (Debian: apt-get install wrk) for the
load run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pod.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from benchmarks.dashboards import generate, run  # noqa: E402
from benchmarks.dashboards.__main__ import _ensure_database  # noqa: E402
from benchmarks.pages import measure, report  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.pages", description="What each page costs, and under load."
    )
    parser.add_argument("--people", type=int, nargs="+", default=[1_000, 50_000])
    parser.add_argument("--runs", type=int, default=5, help="timed requests per page")
    parser.add_argument(
        "--load-at",
        type=int,
        default=1_000,
        help="the size (one of --people) at which to run the load test; 0: no load run",
    )
    parser.add_argument("--load-seconds", type=int, default=60, help="per page, in all")
    parser.add_argument(
        "--load-rounds",
        type=int,
        default=6,
        help="the load run cycles through the pages this many times (each page gets "
        "load-seconds / load-rounds per round), so a shared machine's changing load falls on "
        "every page alike",
    )
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (README)")
    parser.add_argument(
        "--baseline",
        type=Path,
        default=None,
        help="a checkout of other code (e.g. `git worktree add /tmp/before <commit>`) served "
        "by a second gunicorn in the same load run, against the same database: before and "
        "after in one run",
    )
    parser.add_argument("--skip-fill", action="store_true")
    parser.add_argument("--output", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    options = _arguments(argv)
    db = settings.DATABASES["default"]
    if "bench" not in db["NAME"]:
        print(f"Refusing to run on {db['NAME']!r}: the name must contain 'bench'.", file=sys.stderr)
        return 2
    _ensure_database(db)
    call_command("migrate", verbosity=0)
    # As production serves them: hashed names from the manifest (README "Deploying").
    call_command("collectstatic", interactive=False, verbosity=0)
    if options.baseline is not None:
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
            cwd=options.baseline,
            check=True,
        )
    now = run.utc_now_minute()
    costs: dict[int, dict[measure.Page, measure.PageCost]] = {}
    fills: dict[int, float] = {}
    load: dict[tuple[str, measure.Page], measure.LoadFigures] = {}
    for people in sorted(set(options.people)):
        if not options.skip_fill:
            print(f"Filling {people:,} people ...")
            t0 = time.monotonic()
            generate.fill(connection, people=people, now=now)
            fills[people] = time.monotonic() - t0
        # The dashboards keep their figures in this process's cache under keys that do not
        # change with the data: figures kept at the last size must not be served at this one.
        cache.clear()
        print(f"Measuring pages at {people:,} people ...")
        pages = measure.pages()
        costs[people] = measure.measure_pages(pages, runs=options.runs)
        if people == options.load_at:
            print(f"Load run at {people:,} people ...")
            load = measure.load_run(
                pages,
                workers=options.workers,
                clients=options.clients,
                seconds=options.load_seconds,
                rounds=options.load_rounds,
                baseline=options.baseline,
            )
        # Written after each size, so a later failure keeps what was measured.
        options.output.write_text(
            report.markdown(
                now=now,
                runs=options.runs,
                costs=costs,
                fills=fills,
                load=load,
                load_people=options.load_at if load else None,
                workers=options.workers,
                clients=options.clients,
                seconds=options.load_seconds,
                rounds=options.load_rounds,
                baseline=options.baseline,
            )
        )
    print(f"Wrote {options.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
