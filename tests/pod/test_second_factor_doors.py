"""Second-factor secrets are never shown after enrolment, not even in the admin; replacing or
removing a second factor needs the password and a current code, and the user is emailed."""

from __future__ import annotations

import time
from base64 import b32encode

import pytest
from django.core import mail
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from pod.foundation.twofactor import backup_codes_replace

pytestmark = [pytest.mark.django_db, pytest.mark.hazard("HAZ-06.C14")]
PASSWORD = "pw-for-tests-1234"


@pytest.fixture(autouse=True)
def require_2fa(settings):
    settings.POD_REQUIRE_2FA = True
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def _code(device: TOTPDevice, offset: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + offset
    return f"{totp.token():06d}"


@pytest.fixture
def enrolled(clinician):
    device = TOTPDevice.objects.create(user=clinician, name="app", confirmed=True)
    codes = backup_codes_replace(clinician)
    return device, codes


def _signed_in(client, user, device):
    client.force_login(user)
    response = client.post(reverse("security:twofactor_verify"), {"token": _code(device)})
    assert response.status_code == 302
    device.refresh_from_db()


def _secrets(device, codes) -> list[str]:
    return [device.key, b32encode(device.bin_key).decode(), *codes]


def test_the_admin_never_shows_a_key_a_qr_code_or_a_backup_code(client, admin_user, enrolled):
    device, codes = enrolled
    admin_device = TOTPDevice.objects.create(user=admin_user, name="app", confirmed=True)
    _signed_in(client, admin_user, admin_device)
    static = StaticDevice.objects.get(user=device.user)
    pages = [
        "/admin/otp_totp/totpdevice/",
        f"/admin/otp_totp/totpdevice/{device.pk}/change/",
        "/admin/otp_static/staticdevice/",
        f"/admin/otp_static/staticdevice/{static.pk}/change/",
        f"/admin/otp_totp/totpdevice/?q={device.user.username}",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert not [s for s in _secrets(device, codes) if s in body], url
        assert "qrcode" not in body.lower(), url
    for url in (
        f"/admin/otp_totp/totpdevice/{device.pk}/config/",
        f"/admin/otp_totp/totpdevice/{device.pk}/qrcode/",
    ):
        assert client.get(url).status_code in (302, 404), url  # no such page
    assert client.get("/admin/otp_totp/totpdevice/add/").status_code == 403
    assert client.get("/admin/otp_static/staticdevice/add/").status_code == 403


def test_an_administrator_removing_a_lost_device_emails_its_owner(
    client, admin_user, enrolled, django_capture_on_commit_callbacks
):
    device, _ = enrolled
    admin_device = TOTPDevice.objects.create(user=admin_user, name="app", confirmed=True)
    _signed_in(client, admin_user, admin_device)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    assert [m.to for m in mail.outbox] == [[device.user.email]]
    assert "administrator removed" in mail.outbox[0].subject


def test_the_users_own_page_shows_what_is_set_up_but_no_secret(client, clinician, enrolled):
    device, codes = enrolled
    _signed_in(client, clinician, device)
    body = client.get(reverse("security:twofactor_manage")).content.decode()
    assert "10 unused backup codes" in body
    assert not [s for s in _secrets(device, codes) if s in body]


def test_a_signed_in_session_cannot_replace_the_authenticator_without_proof(
    client, clinician, enrolled
):
    device, _ = enrolled
    _signed_in(client, clinician, device)
    response = client.get(reverse("security:twofactor_setup"))
    assert response.status_code == 302 and response.url == reverse("security:twofactor_manage")
    # Nor by posting a code for a device of its own making.
    client.post(reverse("security:twofactor_setup"), {"token": "123456"})
    assert list(TOTPDevice.objects.filter(user=clinician, confirmed=True)) == [device]


@pytest.mark.parametrize("wrong", ["password", "code"])
def test_a_wrong_password_or_code_changes_nothing(client, clinician, enrolled, wrong):
    device, codes = enrolled
    _signed_in(client, clinician, device)
    data = {
        "action": "remove",
        "password": "not-the-password" if wrong == "password" else PASSWORD,
        "token": "000000" if wrong == "code" else codes[0],
    }
    response = client.post(reverse("security:twofactor_manage"), data)
    assert response.status_code == 200
    assert "Nothing was changed" in response.content.decode()
    assert TOTPDevice.objects.filter(user=clinician, confirmed=True).exists()
    assert StaticToken.objects.filter(device__user=clinician).count() == len(codes)
    assert not mail.outbox


def test_replacing_needs_the_password_and_a_code_and_emails_the_user(
    client, clinician, enrolled, django_capture_on_commit_callbacks
):
    device, codes = enrolled
    _signed_in(client, clinician, device)
    proof = {"action": "replace", "password": PASSWORD, "token": codes[0]}
    response = client.post(reverse("security:twofactor_manage"), proof)
    assert response.status_code == 302 and response.url == reverse("security:twofactor_setup")
    page = client.get(reverse("security:twofactor_setup"))
    assert page.status_code == 200
    new = TOTPDevice.objects.get(user=clinician, confirmed=False)
    assert b32encode(new.bin_key).decode() in page.content.decode()  # shown while enrolling
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(reverse("security:twofactor_setup"), {"token": _code(new)})
    assert done.status_code == 200
    assert list(TOTPDevice.objects.filter(user=clinician)) == [new]
    new.refresh_from_db()
    assert new.confirmed
    assert [m.subject for m in mail.outbox] == ["Your POD authenticator app was replaced"]
    assert mail.outbox[0].to == [clinician.email]


def test_new_backup_codes_are_shown_once_and_emailed(
    client, clinician, enrolled, django_capture_on_commit_callbacks
):
    device, codes = enrolled
    _signed_in(client, clinician, device)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("security:twofactor_manage"),
            {"action": "codes", "password": PASSWORD, "token": _code(device, offset=30)},
        )
    fresh = response.context["codes"]
    assert len(fresh) == 10 and not set(fresh) & set(codes)
    assert [m.subject for m in mail.outbox] == ["New POD backup codes were issued"]
    later = client.get(reverse("security:twofactor_manage")).content.decode()
    assert not [c for c in fresh if c in later]


def test_removing_needs_proof_emails_and_sends_the_user_to_enrol_again(
    client, clinician, enrolled, django_capture_on_commit_callbacks
):
    device, codes = enrolled
    _signed_in(client, clinician, device)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("security:twofactor_manage"),
            {"action": "remove", "password": PASSWORD, "token": codes[1]},
        )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=clinician).exists()
    assert not StaticDevice.objects.filter(user=clinician).exists()
    assert [m.subject for m in mail.outbox] == ["Your POD second factor was removed"]
    home = client.get(reverse("home"))
    assert home.status_code == 302 and home.url.startswith(reverse("security:twofactor_setup"))
