"""Every resource the API can return is valid FHIR R4: HL7's JSON schema accepts it and
fhir.resources parses it and writes it back unchanged (a round trip), for every type, with the
optional data POD can hold and without it; the Bundles, OperationOutcomes and the
CapabilityStatement too."""

from __future__ import annotations

import json

import pytest

from pod.fhir.registry import all_mappers
from tests import factories as f
from tests.fhir.validation import SCHEMA_SHA256, assert_valid, parse_r4b, schema_digest

pytestmark = pytest.mark.django_db


def _round_trip(resource: dict) -> dict:
    model = parse_r4b(resource)
    return json.loads(model.model_dump_json(exclude_none=True))


def _everything(client, headers, type_name, person_id):
    if type_name in ("Organization", "AuditEvent"):
        response = client.get(f"/fhir/{type_name}?_count=1000", **headers)
    else:
        response = client.get(f"/fhir/{type_name}?patient={person_id}&_count=1000", **headers)
    assert response.status_code == 200, response.content
    bundle = response.json()
    assert_valid(bundle)
    return [entry["resource"] for entry in bundle.get("entry", [])]


def test_it_uses_the_official_schema_file():
    assert schema_digest() == SCHEMA_SHA256


@pytest.mark.parametrize("world", ["rich", "bare"])
def test_every_type_is_valid_and_round_trips(client, team, machine, rich, bare, world, settings):
    # Every resource is read one by one (hundreds of audit events): not a test of the rate limit.
    settings.POD_FHIR_RATE_BURST = 10_000
    clinician = machine("clinician", [team])
    admin = machine("administrator", [team])
    person = rich.person if world == "rich" else bare["person"]
    seen = {}
    for mapper in all_mappers():
        headers = admin if mapper.type_name == "AuditEvent" else clinician
        resources = _everything(client, headers, mapper.type_name, person.pk)
        assert resources, f"no {mapper.type_name} for the {world} world"
        for resource in resources:
            assert_valid(resource)
            assert _round_trip(resource) == resource, mapper.type_name
            # Read returns the same resource as search.
            one = client.get(f"/fhir/{mapper.type_name}/{resource['id']}", **headers)
            assert one.status_code == 200
            assert one.json() == resource
        seen[mapper.type_name] = resources
    assert set(seen) == {m.type_name for m in all_mappers()}


def _first(client, headers, path):
    response = client.get(path, **headers)
    assert response.status_code == 200, response.content
    return response.json()


def test_the_rich_world_carries_its_optional_data(client, team, machine, rich):
    h = machine("clinician", [team])
    patient = _first(client, h, f"/fhir/Patient/{rich.person.pk}")
    assert {n["use"] for n in patient["name"]} == {"official", "usual"}
    assert patient["telecom"] and patient["address"] and patient["birthDate"]
    sister = _first(client, h, f"/fhir/RelatedPerson/{rich.members['sister'].pk}")
    assert sister["telecom"] and sister["address"]
    assert sister["relationship"][0]["coding"][0]["code"] == "SIS"
    assert sister["relationship"][0]["text"] == "older sister"
    consent = {e["url"]: e for e in sister["extension"][0]["extension"]}
    assert consent["contact"]["valueBoolean"] is True and "contactRecorded" in consent
    held = _first(client, h, f"/fhir/Encounter/{rich.meetings['held'][0].pk}")
    assert held["status"] == "finished" and held["class"]["code"] == "HH"
    assert held["contained"][0]["description"] == "Kitchen table"
    cancelled = _first(client, h, f"/fhir/Appointment/{rich.meetings['cancelled'].pk}")
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancelationReason"]["text"] == "The person asked to move it"
    episode = _first(client, h, f"/fhir/EpisodeOfCare/{rich.episode.pk}")
    urls = {e["url"].rsplit("/", 1)[1] for e in episode["extension"]}
    assert urls == {"episode-referral", "episode-triage", "first-meeting-due", "first-meeting-held"}
    assert [s["status"] for s in episode["statusHistory"]] == ["planned", "active"]


def test_the_bare_world_leaves_optional_elements_out(client, team, machine, bare):
    h = machine("clinician", [team])
    patient = _first(client, h, f"/fhir/Patient/{bare['person'].pk}")
    assert not {"telecom", "address", "birthDate"} & set(patient)
    assert [n["use"] for n in patient["name"]] == ["official"]
    member = _first(client, h, f"/fhir/RelatedPerson/{bare['member'].pk}")
    assert "coding" not in member["relationship"][0] or all(
        c["system"].endswith("network-category") for c in member["relationship"][0]["coding"]
    )
    request = _first(client, h, f"/fhir/MedicationRequest/{bare['prescription'].pk}")
    assert not {"dosageInstruction", "encounter"} & set(request)
    encounter = _first(client, h, f"/fhir/Encounter/{bare['meeting'].pk}")
    assert encounter["status"] == "planned"


def test_errors_and_capability_are_valid(client, team, machine, outsider):
    h = machine("clinician", [team])
    for path, status in (
        ("/fhir/Patient/999999", 404),
        ("/fhir/Patient?birthdate=2020", 400),
        ("/fhir/Nonsense", 404),
        ("/fhir/AuditEvent", 403),
    ):
        response = client.get(path, **h)
        assert response.status_code == status
        assert_valid(response.json())
    anonymous = client.get("/fhir/Patient")
    assert anonymous.status_code == 401
    assert_valid(anonymous.json())
    assert_valid(client.get("/fhir/metadata").json())


def test_a_person_without_an_episode_is_still_a_valid_patient(client, team, machine):
    person = f.make_service_user(team)
    resource = _first(client, machine("clinician", [team]), f"/fhir/Patient/{person.pk}")
    assert_valid(resource)
