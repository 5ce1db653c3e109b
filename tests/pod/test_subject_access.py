"""A subject-access export: everything POD holds about one person, readable and as JSON."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.urls import reverse

from meetings.models import Utterance
from meetings.services.meetings import meeting_schedule
from outcomes.models import OutcomeAssessment
from pod.foundation.audit_models import RecordAccess
from pod.records.subject_access import subject_access_data
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def record(episode, service_user, clinician, referral_at):
    member = f.make_member(service_user, name="Sister Sky", relationship="older sister")
    meeting = meeting_schedule(
        episode=episode,
        scheduled_start=referral_at + timedelta(hours=3),
        scheduled_end=referral_at + timedelta(hours=4),
        location="home",
        staff=[clinician],
        network_members=[member],
        created_by=clinician,
        now=referral_at + timedelta(hours=1),
    )
    voice = meeting.participants.get(kind="service_user")
    Utterance.objects.create(
        meeting=meeting,
        participant=voice,
        words="I want my sister there.",
        position=1,
        recorded_by=clinician,
    )
    OutcomeAssessment.objects.create(
        service_user=service_user,
        timepoint_months=0,
        assessed_on=date(2026, 3, 3),
        symptom_level="moderate",
        relapse=False,
        hospital_bed_days=0,
        disability_benefit=False,
        neuroleptic_use=False,
        work_or_study=True,
        recorded_by=clinician,
    )
    return service_user


def test_it_gathers_the_person_their_network_meetings_words_and_outcomes(record, team):
    other = f.make_service_user(team, given_name="Someone", family_name="Else")
    data = subject_access_data(record)
    text = json.dumps(data)
    assert data["person"]["NHS number"] == record.nhs_number
    titles = {s["title"] for s in data["sections"]}
    assert {
        "Episodes",
        "Network members",
        "Meetings",
        "Utterances",
        "Outcome assessments",
    } <= titles
    assert "I want my sister there." in text and "Sister Sky" in text
    assert other.family_name not in text
    assert "password" not in text.lower()


@pytest.mark.hazard("HAZ-06.C8")
def test_it_gives_the_team_clinician_a_readable_document_and_logs_it(client, clinician, record):
    client.force_login(clinician)
    response = client.get(reverse("security:subject_access", args=[record.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "I want my sister there." in page and "Who has looked at the record" in page
    assert (
        RecordAccess.objects.filter(service_user=record, user=clinician, what="export:html").count()
        == 1
    )


def test_it_gives_json_as_a_download_and_logs_it(client, admin_user, record):
    client.force_login(admin_user)
    response = client.get(reverse("security:subject_access_json", args=[record.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response.json()["person"]["Family name"] == "Rivers"
    assert RecordAccess.objects.filter(service_user=record, what="export:json").exists()


@pytest.mark.hazard("HAZ-06.C8")
@pytest.mark.parametrize("who", ["peer_worker", "peer_volunteer", "manager", "outsider"])
def test_it_refuses_the_export_to_anyone_else(client, request, who, record):
    client.force_login(request.getfixturevalue(who))
    for name in ("security:subject_access", "security:subject_access_json"):
        assert client.get(reverse(name, args=[record.pk])).status_code in (403, 404)
    assert not RecordAccess.objects.filter(what__startswith="export").exists()
