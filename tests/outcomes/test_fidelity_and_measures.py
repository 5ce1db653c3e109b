"""Fidelity ratings by the staff present; measures entered and scored; follow-up pages."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from outcomes.models import FidelityRating, LicensedMeasure, OutcomeAssessment, ScoredMeasure
from outcomes.rules import FIDELITY_ELEMENTS
from tests.outcomes import builders as b

SCORES = {name: 2 for name, _label in FIDELITY_ELEMENTS}


def _held_meeting(team, clinician, clinician2, prescriber):
    start = timezone.now() - timedelta(days=1)
    ep = b.episode(
        team, referral=start - timedelta(hours=2), held_after_hours=2, core=[clinician, clinician2]
    )
    return b.meeting(ep, start=start, staff=[clinician], absent_staff=[prescriber])


def test_staff_present_rate_a_meeting_once(client, team, clinician, clinician2, prescriber):
    meeting = _held_meeting(team, clinician, clinician2, prescriber)
    client.force_login(clinician)
    url = reverse("outcomes:meeting_fidelity", args=[meeting.pk])
    assert client.post(url, SCORES).status_code == 302
    again = client.post(url, SCORES)
    assert again.status_code == 200
    assert "already rated" in str(again.context["form"].non_field_errors())
    assert FidelityRating.objects.count() == 1


def test_staff_not_present_cannot_rate(client, team, clinician, clinician2, prescriber, outsider):
    meeting = _held_meeting(team, clinician, clinician2, prescriber)
    url = reverse("outcomes:meeting_fidelity", args=[meeting.pk])
    for user in (prescriber, clinician2, outsider):  # absent, not invited, other team
        client.force_login(user)
        assert client.post(url, SCORES).status_code == 404
    assert FidelityRating.objects.count() == 0


def test_the_team_sees_its_fidelity_profile_and_others_do_not(
    client, team, clinician, clinician2, prescriber, outsider
):
    meeting = _held_meeting(team, clinician, clinician2, prescriber)
    FidelityRating.objects.create(
        meeting=meeting, rater=clinician, rated_at=timezone.now(), **SCORES
    )
    client.force_login(clinician2)
    page = client.get(reverse("outcomes:team_fidelity", args=[team.pk]))
    assert page.status_code == 200 and b"Transparency" in page.content
    client.force_login(outsider)
    assert client.get(reverse("outcomes:team_fidelity", args=[team.pk])).status_code == 404


@pytest.mark.hazard("HAZ-11.C2")
def test_a_clinician_records_a_phq9_and_sees_it_scored(client, clinician, service_user):
    client.force_login(clinician)
    url = reverse("outcomes:scored_measure_new", args=[service_user.pk, "PHQ9"])
    data = {
        "completed_on": timezone.now().date().isoformat(),
        **{f"item_{i}": v for i, v in enumerate([2, 2, 2, 1, 1, 1, 1, 0, 0], start=1)},
    }
    response = client.post(url, data, follow=True)
    measure = ScoredMeasure.objects.get()
    assert (measure.total, measure.band) == (10, "moderate")
    assert b"moderate" in response.content and b"<svg" in response.content


@pytest.mark.hazard("HAZ-11.C2")
def test_a_bad_measure_is_shown_at_the_field_and_not_saved(client, clinician, service_user):
    client.force_login(clinician)
    url = reverse("outcomes:scored_measure_new", args=[service_user.pk, "GAD7"])
    future = (timezone.now() + timedelta(days=3)).date().isoformat()
    page = client.post(url, {"completed_on": future, **{f"item_{i}": 1 for i in range(1, 8)}})
    assert page.status_code == 200 and page.context["form"].errors["completed_on"]
    lic = client.post(
        reverse("outcomes:licensed_measure_new", args=[service_user.pk]),
        {"name": "WEMWBS", "completed_on": "2026-01-05", "score": "80"},
    )
    assert lic.context["form"].errors["score"]
    assert not ScoredMeasure.objects.exists() and not LicensedMeasure.objects.exists()


@pytest.mark.hazard("HAZ-11.C4")
def test_a_second_assessment_at_a_time_point_is_refused_at_the_field(
    client, clinician, service_user
):
    client.force_login(clinician)
    url = reverse("outcomes:assessment_new", args=[service_user.pk])
    data = {
        "timepoint_months": 0,
        "assessed_on": "2026-01-05",
        "symptom_level": "mild",
        "hospital_bed_days": 0,
    }
    assert client.post(url, data).status_code == 302
    page = client.post(url, data)
    assert page.context["form"].errors["timepoint_months"]
    assert OutcomeAssessment.objects.count() == 1


@pytest.mark.hazard("HAZ-06.C3")
def test_another_teams_clinician_cannot_open_a_persons_measures(
    client, outsider, service_user, manager
):
    client.force_login(outsider)
    assert (
        client.get(reverse("outcomes:person_measures", args=[service_user.pk])).status_code == 404
    )
    client.force_login(manager)  # managers never open a person's clinical record
    assert (
        client.get(reverse("outcomes:person_measures", args=[service_user.pk])).status_code == 403
    )


def test_the_follow_up_list_is_for_the_team(client, clinician, outsider, team, service_user):
    b.episode(
        team, referral=timezone.now() - timedelta(days=370), held_after_hours=2, person=service_user
    )
    client.force_login(clinician)
    page = client.get(reverse("outcomes:team_follow_up", args=[team.pk]))
    assert page.status_code == 200 and b"Overdue" in page.content
    client.force_login(outsider)
    assert client.get(reverse("outcomes:team_follow_up", args=[team.pk])).status_code == 404
