"""Time to relapse computed by outcomes.survival_analysis (lifelines), checked against a
textbook data set whose figures are published.

The data: remission times in weeks of 42 children with acute leukaemia, 21 on 6-mercaptopurine
(6-MP) and 21 on placebo (Freireich EJ et al. Blood 1963;21:699-716), analysed by Gehan EA.
Biometrika 1965;52:203-223, and the worked example of Kleinbaum DG, Klein M. Survival Analysis:
A Self-Learning Text, 3rd ed. 2012, chapter 2. Here 6-MP stands for POD and placebo for TAU,
and a week for a day (the unit does not change any figure but the times).

Published figures asserted:
- Kaplan-Meier estimates, 6-MP: 0.857 (6), 0.807 (7), 0.753 (10), 0.690 (13), 0.627 (16),
  0.538 (22), 0.448 (23); placebo: 0.905 (1), 0.810 (2), 0.762 (3), 0.667 (4), 0.571 (5),
  0.381 (8), 0.286 (11), 0.190 (12), 0.143 (15), 0.095 (17), 0.048 (22), 0 (23).
- Medians: 23 weeks (6-MP), 8 weeks (placebo).
- Log-rank: chi-square 16.79 on 1 df, p = 0.00004; observed/expected 9/19.25 (6-MP) and
  21/10.75 (placebo).
- Cox, ties by Efron's method: placebo against 6-MP coefficient 1.572, hazard ratio 4.817
  (95% 2.147 to 10.81), as R's coxph gives for MASS::gehan (Venables WN, Ripley BD. Modern
  Applied Statistics with S, 4th ed. 2002, §13.3); so 6-MP against placebo 1/4.817 = 0.2076
  (0.0925 to 0.4658).
Worked by hand here (Greenwood's variance on the log(-log) scale, z = 1.96):
- the band at 6 weeks on 6-MP: Σ d/(n(n-d)) = 3/(21·18) = 0.007937; ln S = ln 0.8571 =
  -0.15415; V = 0.007937 / 0.15415² = 0.3340; S^exp(±1.96·√V) = 0.8571^exp(±1.1327) =
  0.6197 to 0.9516;
- the median's interval on placebo: the band's lower end first falls to 0.5 at 4 weeks
  (S = 0.6667, Σ = 0.02381, lower 0.4253; at 3 weeks 0.5194) and its upper end at 11 weeks
  (S = 0.2857, Σ = 0.11905, upper 0.4818; at 8 weeks 0.5778): 4 to 11. On 6-MP the lower end
  first falls to 0.5 at 13 weeks and the upper end never does: 13 to not reached.
"""

import pytest

from outcomes.survival import Cohort, RelapseTime
from outcomes.survival_analysis import analyse

pytestmark = pytest.mark.hazard("HAZ-11.C9")

SIX_MP = [6, 6, 6, -6, 7, -9, 10, -10, -11, 13, 16, -17, -19, -20, 22, 23, -25, -32, -32, -34, -35]
PLACEBO = [1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23]  # all relapsed


def _cohort() -> Cohort:
    """Negative weeks are censored (the published '+')."""
    times = [
        RelapseTime(i, arm, None, abs(weeks), relapsed=weeks > 0, approximated=False)
        for arm, data in (("POD", SIX_MP), ("TAU", PLACEBO))
        for i, weeks in enumerate(data, start=100 if arm == "TAU" else 0)
    ]
    return Cohort(times=times)


@pytest.fixture(scope="module")
def result():
    return analyse(_cohort())


def _at(curve, day):
    return next(s for s in curve.steps if s.days == day)


def test_the_kaplan_meier_curves_match_the_published_estimates(result):
    pod, tau = result.arms
    published_pod = {6: 0.857, 7: 0.807, 10: 0.753, 13: 0.690, 16: 0.627, 22: 0.538, 23: 0.448}
    published_tau = {1: 0.905, 2: 0.810, 3: 0.762, 4: 0.667, 5: 0.571, 8: 0.381, 11: 0.286}
    published_tau |= {12: 0.190, 15: 0.143, 17: 0.095, 22: 0.048, 23: 0.0}
    for curve, published in ((pod, published_pod), (tau, published_tau)):
        for week, estimate in published.items():
            assert _at(curve, week).survival == pytest.approx(estimate, abs=5e-4), week
    assert (pod.people, pod.relapses, pod.censored) == (21, 9, 12)
    assert (tau.people, tau.relapses, tau.censored) == (21, 21, 0)
    assert (_at(pod, 6).at_risk, _at(pod, 6).relapses, _at(pod, 6).censored) == (21, 3, 1)


def test_the_band_is_greenwoods_on_the_log_log_scale(result):
    at_six = _at(result.arms[0], 6)
    assert (at_six.lower, at_six.upper) == pytest.approx((0.6197, 0.9516), abs=1e-4)


def test_the_medians_and_their_intervals(result):
    pod, tau = result.arms
    assert (pod.median, pod.median_lower, pod.median_upper) == (23, 13, None)
    assert (tau.median, tau.median_lower, tau.median_upper) == (8, 4, 11)


def test_the_log_rank_test_matches_the_published_chi_square(result):
    comparison = result.comparison
    assert comparison.logrank_chi2 == pytest.approx(16.79, abs=5e-3)
    assert comparison.logrank_p == pytest.approx(4.17e-5, rel=1e-2)
    assert (comparison.expected_pod, comparison.expected_tau) == pytest.approx(
        (19.25, 10.75), abs=5e-3
    )


def test_the_cox_hazard_ratio_matches_the_published_model(result):
    comparison = result.comparison
    assert comparison.hazard_ratio == pytest.approx(1 / 4.817, abs=5e-4)
    assert (comparison.hazard_lower, comparison.hazard_upper) == pytest.approx(
        (1 / 10.81, 1 / 2.147), abs=5e-4
    )
    assert comparison.hazard_p == pytest.approx(0.00014, abs=1e-5)
    assert comparison.note == ""


def test_the_numbers_at_risk_under_the_axis(result):
    # The longest time is 35 "days", just over one month: marks at 0 and 6 months.
    assert result.at_risk == ((0, {"POD": 21, "TAU": 21}), (6, {"POD": 0, "TAU": 0}))


@pytest.mark.hazard("HAZ-11.C3")
def test_a_small_arm_is_suppressed_and_so_is_the_comparison():
    cohort = _cohort()
    cohort.times = [t for t in cohort.times if t.arm == "POD" or t.person_id < 104]
    result = analyse(cohort)
    pod, tau = result.arms
    assert not pod.suppressed and pod.median == 23
    assert tau.suppressed and tau.people == 0 and tau.steps == () and tau.median is None
    assert result.comparison.logrank_chi2 is None and result.comparison.hazard_ratio is None
    assert "at least 5" in result.comparison.note
    assert all(set(arms) == {"POD"} for _month, arms in result.at_risk)


def test_no_hazard_ratio_when_one_arm_has_no_relapse():
    cohort = _cohort()
    cohort.times = [
        t if t.arm == "TAU" else RelapseTime(t.person_id, "POD", None, t.days, False, False)
        for t in cohort.times
    ]
    comparison = analyse(cohort).comparison
    assert comparison.logrank_chi2 is not None and comparison.hazard_ratio is None
    assert "one arm has no relapse" in comparison.note
