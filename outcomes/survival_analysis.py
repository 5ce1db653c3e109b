"""Time to relapse, POD against TAU, computed with lifelines (https://lifelines.readthedocs.io).

Imported only by the time-to-relapse page, and only when it is drawn: lifelines brings numpy,
scipy and pandas, about 2 s of imports that no other page or worker should pay.

What is computed (sources):
- Each arm's Kaplan-Meier estimate (Kaplan EL, Meier P. J Am Stat Assoc 1958;53:457-481) with
  a pointwise 95% band from Greenwood's variance on the log(-log) scale, which keeps the band
  within 0-1 (Kalbfleisch JD, Prentice RL. The Statistical Analysis of Failure Time Data, 2nd
  ed. 2002, §1.4): lifelines' KaplanMeierFitter.
- The median time to relapse, where the curve first falls to 50% or below, and its 95%
  interval where the band's ends do (Brookmeyer R, Crowley J. Biometrics 1982;38:29-41):
  lifelines.utils.median_survival_times.
- The log-rank test, 1 degree of freedom (Mantel N. Cancer Chemother Rep 1966;50:163-170;
  Peto R, Peto J. J R Stat Soc A 1972;135:185-207): lifelines.statistics.logrank_test.
- The hazard ratio of POD against TAU from a Cox model with the arm as its only covariate, ties
  by Efron's method, with its 95% Wald interval (Cox DR. J R Stat Soc B 1972;34:187-220;
  Efron B. J Am Stat Assoc 1977;72:557-565): lifelines' CoxPHFitter.
Checked against the Freireich 6-MP remission data (tests/outcomes/test_survival_analysis.py).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import pandas
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.exceptions import ConvergenceError
from lifelines.statistics import logrank_test
from lifelines.utils import median_survival_times

from outcomes import rules
from outcomes.survival import (
    ARMS,
    ArmCurve,
    Cohort,
    Comparison,
    RelapseAnalysis,
    RelapseTime,
    Step,
    at_risk_at,
    at_risk_ticks,
    months,
)


def _finite(value: Any) -> float | None:
    """A lifelines number as a float, None for infinity or NaN (not reached, not estimable)."""
    number = float(value)
    return number if math.isfinite(number) else None


def _curve(arm: str, times: Sequence[RelapseTime]) -> ArmCurve:
    """One arm's Kaplan-Meier estimate, band and median; suppressed (nothing but the fact)
    under rules.SMALL_CELL people."""
    if 0 < len(times) < rules.SMALL_CELL:
        return ArmCurve(arm, people=0, relapses=0, approximated=0, censored=0, suppressed=True)
    relapses = sum(t.relapsed for t in times)
    counts = (len(times), relapses, sum(t.approximated for t in times), len(times) - relapses)
    if not times:
        return ArmCurve(arm, *counts, suppressed=False)
    fitter = KaplanMeierFitter(alpha=1 - rules.CONFIDENCE).fit(
        [t.days for t in times], [t.relapsed for t in times]
    )
    survival = fitter.survival_function_.iloc[:, 0]
    lower, upper = fitter.confidence_interval_.iloc[:, 0], fitter.confidence_interval_.iloc[:, 1]
    table = fitter.event_table
    steps = tuple(
        Step(
            days=float(day),
            at_risk=int(table.loc[day, "at_risk"]),
            relapses=int(table.loc[day, "observed"]),
            approximated=sum(1 for t in times if t.approximated and t.days == day),
            censored=int(table.loc[day, "censored"]),
            survival=float(survival.loc[day]),
            lower=float(lower.loc[day]),
            upper=float(upper.loc[day]),
        )
        for day in survival.index
    )
    median_band = median_survival_times(fitter.confidence_interval_)
    return ArmCurve(
        arm,
        *counts,
        suppressed=False,
        steps=steps,
        median=_finite(fitter.median_survival_time_),
        median_lower=_finite(median_band.iloc[0, 0]),
        median_upper=_finite(median_band.iloc[0, 1]),
    )


def _compare(pod: Sequence[RelapseTime], tau: Sequence[RelapseTime]) -> Comparison:
    """The log-rank test and the Cox hazard ratio, when both arms are shown and relapses
    happened; otherwise a Comparison whose note says why not."""
    if len(pod) < rules.SMALL_CELL or len(tau) < rules.SMALL_CELL:
        return Comparison(note=f"Each arm needs at least {rules.SMALL_CELL} people.")
    if not any(t.relapsed for t in (*pod, *tau)):
        return Comparison(note="No relapse has been recorded yet.")
    test = logrank_test(
        [t.days for t in pod],
        [t.days for t in tau],
        event_observed_A=[t.relapsed for t in pod],
        event_observed_B=[t.relapsed for t in tau],
    )
    observed = (sum(t.relapsed for t in pod), sum(t.relapsed for t in tau))
    expected = _expected(pod, tau)
    logrank = Comparison(
        logrank_chi2=_finite(test.test_statistic),
        logrank_p=_finite(test.p_value),
        expected_pod=expected[0],
        expected_tau=expected[1],
    )
    if 0 in observed:
        # Every relapse in one arm: the Cox estimate runs off to 0 or infinity.
        return _with_note(logrank, "The hazard ratio cannot be estimated: one arm has no relapse.")
    frame = pandas.DataFrame(
        {
            "days": [t.days for t in (*pod, *tau)],
            "relapsed": [t.relapsed for t in (*pod, *tau)],
            "pod": [1] * len(pod) + [0] * len(tau),
        }
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cox = CoxPHFitter(alpha=1 - rules.CONFIDENCE).fit(frame, "days", "relapsed")
    except (ConvergenceError, ValueError, ZeroDivisionError) as error:
        return _with_note(logrank, f"The hazard ratio could not be estimated ({error}).")
    row = cox.summary.loc["pod"]
    return Comparison(
        logrank_chi2=logrank.logrank_chi2,
        logrank_p=logrank.logrank_p,
        expected_pod=logrank.expected_pod,
        expected_tau=logrank.expected_tau,
        hazard_ratio=_finite(row["exp(coef)"]),
        hazard_lower=_finite(row["exp(coef) lower 95%"]),
        hazard_upper=_finite(row["exp(coef) upper 95%"]),
        hazard_p=_finite(row["p"]),
    )


def _with_note(comparison: Comparison, note: str) -> Comparison:
    return Comparison(
        logrank_chi2=comparison.logrank_chi2,
        logrank_p=comparison.logrank_p,
        expected_pod=comparison.expected_pod,
        expected_tau=comparison.expected_tau,
        note=note,
    )


def _expected(pod: Sequence[RelapseTime], tau: Sequence[RelapseTime]) -> tuple[float, float]:
    """Relapses each arm would have had were the arms alike: at each relapse time, the
    relapses then shared out in proportion to the numbers at risk (the log-rank test's E)."""
    everyone = [*pod, *tau]
    expected_pod = 0.0
    for day in sorted({t.days for t in everyone if t.relapsed}):
        at_risk_pod = sum(1 for t in pod if t.days >= day)
        at_risk = sum(1 for t in everyone if t.days >= day)
        relapses = sum(1 for t in everyone if t.relapsed and t.days == day)
        expected_pod += relapses * at_risk_pod / at_risk
    total = sum(t.relapsed for t in everyone)
    return expected_pod, total - expected_pod


def analyse(cohort: Cohort) -> RelapseAnalysis:
    """Kaplan-Meier curves with 95% bands and medians for POD and TAU, the log-rank test, the
    Cox hazard ratio and the numbers at risk, for the people of `cohort`. An arm of fewer than
    rules.SMALL_CELL people is suppressed, and so is the comparison."""
    by_arm = {arm: [t for t in cohort.times if t.arm == arm] for arm in ARMS}
    curves = tuple(_curve(arm, by_arm[arm]) for arm in ARMS)
    longest = max((t.days for t in cohort.times), default=0.0)
    shown = [arm for arm, curve in zip(ARMS, curves, strict=True) if not curve.suppressed]
    ticks = at_risk_ticks(longest)
    at_risk = tuple(
        (month, {arm: at_risk_at(by_arm[arm], month) for arm in shown}) for month in ticks
    )
    return RelapseAnalysis(
        arms=curves,
        comparison=_compare(by_arm["POD"], by_arm["TAU"]),
        cohort=cohort,
        at_risk=at_risk,
        axis_months=max(ticks[-1], months(longest)),
    )
