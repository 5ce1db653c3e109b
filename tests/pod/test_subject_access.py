"""A subject-access export: everything POD holds about one person, readable and as JSON."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse

from meetings.models import Decision, Participant, Utterance
from meetings.services.meetings import meeting_schedule
from outcomes.models import FidelityRating, OutcomeAssessment
from outcomes.rules import FIDELITY_ELEMENTS
from pod.foundation.audit_models import AuditEvent, RecordAccess
from pod.foundation.rights_models import SubjectAccessInclusion
from pod.records.subject_access import (
    WITHHELD,
    released,
    subject_access_data,
    third_party_items,
)
from tests import factories as f
from tests.outcomes import builders as b

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
        RecordAccess.objects.filter(
            service_user=record, user=clinician, what="export:review"
        ).count()
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


# --- Release: third-party data held back for review -------------------------------------------


@pytest.fixture
def third_parties(record, team, clinician, clinician2):
    f.make_member(
        record,
        name="Neighbour Nell",
        phone="07700 900555",
        email="nell@example.org",
        address="4 Elm Row",
        person_wants_invited=False,
        not_invited_reason="Nell told my mother about my diagnosis",
    )
    episode = record.episodes.get()
    start = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
    meeting = b.meeting(episode, start=start, staff=[clinician, clinician2])
    FidelityRating.objects.create(
        meeting=meeting,
        rater=clinician2,
        rated_at=start + timedelta(hours=2),
        **{field: 2 for field in _fidelity_fields()},
    )
    return record


def _fidelity_fields():
    return [field for field, _label in FIDELITY_ELEMENTS]


@pytest.mark.hazard("HAZ-06.C16")
def test_third_party_data_is_marked_and_left_out_of_the_released_copy(third_parties, clinician2):
    data = subject_access_data(third_parties)
    marked = {(i["label"], str(i["value"])) for i in third_party_items(data)}
    assert {
        ("Phone", "07700 900555"),
        ("Email", "nell@example.org"),
        ("Address", "4 Elm Row"),
        ("Not invited reason", "Nell told my mother about my diagnosis"),
        ("Rater", str(clinician2)),
    } <= marked
    given = released(data)
    copy = json.dumps(given)
    for label, value in marked:
        if label != "Rater":  # staff names appear elsewhere: the core team, attendance
            assert value not in copy
    ratings = next(s for s in given["sections"] if s["title"] == "Fidelity ratings")
    assert ratings["records"][0]["Rater"] == WITHHELD
    assert WITHHELD in copy
    assert "Neighbour Nell" in copy  # the member's name is the person's own network, not withheld
    assert "I want my sister there." in copy  # the person's own words are released


@pytest.mark.hazard("HAZ-06.C16")
def test_a_clinician_includes_an_item_with_a_reason_and_it_is_audited(
    client, clinician, third_parties
):
    client.force_login(clinician)
    review = client.get(reverse("security:subject_access", args=[third_parties.pk]))
    item = next(i for i in review.context["items"] if i["label"] == "Phone")
    url = reverse("security:subject_access_include", args=[third_parties.pk])
    assert client.post(url, {"item": item["item"], "reason": ""}).status_code == 302
    assert not SubjectAccessInclusion.objects.exists()  # no reason, nothing included
    client.post(url, {"item": item["item"], "reason": "Nell agreed in writing."})
    inclusion = SubjectAccessInclusion.objects.get()
    assert (inclusion.reason, inclusion.included_by) == ("Nell agreed in writing.", clinician)
    assert AuditEvent.objects.filter(
        table_name="pod_subjectaccessinclusion", user_id=clinician.pk
    ).exists()
    copy = client.get(reverse("security:subject_access_json", args=[third_parties.pk])).json()
    text = json.dumps(copy)
    assert "07700 900555" in text and "nell@example.org" not in text
    released_page = client.get(reverse("security:subject_access_release", args=[third_parties.pk]))
    assert "07700 900555" in released_page.content.decode()
    assert "4 Elm Row" not in released_page.content.decode()


@pytest.mark.hazard("HAZ-06.C16")
def test_only_marked_items_of_that_person_can_be_included(
    client, clinician, admin_user, team, third_parties
):
    client.force_login(clinician)
    url = reverse("security:subject_access_include", args=[third_parties.pk])
    own = f"networks.serviceuser:{third_parties.pk}:family_name"
    client.post(url, {"item": own, "reason": "Because."})
    other = f.make_member(f.make_service_user(team), phone="01632 960000")
    client.post(url, {"item": f"networks.networkmember:{other.pk}:phone", "reason": "Because."})
    assert not SubjectAccessInclusion.objects.exists()
    client.force_login(admin_user)
    item = third_party_items(subject_access_data(third_parties))[0]["item"]
    assert client.post(url, {"item": item, "reason": "Because."}).status_code == 403


def _grow(record, clinician, clinician2, meetings: int) -> None:
    episode = record.episodes.get()
    member = record.network_members.first()
    start = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)
    for n in range(meetings):
        meeting = b.meeting(
            episode, start=start + timedelta(days=n), members=[(member, True)], staff=[clinician]
        )
        voice = meeting.participants.get(kind="service_user")
        Utterance.objects.create(
            meeting=meeting, participant=voice, words=f"Day {n}", position=1, recorded_by=clinician
        )
        Decision.objects.create(
            meeting=meeting, kind="other", text=f"Decision {n}", recorded_by=clinician
        )
        FidelityRating.objects.create(
            meeting=meeting,
            rater=clinician2,
            rated_at=start + timedelta(days=n, hours=2),
            **{field: 2 for field in _fidelity_fields()},
        )


@pytest.mark.parametrize("meetings", [1, 20])
def test_the_export_costs_the_same_queries_however_big_the_record(
    client, clinician, clinician2, record, meetings, django_assert_max_num_queries
):
    _grow(record, clinician, clinician2, meetings)
    assert Participant.objects.filter(meeting__episode__service_user=record).count() > meetings
    client.force_login(clinician)
    with django_assert_max_num_queries(QUERY_BUDGET):
        assert client.get(reverse("security:subject_access", args=[record.pk])).status_code == 200
    with django_assert_max_num_queries(QUERY_BUDGET):
        response = client.get(reverse("security:subject_access_json", args=[record.pk]))
    assert response.status_code == 200 and f"Day {meetings - 1}" in response.content.decode()


# Measured 31 for the review page and the JSON (sign-in and access log included), at 1 and at 20
# meetings alike, since the export also walks a meeting's changes (MeetingChange), the episode's
# current-medication list and the managers' reviews (one level each); 29 before them. (Before the
# export walked a level at a time: 32 at 1 meeting, 338 at 20.)
QUERY_BUDGET = 32
