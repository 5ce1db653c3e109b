"""FHIR Bulk Data endpoints: kick-off at three levels, the status URL, and the files.

Kick-off (GET, `Prefer: respond-async`): 202 with Content-Location = the status URL. Status:
202 with X-Progress while queued or running; 200 with the manifest when done; 500 with an
OperationOutcome when the run failed; DELETE cancels (202). Files: only the account that asked
may fetch them (404 for anyone else, as if they did not exist), with a token or session like
every other call (the manifest says requiresAccessToken).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.urls import reverse
from django.utils import timezone

from pod.fhir.auth import Caller
from pod.fhir.bulk import export_job_cancel, export_job_create, export_request, job_dir
from pod.fhir.endpoint import api_endpoint
from pod.fhir.models import ExportJob
from pod.fhir.responses import ApiError, fhir_response, operation_outcome
from pod.fhir.views import base_url

NDJSON = "application/fhir+ndjson"


def _kick_off(
    request: HttpRequest, caller: Caller, level: str, team_id: str | None
) -> HttpResponse:
    params: dict[str, list[str]] = {}
    for name in request.GET:
        params[name] = request.GET.getlist(name)
    params.pop("_format", None)
    checked = export_request(caller, level, params, team_id=team_id, now=timezone.now())
    if "respond-async" not in request.META.get("HTTP_PREFER", ""):
        raise ApiError(400, "required", "$export needs the header Prefer: respond-async.")
    query = urlencode([(k, v) for k, values in params.items() for v in values])
    url = request.build_absolute_uri(request.path) + (f"?{query}" if query else "")
    job = export_job_create(caller=caller, request=checked, request_url=url)
    status_url = request.build_absolute_uri(reverse("fhir:export_status", args=[job.public_id]))
    response = fhir_response(
        operation_outcome(
            "informational", "Export accepted; poll Content-Location.", "information"
        ),
        status=202,
    )
    response["Content-Location"] = status_url
    return response


@api_endpoint("GET")
def export_system(request: HttpRequest, caller: Caller) -> HttpResponse:
    return _kick_off(request, caller, ExportJob.Level.SYSTEM, None)


@api_endpoint("GET")
def export_patients(request: HttpRequest, caller: Caller) -> HttpResponse:
    return _kick_off(request, caller, ExportJob.Level.PATIENT, None)


@api_endpoint("GET")
def export_group(request: HttpRequest, caller: Caller, group_id: str) -> HttpResponse:
    return _kick_off(request, caller, ExportJob.Level.GROUP, group_id)


def _own_job(caller: Caller, job_id: str) -> ExportJob:
    job = (
        ExportJob.objects.filter(public_id=job_id, requested_by=caller.user)
        .exclude(status=ExportJob.Status.CANCELLED)
        .first()
    )
    if job is None:
        raise ApiError(404, "not-found", "No such export.")
    return job


@api_endpoint("GET", "DELETE")
def export_status(request: HttpRequest, caller: Caller, job_id: str) -> HttpResponse:
    job = _own_job(caller, str(job_id))
    if request.method == "DELETE":
        export_job_cancel(job)
        return fhir_response(
            operation_outcome("informational", "Export cancelled.", "information"), status=202
        )
    if job.status in (ExportJob.Status.QUEUED, ExportJob.Status.RUNNING):
        response = HttpResponse(status=202)
        response["X-Progress"] = job.progress or job.get_status_display()
        response["Retry-After"] = "2"
        return response
    if job.status == ExportJob.Status.FAILED:
        raise ApiError(500, "exception", f"The export failed ({job.error}).")
    if job.status == ExportJob.Status.EXPIRED:
        raise ApiError(404, "not-found", "The export's files have been deleted; export again.")
    base = base_url(request)
    return JsonResponse(
        {
            "transactionTime": job.transaction_time.isoformat() if job.transaction_time else None,
            "request": job.request_url,
            "requiresAccessToken": True,
            "output": [
                {
                    "type": item["type"],
                    "url": f"{base}/bulk-files/{job.public_id}/{item['file']}",
                    "count": item["count"],
                }
                for item in job.output
            ],
            "error": [],
        }
    )


@api_endpoint("GET", also_accept=frozenset({NDJSON, "application/ndjson"}))
def export_file(
    request: HttpRequest, caller: Caller, job_id: str, output_file: str
) -> HttpResponseBase:
    job = _own_job(caller, str(job_id))
    names = {item["file"] for item in job.output} if job.status == ExportJob.Status.DONE else set()
    if output_file not in names:
        raise ApiError(404, "not-found", "No such file in this export.")
    response = FileResponse((job_dir(job) / output_file).open("rb"), content_type=NDJSON)
    return response
