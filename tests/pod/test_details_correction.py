"""Clinicians correct a person's details with a reason; the reason is kept and it is audited."""

from __future__ import annotations

import pytest
from django.urls import reverse

from networks.models import DetailsCorrection
from pod.foundation.audit_models import AuditEvent
from tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.hazard("HAZ-05.C9")]


def _data(person, **overrides):
    data = {
        "nhs_number": person.nhs_number,
        "given_name": person.given_name,
        "family_name": person.family_name,
        "preferred_name": "",
        "date_of_birth": person.date_of_birth.isoformat(),
        "phone": "",
        "email": "",
        "address": "",
        "postcode": "",
        "reason": "Checked against the GP record.",
    }
    data.update(overrides)
    return data


def test_it_corrects_the_details_keeping_the_reason_and_the_old_values(
    client, clinician, service_user
):
    client.force_login(clinician)
    url = reverse("people:person_correct", args=[service_user.pk])
    response = client.post(url, _data(service_user, family_name="Rivers-Lee"))
    assert response.status_code == 302
    service_user.refresh_from_db()
    assert service_user.family_name == "Rivers-Lee"
    correction = DetailsCorrection.objects.get()
    assert correction.changes == {"family_name": ["Rivers", "Rivers-Lee"]}
    assert correction.reason == "Checked against the GP record."
    assert correction.corrected_by == clinician
    change = AuditEvent.objects.get(table_name="networks_serviceuser", operation="UPDATE")
    assert change.user_id == clinician.pk and change.changed_fields == ["family_name"]
    assert AuditEvent.objects.filter(table_name="networks_detailscorrection").exists()
    page = client.get(reverse("people:person_detail", args=[service_user.pk])).content.decode()
    assert "Checked against the GP record." in page and "Rivers-Lee" in page


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"reason": ""}, "reason", "required"),
        ({"nhs_number": "2222222222"}, "nhs_number", "placeholder"),
        ({"date_of_birth": "2099-01-01"}, "date_of_birth", "future"),
        ({}, None, "Nothing was changed"),
    ],
)
def test_it_refuses_a_correction_without_reason_or_with_a_bad_value(
    client, clinician, service_user, overrides, field, words
):
    client.force_login(clinician)
    url = reverse("people:person_correct", args=[service_user.pk])
    response = client.post(url, _data(service_user, **overrides))
    assert response.status_code == 200
    errors = response.context["form"].errors.get(field or "__all__")
    assert errors and words in errors[0]
    assert not DetailsCorrection.objects.exists()


def test_it_refuses_another_persons_number(client, clinician, team, service_user):
    other = f.make_service_user(team)
    client.force_login(clinician)
    url = reverse("people:person_correct", args=[service_user.pk])
    response = client.post(url, _data(service_user, nhs_number=other.nhs_number))
    assert response.status_code == 200 and "already exists" in str(response.context["form"].errors)
    assert not DetailsCorrection.objects.exists()


@pytest.mark.parametrize("who", ["peer_worker", "manager", "outsider"])
def test_only_the_teams_clinicians_may_correct(client, request, who, service_user):
    client.force_login(request.getfixturevalue(who))
    url = reverse("people:person_correct", args=[service_user.pk])
    assert client.post(url, _data(service_user, family_name="X")).status_code in (403, 404)
    assert not DetailsCorrection.objects.exists()
