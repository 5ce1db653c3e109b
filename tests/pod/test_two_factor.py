"""A second factor for all staff, the admin included: set-up with a QR code, then verify."""

from __future__ import annotations

import time
from io import StringIO

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.test import RequestFactory
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from pod.foundation.twofactor import PodAdminSite, demo_devices_create, demo_key

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def require_2fa(settings):
    settings.POD_REQUIRE_2FA = True


def _code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():06d}"


@pytest.fixture
def enrolled(clinician):
    return TOTPDevice.objects.create(user=clinician, name="app", confirmed=True)


def test_it_sends_a_signed_in_user_without_an_authenticator_to_set_up(client, clinician):
    client.force_login(clinician)
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url == reverse("security:twofactor_setup") + "?next=%2F"


def test_it_enrols_an_authenticator_with_a_qr_code_and_issues_backup_codes(
    client, clinician, settings
):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # a wrong code otherwise makes the next wait a second
    client.force_login(clinician)
    page = client.get(reverse("security:twofactor_setup"))
    assert page.status_code == 200
    assert 'src="data:image/svg+xml' in page.content.decode()  # drawn here, no outside service
    device = TOTPDevice.objects.get(user=clinician, confirmed=False)

    wrong = client.post(reverse("security:twofactor_setup"), {"token": "000000"})
    assert "did not match" in wrong.content.decode()
    assert not TOTPDevice.objects.filter(user=clinician, confirmed=True).exists()

    done = client.post(reverse("security:twofactor_setup"), {"token": _code(device), "next": "/"})
    assert done.status_code == 200
    assert len(done.context["codes"]) == 10
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(reverse("home")).status_code == 200


@pytest.mark.hazard("HAZ-06.C6")
def test_it_holds_every_page_until_the_code_is_given(client, clinician, enrolled, episode):
    client.force_login(clinician)
    for url in [reverse("home"), reverse("meetings:episode_detail", args=[episode.pk]), "/admin/"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("security:twofactor_verify")), url
    assert client.post(reverse("meetings:episode_close", args=[episode.pk])).status_code == 302


def test_it_refuses_a_wrong_code_at_the_field_and_accepts_the_right_one(
    client, clinician, enrolled, settings
):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    client.force_login(clinician)
    wrong = client.post(reverse("security:twofactor_verify"), {"token": "12345x"})
    assert wrong.status_code == 200
    assert wrong.context["form"].errors["token"]
    assert client.get(reverse("home")).status_code == 302

    right = client.post(
        reverse("security:twofactor_verify"), {"token": _code(enrolled), "next": "/?x=1"}
    )
    assert right.status_code == 302 and right.url == "/?x=1"
    assert client.get(reverse("home")).status_code == 200


def test_it_slows_down_guessing(client, clinician, enrolled):
    client.force_login(clinician)
    client.post(reverse("security:twofactor_verify"), {"token": "000000"})
    # Even the right code is refused straight after a wrong one: guesses cost time.
    assert (
        client.post(reverse("security:twofactor_verify"), {"token": _code(enrolled)}).status_code
        == 200
    )
    enrolled.refresh_from_db()
    assert enrolled.throttling_failure_count == 1


def test_it_never_redirects_off_site_after_the_code(client, clinician, enrolled):
    client.force_login(clinician)
    response = client.post(
        reverse("security:twofactor_verify"),
        {"token": _code(enrolled), "next": "https://evil.example/"},
    )
    assert response.url == reverse("home")


def test_it_accepts_a_backup_code_once(client, clinician, enrolled):
    from pod.foundation.twofactor import backup_codes_replace

    code = backup_codes_replace(clinician)[0]
    client.force_login(clinician)
    assert client.post(reverse("security:twofactor_verify"), {"token": code}).status_code == 302
    assert not StaticToken.objects.filter(token=code).exists()
    client.logout()
    client.force_login(clinician)
    assert client.post(reverse("security:twofactor_verify"), {"token": code}).status_code == 200


def test_it_does_not_let_a_password_alone_enrol_a_second_authenticator(client, clinician, enrolled):
    client.force_login(clinician)
    response = client.get(reverse("security:twofactor_setup"))
    assert response.status_code == 302
    assert response.url == reverse("security:twofactor_verify")


def test_it_lets_an_unverified_session_sign_out(client, clinician, enrolled):
    client.force_login(clinician)
    assert client.post(reverse("logout")).status_code == 302
    assert "_auth_user_id" not in client.session


@pytest.mark.hazard("HAZ-06.C6")
def test_it_requires_the_second_factor_for_the_admin(client, admin_user):
    device = TOTPDevice.objects.create(user=admin_user, name="app", confirmed=True)
    client.force_login(admin_user)
    assert client.get("/admin/").url.startswith(reverse("security:twofactor_verify"))
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    request.user.is_verified = lambda: False
    assert not PodAdminSite().has_permission(request)

    client.post(reverse("security:twofactor_verify"), {"token": _code(device)})
    assert client.get("/admin/").status_code == 200


def test_it_can_be_switched_off_for_development(client, clinician, settings):
    settings.POD_REQUIRE_2FA = False
    client.force_login(clinician)
    assert client.get(reverse("home")).status_code == 200


def test_it_gives_demo_users_a_stable_authenticator_and_prints_its_code(
    client, clinician, settings
):
    settings.DEBUG = True
    assert demo_devices_create([clinician]) == 1
    assert demo_devices_create([clinician]) == 0
    device = TOTPDevice.objects.get(user=clinician, confirmed=True)
    assert device.key == demo_key("clinician")
    out = StringIO()
    call_command("demo_otp", "clinician", stdout=out)
    code = out.getvalue().strip()
    assert code == _code(device)
    client.force_login(clinician)
    assert client.post(reverse("security:twofactor_verify"), {"token": code}).status_code == 302


def test_it_shows_the_demo_code_on_the_sign_in_step_only_in_demo_mode(
    client, clinician, enrolled, settings
):
    settings.DEBUG = True
    demo_devices_create([clinician])
    client.force_login(clinician)
    page = client.get(reverse("security:twofactor_verify")).content.decode()
    demo_device = TOTPDevice.objects.get(user=clinician, name="Demo authenticator")
    assert f"<strong>{_code(demo_device)}</strong>" in page
    settings.DEBUG = False
    page = client.get(reverse("security:twofactor_verify")).content.decode()
    assert "Demo mode" not in page


def test_it_refuses_demo_codes_outside_debug(clinician, settings):
    settings.DEBUG = False
    with pytest.raises(ImproperlyConfigured):
        demo_devices_create([clinician])
    with pytest.raises(CommandError):
        call_command("demo_otp", "clinician")


def test_a_second_demo_sign_in_within_the_step_says_when_the_next_code_comes(
    client, clinician, settings
):
    settings.DEBUG = True
    demo_devices_create([clinician])
    device = TOTPDevice.objects.get(user=clinician, name="Demo authenticator")
    left = device.step - time.time() % device.step
    if left < 6:  # both sign-ins must fall in one 30-second step
        time.sleep(left + 0.5)
    client.force_login(clinician)
    response = client.post(reverse("security:twofactor_verify"), {"token": _code(device)})
    assert response.status_code == 302
    client.logout()
    client.force_login(clinician)
    page = client.get(reverse("security:twofactor_verify")).content.decode()
    assert "already used to sign in" in page
    assert "The next code comes in" in page
    assert f"<strong>{_code(device)}</strong>" not in page
