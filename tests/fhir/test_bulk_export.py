"""FHIR Bulk Data $export: kick-off, polling, the manifest, the files, cancelling; the three
levels; `_type`, `_since`, `_typeFilter`; files only for whoever asked; a run by keyset chunks
that a cancel stops, and that a second delivery of the task does not repeat."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from pod.fhir import bulk
from pod.fhir.bulk import export_run
from pod.fhir.models import ExportJob
from pod.foundation.audit_models import RecordAccess
from pod.foundation.models import User
from tests import factories as f
from tests.fhir.validation import assert_valid

pytestmark = pytest.mark.django_db

ASYNC = {"HTTP_PREFER": "respond-async"}


@pytest.fixture(autouse=True)
def export_dir(settings, tmp_path):
    settings.POD_FHIR_EXPORT_DIR = tmp_path
    return tmp_path


def _path(url):
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def kick_off(client, headers, path, django_capture_on_commit_callbacks, run=True):
    with django_capture_on_commit_callbacks(execute=run):
        response = client.get(path, **headers, **ASYNC)
    assert response.status_code == 202, response.content
    return _path(response["Content-Location"])


def manifest(client, headers, status_url):
    response = client.get(status_url, **headers)
    assert response.status_code == 200, response.content
    return response.json()


def read_file(client, headers, url):
    response = client.get(_path(url), **{**headers, "HTTP_ACCEPT": "application/fhir+ndjson"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+ndjson"
    text = b"".join(response.streaming_content).decode()
    return [json.loads(line) for line in text.splitlines()]


def test_a_system_export_runs_in_the_background_and_gives_valid_ndjson(
    client, machine, team, other_team, rich, django_capture_on_commit_callbacks
):
    f.make_service_user(other_team)  # not ours: must not be exported
    headers = machine("clinician", [team])
    status_url = kick_off(client, headers, "/fhir/$export", django_capture_on_commit_callbacks)
    body = manifest(client, headers, status_url)
    assert body["requiresAccessToken"] is True and body["transactionTime"]
    by_type = {item["type"]: item for item in body["output"]}
    assert set(by_type) >= {"Patient", "Encounter", "MedicationRequest", "Flag", "Organization"}
    for item in body["output"]:
        resources = read_file(client, headers, item["url"])
        assert len(resources) == item["count"]
        for resource in resources:
            assert resource["resourceType"] == item["type"]
            assert_valid(resource)
    patients = read_file(client, headers, by_type["Patient"]["url"])
    assert [p["id"] for p in patients] == [str(rich.person.pk)]
    looks = RecordAccess.objects.filter(what="fhir:export")
    assert list(looks.values_list("service_user_id", flat=True)) == [rich.person.pk]


def test_status_says_202_with_progress_while_running(client, machine, team, clinician):
    headers = machine("clinician", [team])
    account = User.objects.get(api_client__isnull=False)
    job = ExportJob.objects.create(
        requested_by=account,
        level="system",
        resource_types=["Patient"],
        request_url="x",
        status="running",
        progress="Patient: 1000 written",
    )
    response = client.get(f"/fhir/bulk-status/{job.public_id}", **headers)
    assert response.status_code == 202
    assert response["X-Progress"] == "Patient: 1000 written"
    assert response["Retry-After"]


def test_only_the_requester_sees_the_status_and_the_files(
    client, machine, team, rich, django_capture_on_commit_callbacks
):
    mine = machine("clinician", [team])
    theirs = machine("clinician", [team])
    status_url = kick_off(
        client, mine, "/fhir/$export?_type=Patient", django_capture_on_commit_callbacks
    )
    body = manifest(client, mine, status_url)
    assert client.get(status_url, **theirs).status_code == 404
    file_url = _path(body["output"][0]["url"])
    assert client.get(file_url, **theirs).status_code == 404
    assert client.get(file_url).status_code == 401
    client.force_login(rich.person.team.staff.get(username="clinician"))
    assert client.get(file_url).status_code == 404  # a colleague, but not the one who asked


def test_delete_cancels_and_removes_the_files(
    client, machine, team, rich, export_dir, django_capture_on_commit_callbacks
):
    headers = machine("clinician", [team])
    status_url = kick_off(client, headers, "/fhir/$export", django_capture_on_commit_callbacks)
    assert any(export_dir.iterdir())
    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(status_url, **headers).status_code == 202
    assert client.get(status_url, **headers).status_code == 404
    assert not any(p.is_file() for p in export_dir.rglob("*"))


def test_the_levels_types_since_and_type_filters(
    client, machine, team, other_team, rich, django_capture_on_commit_callbacks
):
    clinician = machine("clinician", [team])
    group = f"/fhir/Group/{team.pk}/$export?_type=MedicationRequest"
    body = manifest(
        client, clinician, kick_off(client, clinician, group, django_capture_on_commit_callbacks)
    )
    assert [o["type"] for o in body["output"]] == ["MedicationRequest"]
    assert body["output"][0]["count"] == 4
    filtered = (
        "/fhir/Patient/$export?_type=MedicationRequest,Encounter"
        "&_typeFilter=Encounter?status=finished"
    )
    body = manifest(
        client, clinician, kick_off(client, clinician, filtered, django_capture_on_commit_callbacks)
    )
    counts = {o["type"]: o["count"] for o in body["output"]}
    assert counts == {"MedicationRequest": 4, "Encounter": 3}
    future = timezone.now().year + 1
    since = f"/fhir/$export?_since={future}-01-01"
    body = manifest(
        client, clinician, kick_off(client, clinician, since, django_capture_on_commit_callbacks)
    )
    assert [o["type"] for o in body["output"]] == ["Organization"]  # no lastUpdated to compare
    manager = machine("service_manager", [team])
    body = manifest(
        client,
        manager,
        kick_off(client, manager, "/fhir/Patient/$export", django_capture_on_commit_callbacks),
    )
    assert [o["type"] for o in body["output"]] == ["Flag"]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/fhir/Group/{other}/$export", 404),  # not one of the client's teams
        ("/fhir/$export?_type=AuditEvent", 403),
        ("/fhir/$export?_type=Nonsense", 400),
        ("/fhir/Patient/$export?_type=Organization", 400),
        ("/fhir/$export?_since=yesterday", 400),
        ("/fhir/$export?_typeFilter=Encounter?status=odd", 400),
        ("/fhir/$export?_typeFilter=Encounter?_count=3", 400),
        ("/fhir/$export?_outputFormat=text/csv", 400),
        ("/fhir/$export?_elements=id", 400),
    ],
)
@pytest.mark.hazard("HAZ-06.C12")
def test_a_bad_kick_off_is_refused_before_anything_is_queued(
    client, machine, team, other_team, path, status
):
    headers = machine("clinician", [team])
    response = client.get(path.format(other=other_team.pk), **headers, **ASYNC)
    assert response.status_code == status
    assert response.json()["resourceType"] == "OperationOutcome"
    assert not ExportJob.objects.exists()


def test_a_kick_off_needs_prefer_respond_async(client, machine, team):
    response = client.get("/fhir/$export", **machine("clinician", [team]))
    assert response.status_code == 400 and not ExportJob.objects.exists()


def test_a_run_reads_by_keyset_chunks_and_runs_once(
    client, machine, team, rich, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(bulk, "CHUNK", 2)
    headers = machine("clinician", [team])
    status_url = kick_off(
        client, headers, "/fhir/$export?_type=Encounter", django_capture_on_commit_callbacks
    )
    body = manifest(client, headers, status_url)
    encounters = read_file(client, headers, body["output"][0]["url"])
    ids = [int(e["id"]) for e in encounters]
    assert ids == sorted(set(ids)) and len(ids) == 5
    job = ExportJob.objects.get()
    assert export_run(job.pk, clock=timezone.now) == "not claimed"


def test_a_cancel_during_a_run_stops_it(
    client, machine, team, rich, monkeypatch, export_dir, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(bulk, "CHUNK", 1)
    headers = machine("clinician", [team])
    kick_off(
        client,
        headers,
        "/fhir/$export?_type=Encounter",
        django_capture_on_commit_callbacks,
        run=False,
    )
    job = ExportJob.objects.get()
    calls = []

    def clock():
        calls.append(1)
        if len(calls) == 4:  # after the first chunk: the client cancels
            ExportJob.objects.filter(pk=job.pk).update(status="cancelled")
        return timezone.now()

    assert export_run(job.pk, clock=clock) == "cancelled"
    assert len(calls) == 4  # it stopped at the first chunk after the cancel, not at the end
    assert not any(p.is_file() for p in export_dir.rglob("*"))
    assert not RecordAccess.objects.filter(what="fhir:export").exists()


def test_a_failed_run_says_so_in_an_operation_outcome(
    client, machine, team, rich, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(bulk, "_write_type", broken)
    headers = machine("clinician", [team])
    status_url = kick_off(client, headers, "/fhir/$export", django_capture_on_commit_callbacks)
    response = client.get(status_url, **headers)
    assert response.status_code == 500
    assert "RuntimeError" in response.json()["issue"][0]["diagnostics"]


def test_old_files_are_deleted(
    client, machine, team, rich, export_dir, settings, django_capture_on_commit_callbacks
):
    headers = machine("clinician", [team])
    status_url = kick_off(client, headers, "/fhir/$export", django_capture_on_commit_callbacks)
    later = timezone.now() + timedelta(hours=settings.POD_FHIR_EXPORT_KEEP_HOURS + 1)
    assert bulk.forget_old(now=later) == 1
    assert not any(p.is_file() for p in export_dir.rglob("*"))
    assert client.get(status_url, **headers).status_code == 404
