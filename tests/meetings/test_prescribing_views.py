"""Prescribing: "N of 3 network meetings held", prescribers only, refusal says why, and the
override alerts the manager."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from meetings.models import Alert, CurrentMedication, Prescription
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


@pytest.mark.hazard("HAZ-03.C40")
def test_unticking_new_no_longer_skips_the_rule(client, team, clinician, prescriber):
    """The old loophole: "New to this person" unticked made any medicine continuing."""
    episode = recent_episode(team, [clinician, prescriber], hours_ago=30)
    client.force_login(prescriber)
    url = reverse("meetings:prescribe", args=[episode.pk])
    page = client.get(url).content.decode()
    assert "New to this person" not in page
    response = client.post(url, _data(is_new=""))
    assert "0 of 3 network meetings" in response.content.decode()
    assert Prescription.objects.count() == 0


@pytest.mark.hazard("HAZ-03.C40")
def test_a_clinician_lists_current_medication_and_the_prescriber_continues_it(
    client, team, clinician, prescriber
):
    episode = recent_episode(team, [clinician, prescriber], hours_ago=30)
    client.force_login(clinician)
    url = reverse("meetings:current_medication", args=[episode.pk])
    form = client.get(url).context["form"]
    token = form.initial["submission_token"]
    data = {
        "medicine": "Sertraline",
        "dose": "50 mg",
        "source": "gp_record",
        "source_detail": "Summary care record",
        "source_date": timezone.localdate().isoformat(),
        "submission_token": str(token),
    }
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302  # the same form twice: one entry
    entry = CurrentMedication.objects.get()
    assert (entry.medicine, entry.source, entry.recorded_by) == (
        "Sertraline",
        "gp_record",
        clinician,
    )
    fresh = {k: v for k, v in data.items() if k != "submission_token"}
    future = client.post(url, {**fresh, "medicine": "Lithium", "source_date": "2099-01-01"})
    assert "future" in " ".join(future.context["form"].errors["source_date"])
    client.force_login(prescriber)
    prescribe_url = reverse("meetings:prescribe", args=[episode.pk])
    client.post(prescribe_url, _data(continuing=entry.pk, medicine=""))
    prescription = Prescription.objects.get()
    assert (prescription.medicine, prescription.is_new) == ("Sertraline", False)
    assert prescription.current_medication == entry
