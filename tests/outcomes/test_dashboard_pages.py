"""The dashboard a manager reads (issue 13, point 5): a short overview linking to one page per
section, a trust narrowing the team list, a default period that covers the outcomes on record,
missing values written one way, charts with even ticks, empty months and suppressed cells marked
apart from no data, fidelity's n, and CSVs that Excel opens with numbers in their own columns.
The figures kept for a few minutes, with the time they were computed shown (issue 17, point
4), are tested in test_dashboard_freshness.py."""

import csv
import io
import re
from datetime import UTC, date, datetime
from html import escape

import pytest
from django.urls import reverse
from django.utils import timezone

from outcomes import charts, rules, tables
from outcomes.dashboard.clinical_rules import first_meeting_rule
from outcomes.dashboard.scope import Scope
from outcomes.forms import DashboardFilterForm
from outcomes.models import OutcomeAssessment
from pod.foundation.models import Team
from tests import factories as f
from tests.outcomes import builders as b

URL = reverse("outcomes:dashboard")


def section_url(slug):
    return reverse("outcomes:dashboard_section", args=[slug])


def test_the_overview_is_short_and_links_to_every_section(client, manager):
    client.force_login(manager)
    html = client.get(URL).content.decode()
    for page in tables.PAGES.values():
        assert f'href="{section_url(page.slug)}"' in html, page.slug
        assert f'id="{page.slug}"' in html  # alert emails link to #first-meeting, #medication
    assert "<table" not in html and "<svg" not in html  # tables and charts are on the pages


@pytest.mark.parametrize("slug", list(tables.PAGES))
def test_each_section_has_its_page_with_only_its_tables(client, manager, slug):
    client.force_login(manager)
    response = client.get(section_url(slug))
    assert response.status_code == 200
    page = tables.PAGES[slug]
    expected = {k for k, name in tables.TABLE_SECTION.items() if name in page.sections}
    assert set(response.context["tables"]) == expected


def test_an_unknown_section_is_not_found(client, manager):
    client.force_login(manager)
    assert client.get(section_url("nothing-here")).status_code == 404


def test_choosing_a_trust_narrows_the_team_list(client, admin_user, team, other_team):
    third = f.make_team(team.trust, name="Community team", kind="COMMUNITY")
    teams = Team.objects.all()
    today = date(2026, 6, 1)
    everyone = DashboardFilterForm(teams=teams, today=today)
    assert set(everyone.fields["team"].queryset) == {team, other_team, third}
    narrowed = DashboardFilterForm(
        {"trust": str(team.trust_id), "start": "2026-01-01", "end": "2026-05-31"},
        teams=teams,
        today=today,
    )
    assert set(narrowed.fields["team"].queryset) == {team, third}
    # The browser narrows it as the trust changes: every option names its trust.
    client.force_login(admin_user)
    html = client.get(URL).content.decode()
    assert f'value="{other_team.pk}" data-trust="{other_team.trust_id}"' in html
    assert "js/dashboard-filter.js" in html


def _trial_outcomes(team, on):
    for i in range(6):
        for arm in ("POD", "TAU"):
            OutcomeAssessment.objects.create(
                service_user=f.make_service_user(team, trial_arm=arm),
                timepoint_months=24,
                assessed_on=on,
                symptom_level="mild",
                relapse=i < 2,
                hospital_bed_days=0,
                disability_benefit=False,
                neuroleptic_use=False,
                work_or_study=True,
            )


def test_the_default_period_covers_the_trial_outcomes_on_record(client, manager, team):
    _trial_outcomes(team, date(2017, 5, 1))
    client.force_login(manager)
    page = client.get(section_url("outcomes"))
    assert page.context["scope"].start == date(2017, 5, 1)
    relapse = next(r for r in page.context["tables"]["outcomes"].rows if r[0] == "Relapse")
    assert str(relapse[1]).startswith("33% ") and str(relapse[2]).startswith("33% ")
    assert 'value="2017-05-01"' in page.content.decode()  # the form says so
    # The overview's card for outcomes covers the same period.
    overview = client.get(URL).content.decode()
    card = overview[overview.index('id="outcomes"') :]
    assert "People assessed (POD, TAU)" in card and "6, 6" in card
    # Other sections keep the last 365 days.
    assert client.get(section_url("first-meeting")).context["scope"].start > date(2025, 1, 1)
    # A period chosen by the manager is the period shown.
    chosen = client.get(section_url("outcomes"), {"start": "2026-01-01", "end": "2026-03-01"})
    assert chosen.context["scope"].start == date(2026, 1, 1)


@pytest.mark.hazard("HAZ-11.C81")
def test_missing_values_are_written_one_way(client, manager):
    client.force_login(manager)
    seen = set()
    for slug in tables.PAGES:
        html = client.get(section_url(slug)).content.decode()
        cells = re.findall(r"<td>([^<]*)</td>", html)
        seen.update(cells)
        assert "-" not in cells and "None" not in cells, slug
    assert rules.NO_DATA_TEXT in seen
    assert tables.fmt(None) == rules.NO_DATA_TEXT == str(rules.share(0, 0))


def test_ticks_are_even_and_cover_the_largest_value():
    assert charts.nice_ticks(100) == [0, 20, 40, 60, 80, 100]
    assert charts.nice_ticks(37) == [0, 10, 20, 30, 40]
    assert charts.nice_ticks(5.5) == [0, 2, 4, 6]
    assert charts.nice_ticks(3) == [0, 1, 2, 3]
    for largest in (1, 7, 13, 99, 101, 1234):
        ticks = charts.nice_ticks(largest)
        steps = {round(b - a, 9) for a, b in zip(ticks, ticks[1:], strict=False)}
        assert len(steps) == 1 and ticks[-1] >= largest and len(ticks) <= 6


def test_a_line_chart_labels_its_even_ticks():
    svg = charts.line_chart(title="t", x_labels=["a", "b"], series=[charts.Series("s", [3, 37])])
    labels = re.findall(r'text-anchor="end" font-size="11">([0-9.]+)<', svg)
    assert labels == ["0", "10", "20", "30", "40"]


@pytest.mark.hazard("HAZ-11.C81")
def test_the_24_hour_trend_shows_every_month_of_the_period(team):
    now = timezone.now()
    scope = Scope(team_ids=(team.pk,), start=date(2026, 1, 1), end=date(2026, 4, 30), now=now)
    referral = datetime(2026, 3, 10, 12, tzinfo=UTC)
    b.episode(team, referral=referral, held_after_hours=2)
    trend = first_meeting_rule(scope)["trend"]
    assert [m["month"] for m in trend] == ["2026-01", "2026-02", "2026-03", "2026-04"]
    assert [m["met"] for m in trend] == [0, 0, 1, 0]
    assert str(trend[0]["share_met"]) == rules.NO_DATA_TEXT


@pytest.mark.hazard("HAZ-11.C81")
def test_charts_tell_suppressed_from_no_data():
    cells = [rules.share(3, 4, suppress_under=5), rules.share(0, 0), rules.share(6, 10)]
    series = charts.Series(
        "Met %", [c.percent for c in cells], charts.intervals_of(cells), charts.missing_of(cells)
    )
    line = charts.line_chart(title="t", x_labels=["a", "b", "c"], series=[series], y_max=100)
    assert line.count('class="missing-suppressed"') == 1
    assert line.count('class="missing-no-data"') == 1
    assert escape(rules.SUPPRESSED_TEXT) in line and rules.NO_DATA_TEXT in line  # the legend
    bar = charts.bar_chart(title="t", labels=["a", "b", "c"], series=[series])
    assert escape(f"Met %: {rules.SUPPRESSED_TEXT}") in bar
    assert f"Met %: {rules.NO_DATA_TEXT}" in bar


def test_fidelity_shows_its_n(client, manager):
    client.force_login(manager)
    page = client.get(section_url("fidelity"))
    assert "of 0 ratings" in page.context["tables"]["fidelity"].title
    assert "n = 0 ratings" in page.content.decode()


def _csv(response):
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_a_csv_opens_in_excel_and_says_what_it_covers(client, manager, team):
    _trial_outcomes(team, date(2026, 3, 1))
    client.force_login(manager)
    period = {"start": "2026-01-01", "end": "2026-06-30", "timepoint": 24}
    response = client.get(reverse("outcomes:dashboard_csv", args=["outcomes"]), period)
    assert response.content.startswith("\ufeff".encode())  # UTF-8 with a byte-order mark
    assert response["Content-Disposition"] == (
        'attachment; filename="pod-outcomes-24-months-2026-01-01-to-2026-06-30.csv"'
    )
    header, *rows = _csv(response)
    assert header[-4:] == ["Period from", "Period to", "Time point", "Figures as of"]
    relapse = next(r for r in rows if r[0] == "Relapse")
    assert relapse[-4:-1] == ["2026-01-01", "2026-06-30", "24 months"]
    assert relapse[1:5] == ["33.3", "9.7", "70.0", "6"]  # value, lower, upper, n: numbers
    other = client.get(reverse("outcomes:dashboard_csv", args=["first_meeting"]), period)
    assert "pod-first_meeting-2026-01-01-to-2026-06-30.csv" in other["Content-Disposition"]
    assert _csv(other)[0][-3:] == ["Period from", "Period to", "Figures as of"]


def test_staffing_numbers_have_their_own_columns(client, manager, team):
    client.force_login(manager)
    header, *rows = _csv(client.get(reverse("outcomes:dashboard_csv", args=["staffing"])))
    row = dict(zip(header, next(r for r in rows if r[1] == team.name), strict=True))
    assert row["Peer workers"].isdigit() and row["Volunteers"].isdigit()
    assert row["1 or more peer workers?"] in ("met", "not met")


def test_a_section_page_csv_links_cover_the_period_it_shows(client, manager, team):
    _trial_outcomes(team, date(2017, 5, 1))
    client.force_login(manager)
    html = client.get(section_url("outcomes")).content.decode()
    link = re.search(r'href="(/outcomes/dashboard/csv/outcomes/[^"]*)"', html).group(1)
    assert "start=2017-05-01" in link and "timepoint=24" in link
