"""The dashboard and the person's survey page in Chromium at 360 px, checked with axe-core."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from outcomes import services
from tests.outcomes import builders as b
from tests.outcomes.test_relapse_page import relapse_trial

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    yield context.new_page()
    context.close()


def _serious_axe_violations(page, name: str) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{name}: {v['id']} ({v['impact']}) {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_the_dashboard_and_the_survey_work_at_360px(
    live_server, page, manager, team, clinician, clinician2, service_user
):
    now = timezone.now()
    ep = b.episode(
        team, referral=now - timedelta(days=40), held_after_hours=30, core=[clinician, clinician2]
    )
    b.meeting(ep, start=ep.referral_received_at + timedelta(hours=30), staff=[clinician])
    client = Client()
    client.force_login(manager)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page.goto(live_server.url + reverse("outcomes:dashboard"))
    assert page.get_by_role("heading", name="The 24-hour rule").is_visible()
    problems = _serious_axe_violations(page, "dashboard overview")
    # A short overview, not one 9,400-pixel page: the sections are a link away.
    assert page.evaluate("document.documentElement.scrollHeight") < 4000
    page.get_by_role("link", name="Meetings").first.click()
    assert page.get_by_role("heading", name="Meetings", level=1).is_visible()
    assert page.locator("svg[role=img]").count() >= 1
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 361"
        " && !e.closest('.table-responsive'))"
        ".slice(0, 5).map(e => e.tagName + '.' + e.className)"
    )
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "outcomes-dashboard-360.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, wide
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "outcomes-dashboard-360.png"), full_page=True)
    problems += _serious_axe_violations(page, "dashboard section")

    _invitation, token = services.survey_invitation_issue(
        service_user=service_user, issued_by=clinician, now=now
    )
    page.context.clear_cookies()
    page.goto(live_server.url + reverse("outcomes:survey", args=[token]))
    problems += _serious_axe_violations(page, "survey")
    # Each statement's first option; then send with the keyboard.
    radios = page.locator("input[type=radio][value=definitely]")
    for i in range(radios.count()):
        radios.nth(i).check()
    page.get_by_role("button", name="Send my answers").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Thank you")
    page.screenshot(path=str(ARTIFACTS / "outcomes-survey-thanks-360.png"))
    assert not problems, problems


def _sign_in(page, live_server, user):
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )


def test_time_to_relapse_and_the_research_export_work_at_360px(live_server, page, manager, team):
    relapse_trial(team)
    _sign_in(page, live_server, manager)
    page.goto(live_server.url + reverse("outcomes:relapse"))
    assert page.get_by_role(
        "heading", name="Time to relapse: POD against treatment as usual"
    ).is_visible()
    assert page.locator("svg[role=img] .km-curve").count() == 2
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "outcomes-relapse-360.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    problems = _serious_axe_violations(page, "relapse")
    page.goto(live_server.url + reverse("outcomes:research_export"))
    assert page.get_by_role("heading", name="Data dictionary").is_visible()
    problems += _serious_axe_violations(page, "research export")
    assert not problems, problems
