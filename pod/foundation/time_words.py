"""Times and spans in words, the one way POD writes them for people (issue 13).

Pure functions: the current time comes in as `now`. Instants read in London time, with the
year only when it is not this year ("Mon 2 Mar, 09:00", "Fri 4 Dec 2026, 17:30"); spans read
in days, hours and minutes ("2 days 3 h", "5 h 07 min", "30 minutes").
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pod.foundation.localtime import LONDON


def instant_words(instant: datetime, *, now: datetime) -> str:
    """`instant` (aware) in London time, e.g. "Mon 2 Mar, 09:00"; the year is added when the
    instant is not in `now`'s London year ("Mon 2 Mar 2026, 09:00")."""
    local = instant.astimezone(LONDON)
    year = "" if local.year == now.astimezone(LONDON).year else f" {local.year}"
    return f"{local:%a} {local.day} {local:%b}{year}, {local:%H:%M}"


def span_words(span: timedelta) -> str:
    """A non-negative elapsed span in words: whole days and hours past a day ("2 days 3 h",
    "1 day"), hours and minutes under a day ("5 h 07 min"), minutes under an hour ("30 minutes").
    Negative spans read as their size. Seconds are dropped."""
    minutes_total = abs(int(span.total_seconds())) // 60
    days, rest = divmod(minutes_total, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        day_part = f"{days} day{'s' if days != 1 else ''}"
        return f"{day_part} {hours} h" if hours else day_part
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
