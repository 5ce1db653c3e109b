"""/health/monitor/: the monitoring endpoint. (/health/, in pod/home.py, stays the load balancer's
cheap probe: the app answers and the database is reachable.)

Built on django-health-check (`HealthCheckView`, its `Database` check, its text, JSON, Atom and
OpenMetrics renderings), with POD's own checks. Each runs in a worker thread with a time limit,
so a hung database or broker turns the endpoint red instead of hanging it. The answer is 200
when every check passes, 503 when any fails; JSON (`Accept: application/json` or
`?format=json`) says which and why:

    {"status": "ok" | "failing",
     "checks": {"database": {"ok": true, "detail": "OK"}, "broker": {...},
                "periodic_tasks": {...}, "undelivered_messages": {...}, "clock_checks": {...}}}

- database: a SELECT 1.
- broker: a connection to CELERY_BROKER_URL (2 s).
- periodic_tasks: each task on beat's schedule completed within its interval plus
  POD_HEALTH_SWEEP_GRACE_MINUTES (beat's heartbeat, pod/foundation/heartbeats.py); one that has
  never completed is late once it has been on the schedule that long.
- undelivered_messages: the oldest email in the outbox not yet sent (waiting, being sent or
  failed), and the oldest alert not yet delivered, are younger than
  POD_HEALTH_UNDELIVERED_MINUTES.
- clock_checks: no episode's 24-hour clock check has failed POD_HEALTH_CLOCK_FAILURES times in
  a row (meetings/sweeps.py retries a failing episode every 10 minutes).

No personal data: ids, counts and ages only. Public, like /health/, so monitors need no account.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any, ClassVar

from celery import current_app
from celery.schedules import schedule as celery_schedule
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from health_check.base import HealthCheck, HealthCheckResult
from health_check.checks import Database
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView

from meetings.health_selectors import clock_checks_failing, oldest_undelivered_alert_raised_at
from pod.foundation.heartbeats import heartbeats_by_task
from pod.foundation.outbox import oldest_undelivered_queued_at


def _minutes(delta: timedelta) -> str:
    return f"{delta / timedelta(minutes=1):.0f} min"


class _DatabaseCheck(HealthCheck):
    """A POD check that reads the database. It runs in one of the view's worker threads, whose
    connection is closed when it is done (a thread's connection is never reused by a request,
    so it would otherwise stay open, unchecked, for good)."""

    detail: str = "OK"

    def run(self) -> None:
        try:
            self.check(timezone.now())
        finally:
            connection.close()

    def check(self, now: datetime) -> None:
        raise NotImplementedError


def _interval(entry: dict[str, Any]) -> timedelta:
    every = entry["schedule"]
    if isinstance(every, int | float):
        return timedelta(seconds=every)
    if isinstance(every, timedelta):
        return every
    if isinstance(every, celery_schedule):
        run_every: timedelta = getattr(every, "run_every")  # noqa: B009 (untyped in the stubs)
        return run_every
    # A crontab: at most a day between runs.
    return timedelta(days=1)


@dataclasses.dataclass
class PeriodicTasksOnTime(_DatabaseCheck):
    """Every task on beat's schedule completed within its interval plus the grace period."""

    name: ClassVar[str] = "periodic_tasks"

    def check(self, now: datetime) -> None:
        grace = timedelta(minutes=settings.POD_HEALTH_SWEEP_GRACE_MINUTES)
        completed = heartbeats_by_task()
        late: list[str] = []
        ages: list[str] = []
        for entry_name, entry in sorted(settings.CELERY_BEAT_SCHEDULE.items()):
            limit = _interval(entry) + grace
            beat = completed.get(str(entry["task"]))
            if beat is None:  # beat's schedule was never synchronised (no migrate, no beat)
                late.append(f"{entry_name} is not on beat's schedule")
                continue
            if beat.completed_at is None:
                waited = now - beat.expected_since
                if waited > limit:
                    late.append(
                        f"{entry_name} has never completed in {_minutes(waited)} on the schedule"
                    )
                else:
                    ages.append(f"{entry_name} not yet due")
                continue
            age = now - beat.completed_at
            ages.append(f"{entry_name} {_minutes(age)} ago")
            if age > limit:
                late.append(
                    f"{entry_name} last completed {_minutes(age)} ago (limit {_minutes(limit)})"
                )
        if late:
            raise ServiceUnavailable("; ".join(late))
        self.detail = "last completed: " + ", ".join(ages)


@dataclasses.dataclass
class MessagesDelivered(_DatabaseCheck):
    """Nothing owed has waited longer than POD_HEALTH_UNDELIVERED_MINUTES: the outbox's oldest
    unsent email, and the oldest undelivered alert."""

    name: ClassVar[str] = "undelivered_messages"

    def check(self, now: datetime) -> None:
        limit = timedelta(minutes=settings.POD_HEALTH_UNDELIVERED_MINUTES)
        found = {
            "email": oldest_undelivered_queued_at(),
            "alert": oldest_undelivered_alert_raised_at(),
        }
        ages = {what: now - when for what, when in found.items() if when is not None}
        too_old = [
            f"the oldest undelivered {what} is {_minutes(age)} old (limit {_minutes(limit)})"
            for what, age in ages.items()
            if age > limit
        ]
        if too_old:
            raise ServiceUnavailable("; ".join(too_old))
        self.detail = (
            "; ".join(f"oldest undelivered {what}: {_minutes(age)}" for what, age in ages.items())
            or "nothing undelivered"
        )


@dataclasses.dataclass
class ClockChecksSucceed(_DatabaseCheck):
    """No episode's clock check keeps failing."""

    name: ClassVar[str] = "clock_checks"

    def check(self, now: datetime) -> None:
        failing = clock_checks_failing(min_failures=settings.POD_HEALTH_CLOCK_FAILURES)
        if failing:
            listed = ", ".join(f"episode {f.episode_id} ({f.failures} times)" for f in failing)
            raise ServiceUnavailable(f"clock checks keep failing: {listed}")


@dataclasses.dataclass
class Broker(HealthCheck):
    """The broker accepts a connection (CELERY_BROKER_URL); its address is not shown."""

    name: ClassVar[str] = "broker"
    timeout = timedelta(seconds=4)

    def run(self) -> None:
        try:
            with current_app.connection_for_write() as broker:
                broker.ensure_connection(max_retries=1, interval_start=0, timeout=2)
        except Exception as exc:  # any failure to connect, reported by class only
            raise ServiceUnavailable(f"cannot reach the broker ({type(exc).__name__})") from exc


@dataclasses.dataclass
class DatabaseReachable(Database):
    name: ClassVar[str] = "database"


class MonitorView(HealthCheckView):
    """The monitoring endpoint (module docstring)."""

    checks = (DatabaseReachable, Broker, PeriodicTasksOnTime, MessagesDelivered, ClockChecksSucceed)
    results: list[HealthCheckResult]

    async def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response: HttpResponse = await super().get(request, *args, **kwargs)
        if response.status_code == 500:  # the library's "a check failed"
            response.status_code = 503
        return response

    def render_to_response_json(self, status: int) -> JsonResponse:
        checks = {
            getattr(result.check, "name", repr(result.check)): {
                "ok": result.error is None,
                "detail": str(result.error)
                if result.error
                else getattr(result.check, "detail", "OK"),
            }
            for result in self.results
        }
        failing = any(result.error for result in self.results)
        return JsonResponse(
            {"status": "failing" if failing else "ok", "checks": checks},
            status=503 if failing else 200,
        )


monitor = MonitorView.as_view()
