"""A search costs a fixed number of queries, whatever it returns: 10 or 100 Patients, 50 or
1,000 Encounters (with their participants, people and places) in one Bundle."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from meetings.models import Meeting, Participant
from tests import factories as f

pytestmark = pytest.mark.django_db

# The token (1), its client and account (1), the rate limit's bucket (1), the COUNT (1), the
# page (1), each _include (1) or prefetch of participants (1), and the access log's INSERT (1).
PATIENT_QUERIES = 7
ENCOUNTER_QUERIES = 9


def _queries(client, headers, path):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, **headers)
    assert response.status_code == 200
    return len(captured), response.json()


def test_a_search_for_100_patients_costs_what_one_for_10_costs(client, machine, team):
    headers = machine("clinician", [team])
    for _ in range(10):
        f.make_service_user(team)
    small, bundle = _queries(
        client, headers, "/fhir/Patient?_count=100&_include=Patient:organization"
    )
    assert len(bundle["entry"]) == 11
    for _ in range(90):
        f.make_service_user(team)
    large, bundle = _queries(
        client, headers, "/fhir/Patient?_count=100&_include=Patient:organization"
    )
    assert len(bundle["entry"]) == 101  # 100 people and their team
    assert small == large == PATIENT_QUERIES


def _meetings(episode, clinician, member, count, start):
    made = Meeting.objects.bulk_create(
        Meeting(
            episode=episode,
            scheduled_start=start + timedelta(hours=i),
            scheduled_end=start + timedelta(hours=i, minutes=50),
            location=("home", "video", "team_base")[i % 3],
        )
        for i in range(count)
    )
    Participant.objects.bulk_create(
        p
        for meeting in made
        for p in (
            Participant(meeting=meeting, kind="service_user"),
            Participant(meeting=meeting, kind="staff", staff=clinician),
            Participant(meeting=meeting, kind="network_member", network_member=member),
        )
    )


def test_a_bundle_of_1000_encounters_costs_what_one_of_50_costs(
    client, machine, team, episode, clinician, referral_at
):
    headers = machine("clinician", [team])
    member = f.make_member(episode.service_user)
    _meetings(episode, clinician, member, 50, referral_at)
    path = (
        "/fhir/Encounter?_count=1000&_include=Encounter:patient&_include=Encounter:episode-of-care"
    )
    small, bundle = _queries(client, headers, path)
    assert bundle["total"] == 50
    _meetings(episode, clinician, member, 950, referral_at + timedelta(days=60))
    large, bundle = _queries(client, headers, path)
    assert bundle["total"] == 1000
    matches = [e for e in bundle["entry"] if e["search"]["mode"] == "match"]
    assert len(matches) == 1000
    assert all(len(e["resource"]["participant"]) == 2 for e in matches)
    assert small == large == ENCOUNTER_QUERIES
