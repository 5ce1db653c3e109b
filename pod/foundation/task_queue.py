"""Handing work to a Celery worker by task name, after the transaction that owes it commits.

By name, so that a module low in an app (meetings.alerts, meetings.services) can hand work to the
app's `tasks` module, which sits on top of it and imports it, without importing it back: the
layers point down only (README "Architecture"). The task is looked up in the Celery app's
registry, so a registered task runs as configured (in-process under CELERY_TASK_ALWAYS_EAGER, in
tests); each app's `AppConfig.ready` imports its tasks module so that every process (web, worker,
beat, management command) has them registered.

The broker only carries work (README "Deploying"): a broker that cannot be reached is logged and
never turns into an error for the person whose write has already committed. Work that must not
be lost is an outbox row that a periodic sweep also picks up (alerts); the message sent here is
only a nudge to do it sooner.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from celery import Task, current_app
from django.db import transaction

logger = logging.getLogger(__name__)


def task_send_on_commit(task_name: str, *args: int) -> None:
    """Send the task registered as `task_name` (e.g. "meetings.tasks.deliver_alerts") with
    `args` (ids, never model instances) once the current transaction commits; at once outside a
    transaction. A rolled-back transaction sends nothing.

    Raises celery.exceptions.NotRegistered at once, inside the caller's transaction, for a name
    that no imported tasks module registered: a programming error that any test of the write
    finds. A broker outage at send time is logged by `task_send`, never raised.
    """
    task = current_app.tasks[task_name]
    transaction.on_commit(partial(_send, task, args))


def task_send(task_name: str, *args: int) -> bool:
    """Send the task registered as `task_name` with `args` now; True when it was handed to the
    broker (or run, under CELERY_TASK_ALWAYS_EAGER). False, with a warning naming the task and
    the exception class, when the broker cannot be reached. NotRegistered as above."""
    return _send(current_app.tasks[task_name], args)


def _send(task: Task[..., Any], args: tuple[int, ...]) -> bool:
    try:
        task.delay(*args)
    except Exception as exc:  # the broker being down must not fail the write that committed
        logger.warning("could not send task %s (%s)", task.name, type(exc).__name__)
        return False
    return True
