"""A person's measures and outcome assessments, and a team's list of assessments due."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.safestring import SafeString
from django.views.decorators.http import require_http_methods

from networks.models import ServiceUser
from networks.selectors import get_service_user_for_user
from outcomes import charts, rules, scoring, selectors, services
from outcomes.forms import LicensedMeasureForm, OutcomeAssessmentForm, ScoredMeasureForm
from outcomes.models import LicensedMeasure, OutcomeAssessment, ScoredMeasure
from pod.foundation.access import clinical_required, request_user
from pod.foundation.audit import note_shown
from pod.foundation.form_errors import add_service_errors
from pod.foundation.localtime import LONDON
from pod.foundation.paging import LIST_SIZE, bounded
from pod.foundation.submissions import one_submission


def _measure_chart(
    scored: list[ScoredMeasure], *, title: str, y_max: float, lines: list[tuple[str, str, str]]
) -> SafeString:
    """A line chart over the dates of `scored`: one line per (instrument, score attribute,
    label), with gaps where that instrument was not completed."""
    dates = sorted({m.completed_on for m in scored})
    series = []
    for instrument, attr, label in lines:
        by_day = {m.completed_on: getattr(m, attr) for m in scored if m.instrument == instrument}
        values = [None if by_day.get(d) is None else float(by_day[d]) for d in dates]
        series.append(charts.Series(label, values))
    return charts.line_chart(
        title=title, x_labels=[d.isoformat() for d in dates], series=series, y_max=y_max
    )


@clinical_required
def person_measures(request: HttpRequest, person_id: int) -> HttpResponse:
    person = get_service_user_for_user(request_user(request), person_id)
    scored = list(ScoredMeasure.objects.filter(service_user=person).order_by("completed_on"))
    licensed = LicensedMeasure.objects.filter(service_user=person).order_by("-completed_on")
    assessments = OutcomeAssessment.objects.filter(service_user=person)
    symptom_chart = (
        _measure_chart(
            scored,
            title="PHQ-9 and GAD-7 totals over time",
            y_max=27,
            lines=[("PHQ9", "total", "PHQ-9 (0-27)"), ("GAD7", "total", "GAD-7 (0-21)")],
        )
        if scored
        else None
    )
    dialog_chart = (
        _measure_chart(
            scored,
            title="DIALOG means over time",
            y_max=7,
            lines=[
                ("DIALOG", "life_domains_mean", "Life domains (1-7)"),
                ("DIALOG", "treatment_mean", "Treatment (1-7)"),
            ],
        )
        if any(m.instrument == "DIALOG" for m in scored)
        else None
    )
    return render(
        request,
        "outcomes/person_measures.html",
        {
            "person": person,
            "scored": list(reversed(scored)),
            "licensed": licensed,
            "assessments": assessments,
            "symptom_chart": symptom_chart,
            "dialog_chart": dialog_chart,
            "instruments": ScoredMeasure.Instrument.choices,
        },
    )


@clinical_required
@require_http_methods(["GET", "POST"])
@one_submission
def scored_measure_new(request: HttpRequest, person_id: int, instrument: str) -> HttpResponse:
    person = get_service_user_for_user(request_user(request), person_id)
    if instrument not in scoring.SCORERS:
        raise Http404("No such measure")
    form = ScoredMeasureForm(request.POST or None, instrument=instrument)
    if request.method == "POST" and form.is_valid():
        try:
            measure = services.scored_measure_record(
                service_user=person,
                instrument=instrument,
                item_scores=form.item_scores(),
                completed_on=form.cleaned_data["completed_on"],
                recorded_by=request_user(request),
                now=timezone.now(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            summary = (
                f"total {measure.total} ({measure.band})"
                if measure.total is not None
                else f"life domains {measure.life_domains_mean}, treatment {measure.treatment_mean}"
            )
            messages.success(request, f"{measure.get_instrument_display()} saved: {summary}.")
            return redirect("outcomes:person_measures", person_id=person.pk)
    return render(
        request,
        "outcomes/form.html",
        {
            "form": form,
            "person": person,
            # Page titles carry no names (browser history, tabs on shared computers); the
            # identity banner says whose page this is.
            "title": str(dict(ScoredMeasure.Instrument.choices)[instrument]),
        },
    )


def _record_page(
    request: HttpRequest,
    person: ServiceUser,
    form: forms.BaseForm,
    *,
    record: Callable[..., object],
    saved: str,
    title: str,
    note: str = "",
) -> HttpResponse:
    """A form page that records one thing about a person with the service `record` (called
    with the person, the user, now and the form's cleaned data): on success a message and back
    to the person's measures; otherwise the form, with the service's errors at its fields."""
    if request.method == "POST" and form.is_valid():
        try:
            record(
                service_user=person,
                recorded_by=request_user(request),
                now=timezone.now(),
                **form.cleaned_data,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, saved)
            return redirect("outcomes:person_measures", person_id=person.pk)
    return render(
        request,
        "outcomes/form.html",
        {"form": form, "person": person, "title": title, "note": note},
    )


@clinical_required
@require_http_methods(["GET", "POST"])
@one_submission
def licensed_measure_new(request: HttpRequest, person_id: int) -> HttpResponse:
    person = get_service_user_for_user(request_user(request), person_id)
    return _record_page(
        request,
        person,
        LicensedMeasureForm(request.POST or None),
        record=services.licensed_measure_record,
        saved="Measure saved.",
        title="Licensed measure",
        note="Record the total score only. The items and their wording are licensed and are not "
        "kept here.",
    )


@clinical_required
@require_http_methods(["GET", "POST"])
@one_submission
def assessment_new(request: HttpRequest, person_id: int) -> HttpResponse:
    person = get_service_user_for_user(request_user(request), person_id)
    return _record_page(
        request,
        person,
        OutcomeAssessmentForm(
            request.POST or None, initial={"timepoint_months": request.GET.get("timepoint")}
        ),
        record=services.outcome_assessment_record,
        saved="Outcome assessment saved.",
        title="Outcome assessment",
    )


@login_required
def team_follow_up(request: HttpRequest, team_id: int) -> HttpResponse:
    team = selectors.get_team_for_user(request_user(request), team_id)
    today = timezone.now().astimezone(LONDON).date()
    # Overdue first, then by due date; one page at a time (pod/foundation/paging.py).
    rows = bounded(
        request, selectors.assessments_follow_up(team, today=today), param="page", size=LIST_SIZE
    )
    note_shown(request, "person", [r["id"] for r in rows], "list:follow_up")
    return render(
        request,
        "outcomes/follow_up.html",
        {
            "team": team,
            "rows": rows,
            "today": today,
            "show_names": request_user(request).is_clinical,
            "timepoints": rules.timepoints_in_words(),
            "window_days": rules.FOLLOW_UP_WINDOW.days,
        },
    )
