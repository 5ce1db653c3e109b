"""The dashboard's figures kept for a few minutes, with the time they were computed shown.

Why (issue 17, point 4): a trust's and a whole service's dashboard aggregate hundreds of
thousands of meetings at 50,000 people (0.6-1.9 s, benchmarks/dashboards/RESULTS.md), while the
figures a service manager reads change slowly and are read by several managers in the same
hour. So each section's result is kept in Django's cache and reused while it is fresh.

The freshness rule, which the page states ("Figures as of 10:42; recomputed when more than 10
minutes old"):
1. A section's result is stored with the instant it was computed (`as_of`, the scope's `now`).
2. A request reuses it only while `now - as_of < settings.POD_DASHBOARD_FRESH_SECONDS`; an older
   result is recomputed and stored again. The cache's own expiry is the same length, so a stale
   entry also leaves the cache on its own.
3. `POD_DASHBOARD_FRESH_SECONDS = 0` switches the cache off: every request computes afresh.
Every entry is keyed by everything the figures depend on: the section, the teams, the period,
the outcome time point and the list limit (a CSV, with every row, is a separate entry from the
page's first rows). A manager therefore never sees another scope's figures, and the figures
are at most the freshness window old.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache

from outcomes import rules
from outcomes.dashboard import sections
from outcomes.dashboard.scope import Scope
from outcomes.dashboard.sections import SectionName, SectionResult

# Bump when a section's result type changes shape, so an old pickled result is never read.
KEY_VERSION = 2  # 2: the late-record rows say whether the meeting was arranged beforehand


T = TypeVar("T")


@dataclass(frozen=True)
class Computed:
    """A kept result and the instant (aware) it was computed."""

    value: Any
    as_of: datetime


def fresh_for() -> timedelta:
    """How long a computed section is reused: settings.POD_DASHBOARD_FRESH_SECONDS."""
    return timedelta(seconds=settings.POD_DASHBOARD_FRESH_SECONDS)


def teams_key(team_ids: tuple[int, ...]) -> str:
    """The teams as a short part of a cache key (a trust has many)."""
    return hashlib.sha256(",".join(map(str, sorted(team_ids))).encode()).hexdigest()[:24]


def cache_key(
    name: SectionName, scope: Scope, *, timepoint_months: int, list_limit: int | None
) -> str:
    """The cache key of one section for one scope."""
    return (
        f"pod:dashboard:v{KEY_VERSION}:{name}:{teams_key(scope.team_ids)}:{scope.start}:"
        f"{scope.end}:{timepoint_months}:{list_limit}"
    )


def kept(key: str, now: datetime, compute: Callable[[], T]) -> tuple[T, datetime]:
    """`compute()` and the instant it was computed, reused from the cache under `key` while
    fresh at `now` (the module's rule)."""
    window = fresh_for()
    if window <= timedelta(0):
        return compute(), now
    found = cache.get(key)
    if isinstance(found, Computed) and timedelta(0) <= now - found.as_of < window:
        return found.value, found.as_of
    value = compute()
    cache.set(key, Computed(value=value, as_of=now), timeout=window.total_seconds())
    return value, now


def section(
    name: SectionName,
    scope: Scope,
    *,
    timepoint_months: int = rules.DASHBOARD_TIMEPOINT,
    list_limit: int | None = rules.DASHBOARD_LIST_LIMIT,
) -> tuple[SectionResult, datetime]:
    """One section as `sections.section` computes it, reused from the cache while it is fresh
    (the module's rule), and when it was computed (`scope.now` when just now)."""
    key = cache_key(name, scope, timepoint_months=timepoint_months, list_limit=list_limit)
    return kept(
        key,
        scope.now,
        lambda: sections.section(
            name, scope, timepoint_months=timepoint_months, list_limit=list_limit
        ),
    )


def many(
    names: tuple[SectionName, ...],
    scope: Scope,
    *,
    timepoint_months: int = rules.DASHBOARD_TIMEPOINT,
    list_limit: int | None = rules.DASHBOARD_LIST_LIMIT,
) -> tuple[dict[SectionName, SectionResult], datetime]:
    """Several sections through `section`, and the oldest `as_of` among them (what the page
    says its figures are "as of")."""
    found = {
        name: section(name, scope, timepoint_months=timepoint_months, list_limit=list_limit)
        for name in names
    }
    as_of = min((when for _value, when in found.values()), default=scope.now)
    return {name: value for name, (value, _when) in found.items()}, as_of
