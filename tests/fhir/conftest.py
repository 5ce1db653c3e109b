"""The FHIR tests' world: one person with every kind of record (and one with only what is
required), machine clients of each role, and helpers to call the API."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from meetings.models import Alert, Prescription
from meetings.services.lifecycle import meeting_cancel
from meetings.services.meetings import meeting_record_held, meeting_schedule
from meetings.services.prescriptions import current_medication_add, prescription_create
from outcomes.services import scored_measure_record
from pod.fhir.clients import api_client_create
from tests import factories as f

FHIR_JSON = "application/fhir+json"


@dataclass
class Rich:
    person: object
    episode: object
    members: dict
    meetings: dict
    prescriptions: dict
    measures: dict
    alerts: dict


@pytest.fixture
def rich(team, episode, service_user, clinician, clinician2, prescriber, referral_at):
    """A person with every optional datum POD holds, in one open episode."""
    service_user.preferred_name = "Jo"
    service_user.phone = "07700 900123"
    service_user.email = "jordan@example.org"
    service_user.address = "1 High Street, London"
    service_user.postcode = "E1 6AN"
    service_user.save()
    consented = referral_at + timedelta(hours=1)
    members = {
        "sister": f.make_member(
            service_user,
            name="Ash",
            category="family",
            relationship="older sister",
            phone="07700 900456",
            email="ash@example.org",
            address="2 High Street",
            contact_consent="agreed",
            consent_recorded_at=consented,
            consent_recorded_by=clinician,
            information_consent="agreed",
            information_consent_recorded_at=consented,
            information_consent_recorded_by=clinician,
        ),
        "friend": f.make_member(
            service_user, name="Kit", category="friend", relationship="friend from college"
        ),
        "carer": f.make_member(service_user, name="Lee", category="carer", relationship="carer"),
        "proposed": f.make_member(
            service_user, name="Ren", category="friend", relationship="friend", status="proposed"
        ),
    }
    meetings = {}
    at = referral_at
    held = []
    for i, place in enumerate(("home", "video", "team_base")):
        meeting = meeting_schedule(
            episode=episode,
            scheduled_start=at + timedelta(days=i, hours=2),
            scheduled_end=at + timedelta(days=i, hours=3),
            location=place,
            location_detail="Kitchen table" if place == "home" else "",
            staff=[clinician, clinician2],
            network_members=[members["sister"], members["friend"]],
            created_by=clinician,
            now=at + timedelta(hours=1),
        )
        attendance = {
            p.pk: (p.network_member_id != members["friend"].pk) for p in meeting.participants.all()
        }
        meeting_record_held(
            meeting=meeting,
            actual_start=at + timedelta(days=i, hours=2),
            actual_end=at + timedelta(days=i, hours=3, minutes=10),
            attended=attendance,
            recorded_by=clinician,
            now=at + timedelta(days=i, hours=4),
        )
        held.append(meeting)
    meetings["held"] = held
    meetings["scheduled"] = meeting_schedule(
        episode=episode,
        scheduled_start=at + timedelta(days=10, hours=2),
        scheduled_end=at + timedelta(days=10, hours=3),
        location="community",
        staff=[clinician],
        network_members=[members["sister"]],
        created_by=clinician,
        now=at + timedelta(days=4),
    )
    cancelled = meeting_schedule(
        episode=episode,
        scheduled_start=at + timedelta(days=11, hours=2),
        scheduled_end=at + timedelta(days=11, hours=3),
        location="hospital",
        staff=[clinician],
        created_by=clinician,
        now=at + timedelta(days=4),
    )
    meeting_cancel(
        meeting=cancelled,
        called_off_by="person",
        reason="The person asked to move it",
        changed_by=clinician,
        now=at + timedelta(days=4, hours=1),
    )
    cancelled.refresh_from_db()
    meetings["cancelled"] = cancelled
    now = at + timedelta(days=5)
    prescriptions = {
        "override": prescription_create(
            episode=episode,
            medicine="Lorazepam",
            dose="1 mg",
            is_antipsychotic=False,
            prescriber=prescriber,
            prescribed_at=at + timedelta(hours=1),
            override_reason="rapid_response",
            override_explanation="Physical safety threatened overnight",
            now=now,
        ),
        "met": prescription_create(
            episode=episode,
            medicine="Aripiprazole",
            dose="5 mg daily",
            is_antipsychotic=True,
            prescriber=prescriber,
            prescribed_at=at + timedelta(days=3),
            now=now,
        ),
        "continuing": prescription_create(
            episode=episode,
            medicine="Sertraline",
            continuing=current_medication_add(
                episode=episode,
                medicine="Sertraline",
                source="gp_record",
                source_date=at.date(),
                recorded_by=prescriber,
                now=at + timedelta(days=2),  # on the list before it is continued
            ),
            is_antipsychotic=False,
            prescriber=prescriber,
            prescribed_at=at + timedelta(days=3),
            now=now,
        ),
    }
    violation = Prescription.objects.create(
        episode=episode,
        medicine="Olanzapine",
        is_new=True,
        is_antipsychotic=True,
        prescriber=prescriber,
        prescribed_at=at + timedelta(hours=2),
        meetings_held_before=0,
    )
    prescriptions["violation"] = violation
    alerts = {
        "violation": Alert.objects.create(
            kind="medication_violation",
            episode=episode,
            prescription=violation,
            message=f"Episode {episode.pk}: a new medicine (prescription {violation.pk}) ...",
            raised_at=now,
        ),
        "breach": Alert.objects.create(
            kind="breached",
            episode=episode,
            message=f"Episode {episode.pk}: first meeting not held within 24 hours",
            raised_at=at + timedelta(hours=24),
        ),
        "override": Alert.objects.get(kind="medication_override", episode=episode),
    }
    measures = {
        "PHQ9": scored_measure_record(
            service_user=service_user,
            instrument="PHQ9",
            item_scores=[1, 2, 3, 0, 1, 2, 1, 0, 1],
            completed_on=date(2026, 3, 3),
            recorded_by=clinician,
            now=now,
        ),
        "GAD7": scored_measure_record(
            service_user=service_user,
            instrument="GAD7",
            item_scores=[3, 3, 2, 1, 0, 1, 2],
            completed_on=date(2026, 3, 3),
            recorded_by=clinician,
            now=now,
        ),
        "DIALOG": scored_measure_record(
            service_user=service_user,
            instrument="DIALOG",
            item_scores=[4, 5, 3, 6, 2, 5, 4, 7, 3, 5, 6],
            completed_on=date(2026, 3, 4),
            recorded_by=None,
            now=now,
        ),
    }
    return Rich(service_user, episode, members, meetings, prescriptions, measures, alerts)


@pytest.fixture
def bare(team, referral_at):
    """A person with only what POD requires: no optional field, one scheduled meeting with
    only staff, a continuing medicine without dose or decision, a DIALOG without a recorder."""
    person = f.make_service_user(team, date_of_birth=None, given_name="Sam", family_name="Bare")
    staff = f.make_user("clinician", team)
    other = f.make_user("clinician", team)
    prescriber = f.make_user("prescriber", team)
    episode = f.make_episode(
        team=team, core_team=[staff, other], service_user=person, referral_received_at=referral_at
    )
    member = f.make_member(person, name="Mo", category="other", relationship="someone")
    meeting = meeting_schedule(
        episode=episode,
        scheduled_start=referral_at + timedelta(hours=5),
        scheduled_end=referral_at + timedelta(hours=6),
        location="team_base",
        staff=[staff],
        created_by=None,
        now=referral_at + timedelta(hours=1),
    )
    prescription = prescription_create(
        episode=episode,
        medicine="Paracetamol",
        continuing=current_medication_add(
            episode=episode,
            medicine="Paracetamol",
            source="person",
            source_date=referral_at.date(),
            recorded_by=prescriber,
            now=referral_at + timedelta(hours=1),
        ),
        is_antipsychotic=False,
        prescriber=prescriber,
        prescribed_at=referral_at + timedelta(hours=1),
        now=referral_at + timedelta(hours=2),
    )
    measure = scored_measure_record(
        service_user=person,
        instrument="PHQ9",
        item_scores=[0] * 9,
        completed_on=date(2026, 3, 2),
        recorded_by=None,
        now=referral_at + timedelta(days=1),
    )
    flag = Alert.objects.create(
        kind="breached", episode=episode, message="Breached", raised_at=referral_at
    )
    return {
        "person": person,
        "flag": flag,
        "episode": episode,
        "member": member,
        "meeting": meeting,
        "prescription": prescription,
        "measure": measure,
    }


def token_for(client, client_id: str, secret: str, scope: str | None = None) -> str:
    """An access token from the token endpoint (client credentials, HTTP Basic)."""
    data = {"grant_type": "client_credentials"}
    if scope is not None:
        data["scope"] = scope
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    response = client.post("/fhir/auth/token", data, HTTP_AUTHORIZATION=f"Basic {basic}")
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


@pytest.fixture
def machine(client):
    """machine(role, teams, scope=None) -> bearer headers for a new client of that role."""

    def make(role: str, teams: list, scope: str | None = None) -> dict:
        api_client, secret = api_client_create(name=f"Test {role}", role=role, teams=teams)
        token = token_for(client, api_client.application.client_id, secret, scope)
        return {"HTTP_AUTHORIZATION": f"Bearer {token}", "HTTP_ACCEPT": FHIR_JSON}

    return make
