"""Celery entry points of the FHIR API: the bulk export, deleting old export files and expired
tokens."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone
from oauth2_provider.models import clear_expired

from pod.fhir.bulk import export_run, forget_old


@shared_task
def run_export(job_id: int) -> str:
    """Run one $export job (pod.fhir.bulk.export_run); safe to run twice."""
    return export_run(job_id, clock=timezone.now)


@shared_task
def forget_old_exports() -> int:
    """Hourly: delete export files older than POD_FHIR_EXPORT_KEEP_HOURS."""
    return forget_old(now=timezone.now())


@shared_task
def forget_expired_tokens() -> None:
    """Daily: delete expired access tokens (django-oauth-toolkit's `cleartokens`)."""
    clear_expired()
