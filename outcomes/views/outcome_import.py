"""Import outcome assessments from a CSV file (outcomes.importer)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from outcomes import rules, selectors
from outcomes.forms import ImportForm
from outcomes.importer import ImportResult, decode_upload, import_outcomes_text
from pod.foundation.access import manager_required, request_user
from pod.foundation.form_errors import add_service_errors


@manager_required
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest) -> HttpResponse:
    teams = selectors.teams_visible_to(request_user(request))
    form = ImportForm(request.POST or None, request.FILES or None, teams=teams)
    result: ImportResult | None = None
    if request.method == "POST" and form.is_valid():
        try:
            text = decode_upload(form.cleaned_data["file"].read())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            result = import_outcomes_text(
                text, team=form.cleaned_data["team"], recorded_by=request_user(request)
            )
            if result.ok:
                messages.success(
                    request,
                    f"Imported {result.assessments} assessment(s); created "
                    f"{result.created_people} new person record(s).",
                )
                return redirect("outcomes:import")
    return render(
        request,
        "outcomes/import.html",
        {"form": form, "result": result, "columns": ", ".join(rules.IMPORT_COLUMNS)},
    )
