"""Fidelity to dialogic practice: staff rate a meeting they were at; a team's profile."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from outcomes import charts, rules, selectors, services, tables
from outcomes.dashboard.outcome_figures import fidelity_profile
from outcomes.dashboard.scope import Scope
from outcomes.forms import FidelityForm
from pod.foundation.access import request_user
from pod.foundation.form_errors import add_service_errors
from pod.foundation.localtime import LONDON
from pod.foundation.submissions import one_submission

PROFILE_MONTHS = 24  # a team's fidelity page covers the last two years


@login_required
def team_fidelity(request: HttpRequest, team_id: int) -> HttpResponse:
    team = selectors.get_team_for_user(request_user(request), team_id)
    now = timezone.now()
    today = now.astimezone(LONDON).date()
    scope = Scope(
        team_ids=(team.pk,), start=rules.add_months(today, -PROFILE_MONTHS), end=today, now=now
    )
    profile = fidelity_profile(scope)
    elements = len(rules.FIDELITY_ELEMENTS)
    chart = charts.line_chart(
        title=f"Mean fidelity rating by month, {team.name}",
        x_labels=[m["month"] for m in profile["months"]],
        series=[
            charts.Series(
                f"Mean of the {elements} elements",
                [
                    sum(mean.mean or 0.0 for mean in m["means"].values()) / elements
                    for m in profile["months"]
                ],
            )
        ],
        y_max=3,
    )
    return render(
        request,
        "outcomes/team_fidelity.html",
        {
            "team": team,
            "profile": profile,
            "chart": chart,
            "tables": {t.key: t for t in tables.fidelity_tables(profile)},
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
@one_submission
def meeting_fidelity(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """Staff who were present rate the meeting. Nobody else can open it (404)."""
    meeting = selectors.get_meeting_for_rater(request_user(request), meeting_id)
    form = FidelityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.fidelity_rating_record(
                meeting=meeting,
                rater=request_user(request),
                scores=form.cleaned_data,
                now=timezone.now(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Thank you: your fidelity rating is saved.")
            return redirect("outcomes:team_fidelity", team_id=meeting.episode.team_id)
    held_at = meeting.actual_start or meeting.scheduled_start
    return render(
        request,
        "outcomes/form.html",
        {
            "form": form,
            "title": f"Fidelity rating: meeting of {held_at.astimezone(LONDON):%d %b %Y}",
            "note": f"Rate how far each of the {len(rules.FIDELITY_ELEMENTS)} key elements was "
            "present in this meeting (0 = not present, 3 = fully). Your rating is used only in "
            "the team's profile.",
        },
    )
