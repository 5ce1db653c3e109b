"""Import outcome assessments from CSV into a named team, all or nothing.

    manage.py import_outcomes FILE.csv --team "Crisis Resolution Team" [--trust RAT] [--dry-run]

See outcomes/importer.py for the columns and rules. Exits non-zero, having written nothing,
when any row is bad, listing every bad row with its line number.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from outcomes.importer import import_outcomes_text
from outcomes.rules import IMPORT_COLUMNS
from pod.foundation.models import Team


class Command(BaseCommand):
    help = "Import outcome assessments (CSV) into a team; a file with any bad row imports nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--team", required=True, help="the team's name")
        parser.add_argument("--trust", help="the trust's code, when team names repeat")
        parser.add_argument("--dry-run", action="store_true", help="check only, write nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        named = Team.objects.filter(name=options["team"])
        if options["trust"]:
            named = named.filter(trust__code=options["trust"])
        teams = list(named[:2])
        if not teams:
            raise CommandError(f"No team named {options['team']!r}.")
        if len(teams) > 1:
            raise CommandError("More than one team has that name; add --trust CODE.")
        try:
            text = Path(options["file"]).read_bytes().decode("utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {options['file']}: {error}") from error
        result = import_outcomes_text(
            text, team=teams[0], recorded_by=None, dry_run=options["dry_run"]
        )
        if not result.ok:
            for line, reason in result.errors:
                self.stderr.write(f"line {line}: {reason}")
            raise CommandError(
                f"{len(result.errors)} problem(s); nothing was imported. "
                f"Expected columns: {', '.join(IMPORT_COLUMNS)}"
            )
        if options["dry_run"]:
            self.stdout.write(self.style.SUCCESS("The file is good; nothing written (dry run)."))
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {result.assessments} assessment(s); created {result.created_people} "
                f"new person record(s) in {teams[0]}."
            )
        )
