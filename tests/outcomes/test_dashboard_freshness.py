"""The dashboard's figures are kept for a few minutes and the page says when they were computed
(issue 17, point 4; outcomes/dashboard/freshness.py): reused while younger than
POD_DASHBOARD_FRESH_SECONDS, recomputed once older, never shared between scopes."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from outcomes.dashboard import freshness, sections
from outcomes.dashboard.scope import Scope
from tests.outcomes import builders as b

NOW = datetime(2026, 6, 1, 9, 42, tzinfo=UTC)  # 10:42 in London (BST)
START, END = date(2026, 5, 1), date(2026, 5, 31)


def _scope(team, now=NOW, end=END):
    return Scope(team_ids=(team.pk,), start=START, end=end, now=now)


def _referral(team):
    b.episode(team, referral=datetime(2026, 5, 10, 12, tzinfo=UTC), held_after_hours=2)


@pytest.mark.hazard("HAZ-11.C80")
def test_figures_are_reused_while_fresh_and_recomputed_after(team, settings):
    settings.POD_DASHBOARD_FRESH_SECONDS = 600
    _referral(team)
    first, as_of = freshness.section("first_meeting", _scope(team))
    assert first["referrals"] == 1 and as_of == NOW
    _referral(team)
    # 9 min 59 s later: the kept figures, computed at NOW.
    kept, kept_as_of = freshness.section(
        "first_meeting", _scope(team, NOW + timedelta(seconds=599))
    )
    assert kept["referrals"] == 1 and kept_as_of == NOW
    # 10 minutes later: computed afresh, with the new referral.
    later = NOW + timedelta(seconds=600)
    fresh, fresh_as_of = freshness.section("first_meeting", _scope(team, later))
    assert fresh["referrals"] == 2 and fresh_as_of == later
    assert fresh == sections.section("first_meeting", _scope(team, later))


@pytest.mark.hazard("HAZ-11.C80")
def test_no_scope_sees_another_scopes_figures(team, other_team, settings):
    settings.POD_DASHBOARD_FRESH_SECONDS = 600
    _referral(team)
    assert freshness.section("first_meeting", _scope(team))[0]["referrals"] == 1
    assert freshness.section("first_meeting", _scope(other_team))[0]["referrals"] == 0
    shorter = _scope(team, end=date(2026, 5, 5))
    assert freshness.section("first_meeting", shorter)[0]["referrals"] == 0
    # The page's first rows and the CSV's every row are kept apart.
    page = freshness.section("first_meeting", _scope(team), list_limit=1)[0]
    full = freshness.section("first_meeting", _scope(team), list_limit=None)[0]
    assert page == full  # one referral: the same figures, computed separately
    assert freshness.cache_key(
        "first_meeting", _scope(team), timepoint_months=24, list_limit=1
    ) != freshness.cache_key("first_meeting", _scope(team), timepoint_months=24, list_limit=None)


def test_zero_computes_every_time(team, settings):
    settings.POD_DASHBOARD_FRESH_SECONDS = 0
    _referral(team)
    assert freshness.section("first_meeting", _scope(team))[0]["referrals"] == 1
    _referral(team)
    later = _scope(team, NOW + timedelta(seconds=1))
    assert freshness.section("first_meeting", later)[0]["referrals"] == 2


@pytest.mark.hazard("HAZ-11.C80")
def test_the_page_says_when_its_figures_were_computed(client, manager, team, settings):
    settings.POD_DASHBOARD_FRESH_SECONDS = 600
    client.force_login(manager)
    url = reverse("outcomes:dashboard_section", args=["first-meeting"])
    with CaptureQueriesContext(connection) as first_queries:
        first = client.get(url)
    html = first.content.decode()
    assert "Figures as of " in html
    assert "recomputed when more than 10 minutes old" in html
    # A second look within the window reads the kept figures: none of the section's 3 queries.
    b.episode(team, referral=timezone.now() - timedelta(hours=3), held_after_hours=30)
    with CaptureQueriesContext(connection) as second_queries:
        second = client.get(url)
    assert len(second_queries) == len(first_queries) - 3
    assert second.context["tables"]["first_meeting"].rows[0][1] == 0  # the kept figures
    assert second.context["as_of_text"] == first.context["as_of_text"]


def test_the_as_of_time_is_london_time(client, manager, settings, monkeypatch):
    settings.POD_DASHBOARD_FRESH_SECONDS = 600
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    client.force_login(manager)
    html = client.get(reverse("outcomes:dashboard")).content.decode()
    assert "Figures as of 10:42 on 1 June 2026" in html
