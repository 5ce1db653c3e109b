"""Thin views: check who may see what, call selectors and services, render."""

from __future__ import annotations

from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from meetings.models import Meeting, Participant
from networks.selectors import get_service_user_for_user
from outcomes import charts, rules, selectors, services, tables
from outcomes.forms import (
    DashboardFilterForm,
    FidelityForm,
    ImportForm,
    LicensedMeasureForm,
    OutcomeAssessmentForm,
    ScoredMeasureForm,
    SurveyForm,
)
from outcomes.importer import decode_upload, import_outcomes_text
from outcomes.models import LicensedMeasure, OutcomeAssessment, ScoredMeasure
from pod.foundation.access import clinical_required, manager_required, teams_for
from pod.foundation.form_errors import add_service_errors
from pod.foundation.localtime import LONDON
from pod.foundation.models import Team, User

# --- Dashboards --------------------------------------------------------------------------------


def _refuse_foreign_choice(request: HttpRequest, teams) -> None:
    """A manager asking for a team or trust that is not theirs is refused outright (403),
    rather than quietly shown their own teams."""
    team_id, trust_id = request.GET.get("team", ""), request.GET.get("trust", "")
    if team_id.isdigit() and not teams.filter(pk=int(team_id)).exists():
        raise PermissionDenied("That team is not one of yours.")
    if trust_id.isdigit() and not teams.filter(trust_id=int(trust_id)).exists():
        raise PermissionDenied("That trust is not one of yours.")


def _dashboard_scope(
    request: HttpRequest,
) -> tuple[DashboardFilterForm, selectors.Scope | None, int]:
    now = timezone.now()
    teams = selectors.teams_visible_to(request.user)
    _refuse_foreign_choice(request, teams)
    form = DashboardFilterForm(
        request.GET if "start" in request.GET else None,
        teams=teams,
        today=now.astimezone(LONDON).date(),
    )
    if form.is_bound:
        if not form.is_valid():
            return form, None, 24
        data = form.cleaned_data
    else:
        data = {name: field.initial for name, field in form.fields.items()}
    chosen = teams
    if data.get("trust"):
        chosen = chosen.filter(trust=data["trust"])
    if data.get("team"):
        chosen = chosen.filter(pk=data["team"].pk)
    scope = selectors.Scope(
        team_ids=tuple(chosen.order_by().values_list("pk", flat=True)),
        start=data["start"],
        end=data["end"],
        now=now,
    )
    return form, scope, int(data.get("timepoint") or 24)


def _charts(data: dict[str, Any]) -> dict[str, Any]:
    fm, att, peer, fid = (data["first_meeting"], data["attendance"], data["peer"], data["fidelity"])
    return {
        "first_meeting": charts.line_chart(
            title="Share of first meetings within 24 hours, by month of referral",
            x_labels=[r["month"] for r in fm["trend"]],
            series=[charts.Series("Met %", [r["share_met"] for r in fm["trend"]])],
            y_max=100,
            y_unit="%",
        ),
        "attendance": charts.line_chart(
            title="Who was at the meetings, by month",
            x_labels=[r["month"] for r in att["trend"]],
            series=[
                charts.Series("Network members %", [r["members_pct"] for r in att["trend"]]),
                charts.Series("Core team %", [r["core_pct"] for r in att["trend"]]),
                charts.Series("Two or more staff %", [r["two_staff_pct"] for r in att["trend"]]),
            ],
            y_max=100,
            y_unit="%",
        ),
        "peer": charts.line_chart(
            title="Peer contacts per week",
            x_labels=[r["week"] for r in peer["weekly"]],
            series=[charts.Series("Contacts", [r["contacts"] for r in peer["weekly"]])],
        ),
        "experience": charts.bar_chart(
            title="Experience survey against the 2014 national survey",
            labels=[r["statement"] for r in data["experience"]],
            series=[
                charts.Series("This service", [r["cell"].percent for r in data["experience"]]),
                charts.Series("National 2014", [r["national"] for r in data["experience"]]),
            ],
        ),
        "fidelity": charts.bar_chart(
            title="Mean fidelity rating per key element (0-3)",
            labels=[label for _f, label in fid["elements"]],
            series=[charts.Series("Mean", [fid["overall"][f] for f, _l in fid["elements"]])],
            x_max=3,
            unit="",
        ),
    }


# Tables that list records (the first LIST_LIMIT rows on the page, all of them in the CSV).
LIMITED_TABLES = frozenset({"breaches", "overrides", "violations", "thin_networks"})


def _table_html(table: tables.Table, *, query: str, list_limit: int) -> str:
    """One dashboard table with its CSV link, as templates/outcomes/_table.html draws it.

    Built in Python: the page's ~20 tables hold several hundred cells, and rendering them
    through the template engine cell by cell was most of the page's rendering time
    (outcomes/benchmarks/RESULTS.md)."""
    csv_url = reverse("outcomes:dashboard_csv", args=[table.key]) + (f"?{query}" if query else "")
    title = escape(table.title)
    caption = (
        f'{title} · <a href="{escape(csv_url)}" aria-label="Download CSV of {title}">'
        "Download CSV</a>"
    )
    if table.key in LIMITED_TABLES and len(table.rows) >= list_limit:
        caption += f" · showing the first {list_limit}; the CSV has all"
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in table.headers)
    if table.rows:
        body = "".join(
            "<tr>" + "".join(f"<td>{escape(tables.fmt(v))}</td>" for v in row) + "</tr>"
            for row in table.rows
        )
    else:
        body = f'<tr><td colspan="{len(table.headers)}">None in this period.</td></tr>'
    return mark_safe(  # every value above is escaped
        '<div class="table-responsive mb-3">\n'
        '<table class="table table-sm table-striped align-middle">\n'
        f'  <caption class="caption-top">{caption}</caption>\n'
        f"  <thead><tr>{head}</tr></thead>\n"
        f"  <tbody>\n  {body}\n  </tbody>\n</table>\n</div>\n"
    )


@manager_required
def dashboard(request: HttpRequest) -> HttpResponse:
    form, scope, timepoint = _dashboard_scope(request)
    context: dict[str, Any] = {"form": form, "scope": scope}
    if scope is not None:
        data = selectors.dashboard(scope, timepoint_months=timepoint)
        query = request.GET.urlencode()
        context["tables"] = {
            key: _table_html(table, query=query, list_limit=selectors.LIST_LIMIT)
            for name, value in data.items()
            for key, table in tables.section_tables(name, value).items()
        }
        context["charts"] = _charts(data)
    return render(request, "outcomes/dashboard.html", context)


@manager_required
def dashboard_csv(request: HttpRequest, table: str) -> HttpResponse:
    section = tables.TABLE_SECTION.get(table)
    if section is None:
        raise Http404("No such table")
    form, scope, timepoint = _dashboard_scope(request)
    if scope is None:
        return HttpResponse(
            "The filter is not valid: " + form.errors.as_text(),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    data = tables.compute_section(section, scope, timepoint_months=timepoint, list_limit=None)
    body = tables.to_csv(tables.section_tables(section, data)[table])
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="pod-{table}-{scope.start}-{scope.end}.csv"'
    )
    return response


# --- Team pages (fidelity profile, follow-up list) ---------------------------------------------


def _get_team_for_user(user: User, team_id: int) -> Team:
    """Administrators: any team. Clinical staff and managers: their own teams. Others: 403."""
    if user.role == User.Role.ADMINISTRATOR:
        team = Team.objects.select_related("trust").filter(pk=team_id).first()
    elif user.is_clinical or user.role == User.Role.SERVICE_MANAGER:
        team = teams_for(user).select_related("trust").filter(pk=team_id).first()
    else:
        raise PermissionDenied("Your role cannot open this page.")
    if team is None:
        raise Http404("No such team")
    return team


@login_required
def index(request: HttpRequest) -> HttpResponse:
    user = request.user
    teams = Team.objects.all() if user.role == User.Role.ADMINISTRATOR else teams_for(user)
    return render(request, "outcomes/index.html", {"teams": teams.select_related("trust")})


@login_required
def team_fidelity(request: HttpRequest, team_id: int) -> HttpResponse:
    team = _get_team_for_user(request.user, team_id)
    now = timezone.now()
    today = now.astimezone(LONDON).date()
    scope = selectors.Scope(
        team_ids=(team.pk,), start=rules.add_months(today, -24), end=today, now=now
    )
    profile = selectors.fidelity_profile(scope)
    months = profile["months"]
    chart = charts.line_chart(
        title=f"Mean fidelity rating by month, {team.name}",
        x_labels=[m["month"] for m in months],
        series=[
            charts.Series(
                "Mean of the twelve elements",
                [sum(m[f] for f, _l in rules.FIDELITY_ELEMENTS) / 12 for m in months],
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
            "tables": tables.section_tables("fidelity", profile),
        },
    )


@login_required
def team_follow_up(request: HttpRequest, team_id: int) -> HttpResponse:
    team = _get_team_for_user(request.user, team_id)
    today = timezone.now().astimezone(LONDON).date()
    rows = selectors.assessments_follow_up(team, today=today)
    return render(
        request,
        "outcomes/follow_up.html",
        {
            "team": team,
            "rows": rows,
            "today": today,
            "show_names": request.user.is_clinical,
        },
    )


# --- A person's measures -----------------------------------------------------------------------


@clinical_required
def person_measures(request: HttpRequest, person_id: int) -> HttpResponse:
    person = get_service_user_for_user(request.user, person_id)
    scored = list(ScoredMeasure.objects.filter(service_user=person).order_by("completed_on"))
    licensed = LicensedMeasure.objects.filter(service_user=person).order_by("-completed_on")
    assessments = OutcomeAssessment.objects.filter(service_user=person)
    dates = sorted({m.completed_on for m in scored})
    labels = [d.isoformat() for d in dates]

    def series(instrument: str, attr: str, label: str) -> charts.Series:
        by_day = {m.completed_on: getattr(m, attr) for m in scored if m.instrument == instrument}
        return charts.Series(
            label, [None if by_day.get(d) is None else float(by_day[d]) for d in dates]
        )

    symptom_chart = (
        charts.line_chart(
            title="PHQ-9 and GAD-7 totals over time",
            x_labels=labels,
            series=[
                series("PHQ9", "total", "PHQ-9 (0-27)"),
                series("GAD7", "total", "GAD-7 (0-21)"),
            ],
            y_max=27,
        )
        if scored
        else None
    )
    dialog_chart = (
        charts.line_chart(
            title="DIALOG means over time",
            x_labels=labels,
            series=[
                series("DIALOG", "life_domains_mean", "Life domains (1-7)"),
                series("DIALOG", "treatment_mean", "Treatment (1-7)"),
            ],
            y_max=7,
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
def scored_measure_new(request: HttpRequest, person_id: int, instrument: str) -> HttpResponse:
    person = get_service_user_for_user(request.user, person_id)
    if instrument not in rules.SCORERS:
        raise Http404("No such measure")
    form = ScoredMeasureForm(request.POST or None, instrument=instrument)
    if request.method == "POST" and form.is_valid():
        try:
            measure = services.scored_measure_record(
                service_user=person,
                instrument=instrument,
                item_scores=form.item_scores(),
                completed_on=form.cleaned_data["completed_on"],
                recorded_by=request.user,
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
            "title": f"{dict(ScoredMeasure.Instrument.choices)[instrument]} for {person}",
        },
    )


@clinical_required
@require_http_methods(["GET", "POST"])
def licensed_measure_new(request: HttpRequest, person_id: int) -> HttpResponse:
    person = get_service_user_for_user(request.user, person_id)
    form = LicensedMeasureForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.licensed_measure_record(
                service_user=person,
                recorded_by=request.user,
                now=timezone.now(),
                **form.cleaned_data,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Measure saved.")
            return redirect("outcomes:person_measures", person_id=person.pk)
    return render(
        request,
        "outcomes/form.html",
        {
            "form": form,
            "person": person,
            "title": f"Licensed measure for {person}",
            "note": "Record the total score only. The items and their wording are licensed and "
            "are not kept here.",
        },
    )


@clinical_required
@require_http_methods(["GET", "POST"])
def assessment_new(request: HttpRequest, person_id: int) -> HttpResponse:
    person = get_service_user_for_user(request.user, person_id)
    form = OutcomeAssessmentForm(
        request.POST or None, initial={"timepoint_months": request.GET.get("timepoint")}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.outcome_assessment_record(
                service_user=person,
                recorded_by=request.user,
                now=timezone.now(),
                **form.cleaned_data,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Outcome assessment saved.")
            return redirect("outcomes:person_measures", person_id=person.pk)
    return render(
        request,
        "outcomes/form.html",
        {
            "form": form,
            "person": person,
            "title": f"Outcome assessment for {person}",
        },
    )


# --- Experience survey -------------------------------------------------------------------------


@clinical_required
@never_cache
@require_http_methods(["GET", "POST"])
def survey_issue(request: HttpRequest, person_id: int) -> HttpResponse:
    person = get_service_user_for_user(request.user, person_id)
    context: dict[str, Any] = {"person": person}
    if request.method == "POST":
        invitation, token = services.survey_invitation_issue(
            service_user=person, issued_by=request.user, now=timezone.now()
        )
        link = request.build_absolute_uri(reverse("outcomes:survey", args=[token]))
        context.update(
            invitation=invitation,
            link=link,
            qr_svg=segno.make(link, error="m").svg_inline(scale=4, title="QR code of the link"),
        )
    return render(request, "outcomes/survey_issue.html", context)


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    # The token is in the URL: never pass it to another site. ("no-referrer" would also make
    # the browser send "Origin: null" with the form, which CSRF protection rightly refuses.)
    response["Referrer-Policy"] = "same-origin"
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def survey(request: HttpRequest, token: str) -> HttpResponse:
    """The person's own page: no login, one use, 14 days."""
    now = timezone.now()
    invitation = services.survey_invitation_for_token(token)
    if invitation is None:
        return _no_store(
            render(
                request,
                "outcomes/survey_closed.html",
                {"reason": "This link is not valid."},
                status=404,
            )
        )
    refusal = rules.survey_link_refusal(
        expires_at=invitation.expires_at, used_at=invitation.used_at, now=now
    )
    if refusal:
        return _no_store(
            render(request, "outcomes/survey_closed.html", {"reason": refusal}, status=410)
        )
    form = SurveyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.survey_response_submit(token=token, answers=form.cleaned_data, now=now)
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                add_service_errors(form, error)
            else:
                return _no_store(
                    render(
                        request,
                        "outcomes/survey_closed.html",
                        {"reason": error.messages[0]},
                        status=410,
                    )
                )
        else:
            return _no_store(render(request, "outcomes/survey_thanks.html"))
    return _no_store(render(request, "outcomes/survey.html", {"form": form}))


# --- Fidelity rating ---------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def meeting_fidelity(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """Staff who were present rate the meeting. Nobody else can open it (404)."""
    meeting = (
        Meeting.objects.filter(
            pk=meeting_id,
            participants__kind=Participant.Kind.STAFF,
            participants__staff=request.user,
            participants__attended=True,
        )
        .select_related("episode__team")
        .first()
    )
    if meeting is None:
        raise Http404("No such meeting")
    form = FidelityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.fidelity_rating_record(
                meeting=meeting, rater=request.user, scores=form.cleaned_data, now=timezone.now()
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Thank you: your fidelity rating is saved.")
            return redirect("outcomes:team_fidelity", team_id=meeting.episode.team_id)
    held_on = (meeting.actual_start or meeting.scheduled_start).astimezone(LONDON)
    return render(
        request,
        "outcomes/form.html",
        {
            "form": form,
            "title": f"Fidelity rating: meeting of {held_on:%d %b %Y}",
            "note": "Rate how far each of the twelve key elements was present in this meeting "
            "(0 = not present, 3 = fully). Your rating is used only in the team's profile.",
        },
    )


# --- Import ------------------------------------------------------------------------------------


@manager_required
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest) -> HttpResponse:
    teams = selectors.teams_visible_to(request.user)
    form = ImportForm(request.POST or None, request.FILES or None, teams=teams)
    result = None
    if request.method == "POST" and form.is_valid():
        try:
            text = decode_upload(form.cleaned_data["file"].read())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            result = import_outcomes_text(
                text, team=form.cleaned_data["team"], recorded_by=request.user
            )
            if result.ok:
                messages.success(
                    request,
                    f"Imported {result.assessments} assessment(s); created "
                    f"{result.created_people} new person record(s).",
                )
                return redirect("outcomes:import")
    return render(request, "outcomes/import.html", {"form": form, "result": result})
