"""Error pages that say what happened and what to do next, with the navigation (issue 13,
point 2), with DEBUG off; and the favicon, a static file of our own."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

from tests.browser import PHONE

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"

pytestmark = pytest.mark.django_db


def test_403_and_404_are_styled_with_navigation_and_what_to_do(client, peer_worker, settings):
    settings.DEBUG = False
    client.force_login(peer_worker)
    response = client.get(reverse("meetings:episode_new"))
    page = response.content.decode()
    assert response.status_code == 403
    assert "<title>You cannot open this page · POD</title>" in page
    assert "Your role cannot open this page." in page and "What you can do" in page
    assert 'aria-label="Main"' in page  # the navigation
    response = client.get("/no/such/page/")
    page = response.content.decode()
    assert response.status_code == 404
    assert "Page not found" in page and "What you can do" in page
    assert 'aria-label="Main"' in page


def test_500_is_styled_and_says_what_to_do(settings):
    settings.DEBUG = False
    client = Client(raise_request_exception=False)
    settings.ROOT_URLCONF = "tests.pod.error_urls"
    response = client.get("/boom/")
    page = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in page
    assert "What you can do" in page and 'href="/"' in page


def test_every_page_has_our_own_favicon(client):
    page = client.get(reverse("login")).content.decode()
    assert 'rel="icon" href="/static/img/favicon.svg"' in page
    assert finders.find("img/favicon.svg")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_error_summary_takes_the_focus_and_links_to_the_field(live_server, browser, clinician):
    client = Client()
    client.force_login(clinician)
    context = browser.new_context(**PHONE)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page = context.new_page()
    page.goto(live_server.url + reverse("meetings:episode_new"))
    # The server's summary is under test, not the browser's own checks of required fields.
    page.evaluate("document.querySelectorAll('form').forEach(f => f.noValidate = true)")
    page.get_by_role("button", name="Take the referral").click()
    page.wait_for_selector("[data-error-summary]")
    assert page.evaluate("document.activeElement.hasAttribute('data-error-summary')")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "error-summary-360.png"), full_page=False)
    page.locator("[data-error-summary] a[href='#id_triage_category']").click()
    assert page.evaluate("document.activeElement.id") == "id_triage_category"
    context.close()
