"""Beat's heartbeat: when each periodic task last completed, kept in the database.

The Celery wiring (pod/celery.py) calls `heartbeat_record` after every successful run of a task
on the beat schedule; the monitoring endpoint (pod/health.py) compares each task's last
completion with its interval, so a stopped beat, a stopped worker or a sweep that fails every
time turns the endpoint red.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple

from celery import Task
from celery.signals import task_success
from django.conf import settings
from django.db import connection
from django.utils import timezone

from pod.foundation.models import SweepHeartbeat


def heartbeat_record(task_name: str, *, now: datetime) -> None:
    """Record that `task_name` completed at `now` (never moving an entry backwards). One
    statement, safe under concurrent workers."""
    table = connection.ops.quote_name(SweepHeartbeat._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} AS h (task_name, expected_since, completed_at) "
            "VALUES (%s, %s, %s) ON CONFLICT (task_name) DO UPDATE "
            # GREATEST ignores NULL: a first completion is stored as it is.
            "SET completed_at = GREATEST(h.completed_at, EXCLUDED.completed_at)",
            [task_name, now, now],
        )


def heartbeats_expect(task_names: Iterable[str], *, now: datetime) -> None:
    """Note that the schedule holds `task_names` from `now`, for those not known yet (beat's
    schedule sync, pod/beat_schedule.py)."""
    SweepHeartbeat.objects.bulk_create(
        [SweepHeartbeat(task_name=name, expected_since=now) for name in task_names],
        ignore_conflicts=True,
    )


class Heartbeat(NamedTuple):
    expected_since: datetime
    completed_at: datetime | None  # None: it has never completed


def heartbeats_by_task() -> dict[str, Heartbeat]:
    """Task name -> when the schedule first held it and when it last completed, for every task
    the schedule has held or that has completed."""
    return {
        name: Heartbeat(since, completed)
        for name, since, completed in SweepHeartbeat.objects.values_list(
            "task_name", "expected_since", "completed_at"
        )
    }


def periodic_task_names() -> set[str]:
    """The Celery task names on beat's schedule (settings.CELERY_BEAT_SCHEDULE)."""
    return {str(entry["task"]) for entry in settings.CELERY_BEAT_SCHEDULE.values()}


def _task_success(sender: Task[Any, Any] | None = None, **kwargs: Any) -> None:
    if sender is not None and sender.name in periodic_task_names():
        heartbeat_record(sender.name, now=timezone.now())


def connect_celery_signals() -> None:
    """Record a heartbeat after each successful run of a task on the schedule, whoever sent it
    (beat, or a nudge after a commit: each task's own row tells whether beat still runs it)."""
    task_success.connect(_task_success, weak=False, dispatch_uid="pod_heartbeat")
