"""Issue 10, point 3: each example of an implausible time, at the form and at the service.

Forms answer with the form again and a field error (never a 500); services raise ValidationError
mapped to the field, so an import or another caller cannot go round the form.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from meetings.models import Episode, Meeting
from meetings.rules import ClockPolicy, clock_time_left
from meetings.services import episodes as episode_services
from meetings.services.meetings import meeting_record_held, meeting_schedule
from networks.models import PeerAssignment, PeerContact
from networks.peer_services import peer_contact_log
from networks.services import service_user_correct
from outcomes.models import ScoredMeasure
from outcomes.services import outcome_assessment_record, scored_measure_record
from tests import factories as f

pytestmark = pytest.mark.django_db


def _signed_in(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def _field_error(response, field: str) -> str:
    assert response.status_code == 200, response.status_code
    form = response.context["form"]
    assert field in form.errors, form.errors
    return " ".join(form.errors[field])


def _referral_post(team, clinician, clinician2, **overrides) -> dict[str, object]:
    return {
        "nhs_number": f.valid_nhs_number(),
        "given_name": "Alex",
        "family_name": "Moss",
        "date_of_birth": "1990-04-01",
        "team": team.pk,
        "referral_source": Episode.Source.choices[0][0],
        "triage_category": Episode.TriageCategory.choices[0][0],
        "reason": "Hearing voices",
        "referral_received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "core_team": [clinician.pk, clinician2.pk],
        **overrides,
    }


# --- Referral received ---------------------------------------------------------------------


@pytest.mark.hazard("HAZ-11.C52")
def test_a_referral_received_in_1900_is_refused_at_the_field(team, clinician, clinician2):
    response = _signed_in(clinician).post(
        "/episodes/new/",
        _referral_post(team, clinician, clinician2, referral_received_at="1900-01-01T09:00"),
    )
    # The person was born in 1990: a referral in 1900 precedes their birth.
    assert "date of birth" in _field_error(response, "referral_received_at")
    assert not Episode.objects.exists()
    response = _signed_in(clinician).post(
        "/episodes/new/",
        _referral_post(team, clinician, clinician2, referral_received_at="1899-12-31T09:00"),
    )
    assert "before 1900" in _field_error(response, "referral_received_at")
    assert not Episode.objects.exists()


@pytest.mark.hazard("HAZ-11.C52")
def test_the_service_refuses_a_referral_before_1900_or_before_the_birth(
    team, clinician, clinician2, service_user
):
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    for received in (
        datetime(1899, 6, 1, 9, 0, tzinfo=UTC),
        datetime.combine(service_user.date_of_birth, datetime.min.time(), UTC) - timedelta(days=1),
        now + timedelta(hours=1),
    ):
        with pytest.raises(ValidationError) as error:
            episode_services.episode_open(
                service_user=service_user,
                team=team,
                referral_received_at=received,
                referral_source="gp",
                triage_category="C",
                reason="x",
                core_team=[clinician, clinician2],
                created_by=clinician,
                now=now,
            )
        assert "referral_received_at" in error.value.message_dict
    assert not Episode.objects.exists()


def test_the_overdue_text_cannot_show_a_century_of_hours(team, clinician, clinician2):
    # The home page said "Overdue by 1112491 h" for a referral "received" in 1900: such a
    # referral is now refused, so no clock can run from it.
    response = _signed_in(clinician).post(
        "/episodes/new/",
        _referral_post(team, clinician, clinician2, referral_received_at="1900-01-01T00:00"),
    )
    assert response.status_code == 200
    assert not Episode.objects.exists()
    assert "1112491" not in _signed_in(clinician).get("/").content.decode()


# --- Date of birth -------------------------------------------------------------------------


@pytest.mark.hazard("HAZ-11.C52")
def test_a_date_of_birth_in_2090_is_refused_at_the_field(team, clinician, clinician2):
    response = _signed_in(clinician).post(
        "/episodes/new/", _referral_post(team, clinician, clinician2, date_of_birth="2090-01-01")
    )
    assert "future" in _field_error(response, "date_of_birth")
    assert not Episode.objects.exists()


@pytest.mark.hazard("HAZ-11.C52")
def test_the_service_refuses_a_birth_after_the_referral_or_the_record(
    team, clinician, episode, service_user
):
    referral_day = episode.referral_received_at.date()
    with pytest.raises(ValidationError) as error:
        episode_services.service_user_find_or_create(
            team=team,
            nhs_number=f.valid_nhs_number(),
            person_fields={
                "given_name": "A",
                "family_name": "B",
                "date_of_birth": referral_day + timedelta(days=1),
            },
            today=referral_day + timedelta(days=30),
            first_event=referral_day,
        )
    assert "date_of_birth" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        service_user_correct(
            person=service_user,
            changes={"date_of_birth": referral_day + timedelta(days=2)},
            reason="Typed wrongly",
            corrected_by=clinician,
            today=referral_day + timedelta(days=30),
        )
    assert "after events already on the person's record" in str(error.value)


# --- Meetings ------------------------------------------------------------------------------


def _meeting(episode, clinician, start) -> Meeting:
    return meeting_schedule(
        episode=episode,
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=1),
        location="home",
        staff=[clinician],
        created_by=clinician,
        now=start - timedelta(hours=1),
    )


@pytest.mark.hazard("HAZ-01.C51")
@pytest.mark.parametrize("end", ["2099-01-01T10:00", "9999-12-31T23:30", "9999-12-31T23:59"])
def test_a_held_meeting_cannot_end_in_the_future(client, episode, clinician, referral_at, end):
    meeting = _meeting(episode, clinician, referral_at + timedelta(hours=2))
    response = _signed_in(clinician).post(
        f"/episodes/{episode.pk}/meetings/{meeting.pk}/held/",
        {"actual_start": "2026-03-02T11:00", "actual_end": end},
    )
    assert "future" in _field_error(response, "actual_end")
    meeting.refresh_from_db()
    episode.refresh_from_db()
    assert meeting.status == Meeting.Status.SCHEDULED
    assert episode.first_meeting_held_at is None


@pytest.mark.hazard("HAZ-01.C51")
@pytest.mark.parametrize(
    ("start_after", "length", "field"),
    [
        (timedelta(hours=2), timedelta(days=365 * 73), "actual_end"),  # ends in 2099
        (timedelta(hours=2), timedelta(hours=30), "actual_end"),  # over a day long
        (timedelta(days=400), timedelta(hours=1), "actual_start"),  # held in the future
        (-timedelta(hours=2), timedelta(hours=1), "actual_start"),  # before the referral
    ],
)
def test_implausible_held_times_cannot_stop_the_clock(
    episode, clinician, referral_at, start_after, length, field
):
    meeting = _meeting(episode, clinician, referral_at + timedelta(hours=2))
    start = referral_at + start_after
    with pytest.raises(ValidationError) as error:
        meeting_record_held(
            meeting=meeting,
            actual_start=start,
            actual_end=start + length,
            attended={},
            recorded_by=clinician,
            now=referral_at + timedelta(hours=5),
        )
    assert field in error.value.message_dict
    episode.refresh_from_db()
    assert episode.first_meeting_held_at is None


@pytest.mark.parametrize("start", ["9999-12-31T23:30", "9999-12-31T23:59", "0001-01-01T00:00"])
def test_a_meeting_starting_in_9999_is_a_field_error_not_a_500(episode, clinician, start):
    client = _signed_in(clinician)
    response = client.post(
        f"/episodes/{episode.pk}/meetings/new/",
        {
            "scheduled_start": start,
            "duration_minutes": 60,
            "location": "home",
            "staff": [clinician.pk],
        },
    )
    _field_error(response, "scheduled_start")
    response = client.post(
        f"/episodes/{episode.pk}/meetings/daily/",
        {
            "scheduled_start": start,
            "duration_minutes": 60,
            "days": 3,
            "location": "home",
            "staff": [clinician.pk],
        },
    )
    _field_error(response, "scheduled_start")
    assert not Meeting.objects.exists()


def test_the_service_refuses_an_appointment_beyond_the_horizon(episode, clinician):
    now = timezone.now()
    for start in (now + timedelta(days=800), datetime(9999, 12, 31, 22, 0, tzinfo=UTC)):
        with pytest.raises(ValidationError) as error:
            meeting_schedule(
                episode=episode,
                scheduled_start=start,
                scheduled_end=start + timedelta(hours=1),
                location="home",
                staff=[clinician],
                created_by=clinician,
                now=now,
            )
        assert "scheduled_start" in error.value.message_dict
    assert not Meeting.objects.exists()


# --- Peer contacts, measures ---------------------------------------------------------------


@pytest.mark.hazard("HAZ-11.C52")
def test_a_peer_contact_in_1900_is_refused_at_the_field_and_the_service(
    service_user, peer_worker, clinician
):
    PeerAssignment.objects.create(
        service_user=service_user,
        peer=peer_worker,
        assigned_by=clinician,
        assigned_at=timezone.now(),
    )
    response = _signed_in(peer_worker).post(
        f"/network/peer/people/{service_user.pk}/contacts/add/",
        {
            "who": ["person"],
            "mode": "phone",
            "contact_at": "1900-01-01T10:00",
            "duration_minutes": 10,
            "purpose": "support",
        },
    )
    assert response.status_code == 200
    assert not PeerContact.objects.exists()
    with pytest.raises(ValidationError) as error:
        peer_contact_log(
            service_user=service_user,
            peer=peer_worker,
            members=[],
            with_service_user=True,
            contact_at=datetime(1900, 1, 1, 10, 0, tzinfo=UTC),
            mode="phone",
            duration_minutes=10,
            purpose="support",
            now=timezone.now(),
        )
    assert "contact_at" in error.value.message_dict
    assert not PeerContact.objects.exists()


@pytest.mark.hazard("HAZ-11.C52")
def test_a_phq9_dated_0001_01_01_is_refused_at_the_field_and_the_service(service_user, clinician):
    items = {f"item_{i}": "1" for i in range(1, 10)}
    response = _signed_in(clinician).post(
        f"/outcomes/people/{service_user.pk}/measures/PHQ9/new/",
        {"completed_on": "0001-01-01", **items},
    )
    assert "before 1900" in _field_error(response, "completed_on")
    for day in (date(1, 1, 1), service_user.date_of_birth - timedelta(days=1)):
        with pytest.raises(ValidationError) as error:
            scored_measure_record(
                service_user=service_user,
                instrument="PHQ9",
                item_scores=[1] * 9,
                completed_on=day,
                recorded_by=clinician,
                now=timezone.now(),
            )
        assert "completed_on" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        outcome_assessment_record(
            service_user=service_user,
            recorded_by=clinician,
            now=timezone.now(),
            timepoint_months=0,
            assessed_on=date(1, 1, 1),
            symptom_level="mild",
            relapse=False,
            hospital_bed_days=0,
            disability_benefit=False,
            neuroleptic_use=False,
            work_or_study=False,
        )
    assert "assessed_on" in error.value.message_dict
    assert not ScoredMeasure.objects.exists()


# --- Query strings, sign-in ----------------------------------------------------------------


@pytest.mark.parametrize("year", ["9999", "0001"])
def test_a_dashboard_period_in_year_9999_is_a_field_error_and_its_csv_a_400(manager, year):
    client = _signed_in(manager)
    query = {"start": f"{year}-01-01", "end": f"{year}-12-31"}
    response = client.get("/outcomes/dashboard/", query)
    assert response.status_code == 200
    assert response.context["form"].errors
    response = client.get("/outcomes/dashboard/first_meeting.csv", query)
    assert response.status_code in (400, 404), response.status_code


def test_the_network_map_at_9999_12_31_says_the_date_was_not_understood(
    clinician, service_user, episode
):
    response = _signed_in(clinician).get(
        f"/network/people/{service_user.pk}/map/", {"at": "9999-12-31"}
    )
    assert response.status_code == 200
    assert "not understood" in response.content.decode()


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/"])
@pytest.mark.parametrize("length", [256, 10_000])
def test_an_anonymous_sign_in_with_a_long_username_is_refused_not_a_500(db, path, length):
    response = Client(raise_request_exception=False).post(
        path, {"username": "a" * length, "password": "x"}
    )
    assert response.status_code in (200, 403, 429), response.status_code


# --- The autumn clock change -------------------------------------------------------------


@pytest.mark.hazard("HAZ-08.C50")
@pytest.mark.parametrize(
    ("fold", "instant"),
    [
        ("0", datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),  # BST: UTC+1
        ("1", datetime(2026, 10, 25, 1, 30, tzinfo=UTC)),  # GMT: UTC+0
    ],
)
def test_a_referral_at_0130_on_25_october_2026_is_stored_as_the_one_chosen(
    team, clinician, clinician2, fold, instant
):
    client = _signed_in(clinician)
    data = _referral_post(team, clinician, clinician2, referral_received_at="2026-10-25T01:30")
    asked = client.post("/episodes/new/", data)
    assert "happened twice" in _field_error(asked, "referral_received_at")
    assert 'name="referral_received_at_fold"' in asked.content.decode()
    assert not Episode.objects.exists()
    response = client.post("/episodes/new/", {**data, "referral_received_at_fold": fold})
    assert response.status_code == 302, response.context["form"].errors
    episode = Episode.objects.get()
    assert episode.referral_received_at == instant
    # The 24-hour clock runs from the instant chosen: BST's 01:30 is due an hour earlier.
    assert episode.first_meeting_due_at == instant + settings.POD_FIRST_MEETING_WINDOW


def test_a_referral_in_the_spring_gap_is_refused_with_the_reason(team, clinician, clinician2):
    response = _signed_in(clinician).post(
        "/episodes/new/",
        _referral_post(team, clinician, clinician2, referral_received_at="2026-03-29T01:30"),
    )
    assert "did not happen" in _field_error(response, "referral_received_at")
    assert not Episode.objects.exists()


def test_a_long_overdue_clock_reads_in_days():
    due = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    policy = ClockPolicy(
        window=timedelta(hours=24),
        unscheduled_after=timedelta(hours=4),
        at_risk_lead=timedelta(hours=4),
    )
    words = clock_time_left
    assert words(first_meeting_due_at=due, policy=policy, now=due + timedelta(hours=5)) == (
        "danger",
        "Overdue by 5 h 00 min",
    )
    assert words(first_meeting_due_at=due, policy=policy, now=due + timedelta(days=3, hours=4)) == (
        "danger",
        "Overdue by 3 days 4 h",
    )
