"""Prescribing: "N of 3 network meetings held", prescribers only, refusal says why, and the
override alerts the manager."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from meetings.models import Alert, Prescription
from pod.foundation.models import Notification
from tests.meetings.helpers import held_meeting, recent_episode


def _data(**kw):
    return {
        "medicine": "Olanzapine",
        "dose": "5 mg at night",
        "is_new": "on",
        "is_antipsychotic": "on",
        "prescribed_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        **kw,
    }


@pytest.mark.hazard("HAZ-03.C2")
def test_it_forbids_non_prescribers(client, team, clinician, clinician2):
    episode = recent_episode(team, [clinician, clinician2])
    client.force_login(clinician)
    url = reverse("meetings:prescribe", args=[episode.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, _data()).status_code == 403
    assert Prescription.objects.count() == 0


@pytest.mark.hazard("HAZ-03.C2")
def test_it_allows_a_new_medicine_after_three_meetings(client, team, clinician, prescriber):
    episode = recent_episode(team, [clinician, prescriber], hours_ago=50)
    for h in (2, 20, 40):
        held_meeting(episode, [clinician, prescriber], hours_after_referral=h)
    client.force_login(prescriber)
    url = reverse("meetings:prescribe", args=[episode.pk])
    assert "3 of 3 network meetings held" in client.get(url).content.decode()
    client.post(url, _data())
    assert Prescription.objects.get().meetings_held_before == 3


@pytest.mark.hazard("HAZ-03.C3")
def test_it_refuses_with_the_reason_and_offers_the_override(
    client, team, clinician, prescriber, manager, django_capture_on_commit_callbacks
):
    episode = recent_episode(team, [clinician, prescriber], hours_ago=30)
    for h in (2, 20):
        held_meeting(episode, [clinician, prescriber], hours_after_referral=h)
    client.force_login(prescriber)
    url = reverse("meetings:prescribe", args=[episode.pk])
    response = client.post(url, _data())
    page = response.content.decode()
    assert "2 of 3 network meetings" in page and "rapid-response override" in page
    assert Prescription.objects.count() == 0
    response = client.post(url, _data(rapid_response="on", override_explanation=""))
    assert "written explanation" in " ".join(
        response.context["form"].errors["override_explanation"]
    )
    assert Prescription.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, _data(rapid_response="on", override_explanation="Not eaten for 4 days"))
    prescription = Prescription.objects.get()
    assert prescription.override_reason == "rapid_response"
    alert = Alert.objects.get(kind=Alert.Kind.MEDICATION_OVERRIDE)
    assert Notification.objects.filter(alert=alert, user=manager).exists()
