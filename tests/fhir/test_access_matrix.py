"""The FHIR permission matrix: every resource type x read and search x every role, as a staff
session and as a machine client, for their own team's records and another team's; and the
rule that the API never shows a role what its pages would not (tests/pod/access_matrix.py).

Expected, from the roles' needs (README "Security", "Interoperability"): clinicians and
prescribers read their teams' clinical record, flags and teams; service managers their teams'
flags and teams; administrators the audit and their teams; peers nothing; another team's
clinician finds nothing of ours (404 on read, an empty search); no session or token: 401. A
machine client reads what its role and teams allow, narrowed by its token's scopes.
"""

from __future__ import annotations

import pytest

from pod.fhir.registry import all_mappers
from pod.foundation.audit_models import RecordAccess
from tests import factories as f
from tests.fhir.conftest import FHIR_JSON
from tests.pod.access_matrix import EXPECTED

pytestmark = [pytest.mark.django_db, pytest.mark.hazard("HAZ-06.C12")]

CLINICAL_TYPES = {
    "Patient",
    "RelatedPerson",
    "CareTeam",
    "EpisodeOfCare",
    "Appointment",
    "Encounter",
    "MedicationRequest",
    "QuestionnaireResponse",
    "Observation",
}
READABLE = {
    "clinician": CLINICAL_TYPES | {"Flag", "Organization"},
    "prescriber": CLINICAL_TYPES | {"Flag", "Organization"},
    "peer_worker": set(),
    "peer_volunteer": set(),
    "manager": {"Flag", "Organization"},
    "admin": {"AuditEvent", "Organization"},
    "outsider": CLINICAL_TYPES | {"Flag", "Organization"},
}
# The page that shows the same record (tests/pod/access_matrix.py): the API may show a role a
# type only if that page shows it to the role too.
PAGE_FOR = {
    **{name: "meetings:episode_detail" for name in CLINICAL_TYPES - {"Patient"}},
    "Patient": "networks:member_list",
    "QuestionnaireResponse": "outcomes:person_measures",
    "Observation": "outcomes:person_measures",
    "Flag": ("meetings:episode_detail", "outcomes:dashboard"),
    "Organization": "outcomes:team_fidelity",
    "AuditEvent": "admin:index",
}


@pytest.fixture
def ids(rich, team, clinician):
    access = RecordAccess.objects.create(user=clinician, service_user=rich.person, what="x")
    return {
        "Patient": rich.person.pk,
        "RelatedPerson": rich.members["sister"].pk,
        "CareTeam": rich.episode.pk,
        "EpisodeOfCare": rich.episode.pk,
        "Appointment": rich.meetings["held"][0].pk,
        "Encounter": rich.meetings["held"][0].pk,
        "MedicationRequest": rich.prescriptions["met"].pk,
        "QuestionnaireResponse": rich.measures["PHQ9"].pk,
        "Observation": rich.measures["GAD7"].pk,
        "Flag": rich.alerts["breach"].pk,
        "Organization": team.pk,
        "AuditEvent": f"access-{access.pk}",
    }


@pytest.fixture
def sessions(clinician, prescriber, peer_worker, peer_volunteer, manager, admin_user, outsider):
    return {
        "clinician": clinician,
        "prescriber": prescriber,
        "peer_worker": peer_worker,
        "peer_volunteer": peer_volunteer,
        "manager": manager,
        "admin": admin_user,
        "outsider": outsider,
    }


def _read_expected(role: str, type_name: str) -> int:
    if type_name not in READABLE[role]:
        return 403
    return 404 if role == "outsider" else 200


def _call(client, path, headers):
    response = client.get(path, **headers)
    body = response.json()
    return response.status_code, body


def _check(client, role, headers, ids, problems, readable=None):
    readable = READABLE[role] if readable is None else readable
    for mapper in all_mappers():
        name = mapper.type_name
        expected = 403 if name not in readable else (404 if role == "outsider" else 200)
        status, body = _call(client, f"/fhir/{name}/{ids[name]}", headers)
        if status != expected:
            problems.append(f"read {name} as {role}: {status}, expected {expected}")
        if status != 200:
            assert body["resourceType"] == "OperationOutcome"
        status, body = _call(client, f"/fhir/{name}?_count=1000", headers)
        expected_search = 403 if name not in readable else 200
        if status != expected_search:
            problems.append(f"search {name} as {role}: {status}, expected {expected_search}")
        if status == 200:
            found = {e["resource"]["id"] for e in body.get("entry", [])}
            ours = str(ids[name]) in found
            if ours != (role != "outsider"):
                problems.append(f"search {name} as {role}: ours {'in' if ours else 'not in'}")


def test_staff_sessions_get_what_their_role_and_team_allow(client, sessions, ids, other_team):
    f.make_service_user(other_team)  # the outsider's own team has someone too
    problems: list[str] = []
    for role, user in sessions.items():
        client.force_login(user)
        _check(client, role, {"HTTP_ACCEPT": FHIR_JSON}, ids, problems)
        client.logout()
    for mapper in all_mappers():
        status, body = _call(client, f"/fhir/{mapper.type_name}", {})
        if status != 401 or body["resourceType"] != "OperationOutcome":
            problems.append(f"search {mapper.type_name} anonymously: {status}")
    assert not problems, "\n".join(problems)


def test_machine_clients_get_what_their_role_teams_and_scopes_allow(
    client, machine, ids, team, other_team
):
    problems: list[str] = []
    clients = {
        "clinician": machine("clinician", [team]),
        "manager": machine("service_manager", [team]),
        "admin": machine("administrator", [team]),
        "outsider": machine("clinician", [other_team]),
    }
    for role, headers in clients.items():
        _check(client, role, headers, ids, problems)
    narrow = machine("clinician", [team], scope="system/Patient.read system/Flag.read")
    _check(client, "clinician", narrow, ids, problems, readable={"Patient", "Flag"})
    assert not problems, "\n".join(problems)


def test_a_token_cannot_be_given_a_scope_beyond_its_role(client, team):
    from pod.fhir.clients import api_client_create
    from tests.fhir.conftest import token_for

    api_client, secret = api_client_create(name="Mgr", role="service_manager", teams=[team])
    with pytest.raises(AssertionError, match="invalid_scope"):
        token_for(client, api_client.application.client_id, secret, scope="system/Patient.read")
    assert token_for(client, api_client.application.client_id, secret, scope="system/Flag.read")


def test_the_api_never_shows_a_role_more_than_its_pages(client, sessions, ids):
    """Where the API reads a type to a role (200), the page showing that record must open
    for the same role (200 in the page matrix)."""
    problems = []
    for role, user in sessions.items():
        client.force_login(user)
        for mapper in all_mappers():
            name = mapper.type_name
            status = client.get(f"/fhir/{name}/{ids[name]}", HTTP_ACCEPT=FHIR_JSON).status_code
            pages = PAGE_FOR[name] if isinstance(PAGE_FOR[name], tuple) else (PAGE_FOR[name],)
            if status == 200 and not any(200 in EXPECTED[page][role] for page in pages):
                problems.append(f"{name} readable by {role} though {pages} is not")
        client.logout()
    assert not problems, "\n".join(problems)
