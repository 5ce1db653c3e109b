"""Whose records and which period a dashboard covers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from outcomes import rules
from pod.foundation.localtime import LONDON

# The longest period a dashboard covers (outcomes.forms refuses a longer one).
MAX_PERIOD_DAYS = 366 * 10


def default_period(today: date, earliest: date | None = None) -> tuple[date, date]:
    """The period a dashboard shows when none is chosen: (first, last) London calendar days,
    the last 365 days ending `today`, or from `earliest` when that is earlier (the outcomes
    page starts at the first assessment on record)."""
    year_ago = today - timedelta(days=364)
    return (year_ago if earliest is None else min(earliest, year_ago)), today


@dataclass(frozen=True)
class Scope:
    """The teams (ids) and the period (London calendar days, both ends included) of a
    dashboard, and the instant it is drawn at (`now`, aware), which decides which clocks have
    run out."""

    team_ids: tuple[int, ...]
    start: date  # first London calendar day of the period
    end: date  # last London calendar day of the period (inclusive)
    now: datetime

    @property
    def start_at(self) -> datetime:
        """The instant the period starts: midnight in London at the start of `start`."""
        return datetime.combine(self.start, time.min, tzinfo=LONDON)

    @property
    def end_at(self) -> datetime:
        """Exclusive: the start of the day after the period."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=LONDON)

    def months(self) -> list[date]:
        """The first day of every calendar month the period touches, in order."""
        months, cursor = [], self.start.replace(day=1)
        while cursor <= self.end:
            months.append(cursor)
            cursor = rules.add_months(cursor, 1)
        return months
