"""FHIR Bulk Data `$export`: the job's request, its run in a Celery worker, and its files.

1. Kick-off (`export_request`): the level (system, group = a team, patient), the types (all the
   caller may read at that level, or `_type`), `_since` and `_typeFilter` are checked at once
   (400/403/404 before anything is queued), an ExportJob row is written and its task is handed
   to the worker after commit (pod.foundation.task_queue).
2. The run (`export_run`, from pod.fhir.tasks): the job is claimed with a conditional UPDATE
   (queued, or running with a heartbeat older than STALE_AFTER: a worker that died), so a
   redelivered task never runs a job twice at once. Each type is written to
   `<POD_FHIR_EXPORT_DIR>/<job>/<Type>.ndjson`, one resource per line, reading the rows by
   keyset over windows of ids (`chunks`), so a team of any size streams in bounded memory
   at a steady rate, and no request waits for it. After each chunk the job's progress and
   heartbeat are written and its status re-read: a DELETE from the client stops the run and
   removes the files.
3. When every file is complete, one RecordAccess row per person exported is written (in
   batches) in the same transaction that marks the job done: the files can be fetched only
   once the looks are logged.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Q, QuerySet

from pod.fhir.auth import Caller, may_read
from pod.fhir.models import ExportJob
from pod.fhir.registry import Mapper, SearchError, all_mappers, mapper_for
from pod.fhir.responses import ApiError
from pod.fhir.search import filtered_sources
from pod.foundation.access import teams_for
from pod.foundation.audit_models import RecordAccess
from pod.foundation.models import Team, User
from pod.foundation.numbers import is_ascii_digits
from pod.foundation.plausibility import query_fhir_date
from pod.foundation.task_queue import task_send_on_commit

logger = logging.getLogger(__name__)

CHUNK = 2000
STALE_AFTER = timedelta(minutes=10)
LOG_BATCH = 5000
OUTPUT_FORMATS = {"application/fhir+ndjson", "application/ndjson", "ndjson"}


@dataclass(frozen=True)
class ExportRequest:
    level: str
    team: Team | None
    types: list[str]
    type_filters: list[str]
    since: datetime | None


def level_types(caller: Caller, level: str) -> list[str]:
    """The types an export at `level` covers for this caller: every type it may read; at the
    group and patient levels only those about a person (the Patient compartment)."""
    return [
        m.type_name
        for m in all_mappers()
        if may_read(caller, m.type_name) and (level == "system" or m.person_path is not None)
    ]


def export_request(
    caller: Caller, level: str, params: dict[str, list[str]], *, team_id: str | None, now: datetime
) -> ExportRequest:
    """Check a kick-off's parameters; ApiError (400 bad value, 403 a type the caller may not
    read, 404 a team that is not the caller's) before anything is queued."""
    team = None
    if level == ExportJob.Level.GROUP:
        team = (
            teams_for(caller.user).filter(pk=int(team_id)).first()
            if team_id is not None and is_ascii_digits(team_id)
            else None
        )
        if team is None:
            raise ApiError(404, "not-found", "No such Group (a Group is one of your teams).")
    for name in params:
        if name not in ("_type", "_since", "_typeFilter", "_outputFormat"):
            raise ApiError(400, "not-supported", f"$export does not take {name[:40]!r}.")
    fmt = (params.get("_outputFormat") or ["application/fhir+ndjson"])[-1]
    if fmt not in OUTPUT_FORMATS:
        raise ApiError(400, "not-supported", "_outputFormat: only application/fhir+ndjson.")
    allowed = level_types(caller, level)
    if not allowed:
        raise ApiError(403, "forbidden", "Nothing you may read can be exported at this level.")
    types = allowed
    if params.get("_type"):
        types = [t for value in params["_type"] for t in value.split(",") if t]
        for name in types:
            mapper = mapper_for(name)
            if mapper is None or (level != "system" and mapper.person_path is None):
                raise ApiError(400, "not-supported", f"_type: {name[:40]} cannot be exported here.")
            if name not in allowed:
                raise ApiError(403, "forbidden", f"_type: you may not read {name}.")
    since = None
    if params.get("_since"):
        try:
            since, _end = query_fhir_date(params["_since"][-1], now=now)
        except ValueError as exc:
            raise ApiError(400, "invalid", f"_since: {exc}") from None
    filters = [f for value in params.get("_typeFilter", []) for f in value.split(",") if f]
    for type_filter in filters:
        name, _, query = type_filter.partition("?")
        mapper = mapper_for(name)
        if mapper is None or name not in types:
            raise ApiError(400, "invalid", f"_typeFilter: {name[:40]} is not exported.")
        try:
            filtered_sources(mapper, caller.user, _filter_params(query), now=now)
        except SearchError as exc:
            raise ApiError(400, "invalid", f"_typeFilter {name}: {exc}") from None
    return ExportRequest(level, team, types, filters, since)


def _filter_params(query: str) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name.startswith("_") and name not in ("_id", "_lastUpdated"):
            raise SearchError(f"{name} cannot be used in a _typeFilter")
        params.setdefault(name, []).append(value)
    return params


@transaction.atomic
def export_job_create(*, caller: Caller, request: ExportRequest, request_url: str) -> ExportJob:
    """Write the job and hand it to a worker once this transaction commits."""
    job = ExportJob(
        requested_by=caller.user,
        level=request.level,
        team=request.team,
        resource_types=request.types,
        type_filters=request.type_filters,
        since=request.since,
        request_url=request_url[:2000],
    )
    job.full_clean()
    job.save()
    task_send_on_commit("pod.fhir.tasks.run_export", job.pk)
    return job


@transaction.atomic
def export_job_cancel(job: ExportJob) -> None:
    """DELETE on the status URL: stop the run (it checks between chunks) and remove files."""
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.CANCELLED)
    transaction.on_commit(lambda: shutil.rmtree(job_dir(job), ignore_errors=True))


def job_dir(job: ExportJob) -> Path:
    return Path(settings.POD_FHIR_EXPORT_DIR) / str(job.public_id)


def export_rows(
    mapper: Mapper, job: ExportJob, *, now: datetime
) -> list[tuple[Any, QuerySet[Any]]]:
    """(source, rows) to export for one type: what the requester may see, at the job's team,
    changed since `_since`, matching any of its `_typeFilter`s."""
    user: User = job.requested_by
    out = []
    filters = [
        f.partition("?")[2] for f in job.type_filters if f.partition("?")[0] == mapper.type_name
    ]
    for index, (source, rows) in enumerate(filtered_sources(mapper, user, {}, now=now)):
        if job.team_id is not None and mapper.team_path:
            rows = rows.filter(**{mapper.team_path: job.team_id})
        if job.since is not None and "fhir_last_updated" in rows.query.annotations:
            rows = rows.filter(fhir_last_updated__gt=job.since)
        if filters:
            wanted = Q(pk__in=[])
            for query in filters:
                narrowed = filtered_sources(mapper, user, _filter_params(query), now=now)[index][1]
                wanted |= Q(pk__in=narrowed.values("pk"))
            rows = rows.filter(wanted)
        out.append((source, rows))
    return out


def claim(job_id: int, *, now: datetime) -> bool:
    """Take the job for this worker: queued, or running with a stale heartbeat."""
    return bool(
        ExportJob.objects.filter(pk=job_id)
        .filter(
            Q(status=ExportJob.Status.QUEUED)
            | Q(status=ExportJob.Status.RUNNING, heartbeat_at__lt=now - STALE_AFTER)
        )
        .update(
            status=ExportJob.Status.RUNNING, started_at=now, heartbeat_at=now, transaction_time=now
        )
    )


def export_run(job_id: int, *, clock: Any) -> str:
    """Run job `job_id` to the end (see the module's docstring); `clock()` gives the current
    time. Returns the job's final status; safe to call twice."""
    if not claim(job_id, now=clock()):
        return "not claimed"
    job = ExportJob.objects.select_related("requested_by").get(pk=job_id)
    folder = job_dir(job)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    people: set[int] = set()
    output: list[dict[str, Any]] = []
    try:
        for type_name in job.resource_types:
            mapper = mapper_for(type_name)
            if mapper is None:
                continue
            count = _write_type(job, mapper, folder, people, clock)
            if count is None:
                shutil.rmtree(folder, ignore_errors=True)
                return ExportJob.Status.CANCELLED
            if count:
                output.append({"type": type_name, "file": f"{type_name}.ndjson", "count": count})
    except Exception as exc:
        logger.exception("export %s failed", job.pk)
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.FAILED, error=type(exc).__name__, finished_at=clock()
        )
        shutil.rmtree(folder, ignore_errors=True)
        return ExportJob.Status.FAILED
    with transaction.atomic():
        current = ExportJob.objects.select_for_update().get(pk=job.pk)
        if current.status != ExportJob.Status.RUNNING:
            shutil.rmtree(folder, ignore_errors=True)
            return current.status
        ordered = sorted(people)
        for start in range(0, len(ordered), LOG_BATCH):
            RecordAccess.objects.bulk_create(
                RecordAccess(
                    user=job.requested_by,
                    service_user_id=person,
                    what="fhir:export",
                    view_name="fhir:export",
                )
                for person in ordered[start : start + LOG_BATCH]
            )
        current.status = ExportJob.Status.DONE
        current.output = output
        current.finished_at = clock()
        current.progress = f"{sum(int(o['count']) for o in output)} resources"
        current.save(update_fields=["status", "output", "finished_at", "progress"])
    return ExportJob.Status.DONE


def chunks(mapper: Mapper, rows: QuerySet[Any]) -> Iterator[list[Any]]:
    """`rows` in primary-key order, at most CHUNK at a time, each prepared and attached.

    1. Keyset by windows of ids: each query asks for `last < id <= last + CHUNK`, so its cost
       is bounded by the window, never by the rows still to come.
    2. Inside the query PostgreSQL must not drive from the caller's teams: it estimates a
       client's memberships as one row (most staff have one team), walks "every visible
       episode -> its meetings" with nested loops and, for a client of all 20 teams, reads
       all 500,000 meetings for each chunk (1.7 s per chunk; EXPLAIN in
       benchmarks/fhir_export/RESULTS.md). With nested loops switched off for that one query
       (SET LOCAL, inside its own transaction) it reads the window's rows by the primary key
       and hash-joins the visible episodes once: 0.3 s for 10,000 candidate rows.
    3. Rows added after the run began (above the table's highest id then) wait for the next
       export.
    """
    top = rows.model.objects.aggregate(top=Max("pk"))["top"] or 0
    last = 0
    while last < top:
        upper = min(last + CHUNK, top)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_nestloop = off")
            chunk = list(
                mapper.prepare(rows.filter(pk__gt=last, pk__lte=upper)).order_by("pk")[:CHUNK]
            )
        last = upper
        if chunk:
            mapper.attach(chunk)
            yield chunk


def _write_type(
    job: ExportJob, mapper: Mapper, folder: Path, people: set[int], clock: Any
) -> int | None:
    """Write one type's NDJSON file by keyset chunks; the number of resources written, or None
    when the job was cancelled meanwhile."""
    written = 0
    path = folder / f"{mapper.type_name}.ndjson"
    with path.open("w", encoding="utf-8") as out:
        for source, rows in export_rows(mapper, job, now=clock()):
            for chunk in chunks(mapper, rows):
                for row in chunk:
                    out.write(
                        json.dumps(source.render(row), ensure_ascii=False, separators=(",", ":"))
                    )
                    out.write("\n")
                    person = getattr(row, "fhir_person_id", None)
                    if person is not None and mapper.person_path is not None:
                        people.add(int(person))
                written += len(chunk)
                still = ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.RUNNING).update(
                    heartbeat_at=clock(), progress=f"{mapper.type_name}: {written} written"
                )
                if not still:
                    return None
    if written == 0:
        path.unlink()
    return written


def forget_old(*, now: datetime) -> int:
    """Delete the files of exports finished more than POD_FHIR_EXPORT_KEEP_HOURS ago (the rows
    stay, as the record of who exported what). Returns how many jobs expired."""
    cutoff = now - timedelta(hours=settings.POD_FHIR_EXPORT_KEEP_HOURS)
    old = list(
        ExportJob.objects.filter(
            status__in=[ExportJob.Status.DONE, ExportJob.Status.FAILED], finished_at__lt=cutoff
        )
    )
    for job in old:
        shutil.rmtree(job_dir(job), ignore_errors=True)
    ExportJob.objects.filter(pk__in=[j.pk for j in old]).update(
        status=ExportJob.Status.EXPIRED, output=[]
    )
    return len(old)
