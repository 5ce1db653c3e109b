"""The outcome import's pages (outcomes/importing/): upload, the job's preview and progress,
"Import", "same person", and the downloads (template, data dictionary, problem report).

Service managers (their teams) and administrators (every team). A job of a team the user does
not see does not exist (404). The preview page logs in the record-access log every person whose
record values it shows (the before of an update, the name and date of birth on record)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from outcomes import selectors
from outcomes.forms import ImportForm, ImportStartForm, SamePersonForm
from outcomes.importing import jobs, preview, reports
from outcomes.models import OutcomeImport
from pod.foundation import paging
from pod.foundation.access import manager_required, request_user
from pod.foundation.audit_models import RecordAccess
from pod.foundation.submissions import one_submission

Status = OutcomeImport.Status
ALREADY = "This file was already uploaded for this team and mode: here is that import."
NOT_STARTED = "This import had already been started, or is not ready: nothing was done twice."


def _csv(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@manager_required
@require_http_methods(["GET", "POST"])
@one_submission
def import_upload(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    form = ImportForm(
        request.POST or None,
        request.FILES or None,
        teams=selectors.teams_visible_to(user),
        may_register=jobs.may_register(user),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        job, started = jobs.import_submit(
            team=data["team"],
            uploaded_by=user,
            file_name=data["file"].name or "upload.csv",
            data=data["file"].read(),
            mode=data["mode"],
            date_format=data["date_format"],
            register_new=data.get("register_new") or False,
            now=timezone.now(),
        )
        if not started:
            messages.info(request, ALREADY)
            if not selectors.outcome_import_openable(user, job):
                return redirect("outcomes:import")  # its line in the history says the rest
        return redirect("outcomes:import_job", job_id=job.pk)
    # One page of the history at a time (pod/foundation/paging.py), each import with whether
    # this user may open it.
    history = paging.bounded(
        request,
        selectors.outcome_imports_for(user),
        param="page",
        size=paging.SECTION_SIZE,
        wrap=lambda jobs_: [(job, selectors.outcome_import_openable(user, job)) for job in jobs_],
    )
    return render(
        request,
        "outcomes/import.html",
        {"form": form, "history": history, "dictionary": reports.dictionary_rows()},
    )


@manager_required
@require_GET
def import_template(request: HttpRequest) -> HttpResponse:
    return _csv(reports.template_csv(), "outcome-import-template.csv")


@manager_required
@require_GET
def import_dictionary(request: HttpRequest) -> HttpResponse:
    return _csv(reports.dictionary_csv(), "outcome-import-data-dictionary.csv")


def _log_people_shown(request: HttpRequest, job: OutcomeImport) -> None:
    shown = preview.people_shown(job.preview) if job.preview else set()
    if shown:
        match = request.resolver_match
        RecordAccess.objects.bulk_create(
            RecordAccess(
                user=request_user(request),
                service_user_id=person_id,
                what="outcome import preview",
                view_name=match.view_name if match else "",
            )
            for person_id in sorted(shown)
        )


def _same_person_choices(job: OutcomeImport) -> list[tuple[str, str]]:
    return [
        (row["nhs_digits"], f"{row['nhs_number']} (line {row['line']})")
        for row in job.preview.get("identity", [])
        if row["nhs_digits"] not in job.same_person
    ]


def _job_page(
    request: HttpRequest, job: OutcomeImport, *, same_person_form: SamePersonForm | None = None
) -> HttpResponse:
    if not job.running:
        _log_people_shown(request, job)
    choices = _same_person_choices(job)
    if same_person_form is None and choices and job.status in (Status.READY, Status.REFUSED):
        same_person_form = SamePersonForm(choices=choices)
    if same_person_form is not None:
        same_person_form.helper.form_action = reverse("outcomes:import_same_person", args=[job.pk])
    start_form = None
    if job.status == Status.READY:
        start_form = ImportStartForm()
        start_form.helper.form_action = reverse("outcomes:import_run", args=[job.pk])
    return render(
        request,
        "outcomes/import_job.html",
        {
            "job": job,
            "summary": job.preview,
            "start_form": start_form,
            "same_person_form": same_person_form,
        },
    )


@manager_required
@require_GET
def import_job(request: HttpRequest, job_id: int) -> HttpResponse:
    return _job_page(request, selectors.get_outcome_import_for_user(request_user(request), job_id))


@manager_required
@require_GET
def import_progress(request: HttpRequest, job_id: int) -> HttpResponse:
    """The progress bar, polled by htmx while the job runs; once it is done, the page reloads."""
    job = selectors.get_outcome_import_for_user(request_user(request), job_id)
    if not job.running:
        response = HttpResponse("")
        response["HX-Refresh"] = "true"
        return response
    return render(request, "outcomes/_import_progress.html", {"job": job})


@manager_required
@require_POST
@one_submission
def import_run(request: HttpRequest, job_id: int) -> HttpResponse:
    user = request_user(request)
    job = selectors.get_outcome_import_for_user(user, job_id)
    if not jobs.import_start(job, user=user, now=timezone.now()):
        messages.info(request, NOT_STARTED)
    return redirect("outcomes:import_job", job_id=job.pk)


@manager_required
@require_POST
@one_submission
def import_same_person(request: HttpRequest, job_id: int) -> HttpResponse:
    job = selectors.get_outcome_import_for_user(request_user(request), job_id)
    form = SamePersonForm(request.POST, choices=_same_person_choices(job))
    if not form.is_valid():
        return _job_page(request, job, same_person_form=form)
    if not jobs.import_confirm_same_person(
        job, form.cleaned_data["same_person"], now=timezone.now()
    ):
        messages.info(request, NOT_STARTED)
    return redirect("outcomes:import_job", job_id=job.pk)


@manager_required
@require_GET
def import_problems(request: HttpRequest, job_id: int) -> HttpResponse:
    """Every problem of the last check, one line each (line, column, severity, message,
    detail). Details echo the uploaded file only, never values from the record."""
    job = selectors.get_outcome_import_for_user(request_user(request), job_id, with_report=True)
    return _csv(
        job.problems_csv or "line,column,severity,message,detail\r\n",
        f"outcome-import-{job.pk}-problems.csv",
    )
