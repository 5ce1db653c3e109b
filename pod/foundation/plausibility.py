"""Plausible dates and times: the one home of the rules that every form, service, import row and
query-string parameter applies before a date or time reaches the record.

Each check returns the message to show at the field, or None when the value is plausible; the
caller decides which field the message belongs to. Nothing here reads the clock or the database:
`now` / `today` are passed in, so tests pin any instant.

The bounds are POD's own choices, not a published standard:
- Nothing POD records happened before 1 January 1900 (`EARLIEST_DATE`): not a birth, not a
  referral, not an assessment. Python and PostgreSQL accept year 1, and a mistyped year (0025,
  1925 for 2025) would otherwise be saved and counted.
- Something that happened (a referral received, a meeting held, a contact, an assessment) is not
  in the future, allowing `FUTURE_TOLERANCE` (5 minutes) for clocks that disagree a little.
- An appointment (a meeting being arranged) is in the future, but not more than
  `APPOINTMENT_HORIZON` (2 years) ahead: no team arranges a network meeting further out, and
  year 9999 overflows date arithmetic (a 500 before this module existed). It may start up to
  `ARRANGING_GRACE` (15 minutes) ago, for a meeting arranged as it begins; anything earlier has
  already taken place and is recorded as such, not arranged (issue 10: meetings scheduled in
  the past and recorded held at once emptied the medication rule, and sent invitations to a
  meeting that was over).
- A date of birth is not in the future and not after the events that follow it.
- Periods asked for in a query string (dashboards, the network map's `?at=`) lie between
  `EARLIEST_DATE` and `QUERY_HORIZON` (1 year) after today.

Civil time: a wall-clock time typed in London may not exist (the spring-forward gap, e.g. 01:30
on 29 March 2026) or may happen twice (the autumn fall-back, e.g. 01:30 on 25 October 2026, first
in BST then in GMT). `local_to_instant` refuses the first with a message that says why and asks
which one is meant for the second, unless the caller says (`fold`: 0 = the first, BST; 1 = the
second, GMT, as in PEP 495).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from pod.foundation.localtime import LONDON

EARLIEST_DATE = date(1900, 1, 1)
EARLIEST_INSTANT = datetime.combine(EARLIEST_DATE, time.min, tzinfo=LONDON)
FUTURE_TOLERANCE = timedelta(minutes=5)
APPOINTMENT_HORIZON = timedelta(days=731)
ARRANGING_GRACE = timedelta(minutes=15)
QUERY_HORIZON = timedelta(days=366)

FOLD_CHOICES = (
    ("", "Not needed"),
    ("0", "The first time (British Summer Time, BST, UTC+1)"),
    ("1", "The second time (Greenwich Mean Time, GMT, UTC+0)"),
)


class ImplausibleTime(ValueError):
    """A wall-clock time that does not exist, or is ambiguous and no `fold` was given."""

    def __init__(self, message: str, *, ambiguous: bool) -> None:
        super().__init__(message)
        self.message = message
        self.ambiguous = ambiguous


def _when(value: datetime | date) -> str:
    if isinstance(value, datetime):
        return f"{value.astimezone(LONDON):%d %b %Y %H:%M}"
    return f"{value:%d %b %Y}"


def _as_instant(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, time.min, tzinfo=LONDON)


def earliest_error(value: datetime | date, *, what: str) -> str | None:
    """Check only the floor: nothing POD records is dated before 1900."""
    if _as_instant(value) < EARLIEST_INSTANT:
        return f"{what} cannot be dated before {EARLIEST_DATE:%Y}: check the year."
    return None


def event_error(
    value: datetime | date,
    *,
    now: datetime,
    what: str,
    not_before: datetime | date | None = None,
    not_before_what: str = "",
) -> str | None:
    """Check something that has happened (`what` starts the sentence: "A referral").

    `value` is an aware instant or a calendar date (a date is compared as its London day: today
    is allowed, tomorrow is not). `not_before`, when given, is an earlier event this one cannot
    precede (the referral, the person's birth), named by `not_before_what`.
    """
    if floor := earliest_error(value, what=what):
        return floor
    if isinstance(value, datetime):
        if value > now + FUTURE_TOLERANCE:
            return f"{what} cannot be in the future."
    elif value > now.astimezone(LONDON).date():
        return f"{what} cannot be in the future."
    if not_before is not None and _as_instant(value) < _as_instant(not_before):
        if isinstance(value, date) and not isinstance(value, datetime):
            not_before_day = (
                not_before.astimezone(LONDON).date()
                if isinstance(not_before, datetime)
                else not_before
            )
            if value >= not_before_day:
                return None  # the same calendar day as the earlier event: plausible
        return f"{what} cannot be before {not_before_what} ({_when(not_before)})."
    return None


def appointment_error(
    value: datetime,
    *,
    now: datetime,
    what: str,
    not_before: datetime | None = None,
    not_before_what: str = "",
) -> str | None:
    """Check an arranged time: from `ARRANGING_GRACE` (15 minutes) before `now` to
    `APPOINTMENT_HORIZON` (2 years) after it, not before 1900, and not before `not_before`
    (e.g. the referral). A time further in the past has happened: the message says to record
    the meeting as one that took place."""
    if floor := earliest_error(value, what=what):
        return floor
    if value > now + APPOINTMENT_HORIZON:
        return f"{what} cannot be arranged more than two years ahead: check the year."
    if not_before is not None and value < not_before:
        return f"{what} cannot be before {not_before_what} ({_when(not_before)})."
    if value < now - ARRANGING_GRACE:
        return (
            f"{what} cannot be arranged in the past ({_when(value)}). If it has already taken "
            'place, record it with "Record a meeting that took place" on the episode page.'
        )
    return None


def query_date_error(value: date, *, today: date, what: str) -> str | None:
    """Check a date asked for in a query (a dashboard's period, a map's day): from 1900 to
    `QUERY_HORIZON` after `today`, so date arithmetic on it cannot overflow."""
    if floor := earliest_error(value, what=what):
        return floor
    if value > today + QUERY_HORIZON:
        return f"{what} cannot be more than a year from today: check the year."
    return None


def birth_date_error(value: date, *, today: date, first_event: date | None = None) -> str | None:
    """Check a date of birth: not before 1900, not in the future, not after `first_event` (the
    earliest referral, assessment or other dated event already on the person's record)."""
    if value < EARLIEST_DATE:
        return f"A date of birth cannot be before {EARLIEST_DATE:%Y}: check the year."
    if value > today:
        return "A date of birth cannot be in the future."
    if first_event is not None and value > first_event:
        return (
            "A date of birth cannot be after events already on the person's record "
            f"(the earliest is {first_event:%d %b %Y})."
        )
    return None


def duration_error(
    start: datetime,
    end: datetime,
    *,
    what: str,
    maximum: timedelta,
    minimum: timedelta = timedelta(0),
) -> str | None:
    """Check that `end` is after `start` by more than `minimum` and at most `maximum`."""
    length = end - start
    if length <= timedelta(0):
        return f"{what} must end after it starts."
    if length < minimum:
        return f"{what} must last at least {_duration_words(minimum)}."
    if length > maximum:
        return f"{what} cannot last more than {_duration_words(maximum)}."
    return None


def _duration_words(length: timedelta) -> str:
    minutes = int(length.total_seconds() // 60)
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour" + ("" if hours == 1 else "s")
    return f"{minutes} minutes"


def query_date(raw: str | None, *, today: date) -> date | None:
    """Parse a date given in a query string (`YYYY-MM-DD`).

    Returns None when the parameter is absent or empty. Raises ValueError, with a message fit to
    show, when it is not a date or lies outside [1900-01-01, today + 1 year]: a view turns that
    into a field error or a 400, never a 500.
    """
    if raw is None or raw.strip() == "":
        return None
    text = raw.strip()
    if len(text) != 10:
        raise ValueError("Enter a date as YYYY-MM-DD.")
    try:
        value = date.fromisoformat(text)
    except ValueError:
        raise ValueError("Enter a date as YYYY-MM-DD.") from None
    if value < EARLIEST_DATE:
        raise ValueError(f"Choose a date from {EARLIEST_DATE:%Y} onwards.")
    if value > today + QUERY_HORIZON:
        raise ValueError("Choose a date no more than a year from today.")
    return value


_FHIR_DATE = re.compile(
    r"(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})"
    r"(?:T(?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.\d{1,9})?)?"
    r"(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?"
)


def query_fhir_date(raw: str, *, now: datetime) -> tuple[datetime, datetime]:
    """Parse a FHIR search date (`2026`, `2026-03`, `2026-03-02`, `2026-03-02T10:00`,
    `2026-03-02T10:00:00Z`, `...+01:00`) into the half-open range of instants it stands for:
    a whole year, month or day in London, a minute or a second.

    A time without an offset is London wall-clock time (refused in the spring-forward gap or
    the autumn's repeated hour, as `local_to_instant` does). Raises ValueError, with a message
    fit to show, when it is not such a date or lies before 1900 or more than the appointment
    horizon and a year after `now`: the FHIR API answers 400, never 500.
    """
    match = _FHIR_DATE.fullmatch(raw.strip())
    if match is None:
        raise ValueError(f"Not a FHIR date: {raw[:40]!r} (e.g. 2026-03-02 or 2026-03-02T10:00Z).")
    parts = match.groupdict()
    try:
        year, month, day = int(parts["y"]), int(parts["m"] or 1), int(parts["d"] or 1)
        first = date(year, month, day)
        if parts["H"] is None:
            if parts["d"]:
                last = first + timedelta(days=1)
            elif parts["m"]:
                last = date(year + month // 12, month % 12 + 1, 1)
            else:
                last = date(year + 1, 1, 1)
            start = datetime.combine(first, time.min, tzinfo=LONDON)
            end = datetime.combine(last, time.min, tzinfo=LONDON)
        else:
            wall = datetime.combine(
                first, time(int(parts["H"]), int(parts["M"]), int(parts["S"] or 0))
            )
            if parts["tz"]:
                offset = "+00:00" if parts["tz"] == "Z" else parts["tz"]
                start = datetime.fromisoformat(wall.isoformat() + offset)
            else:
                start = local_to_instant(wall)
            end = start + (timedelta(minutes=1) if parts["S"] is None else timedelta(seconds=1))
    except ImplausibleTime:
        raise
    except (ValueError, OverflowError):
        raise ValueError(f"Not a real date: {raw[:40]!r}.") from None
    if start < EARLIEST_INSTANT:
        raise ValueError(f"Choose a date from {EARLIEST_DATE:%Y} onwards.")
    if start > now + APPOINTMENT_HORIZON + QUERY_HORIZON:
        raise ValueError("Choose a date no more than three years from now.")
    return start, end


def local_to_instant(wall: datetime, *, fold: int | None = None) -> datetime:
    """The aware instant of a naive London wall-clock time.

    Raises ImplausibleTime when the time falls in the spring-forward gap (it never happened), or
    when it happens twice (autumn) and `fold` is None. `fold` 0 means the first occurrence (BST),
    1 the second (GMT); it is ignored for times that happen once.
    """
    if wall.tzinfo is not None:
        raise ValueError("wall must be a naive wall-clock time")
    first = wall.replace(tzinfo=LONDON, fold=0)
    second = wall.replace(tzinfo=LONDON, fold=1)
    for candidate in (first, second):
        back = candidate.astimezone(UTC).astimezone(LONDON).replace(tzinfo=None, fold=0)
        if back != wall:
            raise ImplausibleTime(
                f"{wall:%H:%M} on {wall:%d %B %Y} did not happen in the UK: the clocks went "
                "forward an hour at 01:00. Enter the time as the clock showed it after the "
                "change (one hour later).",
                ambiguous=False,
            )
    if first.utcoffset() == second.utcoffset():
        return first.astimezone(UTC)
    if fold is None:
        raise ImplausibleTime(
            f"{wall:%H:%M} on {wall:%d %B %Y} happened twice in the UK: the clocks went back "
            "an hour at 02:00. Say which one you mean: the first (BST) or the second (GMT).",
            ambiguous=True,
        )
    return (second if fold else first).astimezone(UTC)
