"""The outcomes home page, the service manager's dashboards and their CSV downloads."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import SafeString

from meetings.review_selectors import review_summary
from outcomes import charts, rules, selectors, table_csv, tables
from outcomes.dashboard import sections
from outcomes.dashboard.peer_and_staffing import staffing_targets
from outcomes.dashboard.scope import Scope
from outcomes.dashboard.sections import Dashboard
from outcomes.forms import DashboardFilterForm
from outcomes.rules import Cell
from pod.foundation.access import manager_required, request_user, teams_for
from pod.foundation.audit import note_shown
from pod.foundation.localtime import LONDON
from pod.foundation.models import Team, User


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
    if team_id.isdigit() and not teams.filter(pk=int(team_id)).exists():
        raise PermissionDenied("That team is not one of yours.")
    if trust_id.isdigit() and not teams.filter(trust_id=int(trust_id)).exists():
        raise PermissionDenied("That trust is not one of yours.")


def _dashboard_scope(
    request: HttpRequest,
) -> tuple[DashboardFilterForm, Scope | None, int]:
    """The filter form, the scope it chooses (None when the form is not valid) and the outcome
    time point."""
    now = timezone.now()
    teams = selectors.teams_visible_to(request_user(request))
    refuse_foreign_choice(request, teams)
    form = DashboardFilterForm(
        request.GET if "start" in request.GET else None,
        teams=teams,
        today=now.astimezone(LONDON).date(),
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


def _share_series(label: str, cells: list[Cell]) -> charts.Series:
    """A share per x label as a chart series, with its Wilson intervals as error bars."""
    return charts.Series(label, [c.percent for c in cells], charts.intervals_of(cells))


def _charts(data: Dashboard) -> dict[str, SafeString]:
    fm, att, peer, fid = (data["first_meeting"], data["attendance"], data["peer"], data["fidelity"])
    overall = [fid["overall"][f] for f, _l in fid["elements"]]
    return {
        "first_meeting": charts.line_chart(
            title=f"Share of first meetings within {tables.first_meeting_hours()} hours, "
            "by month of referral, with 95% intervals",
            x_labels=[r["month"] for r in fm["trend"]],
            series=[_share_series("Met %", [r["share_met"] for r in fm["trend"]])],
            y_max=100,
            y_unit="%",
        ),
        "attendance": charts.line_chart(
            title="Who was at the meetings, by month, with 95% intervals",
            x_labels=[r["month"] for r in att["trend"]],
            series=[
                _share_series("Network members %", [r["share_members"] for r in att["trend"]]),
                _share_series("Core team %", [r["share_core"] for r in att["trend"]]),
                _share_series("Two or more staff %", [r["share_two_staff"] for r in att["trend"]]),
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
            title="Experience survey against the 2014 national survey, with 95% intervals",
            labels=[r["statement"] for r in data["experience"]],
            series=[
                _share_series("This service", [r["cell"] for r in data["experience"]]),
                charts.Series("National 2014", [r["national"] for r in data["experience"]]),
            ],
        ),
        "fidelity": charts.bar_chart(
            title="Mean fidelity rating per key element (0-3), with 95% intervals",
            labels=[label for _f, label in fid["elements"]],
            series=[charts.Series("Mean", [m.mean for m in overall], charts.intervals_of(overall))],
            x_max=3,
            unit="",
        ),
    }


@manager_required
def dashboard(request: HttpRequest) -> HttpResponse:
    form, scope, timepoint = _dashboard_scope(request)
    context: dict[str, Any] = {
        "form": form,
        "scope": scope,
        "small_cell": rules.SMALL_CELL,
        "targets": staffing_targets(),
        # The network-meeting definition under the medication tables (meetings.medication_rules).
        "min_counted_minutes": settings.POD_MIN_COUNTED_MEETING_MINUTES,
        "late_record_hours": f"{settings.POD_RECORDED_AFTER_EVENT_HOURS:g}",
    }
    if scope is not None:
        data = sections.dashboard(scope, timepoint_months=timepoint)
        shown = tables.dashboard_tables(data)
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
            query=request.GET.urlencode(),
            list_limit=rules.DASHBOARD_LIST_LIMIT,
            # The managers' reviews of events raised in the period (issue 13).
            reviews=review_summary(scope.team_ids, start_at=scope.start_at, end_at=scope.end_at),
        )
    return render(request, "outcomes/dashboard.html", context)


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
    csv_table = tables.csv_table(table, scope, timepoint_months=timepoint)
    note_shown(request, "episode", csv_table.episode_ids(), "export:dashboard_csv")
    body = table_csv.to_csv(csv_table)
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="pod-{table}-{scope.start}-{scope.end}.csv"'
    )
    return response
