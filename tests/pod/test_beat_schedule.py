"""Beat's schedule in the database follows the code: written and enabled from
settings.CELERY_BEAT_SCHEDULE, and an entry the code no longer defines disabled, on `migrate`
and when beat starts."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from pod.beat_schedule import beat_schedule_sync
from tests.workers import process_env, start_celery, stop, wait_for


def stale_entry(name="old-sweep"):
    every, _ = IntervalSchedule.objects.get_or_create(every=60, period=IntervalSchedule.SECONDS)
    return PeriodicTask.objects.create(
        name=name, task="meetings.tasks.a_sweep_that_was_removed", interval=every, enabled=True
    )


def enabled_names():
    return set(PeriodicTask.objects.filter(enabled=True).values_list("name", flat=True))


@pytest.mark.hazard("HAZ-01.C9")
@pytest.mark.django_db
def test_it_writes_the_codes_entries_and_disables_the_others():
    stale = stale_entry()
    celery_own = stale_entry("celery.backend_cleanup")
    PeriodicTask.objects.filter(name="first-meeting-sweep").update(enabled=False)

    assert beat_schedule_sync() == ["old-sweep"]

    stale.refresh_from_db()
    assert not stale.enabled
    assert enabled_names() == set(django_settings.CELERY_BEAT_SCHEDULE) | {celery_own.name}
    sweep = PeriodicTask.objects.get(name="first-meeting-sweep")
    assert (sweep.task, sweep.interval.every, sweep.interval.period) == (
        "meetings.tasks.first_meeting_sweep",
        60,
        "seconds",
    )
    assert beat_schedule_sync() == []  # a second run changes nothing


@pytest.mark.hazard("HAZ-01.C9")
@pytest.mark.django_db(transaction=True)
def test_migrate_disables_an_entry_the_code_no_longer_defines():
    stale = stale_entry()
    call_command("migrate", verbosity=0)
    stale.refresh_from_db()
    assert not stale.enabled


@pytest.mark.hazard("HAZ-01.C9")
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_beat_disables_an_entry_the_code_no_longer_defines_when_it_starts(tmp_path):
    stale = stale_entry()
    beat = start_celery(
        "beat",
        process_env(django_settings.CELERY_BROKER_URL),
        "-l",
        "info",
        "--pidfile=",
        output=tmp_path / "beat.log",
    )
    try:
        wait_for(
            lambda: not PeriodicTask.objects.get(pk=stale.pk).enabled,
            timeout=60,
            what="beat to disable the stale entry",
            process=beat,
        )
    finally:
        stop(beat)
    assert "disabled entries the code no longer defines: ['old-sweep']" in (
        (tmp_path / "beat.log").read_text()
    )
