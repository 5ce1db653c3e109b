"""A peer volunteer logs a contact on a 360 px phone screen, then opens the network map."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from networks import peer_services
from networks.models import PeerContact
from tests import factories as f
from tests.browser import PHONE

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(browser):
    context = browser.new_context(**PHONE)
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


def test_it_logs_a_contact_at_360px_and_draws_one_node_per_active_member(
    live_server, page, service_user, peer_volunteer, clinician
):
    now = timezone.now()
    peer_services.peer_assign(
        service_user=service_user, peer=peer_volunteer, assigned_by=clinician, now=now
    )
    sister = f.make_member(service_user, name="Dana Rivers", relationship="sister")
    f.make_member(service_user, name="Kim", category="friend", relationship="friend", closeness=3)
    f.make_member(service_user, name="Dr Shah", category="professional", relationship="GP")
    f.make_member(service_user, name="Gone", status="ended", ended_at=now)
    f.make_member(service_user, name="Maybe", status="proposed")

    client = Client()
    client.force_login(peer_volunteer)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )

    page.goto(live_server.url + reverse("networks:peer_caseload"))
    problems = _serious_axe_violations(page, "caseload")
    started = time.monotonic()
    with page.expect_navigation():
        page.get_by_role("link", name="Log a contact").first.click()
    page.get_by_text("Jordan Rivers (the person)").click()
    page.get_by_text("Dana Rivers (sister)").click()
    page.get_by_text("Visit", exact=True).click()
    page.get_by_text("Network building", exact=True).click()
    page.get_by_label("How long (minutes)").fill("20")
    page.get_by_label("Short note").fill("Walked to the community garden")
    # Big touch targets: every choice is at least 44 px tall.
    heights = page.eval_on_selector_all(
        "label.touch", "els => els.map(e => e.getBoundingClientRect().height)"
    )
    assert heights and min(heights) >= 44
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "peer-contact-form-360.png"), full_page=True)
    problems += _serious_axe_violations(page, "contact form")
    with page.expect_navigation(url="**/peer/people/**"):
        page.get_by_role("button", name="Save contact").click()
    assert time.monotonic() - started < 30
    assert "Contact logged." in page.content()
    assert "Walked to the community garden" in page.inner_text("#contact-log")
    problems += _serious_axe_violations(page, "person")

    contact = PeerContact.objects.get()
    assert contact.peer == peer_volunteer and contact.with_service_user
    assert list(contact.members.all()) == [sister]
    assert (contact.mode, contact.purpose, contact.duration_minutes) == (
        "visit",
        "network_building",
        20,
    )

    with page.expect_navigation():
        page.get_by_role("link", name="Network map").click()
    nodes = page.locator("svg.network-map g.member-node")
    assert nodes.count() == 3  # active members only: not the ended or the proposed one
    assert page.locator("#map-table tbody tr").count() == 3
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(ARTIFACTS / "network-map-360.png"), full_page=True)
    problems += _serious_axe_violations(page, "network map")

    # The clinician's side: the team's peer-work list and the assignment page.
    staff = Client()
    staff.force_login(clinician)
    page.context.clear_cookies()
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": staff.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page.goto(live_server.url + reverse("networks:peer_work"))
    problems += _serious_axe_violations(page, "peer work")
    page.goto(live_server.url + reverse("networks:peer_assignments", args=[service_user.pk]))
    problems += _serious_axe_violations(page, "assignments")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert not problems, "\n".join(problems)
