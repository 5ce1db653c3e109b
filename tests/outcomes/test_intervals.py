"""The 95% intervals of outcomes.rules against published worked examples.

- Wilson's score interval: Newcombe RG, Two-sided confidence intervals for the single
  proportion: comparison of seven methods, Stat Med 1998;17:857-872, Table II, method 3
  ("score method without continuity correction"), its examples 81/263, 15/148, 0/20, 1/29.
- Newcombe's hybrid score interval for a difference: Newcombe RG, Interval estimation for the
  difference between independent proportions: comparison of eleven methods, Stat Med
  1998;17:873-890, Table II, method 10, its examples (a)-(f).
- t intervals: Student's sleep data (Cushny & Peebles; Student, Biometrika 1908), as shipped in
  R's `datasets::sleep`, where `t.test(extra ~ group, data = sleep)` (Welch) gives -1.58 with
  -3.3654832 to 0.2054832 on 17.776 df, and the paired differences' one-sample interval is
  0.7001142 to 2.4598858.
"""

import statistics

import pytest

from outcomes import rules

pytestmark = pytest.mark.hazard("HAZ-11.C8")


@pytest.mark.parametrize(
    "count,n,low,high",
    [
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_matches_newcombe_1998a(count, n, low, high):
    assert rules.wilson_interval(count, n) == pytest.approx((low, high), abs=5e-5)


@pytest.mark.parametrize(
    "x1,n1,x2,n2,d,low,high",
    [
        (56, 70, 48, 80, 0.2000, 0.0524, 0.3339),
        (9, 10, 3, 10, 0.6000, 0.1705, 0.8090),
        (6, 7, 2, 7, 0.5714, 0.0582, 0.8062),
        (5, 56, 0, 29, 0.0893, -0.0381, 0.1926),
        (0, 10, 0, 20, 0.0, -0.1611, 0.2775),
        (10, 10, 0, 20, 1.0, 0.6791, 1.0),
    ],
)
def test_newcombe_difference_matches_newcombe_1998b(x1, n1, x2, n2, d, low, high):
    assert rules.newcombe_difference(x1, n1, x2, n2) == pytest.approx((d, low, high), abs=5e-5)


SLEEP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]


def test_t_interval_matches_the_sleep_data():
    differences = [b - a for a, b in zip(SLEEP_1, SLEEP_2, strict=True)]
    low, high = rules.t_interval(
        mean=statistics.mean(differences), sd=statistics.stdev(differences), n=10
    )
    assert (low, high) == pytest.approx((0.7001142, 2.4598858), abs=1e-6)


def test_welch_difference_matches_the_sleep_data():
    d, low, high = rules.welch_difference(
        mean1=statistics.mean(SLEEP_1),
        sd1=statistics.stdev(SLEEP_1),
        n1=10,
        mean2=statistics.mean(SLEEP_2),
        sd2=statistics.stdev(SLEEP_2),
        n2=10,
    )
    assert (d, low, high) == pytest.approx((-1.58, -3.3654832, 0.2054832), abs=1e-6)


def test_pooled_mean_and_sd_equal_those_of_all_values_together():
    groups = [[3, 2, 2], [1], [0, 3, 3, 1]]
    pooled = rules.pooled_mean_sd(
        [(len(g), statistics.mean(g), statistics.stdev(g) if len(g) > 1 else None) for g in groups]
    )
    values = [v for g in groups for v in g]
    assert pooled == pytest.approx((8, statistics.mean(values), statistics.stdev(values)))


def test_a_share_carries_its_wilson_interval_in_percent():
    cell = rules.share(81, 263)
    assert (cell.lower, cell.upper) == pytest.approx((25.53, 36.62), abs=5e-3)
    assert str(rules.share(3, 5)) == "60% (95% CI 23 to 88%, n=5)"
    assert str(rules.share(3, 5, interval=False)) == "60% (n=5)"


@pytest.mark.hazard("HAZ-11.C3")
def test_a_suppressed_share_hides_its_interval_and_its_difference():
    hidden = rules.share(2, 4, suppress_under=5)
    assert (hidden.percent, hidden.lower, hidden.upper) == (None, None, None)
    difference = rules.share_difference(rules.share(4, 10), hidden)
    assert difference.suppressed and difference.estimate is None and difference.lower is None
    assert str(difference) == rules.SUPPRESSED_TEXT
    small_mean = rules.mean_estimate(n=3, mean=4.0, sd=1.0, suppress_under=5)
    assert small_mean.suppressed and small_mean.lower is None


def test_a_difference_of_shares_is_in_percentage_points():
    difference = rules.share_difference(rules.share(56, 70), rules.share(48, 80))
    assert (difference.estimate, difference.lower, difference.upper) == pytest.approx(
        (20.0, 5.24, 33.39), abs=5e-3
    )
    assert str(difference) == "+20 points (95% CI 5 to 33)"


def test_a_mean_carries_its_t_interval_clipped_to_the_scale():
    mean = rules.mean_estimate(n=2, mean=2.5, sd=0.7071, bounds=(0, 3))
    # 2.5 ± 12.706 * 0.7071 / √2 would run from -3.85 to 8.85: a rating stays within 0-3.
    assert (mean.lower, mean.upper) == (0, 3)
    one = rules.mean_estimate(n=1, mean=4, sd=None)
    assert one.mean == 4 and one.lower is None and str(one) == "4.0 (n=1)"


def test_the_difference_of_means_uses_welch():
    pod = rules.mean_estimate(
        n=10, mean=statistics.mean(SLEEP_1), sd=statistics.stdev(SLEEP_1), unit=" days"
    )
    tau = rules.mean_estimate(
        n=10, mean=statistics.mean(SLEEP_2), sd=statistics.stdev(SLEEP_2), unit=" days"
    )
    difference = rules.mean_difference(pod, tau)
    assert str(difference) == "-1.6 days (95% CI -3.4 to 0.2)"


def test_impossible_inputs_are_refused():
    for call in (
        lambda: rules.wilson_interval(3, 2),
        lambda: rules.wilson_interval(0, 0),
        lambda: rules.t_interval(mean=1, sd=1, n=1),
        lambda: rules.t_quantile(0.975, 0),
        lambda: rules.pooled_mean_sd([(1, 2.0, None)]),
    ):
        with pytest.raises(ValueError):
            call()
