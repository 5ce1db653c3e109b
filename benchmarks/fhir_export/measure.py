"""One timed export: kick-off through the API, then the run as the worker does it."""

from __future__ import annotations

import base64
import json
import os
import time
from typing import Any

from django.test import Client
from django.utils import timezone

from pod.fhir import bulk
from pod.fhir.clients import api_client_create
from pod.fhir.models import ExportJob
from pod.foundation.audit_models import RecordAccess
from pod.foundation.models import Team


def _token(client: Client, client_id: str, secret: str) -> str:
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    response = client.post(
        "/fhir/auth/token",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    return str(response.json()["access_token"])


def export(*, sample: int) -> dict[str, Any]:
    """Kick off a system export as a clinician client of every team and run it; returns the
    figures (per type: resources, seconds, bytes; the kick-off's latency; the total)."""
    api_client, secret = api_client_create(
        name="Benchmark", role="clinician", teams=list(Team.objects.all())
    )
    client = Client()
    headers = {
        "HTTP_AUTHORIZATION": f"Bearer {_token(client, api_client.application.client_id, secret)}",
        "HTTP_ACCEPT": "application/fhir+json",
        "HTTP_PREFER": "respond-async",
    }
    t0 = time.perf_counter()
    response = client.get("/fhir/$export", **headers)
    kick_off_ms = (time.perf_counter() - t0) * 1000
    assert response.status_code == 202, response.content
    job = ExportJob.objects.get(requested_by=api_client.account)
    timings: dict[str, float] = {}
    original = bulk._write_type

    def timed(job_: ExportJob, mapper: Any, *args: Any) -> int | None:
        start = time.perf_counter()
        written = original(job_, mapper, *args)
        timings[mapper.type_name] = time.perf_counter() - start
        return written

    bulk._write_type = timed  # type: ignore[assignment]
    looks_before = RecordAccess.objects.count()
    try:
        start = time.perf_counter()
        status = bulk.export_run(job.pk, clock=timezone.now)
        total_seconds = time.perf_counter() - start
    finally:
        bulk._write_type = original
    assert status == "done", status
    job.refresh_from_db()
    folder = bulk.job_dir(job)
    types = []
    for item in job.output:
        path = folder / item["file"]
        types.append(
            {
                "type": item["type"],
                "count": item["count"],
                "seconds": timings[item["type"]],
                "bytes": path.stat().st_size,
                "invalid": _invalid_in_sample(path, sample),
            }
        )
    return {
        "kick_off_ms": kick_off_ms,
        "total_seconds": total_seconds,
        "resources": sum(t["count"] for t in types),
        "types": types,
        "access_rows": RecordAccess.objects.count() - looks_before,
        "load": os.getloadavg()[0],
    }


def _invalid_in_sample(path: Any, sample: int) -> int:
    """How many of the first `sample` lines break the FHIR R4 JSON schema (tests/fhir)."""
    from tests.fhir.validation import schema_errors  # noqa: PLC0415 (a test helper, only here)

    invalid = 0
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines):
            if number >= sample:
                break
            if schema_errors(json.loads(line)):
                invalid += 1
    return invalid
