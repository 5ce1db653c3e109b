"""Each row's cells to typed values, or the reasons they cannot be.

Checks that need only the row itself live here: the NHS number (networks' own validator, so the
import refuses whatever networks refuses - modulus 11 today, placeholder numbers when networks
adds them), the choices, whole numbers ("14.0" is 14; "14.5" is refused), yes/no, the dates
(pod.foundation.plausibility: not in the future, not before 1900; a date of birth not after the
assessment), and a relapse date only with a relapse, on or before the assessment.

Dates are ISO (YYYY-MM-DD) unless the uploader said day/month/year (`day_first`), and then
DD/MM/YYYY (or with - or .) or ISO, which cannot be misread. A day/month/year date in an ISO
upload is refused, never guessed: 03/04/2015 is 3 April in the UK and 4 March in the US.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from django.core.exceptions import ValidationError

from networks import validators as nhs_validators
from networks.rules import normalise_nhs_number
from outcomes import rules
from outcomes.importing.parsing import ParsedFile
from outcomes.importing.problems import Problem, refused
from pod.foundation import plausibility
from pod.foundation.localtime import LONDON

NAME_MAX_LENGTH = 100  # networks.ServiceUser.given_name / family_name
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_UK = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
_SHORT_YEAR = re.compile(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2}")
_WHOLE = re.compile(r"\d{1,9}(?:\.0*)?")
_YES_NO = {**dict.fromkeys(rules.YES_WORDS, True), **dict.fromkeys(rules.NO_WORDS, False)}
_TIMEPOINTS_TEXT = rules.listed([str(m) for m in rules.OUTCOME_TIMEPOINTS], "or")
_REQUIRED = "This column needs a value: the cell is empty."


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One row whose every cell is good. `given_name`, `family_name` are "" and
    `date_of_birth`, `relapse_on` None when the file leaves them out or blank."""

    line: int
    nhs_number: str
    trial_arm: str
    timepoint_months: int
    assessed_on: date
    symptom_level: str
    relapse: bool
    relapse_on: date | None
    hospital_bed_days: int
    disability_benefit: bool
    neuroleptic_use: bool
    work_or_study: bool
    given_name: str
    family_name: str
    date_of_birth: date | None


def parse_date(text: str, *, day_first: bool) -> date | str:
    """The date in `text`, or why it is not one (a message for the page)."""
    if match := _ISO.fullmatch(text):
        year, month, day = (int(g) for g in match.groups())
    elif match := _UK.fullmatch(text):
        if not day_first:
            return (
                "Write dates as YYYY-MM-DD, or choose day/month/year dates for this upload "
                "(a date such as 03/04/2015 is never guessed)."
            )
        day, month, year = (int(g) for g in match.groups())
    elif _SHORT_YEAR.fullmatch(text):
        return "Write the year with four digits."
    else:
        return "Not a date as " + ("DD/MM/YYYY." if day_first else "YYYY-MM-DD.")
    try:
        return date(year, month, day)
    except ValueError:
        return "Not a real date."


def parse_whole_number(text: str) -> int | None:
    """A whole number written as digits, with at most a zero fraction ("14", "14.0")."""
    if not _WHOLE.fullmatch(text):
        return None
    return int(text.split(".", 1)[0])


class _RowReader:
    """Reads rows one by one, caching what repeats across a file (NHS numbers, dates)."""

    def __init__(self, parsed: ParsedFile, *, day_first: bool, now: datetime) -> None:
        self.columns = parsed.columns
        self.day_first = day_first
        self.now = now
        self.today = now.astimezone(LONDON).date()
        self._nhs: dict[str, str | None] = {}
        self._dates: dict[str, date | str] = {}

    def nhs_problem(self, digits: str) -> str | None:
        if digits not in self._nhs:
            try:
                nhs_validators.validate_nhs_number(digits)
            except ValidationError as error:
                self._nhs[digits] = " ".join(error.messages)
            else:
                self._nhs[digits] = None
        return self._nhs[digits]

    def date_of(self, text: str) -> date | str:
        if text not in self._dates:
            self._dates[text] = parse_date(text, day_first=self.day_first)
        return self._dates[text]

    def read(self, line: int, cells: list[str], problems: list[Problem]) -> ImportRow | None:
        count = len(problems)
        cell = {name: cells[index].strip() for name, index in self.columns.items()}

        def bad(column: str, message: str) -> None:
            problems.append(refused(line, column, message, cell.get(column, "")[:60]))

        def required(column: str) -> str | None:
            value = cell.get(column, "")
            if not value:
                bad(column, _REQUIRED)
                return None
            return value

        nhs = ""
        if (raw := required("nhs_number")) is not None:
            nhs = normalise_nhs_number(raw)
            if (message := self.nhs_problem(nhs)) is not None:
                bad("nhs_number", message)
        arm = (required("trial_arm") or "").upper()
        if arm and arm not in rules.TRIAL_ARMS:
            bad("trial_arm", "The trial arm is POD or TAU.")
        timepoint: int | None = None
        if (raw := required("timepoint_months")) is not None:
            timepoint = parse_whole_number(raw)
            if timepoint not in rules.OUTCOME_TIMEPOINTS:
                timepoint = None
                bad("timepoint_months", f"The time point is {_TIMEPOINTS_TEXT} (months).")
        assessed_on = self._event_date(cell, "assessed_on", "The assessment date", bad, True)
        symptom = (required("symptom_level") or "").lower()
        if symptom and symptom not in rules.SYMPTOM_LEVELS:
            bad("symptom_level", "The symptom level is none, mild, moderate or severe.")
        days: int | None = None
        if (raw := required("hospital_days")) is not None:
            days = parse_whole_number(raw)
            if days is None or days > rules.MAX_HOSPITAL_BED_DAYS:
                days = None
                bad(
                    "hospital_days",
                    f"Bed-days are a whole number from 0 to {rules.MAX_HOSPITAL_BED_DAYS}.",
                )
        flags: dict[str, bool] = {}
        for name in ("relapse", "disability_benefit", "neuroleptic_use", "work_or_study"):
            if (raw := required(name)) is not None:
                if (flag := _YES_NO.get(raw.lower())) is None:
                    bad(name, "Write yes or no.")
                else:
                    flags[name] = flag
        relapse_on = self._event_date(cell, "relapse_on", "The relapse date", bad, False)
        if relapse_on is not None:
            if flags.get("relapse") is False:
                bad("relapse_on", "A relapse date needs relapse = yes.")
            elif assessed_on is not None and relapse_on > assessed_on:
                bad("relapse_on", "The relapse date is after the assessment date.")
        names = {}
        for name in ("given_name", "family_name"):
            names[name] = cell.get(name, "")
            if len(names[name]) > NAME_MAX_LENGTH:
                bad(name, f"A name is at most {NAME_MAX_LENGTH} characters.")
        date_of_birth = self._birth_date(cell, assessed_on, bad)
        if len(problems) > count or timepoint is None or assessed_on is None or days is None:
            return None
        return ImportRow(
            line=line,
            nhs_number=nhs,
            trial_arm=arm,
            timepoint_months=timepoint,
            assessed_on=assessed_on,
            symptom_level=symptom,
            relapse=flags["relapse"],
            relapse_on=relapse_on,
            hospital_bed_days=days,
            disability_benefit=flags["disability_benefit"],
            neuroleptic_use=flags["neuroleptic_use"],
            work_or_study=flags["work_or_study"],
            given_name=names["given_name"],
            family_name=names["family_name"],
            date_of_birth=date_of_birth,
        )

    def _event_date(
        self,
        cell: dict[str, str],
        column: str,
        what: str,
        bad: Callable[[str, str], None],
        required: bool,
    ) -> date | None:
        text = cell.get(column, "")
        if not text:
            if required:
                bad(column, _REQUIRED)
            return None
        value = self.date_of(text)
        if isinstance(value, str):
            bad(column, value)
            return None
        if (message := plausibility.event_error(value, now=self.now, what=what)) is not None:
            bad(column, message)
            return None
        return value

    def _birth_date(
        self, cell: dict[str, str], assessed_on: date | None, bad: Callable[[str, str], None]
    ) -> date | None:
        text = cell.get("date_of_birth", "")
        if not text:
            return None
        value = self.date_of(text)
        if isinstance(value, str):
            bad("date_of_birth", value)
            return None
        message = plausibility.birth_date_error(value, today=self.today, first_event=assessed_on)
        if message is not None:
            bad("date_of_birth", message)
            return None
        return value


def read_rows(
    parsed: ParsedFile,
    *,
    day_first: bool,
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[ImportRow], list[Problem]]:
    """Every row of `parsed` read into an ImportRow, or refused with each of its problems.
    `progress(rows read so far)` is called every 1,000 rows (the caller decides how often to
    report it)."""
    reader = _RowReader(parsed, day_first=day_first, now=now)
    rows: list[ImportRow] = []
    problems: list[Problem] = []
    for done, (line, cells) in enumerate(parsed.rows, start=1):
        if (row := reader.read(line, cells, problems)) is not None:
            rows.append(row)
        if progress is not None and done % 1000 == 0:
            progress(done)
    return rows, problems
