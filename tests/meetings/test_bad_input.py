"""Bad input gets a clear message and saves nothing; the database constraints back the forms."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from meetings.models import Episode, Meeting
from meetings.services.episodes import episode_open
from meetings.services.meetings import meeting_schedule
from networks.models import ServiceUser
from tests import factories as f


@pytest.mark.hazard("HAZ-05.C1")
def test_an_invalid_nhs_number_is_refused_with_a_clear_message(team):
    person = ServiceUser(
        nhs_number="9434765918",
        given_name="A",
        family_name="B",
        date_of_birth="1990-01-01",
        team=team,
    )
    with pytest.raises(ValidationError) as exc:
        person.full_clean()
    assert "valid 10-digit NHS number" in exc.value.message_dict["nhs_number"][0]


@pytest.mark.hazard("HAZ-05.C1")
def test_the_database_refuses_an_nhs_number_that_is_not_ten_digits(team):
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceUser.objects.create(
            nhs_number="12345",
            given_name="A",
            family_name="B",
            date_of_birth="1990-01-01",
            team=team,
        )


def test_an_unknown_triage_code_is_refused_and_nothing_saved(
    team, clinician, clinician2, referral_at
):
    with pytest.raises(ValidationError) as exc:
        f.make_episode(
            team=team,
            core_team=[clinician, clinician2],
            referral_received_at=referral_at,
            triage_category="Z",
        )
    assert "triage_category" in exc.value.message_dict
    assert not Episode.objects.exists()


def test_a_core_team_needs_two_staff_of_the_team(team, clinician, outsider, referral_at):
    with pytest.raises(ValidationError) as exc:
        f.make_episode(team=team, core_team=[clinician], referral_received_at=referral_at)
    assert "at least two" in exc.value.message_dict["core_team"][0]
    with pytest.raises(ValidationError) as exc:
        f.make_episode(team=team, core_team=[clinician, outsider], referral_received_at=referral_at)
    assert "members of the team" in " ".join(exc.value.message_dict["core_team"])
    assert not Episode.objects.exists()


@pytest.mark.hazard("HAZ-04.C2")
def test_a_meeting_ending_before_it_starts_is_refused(episode, clinician, clinician2, referral_at):
    start = referral_at + timedelta(hours=5)
    with pytest.raises(ValidationError) as exc:
        meeting_schedule(
            episode=episode,
            scheduled_start=start,
            scheduled_end=start - timedelta(minutes=1),
            location="home",
            staff=[clinician, clinician2],
            created_by=clinician,
            now=referral_at,
        )
    assert "end after it starts" in exc.value.message_dict["scheduled_end"][0]
    assert not Meeting.objects.exists()


@pytest.mark.hazard("HAZ-04.C2")
def test_the_database_refuses_a_meeting_ending_before_it_starts(episode, referral_at):
    with pytest.raises(IntegrityError), transaction.atomic():
        Meeting.objects.create(
            episode=episode,
            scheduled_start=referral_at,
            scheduled_end=referral_at - timedelta(hours=1),
            location="home",
        )


@pytest.mark.hazard("HAZ-05.C2")
def test_a_person_cannot_have_two_open_episodes(episode, team, clinician, clinician2, referral_at):
    with pytest.raises(ValidationError):
        episode_open(
            service_user=episode.service_user,
            team=team,
            referral_received_at=referral_at,
            referral_source="gp",
            triage_category="C",
            reason="again",
            core_team=[clinician, clinician2],
            created_by=clinician,
            now=referral_at,
        )
    assert Episode.objects.count() == 1
