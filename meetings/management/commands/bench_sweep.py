"""Benchmark the 24-hour first-meeting sweep against 10,000 and 1,000,000 closed episodes.

    SECRET_KEY=x DATABASE_URL=postgres://postgres@127.0.0.1:5432/pod \\
        .venv/bin/python manage.py bench_sweep

Uses (and drops at the end) one database per size, `pod_bench_sweep_<size>` by default, on the
server in DATABASE_URL; writes meetings/benchmarks/RESULTS.md. See meetings/benchmarks/sweep.py.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from meetings.benchmarks import sweep


def _sizes(value: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "")) for part in value.split(",") if part.strip()]
    except ValueError as exc:
        raise CommandError(f"--sizes must be comma-separated whole numbers, not {value!r}") from exc
    if len(sizes) < 2 or any(size < 1 for size in sizes):
        raise CommandError("--sizes needs at least two positive sizes, e.g. 10000,1000000")
    return sizes


class Command(BaseCommand):
    help = (
        "Benchmark the first-meeting sweep with open clocks among many closed episodes, in a "
        "separate database, and write meetings/benchmarks/RESULTS.md."
    )
    requires_system_checks: list = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--database-name",
            default="pod_bench_sweep",
            help="prefix of the databases to create, use and drop (must contain 'bench')",
        )
        parser.add_argument(
            "--sizes",
            default="10000,1000000",
            help="closed-episode counts to measure, smallest first",
        )
        parser.add_argument(
            "--open",
            type=int,
            default=100,
            dest="open_count",
            help="open clocks, all due at the sweep's now",
        )
        parser.add_argument(
            "--repeats", type=int, default=11, help="timed rounds (one sweep per size in each)"
        )
        parser.add_argument(
            "--selection-repeats", type=int, default=10, help="selection runs per size per round"
        )
        parser.add_argument(
            "--chunk",
            type=int,
            default=100_000,
            help="closed episodes generated per statement (progress step)",
        )
        parser.add_argument(
            "--output",
            default=str(sweep.RESULTS_PATH),
            help="where to write the figures ('-' prints them)",
        )
        parser.add_argument(
            "--keep-db",
            action="store_true",
            help="leave the benchmark database in place afterwards",
        )

    def handle(self, *args, **opts):
        sizes = _sizes(opts["sizes"])
        for name in ("open_count", "repeats", "selection_repeats", "chunk"):
            if opts[name] < 1:
                raise CommandError(f"--{name.replace('_', '-')} must be at least 1")
        command = (
            "SECRET_KEY=x DATABASE_URL=postgres://postgres@127.0.0.1:5432/pod \\\n"
            "    .venv/bin/python manage.py bench_sweep"
        )
        if opts["sizes"] != "10000,1000000":
            command += f" --sizes {opts['sizes']}"
        output = None if opts["output"] == "-" else Path(opts["output"])

        def log(message: str) -> None:
            self.stdout.write(message)
            self.stdout.flush()

        try:
            sweep.run(
                db_name=opts["database_name"],
                sizes=sizes,
                open_count=opts["open_count"],
                repeats=opts["repeats"],
                selection_repeats=opts["selection_repeats"],
                chunk=opts["chunk"],
                output=output,
                keep_db=opts["keep_db"],
                command=command,
                log=log,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
