"""The time-to-relapse page and its CSVs, on hand-built data whose figures are worked out here.

Baseline 1 January 2024 for everyone (day 0). POD, five people:
  relapse dated day 100; relapse found at 12 months (day 366) without a date → mid-point of
  days 0-366 = 183, approximated; no relapse to day 366 (censored); relapse dated day 500;
  no relapse to day 731 (censored).
  Kaplan-Meier: 4/5 = 0.8 after day 100, × 3/4 = 0.6 after 183, × 1/2 = 0.3 after 500 (2 at
  risk): the median is day 500 = 16.4 months.
TAU, five people: relapses dated days 30, 60, 90; one found at 12 months without a date
  (mid-point 183, approximated); one censored at day 366. 0.8, 0.6, 0.4 after day 90: the
  median is day 90 = 3.0 months.
Numbers at risk (the longest time, 731 days, is just over 24 months: marks every 12 months, the
last at 24): POD 5, 3 (times of at least 12 months: 366, 500, 731), 1; TAU 5, 1, 0.
"""

import csv
import io
import subprocess
import sys
from datetime import date, timedelta

import pytest
from django.urls import reverse

from outcomes.models import OutcomeAssessment
from tests import factories as f

URL = reverse("outcomes:relapse")
BASE = date(2024, 1, 1)


def _assess(person, months, day, *, relapse=False, relapse_on=None):
    OutcomeAssessment.objects.create(
        service_user=person,
        timepoint_months=months,
        assessed_on=BASE + timedelta(days=day),
        symptom_level="mild",
        relapse=relapse,
        relapse_on=None if relapse_on is None else BASE + timedelta(days=relapse_on),
        hospital_bed_days=0,
        disability_benefit=False,
        neuroleptic_use=False,
        work_or_study=True,
    )


def _person(team, arm, history):
    """history: (months, day, relapse, relapse day or None) after a baseline on day 0."""
    person = f.make_service_user(team, trial_arm=arm)
    _assess(person, 0, 0)
    for months, day, relapse, relapse_on in history:
        _assess(person, months, day, relapse=relapse, relapse_on=relapse_on)
    return person


def relapse_trial(team, other_team=None):
    """The people of the module's docstring (and, with `other_team`, a person there)."""
    for history in (
        [(12, 366, True, 100)],
        [(12, 366, True, None)],
        [(12, 366, False, None)],
        [(12, 366, False, None), (24, 731, True, 500)],
        [(12, 366, False, None), (24, 731, False, None)],
    ):
        _person(team, "POD", history)
    for history in (
        [(12, 366, True, 30)],
        [(12, 366, True, 60)],
        [(12, 366, True, 90)],
        [(12, 366, True, None)],
        [(12, 366, False, None)],
    ):
        _person(team, "TAU", history)
    if other_team is not None:
        _person(other_team, "TAU", [(12, 366, True, 5)])  # another team's: never counted
    no_baseline = f.make_service_user(team, trial_arm="POD")
    _assess(no_baseline, 12, 366, relapse=True)
    _person(team, "POD", [])  # no follow-up yet


@pytest.fixture
def trial(team, other_team):
    relapse_trial(team, other_team)


def _rows(client, table, **query):
    response = client.get(reverse("outcomes:relapse_csv", args=[table]), query)
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.content.decode())))


@pytest.mark.hazard("HAZ-11.C1", "HAZ-11.C9")
def test_the_page_shows_the_curves_medians_and_numbers_at_risk(client, manager, trial):
    client.force_login(manager)
    page = client.get(URL)
    assert page.status_code == 200
    summary = {row[0]: row[1:] for row in page.context["tables"]["summary"].rows}
    assert summary["POD"][:5] == [5, 3, 1, 2, "16.4"]
    assert summary["TAU"][:5] == [5, 4, 1, 1, "3.0"]
    assert page.context["tables"]["at_risk"].rows == [[0, 5, 5], [12, 3, 1], [24, 1, 0]]
    excluded = dict(page.context["tables"]["excluded"].rows)
    assert excluded["No baseline assessment"] == 1
    assert excluded["No follow-up assessment yet"] == 1
    html = page.content.decode()
    assert html.count('class="km-curve"') == 2 and html.count('class="km-band"') == 2
    assert "Number at risk" in html and "Log-rank test" in html
    assert "Hazard ratio of relapse, POD against TAU (Cox)" in html


@pytest.mark.hazard("HAZ-11.C9")
def test_the_curve_table_flags_each_approximated_relapse(client, manager, trial):
    client.force_login(manager)
    header, *rows = _rows(client, "curve")
    approximated = header.index("Of which at a mid-point (approximated)")
    flagged = [(r[0], r[1]) for r in rows if r[approximated] != "0"]
    assert flagged == [("POD", "183"), ("TAU", "183")]
    pod = {r[1]: r[header.index("Without a relapse %")] for r in rows if r[0] == "POD"}
    assert (pod["100"], pod["183"], pod["500"]) == ("80.0", "60.0", "30.0")


def test_every_table_downloads_as_csv(client, manager, trial):
    client.force_login(manager)
    for table in ("summary", "comparison", "at_risk", "curve", "excluded"):
        assert _rows(client, table)[0], table
    assert client.get(reverse("outcomes:relapse_csv", args=["nope"])).status_code == 404


def test_the_baseline_filter_chooses_the_cohort(client, manager, trial):
    client.force_login(manager)
    page = client.get(URL, {"baseline_from": "2024-01-02"})
    assert page.context["analysis"].cohort.times == []
    bad = client.get(URL, {"baseline_from": "2024-05-01", "baseline_to": "2024-01-01"})
    assert bad.status_code == 200 and bad.context["form"].errors["baseline_to"]
    csv_bad = client.get(reverse("outcomes:relapse_csv", args=["summary"]), {"baseline_from": "x"})
    assert csv_bad.status_code == 400


@pytest.mark.hazard("HAZ-06.C3")
def test_a_manager_is_refused_another_team(client, manager, other_team):
    client.force_login(manager)
    assert client.get(URL, {"team": other_team.pk}).status_code == 403


def test_loading_the_urls_does_not_import_lifelines():
    """lifelines and its stack take ~2 s to import: only the page that draws it pays."""
    code = (
        "import django, sys; django.setup(); import pod.urls; "
        "print('lifelines' in sys.modules, 'scipy' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out[-2:] == ["False", "False"]
