"""The permission matrix: every URL that takes a person, episode, meeting, member, team or other
record, for every role -> the expected status.

Peers see only their peer pages and the map, for the people assigned to them; they are refused
every other record URL on the server (403/404), whoever built it. The walk covers every URL in
the URLconf whose integer arguments name a record (`pk`, `*_pk`, `*_id`), so a page added later is
checked without editing this file. Every record the walk can reach is created with the same id
(RECORD_ID), so one number fills any argument.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from meetings.models import (
    Alert,
    CarePlanVersion,
    CurrentMedication,
    Decision,
    Episode,
    Meeting,
    Participant,
    Prescription,
    Utterance,
)
from networks.models import NetworkMember, PeerAssignment, PeerContact, ServiceUser
from outcomes.models import OutcomeAssessment
from pod.foundation.models import Notification, Team, TeamMembership
from tests import factories as f

RECORD_ID = 900001
ROLES = [
    "clinician",
    "prescriber",
    "peer_worker",
    "peer_volunteer",
    "manager",
    "outsider",
    "anonymous",
]
REFUSED = {403, 404, 405}

# Expected GET status of the peer pages. peer_volunteer is assigned to the person;
# peer_worker is a peer of the same team who is not.
C, P, W, V, M, OUT, A = ROLES
PEER_PAGES = {
    "networks:peer_person": {C: 403, P: 403, W: 404, V: 200, M: 403, OUT: 403, A: 302},
    "networks:peer_contact_add": {C: 403, P: 403, W: 404, V: 200, M: 403, OUT: 403, A: 302},
    "networks:peer_contact_edit": {C: 403, P: 403, W: 404, V: 200, M: 403, OUT: 403, A: 302},
    "networks:member_propose": {C: 403, P: 403, W: 404, V: 200, M: 403, OUT: 403, A: 302},
    "networks:member_consent": {C: 200, P: 200, W: 404, V: 200, M: 403, OUT: 404, A: 302},
    "networks:network_map": {C: 200, P: 200, W: 404, V: 200, M: 403, OUT: 404, A: 302},
    "networks:peer_assignments": {C: 200, P: 200, W: 403, V: 403, M: 403, OUT: 404, A: 302},
    "networks:peer_unassign": dict.fromkeys(ROLES, 405),  # POST only
}
NO_ARGUMENT_PAGES = {
    "networks:peer_caseload": {C: 403, P: 403, W: 200, V: 200, M: 403, OUT: 403, A: 302},
    "networks:peer_work": {C: 200, P: 200, W: 403, V: 403, M: 403, OUT: 200, A: 302},
}


def _walk(patterns, prefix="", namespace=None):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = p.namespace and (f"{namespace}:{p.namespace}" if namespace else p.namespace)
            yield from _walk(p.url_patterns, prefix + str(p.pattern), ns or namespace)
        elif isinstance(p, URLPattern):
            name = f"{namespace}:{p.name}" if namespace and p.name else p.name
            yield prefix + str(p.pattern), name, getattr(p.pattern, "converters", {})


def _is_record_argument(name: str) -> bool:
    return name == "pk" or name.endswith("_pk") or name.endswith("_id")


def record_urls() -> list[tuple[str, str]]:
    """(name, path) for every URL whose arguments are all integer record ids."""
    from django.urls.converters import IntConverter

    found = []
    for route, name, converters in _walk(get_resolver().url_patterns):
        if route.startswith("admin/") or not converters:
            continue
        if not all(
            isinstance(c, IntConverter) and _is_record_argument(k) for k, c in converters.items()
        ):
            continue
        path = route
        for key in converters:
            path = path.replace(f"<int:{key}>", str(RECORD_ID))
        found.append((name, "/" + path.lstrip("^").rstrip("$")))
    return found


@pytest.fixture
def records(trust, clinician, prescriber, peer_worker, peer_volunteer, manager, outsider):
    """One of each record, all with id RECORD_ID, in a team the six insiders belong to."""
    team = Team.objects.create(pk=RECORD_ID, trust=trust, name="Matrix team", kind="CRT")
    for user in (clinician, prescriber, peer_worker, peer_volunteer, manager):
        TeamMembership.objects.create(user=user, team=team)
    now = timezone.now()
    person = ServiceUser.objects.create(
        pk=RECORD_ID,
        nhs_number=f.valid_nhs_number(),
        given_name="Mat",
        family_name="Rix",
        date_of_birth=date(1990, 1, 1),
        team=team,
    )
    referral = now - timedelta(days=3)
    episode = Episode.objects.create(
        pk=RECORD_ID,
        service_user=person,
        team=team,
        referral_received_at=referral,
        referral_source="gp",
        triage_category="C",
        reason="Secret referral reason",
        first_meeting_due_at=referral + timedelta(hours=24),
    )
    episode.core_team.add(clinician)
    meeting = Meeting.objects.create(
        pk=RECORD_ID,
        episode=episode,
        scheduled_start=now + timedelta(days=1),
        scheduled_end=now + timedelta(days=1, hours=1),
        location="home",
    )
    participant = Participant.objects.create(pk=RECORD_ID, meeting=meeting, kind="service_user")
    Utterance.objects.create(
        pk=RECORD_ID,
        meeting=meeting,
        participant=participant,
        words="In my own words",
        position=1,
        recorded_by=clinician,
    )
    Decision.objects.create(
        pk=RECORD_ID, meeting=meeting, kind="care", text="A decision", recorded_by=clinician
    )
    CarePlanVersion.objects.create(
        pk=RECORD_ID,
        episode=episode,
        version=1,
        what_matters="x",
        actions="y",
        responsible="z",
        person_agreed=True,
        created_by=clinician,
    )
    on_the_list = CurrentMedication.objects.create(
        pk=RECORD_ID,
        episode=episode,
        medicine="Sertraline",
        source="gp_record",
        source_date=now.date(),
        recorded_at=now,
        recorded_by=clinician,
    )
    Prescription.objects.create(
        pk=RECORD_ID,
        episode=episode,
        medicine="Sertraline",
        is_new=False,
        current_medication=on_the_list,
        is_antipsychotic=False,
        prescriber=prescriber,
        prescribed_at=now,
    )
    alert = Alert.objects.create(
        pk=RECORD_ID, kind="at_risk", episode=episode, message="m", raised_at=now
    )
    Notification.objects.create(pk=RECORD_ID, user=clinician, alert=alert)
    OutcomeAssessment.objects.create(
        pk=RECORD_ID,
        service_user=person,
        timepoint_months=0,
        assessed_on=date(2026, 1, 1),
        symptom_level="mild",
        relapse=False,
        hospital_bed_days=0,
        disability_benefit=False,
        neuroleptic_use=False,
        work_or_study=False,
    )
    NetworkMember.objects.create(
        pk=RECORD_ID,
        service_user=person,
        name="Proposed Pat",
        category="neighbour",
        relationship="neighbour",
        status="proposed",
        added_by=peer_volunteer,
    )
    NetworkMember.objects.create(
        pk=RECORD_ID + 1,
        service_user=person,
        name="Active Ann",
        category="family",
        relationship="sister",
    )
    PeerAssignment.objects.create(
        pk=RECORD_ID,
        service_user=person,
        peer=peer_volunteer,
        assigned_by=clinician,
        assigned_at=now,
    )
    PeerContact.objects.create(
        pk=RECORD_ID,
        service_user=person,
        peer=peer_volunteer,
        with_service_user=True,
        contact_at=now,
        mode="phone",
        duration_minutes=5,
        purpose="support",
    )
    return person


def _client(request, role: str) -> Client:
    # A server error is a status to report in the matrix, not an exception that hides the rest.
    client = Client(raise_request_exception=False)
    if role != "anonymous":
        client.force_login(request.getfixturevalue(role))
    return client


@pytest.mark.hazard("HAZ-06.C2")
def test_it_finds_the_record_urls_of_every_app():
    names = {name for name, _path in record_urls()}
    assert set(PEER_PAGES) <= names
    assert any(n.startswith("meetings:") for n in names)
    assert any(n.startswith("outcomes:") for n in names)


@pytest.mark.hazard("HAZ-06.C2")
@pytest.mark.parametrize("role", ROLES)
def test_it_gives_each_role_the_expected_status_on_every_record_url(request, records, role):
    client = _client(request, role)
    failures = []
    for name, path in record_urls():
        status = client.get(path).status_code
        if name in PEER_PAGES:
            ok = status == PEER_PAGES[name][role]
            expected = PEER_PAGES[name][role]
        elif role in (W, V, OUT):
            # Peers and another team's clinician: refused on the server, never redirected.
            ok, expected = status in REFUSED, "403/404/405"
        elif role == A:
            ok, expected = status in REFUSED | {302}, "302 to sign-in or 403/404/405"
            if status == 302:
                location = client.get(path)["Location"]
                ok = "/accounts/login/" in location
        else:
            ok, expected = status < 500, "not a server error"
        if not ok:
            failures.append(f"GET {path} ({name}) as {role}: {status}, expected {expected}")
    for name, expected in NO_ARGUMENT_PAGES.items():
        status = client.get(reverse(name)).status_code
        if status != expected[role]:
            failures.append(f"GET {name} as {role}: {status}, expected {expected[role]}")
    assert not failures, "\n".join(failures)


PEER_WRITABLE = {
    "networks:peer_contact_add",
    "networks:peer_contact_edit",
    "networks:member_propose",
    "networks:member_consent",
}


@pytest.mark.hazard("HAZ-06.C2")
@pytest.mark.parametrize("role", [W, V, OUT, A])
def test_it_refuses_writes_to_records_outside_a_roles_work(request, records, role):
    client = _client(request, role)
    failures = []
    for name, path in record_urls():
        if role == V and name in PEER_WRITABLE | {"networks:peer_person", "networks:network_map"}:
            continue  # the assigned peer's own work (tests/networks/test_peer_pages.py)
        status = client.post(path, {}).status_code
        ok = status in REFUSED or (
            role == A and status == 302 and "/accounts/login/" in client.post(path, {})["Location"]
        )
        if not ok:
            failures.append(f"POST {path} ({name}) as {role}: {status}")
    assert not failures, "\n".join(failures)
    # Nothing a refused write could have touched has changed.
    assert Episode.objects.get(pk=RECORD_ID).status == "referred"
    assert Meeting.objects.get(pk=RECORD_ID).status == "scheduled"
    assert PeerAssignment.objects.get(pk=RECORD_ID).ended_at is None
    assert NetworkMember.objects.get(pk=RECORD_ID).status == "proposed"


@pytest.mark.hazard("HAZ-06.C4")
def test_it_shows_a_peer_no_clinical_words_on_their_pages(request, records):
    client = _client(request, V)
    for name in ("networks:peer_person", "networks:network_map"):
        path = dict(record_urls())[name]
        page = client.get(path).content.decode()
        for secret in ("Secret referral reason", "In my own words", "A decision", "Sertraline"):
            assert secret not in page, (name, secret)
