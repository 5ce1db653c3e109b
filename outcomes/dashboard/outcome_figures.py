"""Dashboard sections about results and quality: outcomes by trial arm against Lapland, the
experience survey against the 2014 national survey, care plans against the 2013 audit, and
fidelity to dialogic practice."""

from __future__ import annotations

import math
from typing import TypedDict

from django.db.models import Avg, Count, F, FloatField, Q, StdDev
from django.db.models.functions import Length, Trim, TruncMonth

from meetings.models import CarePlanVersion
from outcomes import rules
from outcomes.dashboard.expressions import in_period, month_key
from outcomes.dashboard.query_cache import Row, Totals, ValuesQuery, rows, totals
from outcomes.dashboard.scope import Scope
from outcomes.models import FidelityRating, OutcomeAssessment, SurveyResponse
from outcomes.rules import Cell, Difference, Mean
from pod.foundation.localtime import LONDON

# --- Outcomes by trial arm -----------------------------------------------------------------------

ARMS = ("POD", "TAU")

# The outcomes compared, in the order of the Lapland table: (key, label). Every key but
# "bed_days" is a share of the arm; "bed_days" is a mean.
OUTCOME_ROWS = (
    ("mild_or_none", "Mild or no symptoms"),
    ("relapse", "Relapse"),
    ("disability", "On disability allowance"),
    ("neuroleptic", "Neuroleptic (antipsychotic) use"),
    ("bed_days", "Mean hospital bed-days"),
    ("work_or_study", "In work or study"),
)


class OutcomeRow(TypedDict):
    key: str  # of OUTCOME_ROWS
    label: str
    POD: Cell | Mean  # a Mean for "bed_days", a share for every other outcome
    TAU: Cell | Mean
    difference: Difference  # POD - TAU with its 95% interval (Newcombe or Welch)
    lapland_pod: str
    lapland_tau: str


class OutcomesByArm(TypedDict):
    timepoint_months: int
    rows: list[OutcomeRow]  # in the order of OUTCOME_ROWS
    n_pod: int
    n_tau: int


def _by_arm(scope: Scope, timepoint_months: int) -> ValuesQuery:
    return (
        OutcomeAssessment.objects.filter(
            service_user__team_id__in=scope.team_ids,
            timepoint_months=timepoint_months,
            assessed_on__gte=scope.start,
            assessed_on__lte=scope.end,
            service_user__trial_arm__in=ARMS,
        )
        .values(arm=F("service_user__trial_arm"))
        .annotate(
            n=Count("id"),
            mild_or_none=Count("id", filter=Q(symptom_level__in=["none", "mild"])),
            relapse=Count("id", filter=Q(relapse=True)),
            disability=Count("id", filter=Q(disability_benefit=True)),
            neuroleptic=Count("id", filter=Q(neuroleptic_use=True)),
            work_or_study=Count("id", filter=Q(work_or_study=True)),
            bed_days=Avg("hospital_bed_days"),
            bed_days_sd=StdDev("hospital_bed_days", sample=True),
        )
        .order_by("arm")
    )


def _cell(key: str, arm: Row) -> Cell | Mean:
    """One arm's figure for one outcome with its 95% interval, suppressed under
    rules.SMALL_CELL people."""
    n: int = arm["n"]
    if key != "bed_days":
        return rules.share(arm.get(key, 0), n, suppress_under=rules.SMALL_CELL)
    return rules.mean_estimate(
        n=n,
        mean=arm.get("bed_days"),
        sd=arm.get("bed_days_sd"),
        suppress_under=rules.SMALL_CELL,
        unit=" days",
        bounds=(0, math.inf),
    )


def _difference(pod: Cell | Mean, tau: Cell | Mean) -> Difference:
    if isinstance(pod, Cell) and isinstance(tau, Cell):
        return rules.share_difference(pod, tau)
    if isinstance(pod, Mean) and isinstance(tau, Mean):
        return rules.mean_difference(pod, tau)
    raise TypeError("Both arms of an outcome are shares or both are means.")


def _outcome_row(key: str, label: str, arms: dict[str, Row]) -> OutcomeRow:
    pod, tau = _cell(key, arms["POD"]), _cell(key, arms["TAU"])
    return OutcomeRow(
        key=key,
        label=label,
        POD=pod,
        TAU=tau,
        difference=_difference(pod, tau),
        lapland_pod=rules.LAPLAND_2_YEARS[key][0],
        lapland_tau=rules.LAPLAND_2_YEARS[key][1],
    )


def outcomes_by_arm(scope: Scope, *, timepoint_months: int) -> OutcomesByArm:
    """POD against TAU at one time point, for assessments dated in the period: each outcome
    with its n and 95% interval (shares: Wilson; bed-days: t), the difference POD - TAU with
    its interval (Newcombe's hybrid score; Welch), suppressed when an arm has fewer than
    rules.SMALL_CELL people, beside the Lapland figures at 2 years. One query."""
    found = rows(("outcomes", timepoint_months), scope, lambda s: _by_arm(s, timepoint_months))
    arms = {arm: next((r for r in found if r["arm"] == arm), {"n": 0}) for arm in ARMS}
    return OutcomesByArm(
        timepoint_months=timepoint_months,
        rows=[_outcome_row(key, label, arms) for key, label in OUTCOME_ROWS],
        n_pod=arms["POD"]["n"],
        n_tau=arms["TAU"]["n"],
    )


# --- Experience survey ---------------------------------------------------------------------------


class ExperienceRow(TypedDict):
    field: str  # on SurveyResponse
    statement: str
    cell: Cell  # answered "Yes, definitely", of those who answered
    national: int  # percent, 2014 national survey


def _answers(scope: Scope) -> Totals:
    aggregates = {}
    for field, _statement, _national in rules.SURVEY_STATEMENTS:
        aggregates[f"{field}__n"] = Count("id", filter=~Q(**{field: "na"}))
        aggregates[f"{field}__yes"] = Count("id", filter=Q(**{field: "definitely"}))
    responses = SurveyResponse.objects.filter(
        team_id__in=scope.team_ids,
        submitted_month__gte=scope.start.replace(day=1),
        submitted_month__lte=scope.end,
    )
    return Totals(responses, aggregates)


def experience(scope: Scope) -> list[ExperienceRow]:
    """Each survey statement, in rules.SURVEY_STATEMENTS' order: the share answering 'Yes,
    definitely' of those who answered (not 'don't know'), against the 2014 national figure;
    suppressed under rules.SMALL_CELL answers. One query."""
    counts = totals(("experience",), scope, _answers)
    return [
        ExperienceRow(
            field=field,
            statement=statement,
            cell=rules.share(
                counts[f"{field}__yes"], counts[f"{field}__n"], suppress_under=rules.SMALL_CELL
            ),
            national=national,
        )
        for field, statement, national in rules.SURVEY_STATEMENTS
    ]


# --- Care plans ----------------------------------------------------------------------------------


class CarePlans(TypedDict):
    plans: int  # care-plan versions written in the period
    involved: int  # with the person's involvement recorded
    views: int  # with the person's views written (not blank)
    share_involved: Cell
    share_views: Cell
    audit_involved: int  # percent, 2013 audit
    audit_views: int  # percent, 2013 audit


def _plans(scope: Scope) -> Totals:
    return Totals(
        CarePlanVersion.objects.filter(
            in_period("created_at", scope), episode__team_id__in=scope.team_ids
        ).annotate(views_length=Length(Trim("person_views"))),
        {
            "plans": Count("id"),
            "involved": Count("id", filter=Q(person_involved=True)),
            "views": Count("id", filter=Q(views_length__gt=0)),
        },
    )


def care_plans(scope: Scope) -> CarePlans:
    """Care-plan versions written in the period with evidence of the person's involvement and
    of their views (non-blank), against the 2013 audit. One query."""
    counts = totals(("care_plans",), scope, _plans)
    return CarePlans(
        plans=counts["plans"],
        involved=counts["involved"],
        views=counts["views"],
        share_involved=rules.share(counts["involved"], counts["plans"]),
        share_views=rules.share(counts["views"], counts["plans"]),
        audit_involved=rules.CARE_PLAN_AUDIT_2013["involvement"],
        audit_views=rules.CARE_PLAN_AUDIT_2013["views"],
    )


# --- Fidelity ------------------------------------------------------------------------------------


class FidelityMonth(TypedDict):
    month: str  # YYYY-MM, London, of the meetings rated
    ratings: int
    # Mean score (0-3) per key element (rules.FIDELITY_ELEMENTS), with its t interval.
    means: dict[str, Mean]


class FidelityProfile(TypedDict):
    ratings: int
    months: list[FidelityMonth]  # months with ratings, in order
    overall: dict[str, Mean]  # per key element over the period; no data when nothing was rated
    elements: tuple[tuple[str, str], ...]  # rules.FIDELITY_ELEMENTS: (field, label)


FIDELITY_SCALE = (0.0, 3.0)


def _ratings_by_month(scope: Scope) -> ValuesQuery:
    # The spreads first: each mean's annotation takes its field's name, after which that name
    # means the annotation, not the field.
    averages = {
        f"{field}__sd": StdDev(field, sample=True, output_field=FloatField())
        for field, _ in rules.FIDELITY_ELEMENTS
    } | {field: Avg(field, output_field=FloatField()) for field, _ in rules.FIDELITY_ELEMENTS}
    return (
        FidelityRating.objects.filter(
            in_period("meeting__actual_start", scope),
            meeting__episode__team_id__in=scope.team_ids,
        )
        .annotate(month=TruncMonth("meeting__actual_start", tzinfo=LONDON))
        .values("month")
        .annotate(ratings=Count("id"), **averages)
        .order_by("month")
    )


def _pooled(months: list[Row], field: str) -> Mean:
    """One element's mean over the period, from the months' n, mean and sd."""
    groups = [(m["ratings"], m[field], m[f"{field}__sd"]) for m in months]
    total = sum(n for n, _m, _s in groups)
    if total < 2:
        mean = groups[0][1] if total else None
        return rules.mean_estimate(n=total, mean=mean, sd=None, bounds=FIDELITY_SCALE)
    n, mean, sd = rules.pooled_mean_sd(groups)
    return rules.mean_estimate(n=n, mean=mean, sd=sd, bounds=FIDELITY_SCALE)


def fidelity_profile(scope: Scope) -> FidelityProfile:
    """Mean score (0-3) per key element with its t interval, per month and over the period, of
    the ratings of meetings held in the period (the period's mean and sd pooled from the
    months': rules.pooled_mean_sd). One query."""
    found = rows(("fidelity",), scope, _ratings_by_month)
    months = [
        FidelityMonth(
            month=month_key(row["month"]),
            ratings=row["ratings"],
            means={
                field: rules.mean_estimate(
                    n=row["ratings"], mean=row[field], sd=row[f"{field}__sd"], bounds=FIDELITY_SCALE
                )
                for field, _ in rules.FIDELITY_ELEMENTS
            },
        )
        for row in found
    ]
    total = sum(m["ratings"] for m in months)
    overall = {field: _pooled(found, field) for field, _ in rules.FIDELITY_ELEMENTS}
    return FidelityProfile(
        ratings=total, months=months, overall=overall, elements=rules.FIDELITY_ELEMENTS
    )
