"""Keep the dashboards' usual views computed before anyone opens them (issue 17, point 4).

The figures of a trust's or the whole service's dashboard take 1-2.5 s to compute at 50,000
people (benchmarks/dashboards/RESULTS-freshness.md); kept, they take tens of milliseconds
(outcomes/dashboard/freshness.py). Without warming, the first look after each freshness window
is the one that waits. So Celery beat runs `warm_dashboards` every half window
(pod/settings.py, "warm-dashboards"), and it recomputes every usual view whose kept figures are
older than a quarter of the window: no kept figure a page finds is then ever older than about
half the window, and none has run out.

The usual views, each over the default period (scope.default_period: the last 365 days, and
for the outcomes card from the first assessment on record):
- every active service manager's own teams (their dashboard's default), and each of their
  trusts' share of them (the trust filter);
- every trust's teams, and every team of the service together (an administrator's default and
  trust filter).
A single team's dashboard is not warmed: it costs 0.2-0.3 s at 50,000 people computed afresh
(benchmarks/dashboards/RESULTS.md). Neither are CSV downloads (every row, a different entry).

Warming helps only when the worker and the web processes share the cache (`POD_CACHE_URL`,
README "Configuration"), so beat runs it only then (pod/settings.py). A run takes one worker
slot at most: a second run while one holds the lock does nothing, and beat drops a run it
could not start within its interval. At 50,000 people one run from an empty cache takes about
10-16 s (benchmarks/dashboards/RESULTS-freshness.md).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from django.core.cache import cache

from outcomes.dashboard import freshness, sections
from outcomes.dashboard.scope import Scope, default_period
from pod.foundation.localtime import LONDON
from pod.foundation.models import Team, TeamMembership, User

logger = logging.getLogger(__name__)


def usual_team_sets() -> list[tuple[int, ...]]:
    """The team-id sets (each sorted) whose dashboards are warmed: see the module's list."""
    trust_of = dict(Team.objects.values_list("pk", "trust_id"))
    sets: set[tuple[int, ...]] = set()
    if trust_of:
        sets.add(tuple(sorted(trust_of)))
    by_trust: dict[int, list[int]] = defaultdict(list)
    for team_id, trust_id in trust_of.items():
        by_trust[trust_id].append(team_id)
    sets.update(tuple(sorted(teams)) for teams in by_trust.values())
    managers: dict[int, list[int]] = defaultdict(list)
    for user_id, team_id in TeamMembership.objects.filter(
        user__role=User.Role.SERVICE_MANAGER, user__is_active=True
    ).values_list("user_id", "team_id"):
        managers[user_id].append(team_id)
    for teams in managers.values():
        sets.add(tuple(sorted(teams)))
        mine_by_trust: dict[int, list[int]] = defaultdict(list)
        for team_id in teams:
            mine_by_trust[trust_of[team_id]].append(team_id)
        sets.update(tuple(sorted(t)) for t in mine_by_trust.values())
    return sorted(sets)


LOCK_KEY = "pod:dashboard:warming"


def warm_dashboards(now: datetime) -> int:
    """Recompute and keep, for each of `usual_team_sets()`, the overview's sections and the
    outcomes card over the default period at `now`, where the kept figures are older than a
    quarter of the freshness window (or absent). Returns the number of team sets looked at;
    0 when the figures are not kept at all (POD_DASHBOARD_FRESH_SECONDS = 0), when another
    run holds the lock (so overlapping runs never take more than one worker slot), or when the
    cache cannot be reached (nothing could be kept)."""
    window = freshness.fresh_for()
    if window <= timedelta(0):
        return 0
    try:
        # Held for at most half a window (a run killed mid-way frees it by then).
        if not cache.add(LOCK_KEY, now.isoformat(), timeout=window.total_seconds() / 2):
            logger.info("dashboard warm-up skipped: another run holds the lock")
            return 0
    except Exception:
        logger.warning("dashboard warm-up skipped: the cache cannot be reached", exc_info=True)
        return 0
    try:
        return _warm(now, renew_after=window / 4)
    finally:
        try:
            cache.delete(LOCK_KEY)
        except Exception:  # gone with the cache: it expires on its own
            logger.warning("dashboard warm-up lock not released", exc_info=True)


def _warm(now: datetime, *, renew_after: timedelta) -> int:
    team_sets = usual_team_sets()
    start, end = default_period(now.astimezone(LONDON).date())
    for team_ids in team_sets:
        scope = Scope(team_ids=team_ids, start=start, end=end, now=now)
        freshness.many(sections.OVERVIEW_SECTIONS, scope, renew_after=renew_after)
        first = freshness.first_assessment_start(team_ids, now, renew_after=renew_after)
        outcomes_start, _ = default_period(scope.end, first)
        freshness.section(
            "outcomes", Scope(team_ids, outcomes_start, end, now), renew_after=renew_after
        )
    return len(team_sets)
