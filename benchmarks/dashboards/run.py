"""Measure each dashboard section: queries and time, ORM (outcomes/dashboard/) against the same
aggregates in hand-written SQL (handsql), and the whole page through the test client.

Driven by `python -m benchmarks.dashboards`; the figures are in RESULTS.md beside this file.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypedDict

from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from benchmarks.dashboards import handsql
from benchmarks.dashboards.generate import STAFF_PER_TEAM, TEAMS
from outcomes import rules
from outcomes.dashboard import sections, warming
from outcomes.dashboard.scope import Scope
from outcomes.rules import Mean
from pod.foundation.localtime import LONDON
from pod.foundation.models import User

TIMEPOINT = rules.DASHBOARD_TIMEPOINT


class SectionFigures(TypedDict):
    orm_queries: int
    sql_queries: int
    orm_ms: float
    sql_ms: float
    agree: bool


class PageFigures(TypedDict):
    queries: int
    ms: float


def _num(value: Any) -> Any:
    if isinstance(value, Mean):  # a dashboard mean with its interval: compare the mean
        value = value.mean
    if isinstance(value, Decimal | float):
        return round(float(value), 6)
    return value


def project(section: str, result: Any, *, from_sql: bool) -> Any:
    """The numbers both implementations must agree on, in one comparable shape."""
    if section == "first_meeting":
        keys = ("referrals", "met", "breached", "open_clocks", "median_hours", "p90_hours")
        return (
            [_num(result[k]) for k in keys],
            [b["id"] for b in result["breaches"]],
            [(str(b["breach_reason"])) for b in result["breaches"]],
        )
    if section == "first_14_days":
        return [_num(result[k]) for k in ("episodes", "mean", "none")]
    if section == "attendance":
        return [result[k] for k in ("held", "members", "core", "two_staff")]
    if section == "medication":
        keys = ("prescriptions", "new", "new_with_meetings", "overrides", "violations")
        return (
            [result[k] for k in keys],
            [r["id"] for r in result["override_list"]],
            [r["id"] for r in result["violation_list"]],
        )
    if section == "peer":
        keys = ("contacts", "episodes", "mean_at_referral", "mean_now", "thin_count")
        return ([_num(result[k]) for k in keys], [r["episode_id"] for r in result["thin_list"]])
    if section == "staffing":
        return [
            (r["id"], r["clinical"], r["trained"], r["peer_workers"], r["volunteers"])
            for r in result
        ]
    if section == "outcomes":
        if from_sql:
            return {
                r["arm"]: (r["n"], r["mild_or_none"], r["relapse"], _num(r["bed_days"]))
                for r in result
            }
        rows = {r["key"]: r for r in result["rows"]}
        out = {}
        for arm in ("POD", "TAU"):
            n = result[f"n_{arm.lower()}"]
            if n:
                out[arm] = (
                    n,
                    rows["mild_or_none"][arm].count,
                    rows["relapse"][arm].count,
                    _num(rows["bed_days"][arm]),
                )
        return out
    if section == "experience":
        if from_sql:  # the same suppression the selector applies (fewer than 5 answers)
            return [
                (result[f"{f}__yes"], result[f"{f}__n"])
                if result[f"{f}__n"] >= rules.SMALL_CELL or not result[f"{f}__n"]
                else (0, 0)
                for f, _s, _n in rules.SURVEY_STATEMENTS
            ]
        return [(r["cell"].count, r["cell"].n) for r in result]
    if section == "care_plans":
        return [result[k] for k in ("plans", "involved", "views")]
    if section == "fidelity":
        return result["ratings"]
    raise KeyError(section)


def _median_ms(fn: Callable[[], Any], runs: int) -> float:
    fn()  # warm-up: plans cached, pages in shared buffers
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def count_queries(fn: Callable[[], Any]) -> int:
    with CaptureQueriesContext(connection) as captured:
        fn()
    return len(captured.captured_queries)


def scopes(now: datetime) -> dict[str, Scope]:
    today = now.astimezone(LONDON).date()
    start = today - timedelta(days=364)

    def make(ids):
        return Scope(team_ids=tuple(ids), start=start, end=today, now=now)

    return {"team": make([1]), "trust": make(range(1, 6)), "service": make(range(1, TEAMS + 1))}


def measure_sections(now: datetime, *, runs: int) -> dict[str, dict[str, SectionFigures]]:
    """{scope: {section: figures}}, the sections in the dashboard's order, then the whole
    dashboard."""
    results: dict[str, dict[str, SectionFigures]] = {}
    for scope_name, scope in scopes(now).items():
        results[scope_name] = {}
        for section in sections.SECTION_NAMES:
            sql_fn = handsql.SECTIONS[section]

            def run_orm(section=section, scope=scope):
                return sections.section(section, scope, timepoint_months=TIMEPOINT)

            def run_sql(sql_fn=sql_fn, scope=scope):
                with connection.cursor() as cursor:
                    return sql_fn(cursor, scope)

            agree = project(section, run_orm(), from_sql=False) == project(
                section, run_sql(), from_sql=True
            )
            results[scope_name][section] = SectionFigures(
                orm_queries=count_queries(run_orm),
                sql_queries=count_queries(run_sql),
                orm_ms=_median_ms(run_orm, runs),
                sql_ms=_median_ms(run_sql, runs),
                agree=agree,
            )

        def whole_dashboard(scope=scope):
            return sections.dashboard(scope, timepoint_months=TIMEPOINT)

        results[scope_name]["whole dashboard (selectors)"] = SectionFigures(
            orm_queries=count_queries(whole_dashboard),
            sql_queries=sum(r["sql_queries"] for r in results[scope_name].values()),
            orm_ms=_median_ms(whole_dashboard, runs),
            # Like with like: every hand-written section back to back, as the ORM's whole
            # dashboard runs (not the sum of each section's warm median).
            sql_ms=_median_ms(lambda scope=scope: _all_sql(scope), runs),
            agree=all(r["agree"] for r in results[scope_name].values()),
        )
    return results


def _all_sql(scope: Scope) -> dict[str, Any]:
    with connection.cursor() as cursor:
        return {name: fn(cursor, scope) for name, fn in handsql.SECTIONS.items()}


def measure_pages(now: datetime, *, runs: int) -> dict[str, PageFigures]:
    """The whole dashboard page through the test client (middleware, view, templates, SVG):
    as the service manager of team 1, and as the administrator for the whole service."""
    today = now.astimezone(LONDON).date()
    query = f"start={today - timedelta(days=364)}&end={today}&timepoint={TIMEPOINT}"
    url = reverse("outcomes:dashboard")
    out: dict[str, PageFigures] = {}
    for label, user_id, extra in (
        ("team (service manager of team 1)", STAFF_PER_TEAM, "&team=1"),
        ("trust 1 (administrator)", TEAMS * STAFF_PER_TEAM + 1, "&trust=1"),
        ("service, 20 teams (administrator)", TEAMS * STAFF_PER_TEAM + 1, ""),
    ):
        client = Client(SERVER_NAME="localhost")
        client.force_login(User.objects.get(pk=user_id))
        full = f"{url}?{query}{extra}"

        def get(client=client, full=full):
            # secure=True: with DEBUG off (as in production) plain HTTP is redirected.
            response = client.get(full, secure=True)
            assert response.status_code == 200, response.status_code
            return response

        # The second factor is pod/foundation/twofactor.py's business, not the dashboard's: measured
        # with it switched off, as the test suite does.
        # ALLOWED_HOSTS: the benchmark runs with DEBUG off, where the default list is empty.
        # POD_DASHBOARD_FRESH_SECONDS=0: every section computed on every request (the kept
        # figures are measured by measure_freshness).
        with override_settings(
            POD_REQUIRE_2FA=False, ALLOWED_HOSTS=["localhost"], POD_DASHBOARD_FRESH_SECONDS=0
        ):
            out[label] = PageFigures(queries=count_queries(get), ms=_median_ms(get, runs))
    return out


class FreshnessFigures(TypedDict):
    """One dashboard (a trust's or the whole service's) as its manager opens it, in ms."""

    baseline_ms: float  # the overview with every section computed on every request
    kept_ms: float  # the overview within the freshness window (figures kept)
    expired_ms: float  # the overview just after the window (every section computed again)
    section_expired_ms: float  # the 24-hour rule's page just after the window
    warmed_ms: float  # the overview after the warm-up task (every look, while beat runs it)
    warmed_section_ms: float  # the 24-hour rule's page after the warm-up task
    warm_up_s: float  # one run of the warm-up task from an empty cache (every usual view)
    kept_queries: int
    baseline_queries: int
    health_ms: float  # /health/ in the same run: the framework's floor for any page


FRESHNESS_TARGETS = {"trust 1": 400.0, "service, 20 teams": 800.0}


def measure_freshness(now: datetime, *, runs: int) -> dict[str, FreshnessFigures]:
    """The trust's and the service's dashboards (issue 17, point 4) as the administrator opens
    them: the overview computed on every request (the baseline, as every page was before the
    figures were kept), within the freshness window, and just after it; and one section's page
    just after it. Medians of `runs` after one warm-up, all in the same run."""
    today = now.astimezone(LONDON).date()
    query = f"start={today - timedelta(days=364)}&end={today}&timepoint={TIMEPOINT}"
    overview = reverse("outcomes:dashboard")
    section = reverse("outcomes:dashboard_section", args=["first-meeting"])
    client = Client(SERVER_NAME="localhost")
    client.force_login(User.objects.get(pk=TEAMS * STAFF_PER_TEAM + 1))
    out: dict[str, FreshnessFigures] = {}
    for label, extra in (("trust 1", "&trust=1"), ("service, 20 teams", "")):

        def get(url: str, *, clear: bool = False, extra: str = extra) -> Any:
            if clear:
                cache.clear()  # as when the window has passed: nothing kept
            response = client.get(f"{url}?{query}{extra}", secure=True)
            assert response.status_code == 200, response.status_code
            return response

        settings_now = {"POD_REQUIRE_2FA": False, "ALLOWED_HOSTS": ["localhost"]}
        with override_settings(**settings_now, POD_DASHBOARD_FRESH_SECONDS=0):
            baseline_queries = count_queries(lambda: get(overview))
            baseline = _median_ms(lambda: get(overview), runs)
        with override_settings(**settings_now, POD_DASHBOARD_FRESH_SECONDS=600):
            cache.clear()
            kept = _median_ms(lambda: get(overview), runs)  # the warm-up computes and keeps
            kept_queries = count_queries(lambda: get(overview))
            expired = _median_ms(lambda: get(overview, clear=True), runs)
            section_expired = _median_ms(lambda: get(section, clear=True), runs)
            # The warm-up task (beat, every half window: outcomes/dashboard/warming.py) has
            # computed every usual view before the manager looks.
            cache.clear()
            t0 = time.perf_counter()
            warming.warm_dashboards(timezone.now())
            warm_up = time.perf_counter() - t0
            warmed = _median_ms(lambda: get(overview), runs)
            warmed_section = _median_ms(lambda: get(section), runs)
            health = _median_ms(lambda: client.get(reverse("health"), secure=True), runs)
        out[label] = FreshnessFigures(
            baseline_ms=baseline,
            kept_ms=kept,
            expired_ms=expired,
            section_expired_ms=section_expired,
            warmed_ms=warmed,
            warmed_section_ms=warmed_section,
            warm_up_s=warm_up,
            kept_queries=kept_queries,
            baseline_queries=baseline_queries,
            health_ms=health,
        )
    return out


def utc_now_minute() -> datetime:
    return datetime.now(UTC).replace(second=0, microsecond=0)
