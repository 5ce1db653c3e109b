"""Render and judge the safety case: `python -m pod.safety_case [options]` from the repository
root (also `make safety` and `manage.py safety_case`).

Reads the hazard log, the last test run's results and the hand-written safety case; writes the
rendered safety case to `<out>/SAFETY_CASE.md`; prints a summary. Exit status:
0 the safety case holds; 1 it fails (the summary lists why); 2 not judged (no results file, or
the last run was not the whole suite) and nothing else is wrong; 3 the hazard log or the
hand-written document cannot be read.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Protocol

from pod.safety_case.check import safety_case_check
from pod.safety_case.hazard_log import HazardLogError, hazard_log_load
from pod.safety_case.render import TemplateError, document_render, summary_render
from pod.safety_case.results import DEFAULT_PATH, ResultsError, results_load

EXIT_BROKEN = 3
DEFAULTS = {
    "hazard_log": Path("safety/hazards.toml"),
    "results": DEFAULT_PATH,
    "template": Path("safety/SAFETY_CASE.md"),
    "out": DEFAULT_PATH.parent,
}


class Writer(Protocol):
    """Where the summary goes: sys.stdout, or a management command's self.stdout."""

    def write(self, text: str, /) -> object: ...


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options, shared with the management command."""
    for name, default in DEFAULTS.items():
        parser.add_argument(
            "--" + name.replace("_", "-"), type=Path, default=default, help=f"(default {default})"
        )


def safety_case_run(
    *, hazard_log: Path, results: Path, template: Path, out: Path, stdout: Writer
) -> int:
    """Do the work; print the summary to `stdout`; return the exit status (module docstring)."""
    try:
        log = hazard_log_load(hazard_log)
        template_text = template.read_text()
    except (HazardLogError, OSError) as exc:
        stdout.write(f"safety case: cannot read {exc}\n")
        return EXIT_BROKEN
    try:
        run, why_no_run = results_load(results), ""
    except ResultsError as exc:
        run, why_no_run = None, str(exc)
    verdict = safety_case_check(log=log, run=run, why_no_run=why_no_run)
    try:
        document = document_render(template=template_text, log=log, verdict=verdict, run=run)
    except TemplateError as exc:
        stdout.write(f"safety case: {template}: {exc}\n")
        return EXIT_BROKEN
    out.mkdir(parents=True, exist_ok=True)
    (out / "SAFETY_CASE.md").write_text(document)
    stdout.write(summary_render(log=log, verdict=verdict, run=run) + "\n")
    stdout.write(f"Rendered safety case: {out / 'SAFETY_CASE.md'}\n")
    return verdict.exit_status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pod.safety_case", description=__doc__)
    add_arguments(parser)
    options = parser.parse_args(argv)
    return safety_case_run(**vars(options), stdout=sys.stdout)
