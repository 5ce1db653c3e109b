"""The POD-TAU outcomes table at each time point, as the manager's page and CSV show it.

Hand-built data: at each time point 5 POD and 6 TAU people of the manager's team, with relapse
counts and hospital bed-days chosen so that every figure differs between time points. The
expected texts were worked out by hand from the formulas tested against published examples in
test_intervals.py:
- a share: Wilson's interval, e.g. 1/5 = 20% (3.6% to 62.4%), 5/6 = 83% (43.6% to 97.0%);
- POD - TAU: Newcombe's hybrid score interval, e.g. 1/5 - 5/6 = -63 points (-85 to -5);
- a mean: mean ± t(0.975; n-1)·sd/√n, clipped at 0 days, e.g. 0, 0, 10, 5, 5 → 4.0 (0 to 9.2);
- POD - TAU of the means: Welch's interval.
"""

import csv
import io
from datetime import date

import pytest
from django.urls import reverse

from outcomes.models import OutcomeAssessment
from tests import factories as f

pytestmark = pytest.mark.hazard("HAZ-11.C1", "HAZ-11.C8")

# time point: (POD relapses of 5, TAU relapses of 6, POD bed-days, TAU bed-days)
DATA = {
    0: (1, 3, [0, 0, 0, 5, 5], [10, 0, 0, 0, 0, 2]),
    12: (2, 4, [0, 3, 3, 3, 6], [0, 0, 14, 7, 7, 8]),
    24: (1, 5, [0, 0, 10, 5, 5], [20, 30, 0, 10, 5, 7]),
    60: (0, 4, [0, 0, 0, 0, 1], [3, 3, 3, 3, 3, 3]),
}
# time point: (relapse POD, relapse TAU, difference, bed-days POD, bed-days TAU, difference)
EXPECTED = {
    0: (
        "20% (95% CI 4 to 62%, n=5)",
        "50% (95% CI 19 to 81%, n=6)",
        "-30 points (95% CI -65 to 23)",
        "2.0 days (95% CI 0.0 to 5.4 days, n=5)",
        "2.0 days (95% CI 0.0 to 6.2 days, n=6)",
        "+0.0 days (95% CI -4.6 to 4.6)",
    ),
    12: (
        "40% (95% CI 12 to 77%, n=5)",
        "67% (95% CI 30 to 90%, n=6)",
        "-27 points (95% CI -64 to 25)",
        "3.0 days (95% CI 0.4 to 5.6 days, n=5)",
        "6.0 days (95% CI 0.4 to 11.6 days, n=6)",
        "-3.0 days (95% CI -8.7 to 2.7)",
    ),
    24: (
        "20% (95% CI 4 to 62%, n=5)",
        "83% (95% CI 44 to 97%, n=6)",
        "-63 points (95% CI -85 to -5)",
        "4.0 days (95% CI 0.0 to 9.2 days, n=5)",
        "12.0 days (95% CI 0.4 to 23.6 days, n=6)",
        "-8.0 days (95% CI -19.7 to 3.7)",
    ),
    60: (
        "0% (95% CI 0 to 43%, n=5)",
        "67% (95% CI 30 to 90%, n=6)",
        "-67 points (95% CI -90 to -10)",
        "0.2 days (95% CI 0.0 to 0.8 days, n=5)",
        "3.0 days (95% CI 3.0 to 3.0 days, n=6)",
        "-2.8 days (95% CI -3.4 to -2.2)",
    ),
}
# The relapse row of the CSV at each time point: value, lower, upper, n for POD, TAU and the
# difference (percent to one place).
EXPECTED_CSV = {
    0: ["20.0", "3.6", "62.4", "5", "50.0", "18.8", "81.2", "6", "-30.0", "-65.3", "22.7", "11"],
    12: ["40.0", "11.8", "76.9", "5", "66.7", "30.0", "90.3", "6", "-26.7", "-63.5", "25.4", "11"],
    24: ["20.0", "3.6", "62.4", "5", "83.3", "43.6", "97.0", "6", "-63.3", "-84.7", "-5.2", "11"],
    60: ["0.0", "0.0", "43.4", "5", "66.7", "30.0", "90.3", "6", "-66.7", "-90.3", "-9.8", "11"],
}


def _people(team, arm, relapses, bed_days, months):
    for i, days in enumerate(bed_days):
        OutcomeAssessment.objects.create(
            service_user=f.make_service_user(team, trial_arm=arm),
            timepoint_months=months,
            assessed_on=date(2026, 3, 1),
            symptom_level="mild",
            relapse=i < relapses,
            hospital_bed_days=days,
            disability_benefit=False,
            neuroleptic_use=False,
            work_or_study=True,
        )


def _fill(team):
    for months, (pod_relapses, tau_relapses, pod_days, tau_days) in DATA.items():
        _people(team, "POD", pod_relapses, pod_days, months)
        _people(team, "TAU", tau_relapses, tau_days, months)


PERIOD = {"start": "2026-01-01", "end": "2026-06-30"}


@pytest.mark.parametrize("months", sorted(DATA))
def test_the_page_shows_each_arm_and_the_difference_with_intervals(client, manager, team, months):
    _fill(team)
    client.force_login(manager)
    page = client.get(
        reverse("outcomes:dashboard_section", args=["outcomes"]), {**PERIOD, "timepoint": months}
    )
    table = page.context["tables"]["outcomes"]
    rows = {row[0]: [str(v) for v in row[1:4]] for row in table.rows}
    relapse_pod, relapse_tau, relapse_diff, days_pod, days_tau, days_diff = EXPECTED[months]
    assert rows["Relapse"] == [relapse_pod, relapse_tau, relapse_diff]
    assert rows["Mean hospital bed-days"] == [days_pod, days_tau, days_diff]
    html = page.content.decode()
    for text in EXPECTED[months]:
        assert text in html


@pytest.mark.parametrize("months", sorted(DATA))
def test_the_csv_gives_value_lower_upper_and_n_as_numbers(client, manager, team, months):
    _fill(team)
    client.force_login(manager)
    response = client.get(
        reverse("outcomes:dashboard_csv", args=["outcomes"]), {**PERIOD, "timepoint": months}
    )
    header, *rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert header[:13] == [
        "Outcome",
        "POD",
        "POD lower 95%",
        "POD upper 95%",
        "POD n",
        "TAU",
        "TAU lower 95%",
        "TAU upper 95%",
        "TAU n",
        "POD - TAU",
        "POD - TAU lower 95%",
        "POD - TAU upper 95%",
        "POD - TAU n",
    ]
    relapse = next(r for r in rows if r[0] == "Relapse")
    assert relapse[1:13] == EXPECTED_CSV[months]


@pytest.mark.hazard("HAZ-11.C3")
def test_a_small_arm_hides_its_interval_and_the_difference_in_the_csv(client, manager, team):
    _people(team, "POD", 1, [0, 0, 0, 0, 0], 24)
    _people(team, "TAU", 1, [0, 0, 0], 24)  # 3 people: suppressed
    client.force_login(manager)
    response = client.get(
        reverse("outcomes:dashboard_csv", args=["outcomes"]), {**PERIOD, "timepoint": 24}
    )
    text = response.content.decode("utf-8-sig")
    relapse = next(r for r in csv.reader(io.StringIO(text)) if r[0] == "Relapse")
    assert relapse[1:5] == ["20.0", "3.6", "62.4", "5"]
    assert relapse[5:13] == ["suppressed", "", "", "", "suppressed", "", "", ""]
