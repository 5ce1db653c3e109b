"""Finding a person: by NHS number with any spacing, or by name whatever its accents, capitals or
apostrophes, ranked by similarity, within the user's teams; the admin searches the same way."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.urls import reverse

from networks.models import ServiceUser
from networks.selectors import people_search
from pod.foundation.audit_models import RecordAccess
from tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.hazard("HAZ-05.C7")]
URL = reverse("people:person_search")


@pytest.fixture
def people(team, other_team):
    return {
        "siobhan": f.make_service_user(
            team, nhs_number="9434765005", given_name="Siobhán", family_name="O’Brien"
        ),
        "sean": f.make_service_user(team, given_name="Seán", family_name="O'Brian"),
        "robin": f.make_service_user(team, given_name="Robin", family_name="Ashby"),
        "elsewhere": f.make_service_user(other_team, given_name="Siobhan", family_name="OBrien"),
    }


def _names(client, query):
    response = client.post(URL, {"q": query})
    assert response.status_code == 200
    return [r["person"].pk for r in response.context["results"]]


@pytest.mark.parametrize(
    "query", ["O'Brien", "o’brien", "OBRIEN", "Siobhan", "siobhán o'brien", "Siobhan OBrien"]
)
def test_names_match_whatever_the_accents_capitals_and_apostrophes(
    client, clinician, people, query
):
    client.force_login(clinician)
    found = _names(client, query)
    assert found[0] == people["siobhan"].pk  # the closest first
    assert people["elsewhere"].pk not in found  # another team's person is never found


@pytest.mark.parametrize("query", ["943-476-5005", "943 476 5005", " 9434765005 "])
def test_an_nhs_number_matches_with_any_spacing_or_hyphens(client, clinician, people, query):
    client.force_login(clinician)
    assert _names(client, query) == [people["siobhan"].pk]


def test_results_are_ranked_by_similarity(team, people):
    ranked = list(people_search(ServiceUser.objects.filter(team=team), "Sean O'Brian"))
    assert ranked[0] == people["sean"]
    assert people["robin"] not in ranked


def test_nothing_personal_goes_in_the_url_and_every_result_is_logged(
    client, clinician, people, django_capture_on_commit_callbacks
):
    client.force_login(clinician)
    assert client.get(URL + "?q=OBrien").context["results"] is None  # a GET searches nothing
    with django_capture_on_commit_callbacks(execute=True):
        found = _names(client, "O'Brien")
    logged = set(
        RecordAccess.objects.filter(user=clinician, what="search:people").values_list(
            "service_user_id", flat=True
        )
    )
    assert logged == set(found) and found


def test_the_search_is_indexed_by_trigram_on_the_folded_names(people):
    # The planner prefers a sequential scan on a handful of rows; with the alternatives switched
    # off it shows whether the filter people_search uses can be answered from the GIN index.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        found = people_search(ServiceUser.objects.all(), "Siobhan")
        query = ServiceUser.objects.filter(pk__in=found.values("pk")).query
        sql, params = query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "service_user_name_trgm" in plan
    with connection.cursor() as cursor:
        cursor.execute("SELECT extname FROM pg_extension WHERE extname IN ('unaccent','pg_trgm')")
        assert {r[0] for r in cursor.fetchall()} == {"unaccent", "pg_trgm"}


@pytest.mark.parametrize("query", ["O’Brien", "Siobhan", "943-476-5005"])
def test_the_admin_search_finds_the_same_people(client, admin_user, people, query):
    client.force_login(admin_user)
    response = client.get("/admin/networks/serviceuser/", {"q": query})
    found = {p.pk for p in response.context["cl"].result_list}
    assert people["siobhan"].pk in found and people["robin"].pk not in found
