"""Benchmark the FHIR bulk export ($export) on the synthetic trust-scale service.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pod_bench DEBUG=1 SECRET_KEY=x \\
        .venv/bin/python -m benchmarks.fhir_export [--people 1000 50000]

The data is benchmarks/dashboards' generator (the database's name must contain "bench": it is
emptied and refilled). For each size: a machine client acting as a clinician of all 20 teams
kicks off a system-level export through the test client (the request only queues the job), then
the job runs in this process exactly as the Celery task runs it (pod.fhir.bulk.export_run), and
each type's file is timed. A sample of every file is checked against the FHIR R4 schema.
Writes benchmarks/fhir_export/RESULTS.md (or --output).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pod.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from benchmarks.dashboards import generate  # noqa: E402
from benchmarks.dashboards.__main__ import _ensure_database  # noqa: E402
from benchmarks.dashboards.run import utc_now_minute  # noqa: E402
from benchmarks.fhir_export import measure, report  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.fhir_export",
        description="Fill a benchmark database and time a system-level FHIR bulk export.",
    )
    parser.add_argument("--people", type=int, nargs="+", default=[1_000, 50_000])
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--skip-fill", action="store_true")
    parser.add_argument("--sample", type=int, default=200, help="lines per file to validate")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    options = _arguments(argv)
    db = settings.DATABASES["default"]
    if "bench" not in db["NAME"]:
        print(f"Refusing to run on {db['NAME']!r}: the name must contain 'bench'.", file=sys.stderr)
        return 2
    _ensure_database(db)
    call_command("migrate", verbosity=0)
    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    now = utc_now_minute()
    runs: dict[int, dict[str, Any]] = {}
    for people in sorted(set(options.people)):
        if not options.skip_fill:
            print(f"Filling {people:,} people ...")
            generate.fill(connection, people=people, now=now)
        with tempfile.TemporaryDirectory(prefix="pod-fhir-export-") as folder:
            settings.POD_FHIR_EXPORT_DIR = Path(folder)
            print(f"Exporting {people:,} people ...")
            runs[people] = measure.export(sample=options.sample)
        print(report.console(runs[people]))
    runs_meta = {"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    options.output.write_text(report.markdown(now=now, runs=runs, meta=runs_meta))
    print(f"Wrote {options.output}")
    return 0


if __name__ == "__main__":
    started = time.monotonic()
    code = main(sys.argv[1:])
    print(f"done in {time.monotonic() - started:.0f} s")
    sys.exit(code)
