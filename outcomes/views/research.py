"""The research export for the trial's statisticians: a page with the choice of team or trust
and the data dictionary, the pseudonymised data set (POST) and the dictionary as CSV.

Who: service managers, for the teams they manage. They are accountable for their teams' data
and already see every figure of them; releasing a data set to the trial is a decision about
those teams, so it rests with them. Administrators run accounts and reference data, not the
teams' data, and clinicians and peers work with people, not data sets: all are refused (403).
Each export writes one RecordAccess row per person exported ("research_export"), so every
person's access log shows who released their pseudonymised data, and when.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from outcomes import research, selectors
from outcomes.forms import TeamChoiceForm
from outcomes.views.dashboards import refuse_foreign_choice
from pod.foundation.access import request_user, role_required, teams_for
from pod.foundation.audit import write_accesses
from pod.foundation.localtime import LONDON
from pod.foundation.models import User

managers_only = role_required(User.Role.SERVICE_MANAGER)


@managers_only
@require_http_methods(["GET", "POST"])
def research_export(request: HttpRequest) -> HttpResponse:
    teams = teams_for(request_user(request)).select_related("trust")
    data = request.POST if request.method == "POST" else None
    if data is not None:
        refuse_foreign_choice(request, teams, params=data)
    form = TeamChoiceForm(data, teams=teams, label="Download the data set (CSV)")
    form.helper.form_method = "post"
    form.helper.disable_csrf = False
    configured = bool(settings.POD_RESEARCH_ID_KEY)
    if request.method == "POST" and configured and form.is_valid():
        team_ids = list(form.chosen(teams).order_by().values_list("pk", flat=True))
        assessments, measures = selectors.research_records(team_ids)
        rows = research.export_rows(assessments, measures, key=settings.POD_RESEARCH_ID_KEY)
        body = research.to_csv(rows)
        # Written now, not after the response: the file is the record shown.
        write_accesses(
            user_id=request_user(request).pk,
            view_name="outcomes:research_export",
            shown=[("person", [a.person_id for a in assessments], "research_export")],
        )
        day = timezone.now().astimezone(LONDON).date()
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="pod-research-{day}.csv"'
        return response
    return render(
        request,
        "outcomes/research_export.html",
        {
            "form": form,
            "configured": configured,
            "headers": research.DICTIONARY_HEADERS,
            "dictionary": research.dictionary_rows(),
        },
        status=200 if configured or request.method == "GET" else 503,
    )


@managers_only
def research_dictionary(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(research.dictionary_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="pod-research-dictionary.csv"'
    return response
