"""Beat's schedule in the database follows the code (settings.CELERY_BEAT_SCHEDULE).

django-celery-beat keeps the schedule in its tables and, left alone, only ever adds to them: an
entry removed from the code stays enabled and keeps firing. `beat_schedule_sync` writes every
entry the code defines (enabled, with its task and interval) and disables every other one.
It runs when beat starts (`SynchronisedScheduler`, settings.CELERY_BEAT_SCHEDULER) and after
every `migrate` (PodConfig.ready), so a release that removes an entry stops it at once.
Celery's own entries ("celery.*") are left to Celery.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import PeriodicTask, PeriodicTasks
from django_celery_beat.schedulers import DatabaseScheduler, ModelEntry

from pod.celery import app as celery_app
from pod.foundation.heartbeats import heartbeats_expect

logger = logging.getLogger(__name__)


@transaction.atomic
def beat_schedule_sync(schedule: Mapping[str, Mapping[str, Any]] | None = None) -> list[str]:
    """Make django-celery-beat's table match `schedule` (settings.CELERY_BEAT_SCHEDULE when
    None): its entries written and enabled, every other entry except Celery's own disabled.
    Returns the names it disabled. Safe to run any number of times."""
    if schedule is None:
        schedule = settings.CELERY_BEAT_SCHEDULE
    for name, entry in schedule.items():
        ModelEntry.from_entry(name, app=celery_app, **entry)
    # The monitoring endpoint expects each task's first completion from now on.
    heartbeats_expect((str(entry["task"]) for entry in schedule.values()), now=timezone.now())
    PeriodicTask.objects.filter(name__in=list(schedule), enabled=False).update(enabled=True)
    stale = (
        PeriodicTask.objects.filter(enabled=True)
        .exclude(name__in=list(schedule))
        .exclude(name__startswith="celery.")
    )
    disabled = sorted(stale.values_list("name", flat=True))
    if disabled:
        stale.update(enabled=False)
        logger.warning("beat schedule: disabled entries the code no longer defines: %s", disabled)
    # .update() sends no signals: tell a running beat that the schedule changed.
    PeriodicTasks.update_changed()
    return disabled


def sync_on_migrate(**kwargs: Any) -> None:
    """post_migrate receiver (PodConfig.ready)."""
    beat_schedule_sync()


class SynchronisedScheduler(DatabaseScheduler):
    """django-celery-beat's DatabaseScheduler, synchronised with the code before it first
    reads its entries (beat start-up)."""

    def setup_schedule(self) -> None:
        beat_schedule_sync(self.app.conf.beat_schedule)
        super().setup_schedule()
