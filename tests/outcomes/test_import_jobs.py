"""The import job: one job per file, team and mode; an import claimed once and written once; the
record re-checked under lock before writing; large files in the background, with progress, and
a lost task picked up again."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from networks.models import ServiceUser
from outcomes.importing import jobs, writing
from outcomes.models import OutcomeAssessment, OutcomeImport, OutcomeImportRow
from outcomes.services import outcome_assessment_record
from pod.foundation.audit_models import AuditEvent
from tests.outcomes.import_helpers import (
    HEADER,
    NOW,
    A,
    B,
    good_rows,
    people,
    row,
    run_import,
    submit,
)


@pytest.mark.hazard("HAZ-11.C13")
def test_the_same_file_team_and_mode_is_one_job_imported_once(team, manager, clinician):
    people(team, A, B)
    first = run_import(HEADER + good_rows(), team, user=manager)
    events = AuditEvent.objects.count()
    again = submit(HEADER + good_rows(), team, user=clinician, name="renamed.csv")
    assert again.pk == first.pk and again.status == "imported"
    assert again.file_name == "trial.csv" and again.uploaded_by == manager  # untouched
    jobs.import_run(first.pk, now=NOW)  # a re-run of a finished job
    assert not jobs.import_start(first, user=manager, now=NOW, inline=True)
    assert AuditEvent.objects.count() == events
    assert OutcomeAssessment.objects.count() == 4 and OutcomeImport.objects.count() == 1
    assert bytes(OutcomeImport.objects.get().file_content) == b""  # only the hash is kept


@pytest.mark.hazard("HAZ-11.C13")
def test_import_is_claimed_once(team, manager):
    people(team, A, B)
    job = submit(HEADER + good_rows(), team, user=manager)
    assert jobs.import_start(job, user=manager, now=NOW, inline=False)  # sent to the background
    assert not jobs.import_start(job, user=manager, now=NOW, inline=True)  # the second press
    job.refresh_from_db()
    assert job.status == "importing" and OutcomeAssessment.objects.count() == 0


@pytest.mark.hazard("HAZ-11.C13")
def test_a_change_to_the_record_after_the_preview_is_never_overwritten_unseen(
    team, manager, clinician
):
    people(team, A, B)
    run_import(HEADER + good_rows(), team, user=manager)
    changed = good_rows().replace("2017-04-01,severe,yes,40", "2017-04-01,mild,yes,40")
    preview = submit(HEADER + changed, team, user=manager, mode="update")
    assert preview.preview["changes"][0]["changes"] == [["symptom level", "severe", "mild"]]
    # Meanwhile a clinician corrects the same assessment by hand.
    OutcomeAssessment.objects.filter(service_user__nhs_number=B, timepoint_months=24).update(
        symptom_level="none"
    )
    jobs.import_start(preview, user=manager, now=NOW, inline=True)
    preview.refresh_from_db()
    assert preview.status == "ready" and "records changed" in preview.note
    assert preview.preview["changes"][0]["changes"] == [["symptom level", "none", "mild"]]
    b24 = OutcomeAssessment.objects.get(service_user__nhs_number=B, timepoint_months=24)
    assert b24.symptom_level == "none"  # the clinician's value stands until previewed again


@pytest.mark.hazard("HAZ-11.C13")
def test_an_assessment_added_meanwhile_rolls_the_whole_import_back(
    team, manager, clinician, monkeypatch
):
    people(team, A, B)
    job = submit(HEADER + good_rows(), team, user=manager)
    real = writing.staged_write

    def someone_else_first(job_id, **kwargs):
        # The race row locks cannot prevent: an assessment added where none existed, between
        # the import's read and its write (here on the same connection, so it rolls back too).
        outcome_assessment_record(
            service_user=ServiceUser.objects.get(nhs_number=B),
            recorded_by=clinician,
            now=timezone.now(),
            timepoint_months=24,
            assessed_on=date(2017, 4, 1),
            symptom_level="none",
            relapse=False,
            hospital_bed_days=0,
            disability_benefit=False,
            neuroleptic_use=False,
            work_or_study=False,
        )
        return real(job_id, **kwargs)

    monkeypatch.setattr(jobs, "staged_write", someone_else_first)
    jobs.import_start(job, user=manager, now=NOW, inline=True)
    job.refresh_from_db()
    assert job.status == "ready" and "records changed" in job.note
    assert OutcomeAssessment.objects.count() == 0


def test_a_failed_import_writes_nothing_and_says_so(team, manager, monkeypatch):
    people(team, A, B)
    job = submit(HEADER + good_rows(), team, user=manager)

    real = writing.staged_write

    def broken(job_id, **kwargs):
        real(job_id, **kwargs)  # everything written, then the commit never comes
        raise RuntimeError("disk full")

    monkeypatch.setattr(jobs, "staged_write", broken)
    with pytest.raises(RuntimeError):
        jobs.import_start(job, user=manager, now=NOW, inline=True)
    job.refresh_from_db()
    assert job.status == "failed" and "nothing was imported" in job.note
    assert OutcomeAssessment.objects.count() == 0
    again = submit(HEADER + good_rows(), team, user=manager)  # a failed job may be tried again
    assert again.pk == job.pk and again.status == "ready"


def test_a_large_file_is_checked_and_imported_in_the_background(
    team, manager, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(jobs, "FOREGROUND_LINES", 2)
    people(team, A, B)
    with django_capture_on_commit_callbacks(execute=True) as sent:
        job, _ = jobs.import_submit(
            team=team,
            uploaded_by=manager,
            file_name="big.csv",
            data=(HEADER + good_rows()).encode(),
            mode="add",
            date_format="iso",
            now=NOW,
        )
        assert job.status == "previewing" and job.preview == {}
    assert len(sent) == 1
    job.refresh_from_db()
    assert job.status == "ready" and job.rows_checked == job.rows_total == 4
    with django_capture_on_commit_callbacks(execute=True) as sent:
        jobs.import_start(job, user=manager, now=NOW)
        assert OutcomeAssessment.objects.count() == 0  # not in this request
    job.refresh_from_db()
    assert job.status == "imported" and OutcomeAssessment.objects.count() == 4
    event = AuditEvent.objects.filter(table_name="outcomes_outcomeassessment").first()
    assert event.user_id == manager.pk  # the worker's writes are the uploader's
    assert event.context["task"] == "outcomes.tasks.outcome_import_run"


def test_a_job_whose_task_was_lost_is_sent_again(team, manager, django_capture_on_commit_callbacks):
    people(team, A, B)
    job = submit(HEADER + good_rows(), team, user=manager)
    OutcomeImport.objects.filter(pk=job.pk).update(
        status="importing", imported_by=manager, updated_at=NOW - timedelta(minutes=11)
    )
    fresh = submit(HEADER + row(A, 12, "2016-03-01"), team, user=manager)
    OutcomeImport.objects.filter(pk=fresh.pk).update(status="importing", updated_at=NOW)
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.imports_resume_stalled(now=NOW) == 1
    job.refresh_from_db()
    assert job.status == "imported" and OutcomeAssessment.objects.count() == 4


def test_a_check_that_fails_in_the_background_says_so_rather_than_running_for_ever(
    team, manager, monkeypatch, django_capture_on_commit_callbacks
):
    people(team, A, B)

    def broken(*args, **kwargs):
        raise RuntimeError("a defect")

    monkeypatch.setattr(jobs, "build_plan", broken)
    with django_capture_on_commit_callbacks(execute=True):  # the worker's error is logged
        jobs.import_submit(
            team=team,
            uploaded_by=manager,
            file_name="big.csv",
            data=(HEADER + good_rows()).encode(),
            mode="add",
            date_format="iso",
            inline=False,
            now=NOW,
        )
    job = OutcomeImport.objects.get()
    assert job.status == "failed" and not job.running
    assert jobs.imports_resume_stalled(now=NOW + timedelta(hours=1)) == 0


def test_a_staged_plan_lost_in_a_crash_only_makes_the_import_check_again(team, manager):
    """The staging table is UNLOGGED: PostgreSQL empties it after a crash."""
    people(team, A, B)
    job = submit(HEADER + good_rows(), team, user=manager)
    assert OutcomeImportRow.objects.filter(job_id=job.pk).count() == 4
    OutcomeImportRow.objects.filter(job_id=job.pk).delete()
    jobs.import_start(job, user=manager, now=NOW, inline=True)
    job.refresh_from_db()
    assert job.status == "ready" and OutcomeAssessment.objects.count() == 0
    jobs.import_start(job, user=manager, now=NOW, inline=True)
    job.refresh_from_db()
    assert job.status == "imported" and OutcomeAssessment.objects.count() == 4
    assert not OutcomeImportRow.objects.filter(job_id=job.pk).exists()
