"""Who may open the dashboards, and what they get: their teams only, CSV for every table."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from outcomes.tables import TABLE_SECTION
from tests import factories as f
from tests.outcomes import builders as b

URL = reverse("outcomes:dashboard")


def _some_data(team, clinician, clinician2, n):
    now = timezone.now()
    for i in range(n):
        ep = b.episode(
            team,
            referral=now - timedelta(days=30 + i),
            held_after_hours=30,
            core=[clinician, clinician2],
        )
        b.meeting(ep, start=ep.referral_received_at + timedelta(hours=30), staff=[clinician])
        b.alert(ep, "breached", f"Breach {i}", ep.first_meeting_due_at)


def test_a_manager_sees_the_dashboard_of_their_team(client, manager, team, clinician, clinician2):
    _some_data(team, clinician, clinician2, 2)
    client.force_login(manager)
    overview = client.get(URL)
    assert overview.status_code == 200, overview.content.decode()[-3000:]
    html = overview.content.decode()
    assert "The 24-hour rule" in html and "Breaches" in html
    first_meeting = reverse("outcomes:dashboard_section", args=["first-meeting"])
    assert f'href="{first_meeting}"' in html
    page = client.get(first_meeting)
    assert page.status_code == 200
    assert b"The 24-hour rule" in page.content and b"<svg" in page.content
    assert b"Breach 1" in page.content


@pytest.mark.hazard("HAZ-06.C3")
def test_a_manager_is_refused_another_team(client, manager, other_team):
    client.force_login(manager)
    assert client.get(URL, {"team": other_team.pk}).status_code == 403
    assert client.get(URL, {"trust": other_team.trust_id}).status_code == 403
    csv_url = reverse("outcomes:dashboard_csv", args=["breaches"])
    assert client.get(csv_url, {"team": other_team.pk}).status_code == 403


@pytest.mark.hazard("HAZ-06.C3")
@pytest.mark.parametrize("who", ["clinician", "prescriber", "peer_worker", "outsider"])
def test_clinical_and_peer_staff_cannot_open_the_dashboard(client, request, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(URL).status_code == 403


def test_an_administrator_sees_every_team(client, admin_user, other_team):
    client.force_login(admin_user)
    assert client.get(URL, {"team": other_team.pk}).status_code == 200


def test_a_bad_period_is_shown_at_the_field(client, manager):
    client.force_login(manager)
    page = client.get(URL, {"start": "2026-05-01", "end": "2026-01-01", "timepoint": 24})
    assert page.status_code == 200
    assert page.context["form"].errors["end"]


@pytest.mark.parametrize(
    "timepoint,title", [(0, "Outcomes at baseline"), (12, "Outcomes at 12 months")]
)
def test_it_shows_outcomes_at_the_chosen_time_point(client, manager, timepoint, title):
    client.force_login(manager)
    page = client.get(
        reverse("outcomes:dashboard_section", args=["outcomes"]),
        {"start": "2026-01-01", "end": "2026-06-30", "timepoint": timepoint},
    )
    assert page.status_code == 200
    assert title in page.content.decode()


def test_every_table_downloads_as_csv(client, manager, team, clinician, clinician2):
    _some_data(team, clinician, clinician2, 1)
    client.force_login(manager)
    for table in TABLE_SECTION:
        response = client.get(reverse("outcomes:dashboard_csv", args=[table]))
        assert response.status_code == 200, table
        assert response["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert rows[0], table  # a header row
    breaches = client.get(reverse("outcomes:dashboard_csv", args=["breaches"])).content.decode()
    assert "Breach 0" in breaches


def test_the_page_costs_the_same_queries_with_more_data(
    client, manager, team, clinician, clinician2, django_assert_num_queries
):
    client.force_login(manager)
    _some_data(team, clinician, clinician2, 1)
    with CaptureQueriesContext(connection) as first:
        client.get(URL)
    _some_data(team, clinician, clinician2, 10)
    for _ in range(5):
        f.make_service_user(team)
    cache.clear()  # computed afresh, not the first request's figures kept for a few minutes
    with django_assert_num_queries(len(first.captured_queries)):
        assert client.get(URL).status_code == 200
