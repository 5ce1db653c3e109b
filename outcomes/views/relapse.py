"""Time to relapse, POD against TAU: the page (chart and tables) and each table as CSV.

The computation (outcomes.survival_analysis) imports lifelines, numpy, scipy and pandas, about
2 s of imports. It is imported inside the view, so only a process that draws this page pays
for it; the URLconf, every other page and the workers never do
(tests/outcomes/test_relapse_page.py checks that loading the URLs leaves lifelines out).
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from outcomes import rules, selectors, table_csv
from outcomes.forms import RelapseFilterForm
from outcomes.survival import ArmCurve, Cohort, RelapseAnalysis, months, relapse_times
from outcomes.survival_chart import relapse_chart
from outcomes.tables import Table
from outcomes.views.dashboards import refuse_foreign_choice
from pod.foundation.access import manager_required, request_user

NOT_REACHED = "not reached"


def _analysis(request: HttpRequest) -> tuple[RelapseFilterForm, RelapseAnalysis | None]:
    """The filter form and, when it is valid, the analysis of the people it chooses."""
    # lifelines and its stack take ~2 s to import: only this page should pay for them.
    from outcomes import survival_analysis  # noqa: PLC0415

    teams = selectors.teams_visible_to(request_user(request))
    refuse_foreign_choice(request, teams)
    form = RelapseFilterForm(request.GET or None, teams=teams)
    if form.is_bound and not form.is_valid():
        return form, None
    data = form.cleaned_data if form.is_bound else {}
    chosen = form.chosen(teams) if form.is_bound else teams
    team_ids = list(chosen.order_by().values_list("pk", flat=True))
    cohort = relapse_times(
        selectors.relapse_facts(team_ids),
        baseline_from=data.get("baseline_from"),
        baseline_to=data.get("baseline_to"),
    )
    return form, survival_analysis.analyse(cohort)


def _months(days: float | None) -> str:
    return NOT_REACHED if days is None else f"{months(days):.1f}"


def _p(value: float | None) -> str:
    """A p value as a page prints it: '<0.001' below that, three places otherwise."""
    if value is None:
        return "-"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def _summary_row(curve: ArmCurve) -> list[Any]:
    if curve.suppressed:
        return [curve.arm, rules.SUPPRESSED_TEXT, "", "", "", "", "", ""]
    if not curve.people:
        return [curve.arm, 0, 0, 0, 0, "-", "-", "-"]
    return [
        curve.arm,
        curve.people,
        curve.relapses,
        curve.approximated,
        curve.censored,
        _months(curve.median),
        _months(curve.median_lower),
        _months(curve.median_upper),
    ]


def _comparison_rows(analysis: RelapseAnalysis) -> list[list[Any]]:
    c = analysis.comparison
    pod, tau = analysis.arms
    rows: list[list[Any]] = []
    if c.logrank_chi2 is not None:
        rows.append(
            ["Log-rank test, chi-square on 1 df", f"{c.logrank_chi2:.2f}", "", "", _p(c.logrank_p)]
        )
        for curve, expected in ((pod, c.expected_pod), (tau, c.expected_tau)):
            observed = f"{curve.relapses} observed, {expected or 0:.2f} expected"
            rows.append([f"Relapses in {curve.arm}", observed, "", "", ""])
    if c.hazard_ratio is not None:
        rows.append(
            [
                "Hazard ratio of relapse, POD against TAU (Cox)",
                f"{c.hazard_ratio:.2f}",
                f"{c.hazard_lower:.2f}",
                f"{c.hazard_upper:.2f}",
                _p(c.hazard_p),
            ]
        )
    if c.note:
        rows.append([c.note, "", "", "", ""])
    return rows


def _curve_rows(analysis: RelapseAnalysis) -> list[list[Any]]:
    return [
        [
            curve.arm,
            f"{step.days:g}",
            f"{months(step.days):.1f}",
            step.at_risk,
            step.relapses,
            step.approximated,
            step.censored,
            f"{100 * step.survival:.1f}",
            f"{100 * step.lower:.1f}",
            f"{100 * step.upper:.1f}",
        ]
        for curve in analysis.arms
        for step in curve.steps
    ]


def _excluded_rows(cohort: Cohort) -> list[list[Any]]:
    return [
        ["No baseline assessment", cohort.no_baseline],
        ["No follow-up assessment yet", cohort.no_follow_up],
        [
            "Relapse dated on or before the baseline (a record to correct)",
            cohort.relapse_before_baseline,
        ],
    ]


def relapse_tables(analysis: RelapseAnalysis) -> dict[str, Table]:
    """Every table of the page, by key; the CSV downloads give the same tables."""
    arms = [curve.arm for curve in analysis.arms]
    tables = [
        Table(
            "summary",
            "Time to relapse by arm (months from the baseline assessment)",
            [
                "Arm",
                "People",
                "Relapses",
                "Of which dated at the mid-point of an interval",
                "Censored",
                "Median months",
                "Median lower 95%",
                "Median upper 95%",
            ],
            [_summary_row(curve) for curve in analysis.arms],
        ),
        Table(
            "comparison",
            "POD against TAU",
            ["Measure", "Value", "Lower 95%", "Upper 95%", "p"],
            _comparison_rows(analysis),
        ),
        Table(
            "at_risk",
            "Number at risk",
            ["Months", *arms],
            [
                [month, *[counts.get(arm, "-") for arm in arms]]
                for month, counts in analysis.at_risk
            ],
        ),
        Table(
            "curve",
            "Kaplan-Meier estimate (share without a relapse, %)",
            [
                "Arm",
                "Day",
                "Month",
                "At risk",
                "Relapses",
                "Of which at a mid-point (approximated)",
                "Censored",
                "Without a relapse %",
                "Lower 95%",
                "Upper 95%",
            ],
            _curve_rows(analysis),
        ),
        Table(
            "excluded", "People not analysed", ["Reason", "People"], _excluded_rows(analysis.cohort)
        ),
    ]
    return {table.key: table for table in tables}


def _invalid(form: RelapseFilterForm) -> HttpResponse:
    return HttpResponse(
        "The filter is not valid: " + form.errors.as_text(),
        status=400,
        content_type="text/plain; charset=utf-8",
    )


@manager_required
def relapse(request: HttpRequest) -> HttpResponse:
    form, analysis = _analysis(request)
    context: dict[str, Any] = {"form": form, "small_cell": rules.SMALL_CELL}
    if analysis is not None:
        context.update(
            analysis=analysis,
            tables=relapse_tables(analysis),
            chart=relapse_chart(
                analysis, title="Time to relapse: Kaplan-Meier curves, POD against TAU"
            ),
            csv=True,
            csv_view="outcomes:relapse_csv",
            query=request.GET.urlencode(),
        )
    return render(request, "outcomes/relapse.html", context)


TABLE_KEYS = ("summary", "comparison", "at_risk", "curve", "excluded")


@manager_required
def relapse_csv(request: HttpRequest, table: str) -> HttpResponse:
    if table not in TABLE_KEYS:
        raise Http404("No such table")
    form, analysis = _analysis(request)
    if analysis is None:
        return _invalid(form)
    body = table_csv.to_csv(relapse_tables(analysis)[table])
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="pod-time-to-relapse-{table}.csv"'
    return response
