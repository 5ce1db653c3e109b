"""The outcomes home page, the service manager's dashboards and their CSV downloads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.text import slugify

from meetings.review_selectors import review_summary
from outcomes import charts, rules, selectors, table_csv, tables
from outcomes.dashboard import freshness, sections
from outcomes.dashboard.clinical_rules import FirstMeetingRule
from outcomes.dashboard.meeting_figures import Attendance
from outcomes.dashboard.outcome_figures import ExperienceRow, FidelityProfile
from outcomes.dashboard.peer_and_staffing import PeerWork, staffing_targets
from outcomes.dashboard.scope import Scope
from outcomes.dashboard.sections import SectionName
from outcomes.forms import DashboardFilterForm
from outcomes.rules import Cell
from pod.foundation.access import manager_required, request_user, teams_for
from pod.foundation.audit import note_shown
from pod.foundation.localtime import LONDON
from pod.foundation.models import Team, User
from pod.foundation.numbers import is_ascii_digits


@login_required
def index(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    teams = Team.objects.all() if user.role == User.Role.ADMINISTRATOR else teams_for(user)
    return render(request, "outcomes/index.html", {"teams": teams.select_related("trust")})


def refuse_foreign_choice(
    request: HttpRequest, teams: QuerySet[Team], *, params: QueryDict | None = None
) -> None:
    """A manager asking for a team or trust that is not theirs is refused outright (403),
    rather than quietly shown their own teams. `params`: the request's GET unless given."""
    params = request.GET if params is None else params
    team_id, trust_id = params.get("team", ""), params.get("trust", "")
    if is_ascii_digits(team_id) and not teams.filter(pk=int(team_id)).exists():
        raise PermissionDenied("That team is not one of yours.")
    if is_ascii_digits(trust_id) and not teams.filter(trust_id=int(trust_id)).exists():
        raise PermissionDenied("That trust is not one of yours.")


def _dashboard_scope(
    request: HttpRequest, *, page: tables.Page | None = None
) -> tuple[DashboardFilterForm, Scope | None, int]:
    """The filter form, the scope it chooses (None when the form is not valid) and the outcome
    time point. With no period chosen, the last 365 days; on the outcomes page (`page`), from
    the first outcome assessment on record when that is earlier, so outcomes dated years ago
    (a trial's) are shown rather than "no data"."""
    now = timezone.now()
    today = now.astimezone(LONDON).date()
    teams = selectors.teams_visible_to(request_user(request))
    refuse_foreign_choice(request, teams)
    bound = "start" in request.GET
    default_start = None
    if not bound and page is not None and "outcomes" in page.sections:
        default_start = _first_assessment(request, teams, now)
    form = DashboardFilterForm(
        request.GET if bound else None,
        teams=teams,
        today=today,
        default_start=default_start,
    )
    if form.is_bound:
        if not form.is_valid():
            return form, None, rules.DASHBOARD_TIMEPOINT
        data = form.cleaned_data
    else:
        data = {name: field.initial for name, field in form.fields.items()}
    chosen = teams
    if data.get("trust"):
        chosen = chosen.filter(trust=data["trust"])
    if data.get("team"):
        chosen = chosen.filter(pk=data["team"].pk)
    scope = Scope(
        team_ids=tuple(chosen.order_by().values_list("pk", flat=True)),
        start=data["start"],
        end=data["end"],
        now=now,
    )
    timepoint = data.get("timepoint")
    return form, scope, rules.DASHBOARD_TIMEPOINT if timepoint is None else int(timepoint)


def _first_assessment(request: HttpRequest, teams: QuerySet[Team], now: datetime) -> date | None:
    """Where the outcomes page's default period starts for the teams the request chooses
    (outcomes/dashboard/freshness.py `first_assessment_start`)."""
    chosen = teams
    team_id, trust_id = request.GET.get("team", ""), request.GET.get("trust", "")
    if is_ascii_digits(trust_id):
        chosen = chosen.filter(trust_id=int(trust_id))
    if is_ascii_digits(team_id):
        chosen = chosen.filter(pk=int(team_id))
    return freshness.first_assessment_start(
        tuple(chosen.order_by().values_list("pk", flat=True)), now
    )


def _share_series(label: str, cells: list[Cell]) -> charts.Series:
    """A share per x label as a chart series, with its Wilson intervals as error bars."""
    return charts.Series(
        label, [c.percent for c in cells], charts.intervals_of(cells), charts.missing_of(cells)
    )


def _first_meeting_chart(fm: FirstMeetingRule) -> SafeString:
    return charts.line_chart(
        title=f"Share of first meetings within {tables.first_meeting_hours()} hours, "
        "by month of referral, with 95% intervals",
        x_labels=[r["month"] for r in fm["trend"]],
        series=[_share_series("Met %", [r["share_met"] for r in fm["trend"]])],
        y_max=100,
        y_unit="%",
    )


def _attendance_chart(att: Attendance) -> SafeString:
    return charts.line_chart(
        title="Who was at the meetings, by month, with 95% intervals",
        x_labels=[r["month"] for r in att["trend"]],
        series=[
            _share_series("Network members %", [r["share_members"] for r in att["trend"]]),
            _share_series("Core team %", [r["share_core"] for r in att["trend"]]),
            _share_series("Two or more staff %", [r["share_two_staff"] for r in att["trend"]]),
        ],
        y_max=100,
        y_unit="%",
    )


def _peer_chart(peer: PeerWork) -> SafeString:
    return charts.line_chart(
        title="Peer contacts per week",
        x_labels=[r["week"] for r in peer["weekly"]],
        series=[charts.Series("Contacts", [r["contacts"] for r in peer["weekly"]])],
    )


def _experience_chart(rows: list[ExperienceRow]) -> SafeString:
    return charts.bar_chart(
        title="Experience survey against the 2014 national survey, with 95% intervals",
        labels=[r["statement"] for r in rows],
        series=[
            _share_series("This service", [r["cell"] for r in rows]),
            charts.Series("National 2014", [r["national"] for r in rows]),
        ],
    )


def _fidelity_chart(fid: FidelityProfile) -> SafeString:
    overall = [fid["overall"][f] for f, _l in fid["elements"]]
    return charts.bar_chart(
        title=f"Mean fidelity rating per key element (0-3), with 95% intervals, "
        f"n = {fid['ratings']} rating{'' if fid['ratings'] == 1 else 's'}",
        labels=[label for _f, label in fid["elements"]],
        series=[
            charts.Series(
                "Mean",
                [m.mean for m in overall],
                charts.intervals_of(overall),
                charts.missing_of(overall),
            )
        ],
        x_max=3,
        unit="",
    )


# Each chart: the section it draws, and how.
CHARTS: dict[str, tuple[SectionName, Callable[[Any], SafeString]]] = {
    "first_meeting": ("first_meeting", _first_meeting_chart),
    "attendance": ("attendance", _attendance_chart),
    "peer": ("peer", _peer_chart),
    "experience": ("experience", _experience_chart),
    "fidelity": ("fidelity", _fidelity_chart),
}


def _charts(data: dict[SectionName, Any]) -> dict[str, SafeString]:
    """The charts of the sections in `data`, by name."""
    return {key: draw(data[name]) for key, (name, draw) in CHARTS.items() if name in data}


def _as_of_context(as_of: datetime) -> dict[str, Any]:
    """What the page says about its figures' age (outcomes/dashboard/freshness.py)."""
    local = as_of.astimezone(LONDON)
    return {
        "as_of_text": f"{local:%H:%M} on {local.day} {local:%B %Y}",
        "fresh_minutes": max(1, round(freshness.fresh_for().total_seconds() / 60)),
        "cached": freshness.fresh_for().total_seconds() > 0,
    }


def _page_or_404(slug: str) -> tables.Page:
    page = tables.PAGES.get(slug)
    if page is None:
        raise Http404("No such dashboard section")
    return page


@manager_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The overview: a few key figures per section, each linking to its page."""
    form, scope, timepoint = _dashboard_scope(request)
    context: dict[str, Any] = {
        "form": form,
        "scope": scope,
        "pages": tables.PAGES.values(),
        "nav_query": request.GET.urlencode(),
    }
    if scope is not None:
        data, as_of = freshness.many(sections.OVERVIEW_SECTIONS, scope, timepoint_months=timepoint)
        outcomes_scope = scope
        if "start" not in request.GET:
            # The outcomes card covers the outcomes page's default period (from the first
            # assessment on record when earlier), as its link opens it.
            first = _first_assessment(
                request, selectors.teams_visible_to(request_user(request)), scope.now
            )
            if first is not None and first < scope.start:
                outcomes_scope = replace(scope, start=first)
        found, when = freshness.section("outcomes", outcomes_scope, timepoint_months=timepoint)
        data["outcomes"], as_of = found, min(as_of, when)
        context.update(
            overview=[(p, tables.headline(p, data)) for p in tables.PAGES.values()],
            # The managers' reviews of events raised in the period (issue 13, point 1).
            reviews=review_summary(scope.team_ids, start_at=scope.start_at, end_at=scope.end_at),
            **_as_of_context(as_of),
        )
    return render(request, "outcomes/dashboard.html", context)


@manager_required
def dashboard_section(request: HttpRequest, section: str) -> HttpResponse:
    """One page of the dashboard: its sections' tables and charts."""
    page = _page_or_404(section)
    form, scope, timepoint = _dashboard_scope(request, page=page)
    context: dict[str, Any] = {
        "form": form,
        "scope": scope,
        "page": page,
        "title": f"{page.title} - Service dashboards",  # a fixed text: no person's name
        "pages": tables.PAGES.values(),
        "nav_query": request.GET.urlencode(),
        "small_cell": rules.SMALL_CELL,
        "targets": staffing_targets(),
        "first_meeting_hours": tables.first_meeting_hours(),
        # The network-meeting definition under the medication tables (meetings.medication_rules).
        "min_counted_minutes": settings.POD_MIN_COUNTED_MEETING_MINUTES,
        "late_record_hours": f"{settings.POD_RECORDED_AFTER_EVENT_HOURS:g}",
    }
    if scope is not None:
        data, as_of = freshness.many(page.sections, scope, timepoint_months=timepoint)
        shown = tables.page_tables(page, data)
        # The lists of breaches, overrides and thin networks name episodes, one per person.
        note_shown(
            request,
            "episode",
            [i for t in shown.values() for i in t.episode_ids(limit=rules.DASHBOARD_LIST_LIMIT)],
            "list:dashboard",
        )
        context.update(
            tables=shown,
            charts=_charts(data),
            csv=True,  # each table links to its CSV download, with the same filter
            query=_query_for(scope, timepoint, request),
            list_limit=rules.DASHBOARD_LIST_LIMIT,
            **_as_of_context(as_of),
        )
    return render(request, "outcomes/dashboard_section.html", context)


def _query_for(scope: Scope, timepoint: int, request: HttpRequest) -> str:
    """The CSV links' query: the page's filter with its period spelled out, so a download
    covers what the page shows even when the page used its default period."""
    query = request.GET.copy()
    query["start"], query["end"] = scope.start.isoformat(), scope.end.isoformat()
    query["timepoint"] = str(timepoint)
    return query.urlencode()


@manager_required
def dashboard_csv(request: HttpRequest, table: str) -> HttpResponse:
    if table not in tables.TABLE_SECTION:
        raise Http404("No such table")
    form, scope, timepoint = _dashboard_scope(request)
    if scope is None:
        return HttpResponse(
            "The filter is not valid: " + form.errors.as_text(),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    name = tables.TABLE_SECTION[table]
    data, as_of = freshness.section(name, scope, timepoint_months=timepoint, list_limit=None)
    csv_table = tables.table_of(table, name, data)
    note_shown(request, "episode", csv_table.episode_ids(), "export:dashboard_csv")
    period = [("Period from", scope.start.isoformat()), ("Period to", scope.end.isoformat())]
    timepoint_text = ""
    if name == "outcomes":
        period.append(("Time point", rules.timepoint_label(timepoint)))
        timepoint_text = "-" + slugify(rules.timepoint_label(timepoint))
    period.append(("Figures as of", as_of.astimezone(LONDON).strftime("%Y-%m-%d %H:%M")))
    # A byte-order mark first: Excel then reads the file as UTF-8 (names with accents, "–").
    body = "\ufeff" + table_csv.to_csv(csv_table, context_columns=period)
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="pod-{table}{timepoint_text}-{scope.start}-to-{scope.end}.csv"'
    )
    return response
