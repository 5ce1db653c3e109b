"""Issue 17, point 1: the home pages' queries and bytes do not grow with the service.

Each list on them (open clocks, today's and tomorrow's meetings, caseload, unread alerts) is
bounded (pod/foundation/paging.py). With the page size set to 3, a team with 7 open episodes
(each with a running clock, a meeting today and tomorrow, and an alert) and one with 12 must
give the same number of queries and the same bytes give or take the digits of the totals and
names; an unbounded list would add ~5 rows of a few hundred bytes each.
"""

from __future__ import annotations

import gzip
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from meetings.models import Alert, Meeting
from meetings.selectors import day_bounds
from pod.foundation import paging
from pod.foundation.models import Notification
from tests import factories as f
from tests.pod.test_bounded_lists import assert_pager_links_land

SMALL, LARGE = 7, 12  # both past two pages of PAGE, so both pagers show the same links
PAGE = 3
# Bytes two pages may differ by from the digits of totals, page counts and serial names alone.
BYTE_SLACK = 300
# A home page of PAGE rows per list, gzipped.
GZIP_CEILING = 6_000


def _build(team, clinician, n, colleague):
    now = timezone.now()
    today, tomorrow = day_bounds(now, 0)[0], day_bounds(now, 1)[0]
    episodes = [
        f.make_episode(
            team=team,
            core_team=[clinician, colleague],
            referral_received_at=now - timedelta(hours=2),
            now=now,
        )
        for _ in range(n)
    ]
    Meeting.objects.bulk_create(
        Meeting(
            episode=e,
            scheduled_start=day + timedelta(minutes=10 * i),
            scheduled_end=day + timedelta(minutes=10 * i + 60),
            location="home",
            status="scheduled",
        )
        for i, e in enumerate(episodes)
        for day in (today, tomorrow)
    )
    alerts = Alert.objects.bulk_create(
        Alert(episode=e, kind="at_risk", message="Clock at risk", raised_at=now) for e in episodes
    )
    Notification.objects.bulk_create(Notification(user=clinician, alert=a) for a in alerts)


def _home(client, query=""):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("home") + query)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content


@pytest.fixture
def small_page(monkeypatch):
    monkeypatch.setattr(paging, "SECTION_SIZE", PAGE)
    monkeypatch.setattr("pod.foundation.selectors.ALERTS_PAGE_SIZE", PAGE)


@pytest.mark.django_db
def test_clinician_home_same_queries_and_bytes_small_and_large(
    client, team, clinician, clinician2, small_page
):
    client.force_login(clinician)
    _build(team, clinician, SMALL, clinician2)
    small_queries, small_body = _home(client)
    _build(team, clinician, LARGE - SMALL, clinician2)
    large_queries, large_body = _home(client)

    assert large_queries == small_queries
    assert abs(len(large_body) - len(small_body)) < BYTE_SLACK, (len(small_body), len(large_body))
    assert len(gzip.compress(large_body)) < GZIP_CEILING
    # The totals are shown, and the lists page.
    text = large_body.decode()
    assert_pager_links_land(text)
    assert f"Open 24-hour clocks ({LARGE})" in text
    assert f"Caseload ({LARGE})" in text
    assert f"Unread alerts ({LARGE})" in text
    assert f"page 1 of {LARGE // PAGE}" in text


@pytest.mark.django_db
def test_pages_of_a_list_hold_different_rows_and_keep_other_lists_pages(
    client, team, clinician, clinician2, small_page
):
    client.force_login(clinician)
    _build(team, clinician, 7, clinician2)
    first = client.get(reverse("home")).context["clocks"]
    second = client.get(reverse("home") + "?caseload=2&clocks=2").context
    third = client.get(reverse("home") + "?clocks=3").context["clocks"]
    seen = [c.episode.pk for page in (first, second["clocks"], third) for c in page]
    assert len(seen) == 7 and len(set(seen)) == 7  # every clock once, soonest due first
    due = [
        c.episode.first_meeting_due_at for page in (first, second["clocks"], third) for c in page
    ]
    assert due == sorted(due)
    assert second["caseload"].number == 2
    assert "caseload=2" in second["clocks"].next_url and "clocks=3" in second["clocks"].next_url


@pytest.mark.django_db
@pytest.mark.parametrize("raw", ["0", "-1", "x", "99999", "9" * 40, "", "²", "1.5"])
def test_a_bad_page_number_shows_a_page(client, team, clinician, clinician2, small_page, raw):
    client.force_login(clinician)
    _build(team, clinician, 4, clinician2)
    response = client.get(reverse("home") + f"?clocks={raw}")
    assert response.status_code == 200
    assert len(response.context["clocks"]) >= 1
