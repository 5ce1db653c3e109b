"""Run the sweep benchmark: `python -m benchmarks.sweep [--sizes 10000,1000000] ...`.

    SECRET_KEY=x DATABASE_URL=postgres://postgres@127.0.0.1:5432/pod \\
        .venv/bin/python -m benchmarks.sweep

Uses (and drops at the end) one database per size, `pod_bench_sweep_<size>` by default, on the
server in DATABASE_URL; writes benchmarks/sweep/RESULTS.md. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import django

DEFAULT_SIZES = "10000,1000000"


def _sizes(value: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "")) for part in value.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"--sizes must be comma-separated whole numbers, not {value!r}"
        ) from exc
    if len(sizes) < 2 or any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError(
            "--sizes needs at least two positive sizes, e.g. 10000,1000000"
        )
    return sizes


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.sweep",
        description=(
            "Benchmark the first-meeting sweep with open clocks among many closed episodes, in "
            "separate databases on DATABASE_URL's server, and write "
            "benchmarks/sweep/RESULTS.md."
        ),
    )
    parser.add_argument(
        "--database-name",
        default="pod_bench_sweep",
        help="prefix of the databases to create, use and drop (must contain 'bench')",
    )
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=_sizes(DEFAULT_SIZES),
        help=f"closed-episode counts to measure (default {DEFAULT_SIZES})",
    )
    parser.add_argument(
        "--open",
        type=_positive,
        default=100,
        dest="open_count",
        help="open clocks, all due at the sweep's now",
    )
    parser.add_argument(
        "--repeats", type=_positive, default=11, help="timed rounds (one sweep per size in each)"
    )
    parser.add_argument(
        "--selection-repeats",
        type=_positive,
        default=10,
        help="selection runs per size per round",
    )
    parser.add_argument(
        "--chunk",
        type=_positive,
        default=100_000,
        help="closed episodes generated per statement (progress step)",
    )
    parser.add_argument(
        "--output", default=None, help="where to write the figures ('-' prints them)"
    )
    parser.add_argument(
        "--keep-db", action="store_true", help="leave the benchmark databases in place afterwards"
    )
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    # Django is set up here, before anything imports a model: the settings read DATABASE_URL
    # (and SECRET_KEY) from the environment, as for manage.py.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pod.settings")
    django.setup()
    from benchmarks.sweep.measure import run  # noqa: PLC0415 (loads models: after setup)
    from benchmarks.sweep.report import RESULTS_PATH  # noqa: PLC0415 (as above)

    command = (
        "SECRET_KEY=x DATABASE_URL=postgres://postgres@127.0.0.1:5432/pod \\\n"
        "    .venv/bin/python -m benchmarks.sweep"
    )
    if args.sizes != _sizes(DEFAULT_SIZES):
        command += " --sizes " + ",".join(str(size) for size in args.sizes)
    output = args.output or str(RESULTS_PATH)

    def log(message: str) -> None:
        print(message, flush=True)

    try:
        run(
            db_name=args.database_name,
            sizes=args.sizes,
            open_count=args.open_count,
            repeats=args.repeats,
            selection_repeats=args.selection_repeats,
            chunk=args.chunk,
            output=None if output == "-" else Path(output),
            keep_db=args.keep_db,
            command=command,
            log=log,
        )
    except ValueError as exc:
        print(f"benchmarks.sweep: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
