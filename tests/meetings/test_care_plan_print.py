"""Issue 13, point 7: the care plan prints as a copy for the person, in their own words.

The paper copy (print stylesheet: static/css/pod.css and Bootstrap's d-print-* classes) holds
the current version only, and names who may be given a copy: the person and the network members
who consented to receive information. No navigation, identity banner, form, button or older
version. Chromium renders it with print media and saves a PDF as a CI artifact.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from meetings.services.care_plans import care_plan_version_create
from tests import factories as f
from tests.meetings.helpers import held_meeting, recent_episode

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"


def _plan(episode, meeting, clinician, what_matters, members=()):
    return care_plan_version_create(
        episode=episode,
        meeting=meeting,
        what_matters=what_matters,
        actions="Daily visits for two weeks",
        responsible="Sam and the team",
        person_views="I want to sleep at home",
        person_agreed=True,
        involved_members=list(members),
        created_by=clinician,
    )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_printed_copy_is_the_current_plan_in_the_persons_words(
    live_server, browser, team, clinician, clinician2
):
    episode = recent_episode(team, [clinician, clinician2], hours_ago=30)
    meeting = held_meeting(episode, [clinician, clinician2], hours_after_referral=2)
    sister = f.make_member(
        episode.service_user,
        name="Dana Rivers",
        relationship="sister",
        information_consent="agreed",
        information_consent_recorded_at=timezone.now(),
        information_consent_recorded_by=clinician,
    )
    f.make_member(episode.service_user, name="Kim Hale", relationship="friend")
    _plan(episode, meeting, clinician, "Getting back to college")
    _plan(episode, meeting, clinician, "Sleeping at home again", [sister])

    client = Client()
    client.force_login(clinician)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
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
    page.goto(live_server.url + reverse("meetings:care_plan", args=[episode.pk]))
    assert page.get_by_role("button", name="Print a copy of the current plan").is_visible()
    assert not page.locator("[data-print-only]").is_visible()

    page.emulate_media(media="print")
    printed = page.inner_text("body")
    assert "Sleeping at home again" in printed  # the current version, in the person's words
    assert "I want to sleep at home" in printed
    assert "Getting back to college" not in printed  # not the earlier version
    assert "A copy may be given to the person and to: Dana Rivers" in printed
    assert "Kim Hale" not in printed  # no consent to receive information
    for hidden in (".navbar", ".person-banner", ".breadcrumb", "form", "[data-print]"):
        for element in page.locator(hidden).all():
            assert not element.is_visible(), hidden
    ARTIFACTS.mkdir(exist_ok=True)
    page.pdf(path=str(ARTIFACTS / "care-plan-print.pdf"))
    context.close()
