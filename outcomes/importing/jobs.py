"""The import job (outcomes.models.OutcomeImport): upload, preview, import, progress, history.

1. `import_submit` stores the file on a job row, unique on (team, SHA-256, mode): the same file
   uploaded again for the same team and mode finds its job - still running, already imported
   (a re-run writes nothing), or, when it was never imported, checked again with the new
   options. The job then checks the file (status `previewing`).
2. `import_preview_run` reads the file, plans it against the record without locks, stores the
   preview and stages the plan (writing.plan_stage) with the fingerprint of the facts it was
   built on: `ready` when nothing is refused, else `refused`.
3. `import_start` claims a `ready` job for import in one conditional UPDATE (`importing`): a
   second press of the button, a second tab or a resubmitted form claims nothing.
4. `import_run`, in one transaction, locks the job row and the people and assessments the
   staged plan names, and writes the plan (writing.staged_write) only if the record re-read
   under lock has the fingerprint the preview's plan was built on: the same file, options and
   record give the same plan. Otherwise nothing is written; the file is checked again and the
   new preview says the records changed. The job row's lock and status make a duplicate or
   redelivered task a no-op.

Small files (at most FOREGROUND_LINES lines) are checked and imported in the web request; larger
ones by the Celery tasks in outcomes/tasks.py (sent by name after commit), whose progress the job
page polls. A job left `previewing` or `importing` with no sign of life for STALLED_AFTER is sent
again by `imports_resume_stalled` (beat): safe, because both steps are idempotent.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from outcomes import selectors
from outcomes.importing import preview as preview_summary
from outcomes.importing.parsing import ParsedFile, parse_file
from outcomes.importing.planning import Options, Plan, build_plan
from outcomes.importing.problems import Problem, report_csv
from outcomes.importing.records import facts_fingerprint, load_facts
from outcomes.importing.values import ImportRow, read_rows
from outcomes.importing.writing import plan_stage, staged_nhs_numbers, staged_write
from outcomes.models import OutcomeImport
from pod.foundation.models import Team, User
from pod.foundation.task_queue import task_send_on_commit

logger = logging.getLogger(__name__)
Status = OutcomeImport.Status

FOREGROUND_LINES = 2_000
STALLED_AFTER = timedelta(minutes=10)
PREVIEW_TASK = "outcomes.tasks.outcome_import_preview"
IMPORT_TASK = "outcomes.tasks.outcome_import_run"
CHANGED = (
    "The records changed since this preview was made, so nothing was imported. Check the new "
    "preview below and import again."
)
FAILED = "An error stopped the import; nothing was imported. Try again, or ask for support."


def scope_of(job: OutcomeImport) -> list[int] | None:
    """The teams whose people the job may read: the uploader's (administrators: all, None);
    the command line, run by the operator, reads all."""
    if job.uploaded_by is None or job.uploaded_by.role == User.Role.ADMINISTRATOR:
        return None
    return list(selectors.teams_visible_to(job.uploaded_by).values_list("pk", flat=True))


def may_register(user: User | None) -> bool:
    """Only an uploader who sees every team may register people not found: for anyone else,
    "not found in your teams" must not turn into "found elsewhere" by being registered or not."""
    return user is None or user.role == User.Role.ADMINISTRATOR


def _foreground(job: OutcomeImport) -> bool:
    """Small enough to check or import in the web request: the rows counted by the preview,
    or before it the file's lines."""
    if job.rows_total:
        return job.rows_total <= FOREGROUND_LINES
    return bytes(job.file_content).count(b"\n") <= FOREGROUND_LINES


@transaction.atomic
def import_submit(
    *,
    team: Team,
    uploaded_by: User | None,
    file_name: str,
    data: bytes,
    mode: str,
    date_format: str,
    register_new: bool = False,
    same_person: list[str] | None = None,
    from_command: bool = False,
    inline: bool | None = None,
    now: datetime,
) -> tuple[OutcomeImport, bool]:
    """The job for this file, team and mode, and whether it (re)starts checking the file. A job
    running or imported is returned as it is: the same file is never imported twice. `inline`
    True checks the file now, False in the background; None decides by its size."""
    digest = hashlib.sha256(data).hexdigest()
    options = {
        "uploaded_by": uploaded_by,
        "from_command": from_command,
        "file_name": file_name[:255],
        "file_size": len(data),
        "file_content": data,
        "date_format": date_format,
        "register_new": register_new and may_register(uploaded_by),
        "same_person": sorted(set(same_person or [])),
        "status": Status.PREVIEWING,
        "note": "",
        "rows_total": 0,
        "rows_checked": 0,
        "updated_at": now,
    }
    job, created = OutcomeImport.objects.select_for_update().get_or_create(
        team=team, file_sha256=digest, mode=mode, defaults={**options, "created_at": now}
    )
    if not created:
        if job.running or job.status == Status.IMPORTED:
            return job, False
        for name, value in options.items():
            setattr(job, name, value)
        job.full_clean()
        job.save()
    _check_later_or_now(job, inline=inline, now=now)
    return job, True


def import_confirm_same_person(
    job: OutcomeImport, nhs_numbers: list[str], *, now: datetime
) -> bool:
    """Record the uploader's "same person" for NHS numbers the preview showed side by side, and
    check the file again. False (nothing done) unless the job is waiting for a decision."""
    offered = {row["nhs_digits"] for row in job.preview.get("identity", [])}
    chosen = sorted(offered & set(nhs_numbers))
    updated = OutcomeImport.objects.filter(
        pk=job.pk, status__in=(Status.READY, Status.REFUSED)
    ).update(
        same_person=sorted(set(job.same_person) | set(chosen)),
        status=Status.PREVIEWING,
        note="",
        rows_checked=0,
        updated_at=now,
    )
    if updated:
        job.refresh_from_db()
        _check_later_or_now(job, inline=None, now=now)
    return bool(updated)


def _check_later_or_now(job: OutcomeImport, *, inline: bool | None, now: datetime) -> None:
    if inline if inline is not None else _foreground(job):
        import_preview_run(job.pk, now=now)
    else:
        task_send_on_commit(PREVIEW_TASK, job.pk)


def import_start(
    job: OutcomeImport, *, user: User | None, now: datetime, inline: bool | None = None
) -> bool:
    """Claim a checked job for import (one conditional UPDATE) and run it now or in the
    background (`inline` as for import_submit). False when the job was not `ready` (already
    claimed, imported or refused)."""
    claimed = OutcomeImport.objects.filter(pk=job.pk, status=Status.READY).update(
        status=Status.IMPORTING, imported_by=user, rows_checked=0, updated_at=now
    )
    if not claimed:
        return False
    job.refresh_from_db()
    if inline if inline is not None else _foreground(job):
        import_run(job.pk, now=now)
    else:
        task_send_on_commit(IMPORT_TASK, job.pk)
    return True


def _progress(job_id: int, *, background: bool) -> Callable[[int], None] | None:
    """A heartbeat for the progress bar: rows checked, written at most once a second, so the
    number of queries grows with time taken, not with rows."""
    if not background:
        return None
    last = time.monotonic()

    def report(done: int) -> None:
        nonlocal last
        if time.monotonic() - last >= 1.0:
            last = time.monotonic()
            OutcomeImport.objects.filter(pk=job_id).update(
                rows_checked=done, updated_at=timezone.now()
            )

    return report


def _read(
    job: OutcomeImport, *, now: datetime
) -> tuple[ParsedFile, list[ImportRow], list[Problem]]:
    parsed = parse_file(bytes(job.file_content))
    OutcomeImport.objects.filter(pk=job.pk).update(rows_total=len(parsed.rows))
    rows, problems = read_rows(
        parsed,
        day_first=job.date_format == OutcomeImport.DateFormat.UK,
        now=now,
        progress=_progress(job.pk, background=not transaction.get_connection().in_atomic_block),
    )
    return parsed, rows, parsed.problems + problems


def _plan(
    job: OutcomeImport, parsed: ParsedFile, rows: list[ImportRow], problems: list[Problem]
) -> tuple[Plan, str]:
    """The plan and the fingerprint of the facts it was built on."""
    facts = load_facts({row.nhs_number for row in rows}, scope_team_ids=scope_of(job))
    options = Options(
        team_id=job.team_id,
        update=job.mode == OutcomeImport.Mode.UPDATE,
        register_new=job.register_new,
        same_person=frozenset(job.same_person),
        has_relapse_on="relapse_on" in parsed.columns,
    )
    plan = build_plan(rows, problems, facts, options, rows_total=len(parsed.rows))
    return plan, facts_fingerprint(facts)


_PREVIEW_FIELDS = [
    "preview",
    "plan_fingerprint",
    "facts_fingerprint",
    "problems_csv",
    "status",
    "rows_total",
    "rows_checked",
    "added",
    "updated",
    "unchanged",
    "refused",
    "warned",
    "people_registered",
    "previewed_at",
    "updated_at",
]


def _store_preview(
    job: OutcomeImport, plan: Plan, parsed: ParsedFile, facts: str, *, now: datetime
) -> None:
    summary = preview_summary.summarise(plan, parsed)
    job.preview = dict(summary)
    job.plan_fingerprint = plan_stage(plan, job_id=job.pk)
    job.facts_fingerprint = "" if plan.refused else facts
    job.problems_csv = report_csv(plan.problems) if plan.problems else ""
    job.status = Status.REFUSED if plan.refused else Status.READY
    job.rows_total = job.rows_checked = plan.rows_total
    job.added, job.updated = summary["add"], summary["update"]
    job.unchanged, job.refused = summary["unchanged"], summary["refused_rows"]
    job.warned, job.people_registered = summary["warned_rows"], summary["new_people"]
    job.previewed_at = job.updated_at = now
    job.save(update_fields=_PREVIEW_FIELDS)


def import_preview_run(job_id: int, *, now: datetime) -> None:
    """Step 2 (module docstring). Does nothing unless the job is `previewing`."""
    job = OutcomeImport.objects.select_related("uploaded_by").filter(pk=job_id).first()
    if job is None or job.status != Status.PREVIEWING:
        return
    try:
        parsed, rows, problems = _read(job, now=now)
        plan, facts = _plan(job, parsed, rows, problems)
    except Exception:
        logger.exception("outcome import %s could not be checked", job_id)
        OutcomeImport.objects.filter(pk=job_id, status=Status.PREVIEWING).update(
            status=Status.FAILED, note=FAILED, updated_at=timezone.now()
        )
        raise
    with transaction.atomic():
        if (
            OutcomeImport.objects.select_for_update()
            .filter(pk=job_id, status=Status.PREVIEWING)
            .exists()
        ):
            _store_preview(job, plan, parsed, facts, now=now)


def _write_if_unchanged(job: OutcomeImport, *, now: datetime) -> bool | None:
    """In one transaction: lock the job, the people and their assessments; write the staged
    plan if the record is as the preview read it. True: imported; False: the record changed
    (nothing written); None: the job was not `importing` any more (nothing to do)."""
    with transaction.atomic():
        locked = OutcomeImport.objects.select_for_update().filter(pk=job.pk).first()
        if locked is None or locked.status != Status.IMPORTING:
            return None
        numbers = staged_nhs_numbers(job.pk)
        facts = load_facts(
            numbers,
            scope_team_ids=scope_of(job),
            lock=True,
            lock_assessments=job.mode == OutcomeImport.Mode.UPDATE,
        )
        if not numbers or facts_fingerprint(facts) != locked.facts_fingerprint:
            return False
        staged_write(
            job.pk,
            team_id=job.team_id,
            recorded_by_id=locked.imported_by_id,
            has_relapse_on="relapse_on" in job.preview.get("columns", []),
        )
        locked.status = Status.IMPORTED
        locked.imported_at = locked.updated_at = now
        locked.file_content = b""  # only the name and hash are kept once imported
        locked.save(update_fields=["status", "imported_at", "updated_at", "file_content"])
        return True


def import_run(job_id: int, *, now: datetime) -> None:
    """Step 4 (module docstring). Does nothing unless the job is `importing`; when the record
    changed since the preview, nothing is written and the job is checked again (a new preview,
    with a note saying why)."""
    job = OutcomeImport.objects.select_related("uploaded_by").filter(pk=job_id).first()
    if job is None or job.status != Status.IMPORTING:
        return  # a re-run of a finished (or never started) job writes nothing
    try:
        if _write_if_unchanged(job, now=now) is not False:
            return
    except IntegrityError:  # a row added where none was, between our read and our write
        pass
    except Exception:
        logger.exception("outcome import %s failed", job_id)
        OutcomeImport.objects.filter(pk=job_id, status=Status.IMPORTING).update(
            status=Status.FAILED, note=FAILED, updated_at=timezone.now()
        )
        raise
    OutcomeImport.objects.filter(pk=job_id, status=Status.IMPORTING).update(
        status=Status.PREVIEWING, rows_checked=0, updated_at=now
    )
    import_preview_run(job_id, now=now)
    OutcomeImport.objects.filter(pk=job_id).update(note=CHANGED)


def imports_resume_stalled(*, now: datetime) -> int:
    """Send again the jobs left `previewing` or `importing` with no heartbeat for
    STALLED_AFTER (a lost task, a worker killed before it could report). Returns how many."""
    stalled = list(
        OutcomeImport.objects.filter(
            status__in=(Status.PREVIEWING, Status.IMPORTING), updated_at__lt=now - STALLED_AFTER
        ).values_list("pk", "status")
    )
    for pk, status in stalled:
        OutcomeImport.objects.filter(pk=pk).update(updated_at=now)
        task_send_on_commit(PREVIEW_TASK if status == Status.PREVIEWING else IMPORT_TASK, pk)
    return len(stalled)
