"""Import outcome assessments from CSV into a named team, all or nothing, with the upload page's
engine (outcomes/importing/): the same checks, preview, modes, job row and history.

    manage.py import_outcomes FILE.csv --team "Crisis Resolution Team" [--trust RAT]
        [--mode add|update] [--dates iso|uk] [--dry-run] [--register-new]
        [--same-person NHS_NUMBER ...] [--problems REPORT.csv]
    manage.py import_outcomes --template          # the header row, to start a file from
    manage.py import_outcomes --dictionary        # every column: type, allowed values, meaning

--dry-run prints the preview (what would be added, updated, unchanged, refused) and writes
nothing. Exits non-zero, having written nothing, when any row is refused, listing the problems
grouped by kind with their line numbers (--problems writes every one to a CSV). The operator
sees every team, so --register-new may register people not found, as an administrator may.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from outcomes.importing import jobs, reports
from outcomes.models import OutcomeImport
from pod.foundation.models import Team

Status = OutcomeImport.Status


class Command(BaseCommand):
    help = "Check, preview and import outcome assessments (CSV) into a team, all or nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?")
        parser.add_argument("--team", help="the team's name")
        parser.add_argument("--trust", help="the trust's code, when team names repeat")
        parser.add_argument("--mode", choices=OutcomeImport.Mode.values, default="add")
        parser.add_argument(
            "--dates",
            choices=OutcomeImport.DateFormat.values,
            default="iso",
            help="iso: YYYY-MM-DD; uk: DD/MM/YYYY (never guessed)",
        )
        parser.add_argument("--dry-run", action="store_true", help="preview only, write nothing")
        parser.add_argument("--register-new", action="store_true", help="register people not found")
        parser.add_argument(
            "--same-person",
            nargs="+",
            default=[],
            metavar="NHS_NUMBER",
            help="NHS numbers confirmed as the same person despite a different name or birth date",
        )
        parser.add_argument("--problems", help="write every problem to this CSV file")
        parser.add_argument("--template", action="store_true", help="print the template CSV")
        parser.add_argument("--dictionary", action="store_true", help="print the data dictionary")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["template"] or options["dictionary"]:
            self.stdout.write(
                reports.template_csv() if options["template"] else reports.dictionary_csv(),
                ending="",
            )
            return
        if not options["file"] or not options["team"]:
            raise CommandError("Give the FILE and --team (or --template / --dictionary).")
        team = self._team(options["team"], options["trust"])
        try:
            data = Path(options["file"]).read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {options['file']}: {error}") from error
        job, started = jobs.import_submit(
            team=team,
            uploaded_by=None,
            file_name=Path(options["file"]).name,
            data=data,
            mode=options["mode"],
            date_format=options["dates"],
            register_new=options["register_new"],
            same_person=[n.replace(" ", "").replace("-", "") for n in options["same_person"]],
            from_command=True,
            inline=True,
            now=timezone.now(),
        )
        if not started:
            raise CommandError(
                f"This file was already {job.get_status_display().lower()} for {team} in "
                f"{job.mode} mode (import {job.pk}); nothing was written again."
            )
        job.refresh_from_db()
        self._print_preview(job, options["problems"])
        if job.status != Status.READY:
            raise CommandError(
                f"{job.refused} row(s) refused; nothing was imported (import {job.pk})."
            )
        if options["dry_run"]:
            self.stdout.write(self.style.SUCCESS("Dry run: nothing was written."))
            return
        jobs.import_start(job, user=None, now=timezone.now(), inline=True)
        job.refresh_from_db()
        if job.status != Status.IMPORTED:
            raise CommandError(job.note or f"Not imported: {job.get_status_display()}.")
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported into {team}: {job.added} added, {job.updated} updated, "
                f"{job.unchanged} unchanged; {job.people_registered} new person record(s) "
                f"(import {job.pk})."
            )
        )

    def _team(self, name: str, trust: str | None) -> Team:
        named = Team.objects.filter(name=name)
        if trust:
            named = named.filter(trust__code=trust)
        teams = list(named[:2])
        if not teams:
            raise CommandError(f"No team named {name!r}.")
        if len(teams) > 1:
            raise CommandError("More than one team has that name; add --trust CODE.")
        return teams[0]

    def _print_preview(self, job: OutcomeImport, problems_path: str | None) -> None:
        summary = job.preview
        self.stdout.write(
            f"{summary.get('rows', 0)} row(s): {summary.get('add', 0)} to add "
            f"({summary.get('new_people', 0)} new people), {summary.get('update', 0)} to update, "
            f"{summary.get('unchanged', 0)} unchanged, {summary.get('refused_rows', 0)} refused, "
            f"{summary.get('warned_rows', 0)} with warnings."
        )
        for group in summary.get("groups", []):
            more = f" and {group['more']} more" if group["more"] else ""
            column = f" ({group['column']})" if group["column"] else ""
            stream = self.stderr if group["severity"] == "refused" else self.stdout
            stream.write(
                f"{group['severity']}: line(s) {group['lines']}{more}{column}: {group['message']}"
            )
        if summary.get("groups_more"):
            self.stderr.write(f"... and {summary['groups_more']} other kind(s) of problem.")
        for change in summary.get("changes", []):
            fields = "; ".join(
                f"{f}: {b or '(blank)'} -> {a or '(blank)'}" for f, b, a in change["changes"]
            )
            self.stdout.write(
                f"update line {change['line']} {change['nhs_number']} {change['timepoint']}: "
                f"{fields}"
            )
        for row in summary.get("identity", []):
            self.stderr.write(
                f"line {row['line']} {row['nhs_number']}: file {' '.join(row['file'])} / "
                f"record {' '.join(row['record'])}"
            )
        if problems_path:
            fresh = OutcomeImport.objects.only("problems_csv").get(pk=job.pk)
            Path(problems_path).write_text(fresh.problems_csv, encoding="utf-8")
