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
from typing import Any

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


class _Refusal:
    """Why a cell's text cannot be read (kept apart from values, some of which are text)."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


_MISSING = object()
_FLAGS = ("relapse", "disability_benefit", "neuroleptic_use", "work_or_study")
_OPTIONAL_DEFAULT: dict[str, object] = {"given_name": "", "family_name": ""}
_SLOTS = ImportRow.__slots__[1:]  # ImportRow's fields after `line`, in order
_SLOT_OF_COLUMN = {
    ("hospital_days" if slot == "hospital_bed_days" else slot): i for i, slot in enumerate(_SLOTS)
}


class _RowReader:
    """Reads rows one by one. Each column has a converter from a cell's text to its value (or a
    _Refusal), and what a column's text gave once it gives again from a cache: a file repeats
    its NHS numbers, dates, time points and yes/no down the rows, so most cells cost a lookup."""

    def __init__(self, parsed: ParsedFile, *, day_first: bool, now: datetime) -> None:
        self.day_first = day_first
        self.now = now
        self.today = now.astimezone(LONDON).date()
        converters: dict[str, Callable[[str], object]] = {
            "nhs_number": self._nhs_number,
            "trial_arm": _choice(rules.TRIAL_ARMS, str.upper, "The trial arm is POD or TAU."),
            "timepoint_months": self._timepoint,
            "assessed_on": lambda text: self._event_date(text, "The assessment date"),
            "symptom_level": _choice(
                rules.SYMPTOM_LEVELS,
                str.lower,
                "The symptom level is none, mild, moderate or severe.",
            ),
            "relapse_on": lambda text: self._event_date(text, "The relapse date"),
            "hospital_days": self._bed_days,
            "given_name": _name,
            "family_name": _name,
            "date_of_birth": self._date,
            **dict.fromkeys(_FLAGS, _yes_no),
        }
        # (column, its index in a row, its slot in ImportRow after `line`, converter, cache,
        # required), and the values of a row before any cell is read.
        self.columns: list[
            tuple[str, int, int, Callable[[str], object], dict[str, object], bool]
        ] = [
            (
                name,
                index,
                _SLOT_OF_COLUMN[name],
                converters[name],
                {},
                name in rules.IMPORT_REQUIRED_COLUMNS,
            )
            for name, index in parsed.columns.items()
        ]
        self.template: list[Any] = [_OPTIONAL_DEFAULT.get(slot) for slot in _SLOTS]

    def _nhs_number(self, text: str) -> object:
        digits = normalise_nhs_number(text)
        try:
            nhs_validators.validate_nhs_number(digits)
        except ValidationError as error:
            return _Refusal(" ".join(error.messages))
        return digits

    def _timepoint(self, text: str) -> object:
        months = parse_whole_number(text)
        if months not in rules.OUTCOME_TIMEPOINTS:
            return _Refusal(f"The time point is {_TIMEPOINTS_TEXT} (months).")
        return months

    def _bed_days(self, text: str) -> object:
        days = parse_whole_number(text)
        if days is None or days > rules.MAX_HOSPITAL_BED_DAYS:
            return _Refusal(f"Bed-days are a whole number from 0 to {rules.MAX_HOSPITAL_BED_DAYS}.")
        return days

    def _date(self, text: str) -> object:
        value = parse_date(text, day_first=self.day_first)
        return _Refusal(value) if isinstance(value, str) else value

    def _event_date(self, text: str, what: str) -> object:
        value = self._date(text)
        if isinstance(value, date):
            message = plausibility.event_error(value, now=self.now, what=what)
            if message is not None:
                return _Refusal(message)
        return value

    def read(self, line: int, cells: list[str], problems: list[Problem]) -> ImportRow | None:
        """The row, or None with its problems added to `problems` (None and no problem for a
        row of nothing but spaces)."""
        values = self.template.copy()
        failed = False
        for name, index, slot, convert, cache, required in self.columns:
            text = cells[index].strip()
            if not text:
                if required:
                    if not failed and not "".join(cells).strip():
                        return None  # a row of spaces: as a blank line
                    problems.append(refused(line, name, _REQUIRED))
                    failed = True
                continue
            value = cache.get(text, _MISSING)
            if value is _MISSING:
                value = cache[text] = convert(text)
            if type(value) is _Refusal:
                problems.append(refused(line, name, value.message, text[:60]))
                failed = True
            else:
                values[slot] = value
        if failed:
            return None
        row = ImportRow(line, *values)
        return row if self._across(row, problems) else None

    def _across(self, row: ImportRow, problems: list[Problem]) -> bool:
        """The checks that compare one cell of the row with another; False when one fails."""
        count = len(problems)
        if row.relapse_on is not None:
            if not row.relapse:
                problems.append(
                    refused(row.line, "relapse_on", "A relapse date needs relapse = yes.")
                )
            elif row.relapse_on > row.assessed_on:
                problems.append(
                    refused(
                        row.line, "relapse_on", "The relapse date is after the assessment date."
                    )
                )
        if row.date_of_birth is not None:
            message = plausibility.birth_date_error(
                row.date_of_birth, today=self.today, first_event=row.assessed_on
            )
            if message is not None:
                problems.append(refused(row.line, "date_of_birth", message))
        return len(problems) == count


def _choice(
    allowed: tuple[str, ...], case: Callable[[str], str], message: str
) -> Callable[[str], object]:
    def convert(text: str) -> object:
        value = case(text)
        return value if value in allowed else _Refusal(message)

    return convert


def _yes_no(text: str) -> object:
    flag = _YES_NO.get(text.lower())
    return _Refusal("Write yes or no.") if flag is None else flag


def _name(text: str) -> object:
    if len(text) > NAME_MAX_LENGTH:
        return _Refusal(f"A name is at most {NAME_MAX_LENGTH} characters.")
    return text


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
