"""Celery tasks of outcomes: thin interfaces over outcomes/importing/jobs.py. They take a job id
(or nothing), are idempotent, and are safe to run twice or concurrently: each step acts only on
a job in the status it expects, and the import holds the job row's lock while it writes."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from outcomes.dashboard import warming
from outcomes.importing import jobs


@shared_task
def outcome_import_preview(job_id: int) -> None:
    """Check an uploaded file against the record and store the preview."""
    jobs.import_preview_run(job_id, now=timezone.now())


@shared_task
def outcome_import_run(job_id: int) -> None:
    """Import a previewed file, all or nothing, if the record still matches its preview."""
    jobs.import_run(job_id, now=timezone.now())


@shared_task
def resume_stalled_outcome_imports() -> int:
    """Every five minutes (beat): send again imports whose task was lost."""
    return jobs.imports_resume_stalled(now=timezone.now())


@shared_task(soft_time_limit=600)
def warm_dashboards() -> int:
    """Every half freshness window (beat, with a shared cache): keep the usual dashboards'
    figures computed (outcomes/dashboard/warming.py). Idempotent; a second run while one is
    going does nothing; a run is stopped after 10 minutes (the figures it kept stay)."""
    return warming.warm_dashboards(timezone.now())
