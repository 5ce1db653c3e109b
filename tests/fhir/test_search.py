"""Searching: paging by `next` links, `_include`, the common parameters, POST _search for an
NHS number, and an OperationOutcome for every refusal."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode, urlsplit

import pytest

from pod.foundation.audit_models import RecordAccess
from tests import factories as f
from tests.fhir.conftest import FHIR_JSON

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, machine, team):
    headers = machine("clinician", [team])

    def get(path, **extra):
        return client.get(path, **{**headers, **extra})

    get.headers = headers
    return get


def _ids(bundle, mode="match"):
    return [e["resource"]["id"] for e in bundle.get("entry", []) if e["search"]["mode"] == mode]


def _relative(url):
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_it_pages_by_next_links_until_every_match_is_seen(api, team):
    people = [f.make_service_user(team) for _ in range(7)]
    seen, pages = [], 0
    url = "/fhir/Patient?_count=3"
    while url:
        bundle = api(url).json()
        assert bundle["total"] == 7
        seen += _ids(bundle)
        pages += 1
        nxt = [link["url"] for link in bundle["link"] if link["relation"] == "next"]
        url = _relative(nxt[0]) if nxt else None
    assert pages == 3
    assert sorted(seen, key=int) == [str(p.pk) for p in people]


def test_count_zero_gives_the_total_only(api, rich):
    bundle = api("/fhir/Encounter?_count=0").json()
    assert bundle["total"] == 5 and "entry" not in bundle


def test_it_includes_the_episodes_patient_team_and_care_team(api, rich, team):
    bundle = api(
        "/fhir/EpisodeOfCare?_include=EpisodeOfCare:patient&_include=EpisodeOfCare:organization"
        "&_include=EpisodeOfCare:team"
    ).json()
    included = {
        (e["resource"]["resourceType"], e["resource"]["id"])
        for e in bundle["entry"]
        if e["search"]["mode"] == "include"
    }
    assert ("Patient", str(rich.person.pk)) in included
    assert ("Organization", str(team.pk)) in included
    assert ("CareTeam", str(rich.episode.pk)) in included
    assert _ids(bundle) == [str(rich.episode.pk)]


def test_an_include_of_a_type_the_caller_may_not_read_adds_nothing(client, machine, rich, team):
    manager = machine("service_manager", [team])
    bundle = client.get("/fhir/Flag?_include=Flag:patient", **manager).json()
    assert _ids(bundle) and not _ids(bundle, "include")


def test_it_finds_a_person_by_nhs_number_posted_in_the_body(client, api, rich):
    number = rich.person.nhs_number
    response = client.post(
        "/fhir/Patient/_search",
        urlencode({"identifier": f"https://fhir.nhs.uk/Id/nhs-number|{number}"}),
        content_type="application/x-www-form-urlencoded",
        **api.headers,
    )
    assert response.status_code == 200
    bundle = response.json()
    assert _ids(bundle) == [str(rich.person.pk)]
    assert number not in str(bundle["link"])
    # The digits alone, and by GET as FHIR allows; another system finds no one.
    assert _ids(api(f"/fhir/Patient?identifier={number}").json()) == [str(rich.person.pk)]
    assert number not in str(api(f"/fhir/Patient?identifier={number}").json()["link"])
    assert _ids(api(f"/fhir/Patient?identifier=urn:other|{number}").json()) == []


def test_post_search_takes_only_a_form(client, api):
    response = client.post(
        "/fhir/Patient/_search", data="{}", content_type="application/json", **api.headers
    )
    assert response.status_code == 415
    assert response.json()["resourceType"] == "OperationOutcome"


def test_it_searches_by_patient_status_and_date(api, rich, bare, referral_at):
    held = [str(m.pk) for m in rich.meetings["held"]]
    assert (
        _ids(api(f"/fhir/Encounter?patient=Patient/{rich.person.pk}&status=finished").json())
        == held
    )
    assert _ids(api("/fhir/Appointment?status=cancelled").json()) == [
        str(rich.meetings["cancelled"].pk)
    ]
    day2 = (referral_at + timedelta(days=1)).date().isoformat()
    assert _ids(api(f"/fhir/Encounter?patient={rich.person.pk}&date={day2}").json()) == [held[1]]
    later = _ids(api(f"/fhir/Encounter?patient={rich.person.pk}&date=gt{day2}").json())
    assert held[2] in later and held[0] not in later and held[1] not in later
    assert _ids(api("/fhir/Observation?code=http://loinc.org|44261-6").json()) == [
        str(m.pk) for m in (rich.measures["PHQ9"], bare["measure"])
    ]
    assert _ids(api("/fhir/QuestionnaireResponse?date=2026-03-04").json()) == [
        str(rich.measures["DIALOG"].pk)
    ]


def test_it_searches_by_last_updated(api, rich):
    everything = api("/fhir/Patient").json()["total"]
    assert everything == 1
    assert api("/fhir/Patient?_lastUpdated=ge2020-01-01").json()["total"] == 1
    assert api("/fhir/Patient?_lastUpdated=lt2020-01-01").json()["total"] == 0


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("/fhir/Patient?_count=abc", 400),
        ("/fhir/Patient?_count=100000", 400),
        ("/fhir/Encounter?date=2026-13-45", 400),
        ("/fhir/Encounter?date=1066-10-14", 400),
        ("/fhir/Encounter?date=2026-03-29T01:30", 400),  # the spring-forward gap in London
        ("/fhir/Encounter?status=happening", 400),
        ("/fhir/Patient?name=Rivers", 400),  # not a parameter POD offers
        ("/fhir/Patient?patient=abc", 400),
        ("/fhir/Patient?identifier=12345", 400),
        ("/fhir/Patient?_include=Patient:link", 400),
        ("/fhir/Patient?_cursor=9.9", 400),
        # Digits to str.isdigit(), not to int() (pod/foundation/numbers.py).
        ("/fhir/Patient?_count=²", 400),
        ("/fhir/Patient?_cursor=0.²", 400),
        ("/fhir/Patient?patient=²", 400),
        ("/fhir/Patient/abc", 404),
        ("/fhir/Patient/99999999", 404),
        ("/fhir/Medication", 404),
        ("/fhir/Patient/1/_history", 404),
    ],
)
def test_every_refusal_is_an_operation_outcome(api, rich, query, status):
    response = api(query)
    assert response.status_code == status
    assert response["Content-Type"].startswith(FHIR_JSON)
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["severity"] == "error"


def test_it_refuses_a_format_it_cannot_give_and_a_method_it_does_not_take(client, api):
    assert client.get("/fhir/Patient", HTTP_ACCEPT="application/fhir+xml").status_code in (
        401,
        406,
    )
    xml = api("/fhir/Patient", HTTP_ACCEPT="application/fhir+xml")
    assert xml.status_code == 406 and xml.json()["resourceType"] == "OperationOutcome"
    assert api("/fhir/Patient?_format=xml").status_code == 406
    assert api("/fhir/Patient", HTTP_ACCEPT="text/html, */*;q=0.8").status_code == 200
    deleted = client.delete("/fhir/Patient/1", **api.headers)
    assert deleted.status_code == 405 and deleted.json()["resourceType"] == "OperationOutcome"


@pytest.mark.hazard("HAZ-06.C8")
def test_every_read_writes_one_access_row_per_person(api, rich, bare, clinician):
    before = RecordAccess.objects.count()
    api("/fhir/Encounter?_count=1000&_include=Encounter:patient")
    rows = list(RecordAccess.objects.order_by("pk")[before:])
    assert sorted(r.service_user_id for r in rows) == sorted([rich.person.pk, bare["person"].pk])
    assert {r.what for r in rows} == {"fhir:Encounter"}
    assert all(r.user.api_client for r in rows)  # the machine client's account
    api(f"/fhir/Observation/{rich.measures['PHQ9'].pk}")
    last = RecordAccess.objects.order_by("-pk").first()
    assert (last.service_user_id, last.what) == (rich.person.pk, "fhir:Observation")


@pytest.mark.hazard("HAZ-06.C8")
def test_a_search_that_finds_no_one_logs_no_one(api, rich):
    before = RecordAccess.objects.count()
    api("/fhir/Patient?_id=99999")
    api("/fhir/Organization")
    assert RecordAccess.objects.count() == before


@pytest.mark.hazard("HAZ-10.C1")
def test_query_strings_stay_out_of_the_logs(api, rich, caplog):
    number = rich.person.nhs_number
    with caplog.at_level("INFO"):
        api(f"/fhir/Patient/999999?identifier={number}")
        api(f"/fhir/Patient?identifier={number}&_count=x")
    from pod.foundation.log_filters import RedactPersonalData

    redact = RedactPersonalData()
    for record in caplog.records:
        redact.filter(record)
        assert number not in record.getMessage()
