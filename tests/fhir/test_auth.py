"""Who may call the API: OAuth 2.0 client credentials for machines, the web session with its
second factor for staff; bad tokens, CSRF, and accounts that can never sign in to the pages."""

from __future__ import annotations

import time
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from oauth2_provider.models import AccessToken

from pod.fhir.clients import api_client_create
from tests.fhir.conftest import FHIR_JSON, token_for

pytestmark = [pytest.mark.django_db, pytest.mark.hazard("HAZ-06.C12")]


def _outcome_401(response):
    assert response.status_code == 401
    assert response.json()["resourceType"] == "OperationOutcome"


def test_a_client_gets_a_token_with_its_secret_and_reads_with_it(client, team, service_user):
    api_client, secret = api_client_create(name="EPR", role="clinician", teams=[team])
    token = token_for(client, api_client.application.client_id, secret)
    response = client.get("/fhir/Patient", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200 and response.json()["total"] == 1


def test_a_wrong_secret_gets_no_token(client, team):
    api_client, _secret = api_client_create(name="EPR", role="clinician", teams=[team])
    with pytest.raises(AssertionError, match="invalid_client"):
        token_for(client, api_client.application.client_id, "not-the-secret")


def test_unknown_expired_and_revoked_tokens_and_switched_off_clients_are_refused(
    client, team, machine
):
    _outcome_401(client.get("/fhir/Patient", HTTP_AUTHORIZATION="Bearer made-up"))
    headers = machine("clinician", [team])
    assert client.get("/fhir/Patient", **headers).status_code == 200
    AccessToken.objects.update(expires=timezone.now() - timedelta(seconds=1))
    _outcome_401(client.get("/fhir/Patient", **headers))
    headers = machine("clinician", [team])
    AccessToken.objects.all().delete()
    _outcome_401(client.get("/fhir/Patient", **headers))
    api_client, secret = api_client_create(name="EPR", role="clinician", teams=[team])
    token = token_for(client, api_client.application.client_id, secret)
    api_client.account.is_active = False
    api_client.account.save()
    _outcome_401(client.get("/fhir/Patient", HTTP_AUTHORIZATION=f"Bearer {token}"))


def test_a_token_in_the_query_string_is_not_accepted(client, team, machine):
    token = machine("clinician", [team])["HTTP_AUTHORIZATION"].split()[1]
    _outcome_401(client.get(f"/fhir/Patient?access_token={token}"))


def test_a_staff_session_needs_the_second_factor_and_gets_a_401_not_a_redirect(
    client, settings, clinician, service_user
):
    settings.POD_REQUIRE_2FA = True
    client.force_login(clinician)
    _outcome_401(client.get("/fhir/Patient", HTTP_ACCEPT=FHIR_JSON))
    device = TOTPDevice.objects.create(user=clinician, name="app", confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    client.post(reverse("security:twofactor_verify"), {"token": f"{totp.token():06d}"})
    response = client.get("/fhir/Patient", HTTP_ACCEPT=FHIR_JSON)
    assert response.status_code == 200 and response.json()["total"] == 1


def test_a_session_post_needs_its_csrf_token_and_a_bearer_token_needs_none(
    clinician, team, machine, service_user
):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(clinician)
    body = urlencode({"_id": str(service_user.pk)})
    form = "application/x-www-form-urlencoded"
    refused = browser.post("/fhir/Patient/_search", body, content_type=form)
    assert refused.status_code == 403 and refused.json()["resourceType"] == "OperationOutcome"
    browser.get(reverse("home"))
    csrf = browser.cookies["csrftoken"].value
    accepted = browser.post("/fhir/Patient/_search", body, content_type=form, HTTP_X_CSRFTOKEN=csrf)
    assert accepted.status_code == 200 and accepted.json()["total"] == 1
    machine_client = Client(enforce_csrf_checks=True)
    headers = machine("clinician", [team])
    response = machine_client.post("/fhir/Patient/_search", body, content_type=form, **headers)
    assert response.status_code == 200 and response.json()["total"] == 1


def test_a_client_account_can_never_sign_in_to_the_pages(client, team):
    api_client, secret = api_client_create(name="EPR", role="clinician", teams=[team])
    assert not api_client.account.has_usable_password()
    assert not client.login(username=api_client.account.username, password=secret)
    assert not client.login(username=api_client.account.username, password="")


@pytest.mark.parametrize("role", ["peer_worker", "peer_volunteer", "prescriber", "nobody"])
def test_a_client_cannot_act_as_a_peer_or_prescribe(team, role):
    with pytest.raises(ValidationError):
        api_client_create(name="X", role=role, teams=[team])


def test_a_client_needs_a_team(team):
    with pytest.raises(ValidationError):
        api_client_create(name="X", role="clinician", teams=[])


def test_expired_tokens_are_deleted_by_the_daily_task(team, machine):
    from pod.fhir.tasks import forget_expired_tokens

    machine("clinician", [team])
    fresh = machine("clinician", [team])["HTTP_AUTHORIZATION"]
    assert AccessToken.objects.count() == 2
    AccessToken.objects.exclude(pk=AccessToken.objects.order_by("-pk").first().pk).update(
        expires=timezone.now() - timedelta(days=1)
    )
    forget_expired_tokens()
    assert AccessToken.objects.count() == 1 and fresh
