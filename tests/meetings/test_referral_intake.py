"""Referral intake: find the person by NHS number, never a duplicate; start and show the clock."""

from __future__ import annotations

import pytest
from django.urls import reverse

from meetings.models import Episode
from networks.models import ServiceUser
from tests import factories as f

URL = "/episodes/new/"


def _post(client, team, staff, **overrides):
    data = {
        "nhs_number": f.valid_nhs_number(),
        "given_name": "Robin",
        "family_name": "Ashby",
        "date_of_birth": "1999-01-02",
        "team": team.pk,
        "referral_source": "gp",
        "triage_category": "C",
        "reason": "Not sleeping, frightened.",
        "referral_received_at": "2026-03-02T09:00",
        "core_team": [u.pk for u in staff],
    }
    data.update(overrides)
    return client.post(URL, data)


@pytest.mark.hazard("HAZ-01.C5")
def test_it_registers_a_new_person_and_shows_the_running_clock(client, team, clinician, clinician2):
    client.force_login(clinician)
    response = _post(client, team, [clinician, clinician2], referral_received_at=_recent())
    episode = Episode.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("meetings:episode_detail", args=[episode.pk])
    page = client.get(response.url).content.decode()
    assert "The clock is running" in page
    assert "left" in page
    assert episode.service_user.given_name == "Robin"


@pytest.mark.hazard("HAZ-05.C2")
def test_it_uses_the_known_person_for_a_known_nhs_number(
    client, team, clinician, clinician2, service_user
):
    client.force_login(clinician)
    n = service_user.nhs_number
    spaced = f"{n[:3]} {n[3:6]} {n[6:]}"
    response = _post(
        client,
        team,
        [clinician, clinician2],
        nhs_number=spaced,
        given_name="",
        family_name="",
        date_of_birth="",
    )
    assert response.status_code == 302
    assert ServiceUser.objects.count() == 1
    assert Episode.objects.get().service_user == service_user


@pytest.mark.hazard("HAZ-05.C2")
def test_it_refuses_a_person_of_another_team_at_the_nhs_number(
    client, team, other_team, clinician, clinician2
):
    elsewhere = f.make_service_user(other_team)
    client.force_login(clinician)
    response = _post(client, team, [clinician, clinician2], nhs_number=elsewhere.nhs_number)
    assert response.status_code == 200
    assert "known to another team" in response.context["form"].errors["nhs_number"][0]
    assert Episode.objects.count() == 0 and ServiceUser.objects.count() == 1


@pytest.mark.hazard("HAZ-05.C2")
def test_it_refuses_a_second_open_episode(client, team, clinician, clinician2, episode):
    client.force_login(clinician)
    response = _post(
        client,
        team,
        [clinician, clinician2],
        nhs_number=episode.service_user.nhs_number,
        given_name="",
        family_name="",
        date_of_birth="",
    )
    assert "already has an open episode" in response.context["form"].errors["nhs_number"][0]
    assert Episode.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"nhs_number": "1234567890"}, "nhs_number", "valid 10-digit"),
        ({"core_team": "ONE"}, "core_team", "at least two"),
        ({"reason": ""}, "reason", "required"),
        ({"referral_received_at": "not a time"}, "referral_received_at", "Enter a date and time"),
        ({"referral_received_at": "2099-01-01T09:00"}, "referral_received_at", "future"),
        ({"given_name": ""}, "given_name", "new to POD"),
    ],
)
@pytest.mark.hazard("HAZ-07.C4")
def test_it_shows_bad_input_at_the_field_and_saves_nothing(
    client, team, clinician, clinician2, overrides, field, words
):
    client.force_login(clinician)
    if overrides.get("core_team") == "ONE":
        overrides["core_team"] = [clinician.pk]
    response = _post(client, team, [clinician, clinician2], **overrides)
    assert response.status_code == 200
    assert words in " ".join(response.context["form"].errors[field])
    assert Episode.objects.count() == 0 and ServiceUser.objects.count() == 0


def test_it_refuses_a_core_team_from_outside_the_team(client, team, clinician, outsider):
    client.force_login(clinician)
    response = _post(client, team, [clinician, outsider])
    assert response.status_code == 200
    assert "core_team" in response.context["form"].errors
    assert Episode.objects.count() == 0


def test_it_refuses_intake_to_peers(client, peer_worker):
    client.force_login(peer_worker)
    assert client.get(URL).status_code == 403


def _recent():
    from django.utils import timezone

    return timezone.localtime().strftime("%Y-%m-%dT%H:%M")


@pytest.mark.hazard("HAZ-05.C2", "HAZ-06.C3")
def test_it_says_at_once_when_the_nhs_number_is_a_known_person(
    client, clinician, episode, outsider
):
    url = reverse("meetings:person_lookup")
    client.force_login(clinician)
    page = client.post(url, {"nhs_number": episode.service_user.nhs_number}).content.decode()
    assert "Known to your team" in page and "already have an open episode" in page
    page = client.post(url, {"nhs_number": f.valid_nhs_number()}).content.decode()
    assert "Not known to your team" in page
    client.force_login(outsider)  # another team's person is never revealed
    page = client.post(url, {"nhs_number": episode.service_user.nhs_number}).content.decode()
    assert str(episode.service_user) not in page
