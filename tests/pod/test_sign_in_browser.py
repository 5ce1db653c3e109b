"""Signing in as a member of staff in Chromium at 360 px: password, then the authenticator code,
under the real Content Security Policy (a blocked script would fail the page)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.conf import settings
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    yield context.new_page()
    context.close()


def test_it_signs_in_with_password_then_code_and_out_again(live_server, page, clinician, settings):
    settings.POD_REQUIRE_2FA = True
    settings.AXES_ENABLED = True
    device = TOTPDevice.objects.create(user=clinician, name="app", confirmed=True)
    csp_errors = []
    page.on(
        "console", lambda m: csp_errors.append(m.text) if "Content Security" in m.text else None
    )

    page.goto(live_server.url + "/")
    page.get_by_label("Username").fill("clinician")
    page.get_by_label("Password").fill("pw-for-tests-1234")
    with page.expect_navigation(url="**/security/two-factor/verify/**"):
        page.get_by_role("button", name="Sign in").click()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    page.get_by_label("Code").fill(f"{totp.token():06d}")
    with page.expect_navigation(url=live_server.url + "/"):
        page.get_by_role("button", name="Continue").click()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "pod-signed-in-360.png"), full_page=True)
    assert page.get_by_role("heading", name="Welcome, Chris").is_visible()
    assert not csp_errors, csp_errors

    # At 360 px the menu is collapsed. Wait for Bootstrap's opening animation to finish (the
    # `show` class): a click mid-animation can land while the button is still clipped and be lost.
    page.get_by_role("button", name="Toggle navigation").click()
    page.locator("#nav.show").wait_for()
    with page.expect_navigation(url="**/accounts/login/**"):
        page.get_by_role("button", name="Sign out").click()
    page.goto(live_server.url + "/")
    assert "/accounts/login/" in page.url
