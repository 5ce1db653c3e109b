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
4. Celery keeps the usual views warm (outcomes/dashboard/warming.py): every half window it
   recomputes each manager's default dashboard, each trust's and the whole service's, so the
   first look after the window is not the one that waits. That needs a cache the worker and
   the web processes share: `POD_CACHE_URL` (Redis; README "Configuration"). Without it each
   process keeps its own figures and only rules 1-3 apply.
5. A shared cache that cannot be read or written is logged and bypassed: the figures are
   computed, as with no cache, and the page answers. The process then leaves the cache alone
   for CACHE_RETRY_SECONDS, so a hung cache costs one timeout, not one per section.
Every entry is keyed by everything the figures depend on: the section, the teams, the period,
the outcome time point and the list limit (a CSV, with every row, is a separate entry from the
page's first rows). A manager therefore never sees another scope's figures, and the figures
are at most the freshness window old.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeGuard, TypeVar

from django.conf import settings
from django.core.cache import cache

from outcomes import rules, selectors
from outcomes.dashboard import sections
from outcomes.dashboard.scope import MAX_PERIOD_DAYS, Scope
from outcomes.dashboard.sections import SectionName, SectionResult
from pod.foundation.localtime import LONDON

# Bump when a section's result type changes shape, so an old pickled result is never read.
KEY_VERSION = 2  # 2: the late-record rows say whether the meeting was arranged beforehand


T = TypeVar("T")
logger = logging.getLogger(__name__)


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


# After the shared cache fails, it is left alone for this long (per process), so a cache that
# is down or hung costs one timeout (half a second, pod/settings.py), not one per read and write.
CACHE_RETRY_SECONDS = 30.0
_cache_down_until = 0.0


def _cache_usable() -> bool:
    return time.monotonic() >= _cache_down_until


def _cache_failed(what: str) -> None:
    global _cache_down_until
    _cache_down_until = time.monotonic() + CACHE_RETRY_SECONDS
    logger.warning(
        "dashboard cache %s; computing without it for %.0f s", what, CACHE_RETRY_SECONDS,
        exc_info=True,
    )  # fmt: skip


def _cached(keys: list[str]) -> dict[str, Any]:
    """What the cache holds under `keys` (one round trip); nothing when the cache cannot be
    read: the figures are then computed, as with no cache, and the page answers."""
    if not _cache_usable():
        return {}
    try:
        return cache.get_many(keys)
    except Exception:  # a shared cache (POD_CACHE_URL) that is down or hung: compute instead
        _cache_failed("unreadable")
        return {}


def _keep(entries: dict[str, Computed], window: timedelta) -> None:
    """Store `entries` for `window` (one round trip); a cache that cannot be written is logged
    and skipped (the figures were computed and are shown all the same)."""
    if not _cache_usable():
        return
    try:
        cache.set_many(entries, timeout=window.total_seconds())
    except Exception:
        _cache_failed("unwritable")


def _is_fresh(found: Any, now: datetime, window: timedelta) -> TypeGuard[Computed]:
    return isinstance(found, Computed) and timedelta(0) <= now - found.as_of < window


def kept(
    key: str, now: datetime, compute: Callable[[], T], *, renew_after: timedelta | None = None
) -> tuple[T, datetime]:
    """`compute()` and the instant it was computed, reused from the cache under `key` while
    fresh at `now` (the module's rule). `renew_after` (the warm-up, outcomes/dashboard/
    warming.py): recompute a kept result already this old, though still fresh."""
    window = fresh_for()
    if window <= timedelta(0):
        return compute(), now
    found = _cached([key]).get(key)
    if _is_fresh(found, now, min(window, renew_after or window)):
        return found.value, found.as_of
    value = compute()
    _keep({key: Computed(value=value, as_of=now)}, window)
    return value, now


def section(
    name: SectionName,
    scope: Scope,
    *,
    timepoint_months: int = rules.DASHBOARD_TIMEPOINT,
    list_limit: int | None = rules.DASHBOARD_LIST_LIMIT,
    renew_after: timedelta | None = None,
) -> tuple[SectionResult, datetime]:
    """One section as `sections.section` computes it, reused from the cache while it is fresh
    (the module's rule), and when it was computed (`scope.now` when just now)."""
    found, as_of = many(
        (name,),
        scope,
        timepoint_months=timepoint_months,
        list_limit=list_limit,
        renew_after=renew_after,
    )
    return found[name], as_of


def many(
    names: tuple[SectionName, ...],
    scope: Scope,
    *,
    timepoint_months: int = rules.DASHBOARD_TIMEPOINT,
    list_limit: int | None = rules.DASHBOARD_LIST_LIMIT,
    renew_after: timedelta | None = None,
) -> tuple[dict[SectionName, SectionResult], datetime]:
    """Several sections, each reused from the cache while fresh (the module's rule) or computed
    and kept; one cache read and at most one write for them all. Returns them by name and the
    oldest instant among them (what the page says its figures are "as of"). `renew_after`: as
    for `kept`."""
    window = fresh_for()
    keys = {
        name: cache_key(name, scope, timepoint_months=timepoint_months, list_limit=list_limit)
        for name in names
    }
    found = _cached(list(keys.values())) if window > timedelta(0) else {}
    reuse_within = min(window, renew_after or window)
    values: dict[SectionName, SectionResult] = {}
    as_of = scope.now
    computed: dict[str, Computed] = {}
    for name, key in keys.items():
        hit = found.get(key)
        if _is_fresh(hit, scope.now, reuse_within):
            values[name], as_of = hit.value, min(as_of, hit.as_of)
            continue
        values[name] = sections.section(
            name, scope, timepoint_months=timepoint_months, list_limit=list_limit
        )
        computed[key] = Computed(value=values[name], as_of=scope.now)
    if computed and window > timedelta(0):
        _keep(computed, window)
    return values, as_of


def first_assessment_start(
    team_ids: tuple[int, ...], now: datetime, *, renew_after: timedelta | None = None
) -> date | None:
    """Where the outcomes page's default period starts for these teams: the date of their first
    outcome assessment on record (kept as the figures are), but no earlier than the longest
    period a dashboard covers (scope.MAX_PERIOD_DAYS before today). None: no assessment."""
    first, _as_of = kept(
        f"pod:dashboard:first-assessment:{teams_key(team_ids)}",
        now,
        lambda: selectors.first_assessment_on(team_ids),
        renew_after=renew_after,
    )
    if first is None:
        return None
    return max(first, now.astimezone(LONDON).date() - timedelta(days=MAX_PERIOD_DAYS))
