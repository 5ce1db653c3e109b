"""The meeting lifecycle in Debian's Chromium (issue 10, point 1): reschedule a meeting, cancel
it, correct a held meeting's record, and close an episode that has a future meeting. axe-core
checks each new page; screenshots go to test-artifacts/lifecycle/."""

from __future__ import annotations

import re
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from meetings.models import Episode, Meeting, MeetingChange
from tests import factories as f
from tests.meetings.test_e2e_journey import Journey, _local, _take_referral

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "lifecycle"

pytestmark = [pytest.mark.browser]


class LifecycleJourney(Journey):
    def check(self, name: str) -> None:
        # The journey's screenshots go to this test's own folder.
        self.step += 1
        self.page.screenshot(path=str(ARTIFACTS / f"{self.step:02d}-{name}.png"), full_page=True)
        for v in self.axe.run(self.page).response["violations"]:
            if v["impact"] in ("serious", "critical"):
                targets = [n["target"] for n in v["nodes"]][:3]
                self.problems.append(f"{name}: {v['id']} ({v['impact']}) {targets}")


def _schedule(j: Journey, episode: Episode, start) -> Meeting:
    page = j.page
    j.page.goto(f"{j.base}/episodes/{episode.pk}/")
    j.follow("Schedule a meeting")
    page.get_by_label("Starts at").fill(_local(start))
    page.locator("#id_location").select_option("home")
    j.submit("Schedule and send invitations")
    assert "Meeting scheduled" in page.content()
    return Meeting.objects.filter(episode=episode).order_by("-pk").first()


@pytest.mark.hazard("HAZ-09.C20", "HAZ-09.C21", "HAZ-09.C22", "HAZ-07.C20")
@pytest.mark.django_db(transaction=True)
def test_it_cancels_reschedules_corrects_and_closes_in_the_browser(live_server, browser):
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    team = f.make_team(f.make_trust(name="Kent", code="RXY"), name="EIP team")
    f.make_user("clinician", team, username="chris", first_name="Chris", last_name="Nurse")
    f.make_user("clinician", team, username="sam", first_name="Sam", last_name="Social")
    now = timezone.now()
    referral_at = now - timedelta(hours=6)

    page = browser.new_page(viewport={"width": 360, "height": 800})
    page.set_default_timeout(15000)
    j = LifecycleJourney(page, live_server.url)
    j.login("chris")
    episode = _take_referral(
        j,
        nhs=f.valid_nhs_number(),
        given="Jordan",
        referral_at=referral_at,
        core_names=["Chris Nurse", "Sam Social"],
    )

    # 1. Reschedule: the same meeting moves to tomorrow, at the library.
    meeting = _schedule(j, episode, now + timedelta(hours=2))
    j.follow("Reschedule")
    j.check("reschedule")
    page.get_by_label("Starts at").fill(_local(now + timedelta(days=1)))
    page.locator("#id_location").select_option("community")
    page.get_by_label("Place details").fill("The library, room 2")
    page.get_by_label("Why the meeting is changed").fill("Jordan prefers the library.")
    j.submit("Save the change")
    assert "Meeting changed" in page.content()
    assert "History of this meeting" in page.content() and "Rescheduled" in page.content()
    j.check("meeting-rescheduled")

    # 2. Cancel it: the person called it off.
    j.follow("Cancel the meeting")
    j.check("cancel")
    page.get_by_label("The person", exact=True).check()
    page.get_by_label("Why it was called off").fill("Jordan is unwell today.")
    j.submit("Cancel the meeting")
    assert "called off by the person" in page.content()
    j.check("meeting-cancelled")
    meeting.refresh_from_db()
    assert meeting.status == "cancelled"
    assert list(meeting.changes.values_list("kind", flat=True)) == ["rescheduled", "cancelled"]

    # 3. Correct a held meeting: Sam was called away.
    j.page.goto(f"{j.base}/episodes/{episode.pk}/")
    j.follow("Record a meeting that took place")
    page.get_by_label("Started at").fill(_local(referral_at + timedelta(hours=1)))
    page.get_by_label("Ended at").fill(_local(referral_at + timedelta(hours=2)))
    page.locator("#id_location").select_option("home")
    for box in page.locator("main form").get_by_role("checkbox").all():
        box.check()
    j.submit("Record the meeting")
    held = Meeting.objects.filter(episode=episode, status="held").get()
    j.follow("Correct the record")
    j.check("correct")
    page.get_by_label("Sam Social attended").uncheck()
    page.get_by_label("Actually ended at").fill(
        _local(referral_at + timedelta(hours=1, minutes=45))
    )
    page.get_by_label("Why the record is corrected").fill("Sam was called away; it ran late.")
    j.submit("Save the correction")
    assert "the earlier version is kept" in page.content()
    page.get_by_text("The meeting before and after this change").click()
    j.check("meeting-corrected")
    change = MeetingChange.objects.get(meeting=held)
    assert change.kind == "corrected" and change.changed_by.username == "chris"

    # 4. Close the episode with a future meeting: listed, confirmed, cancelled.
    future = _schedule(j, episode, now + timedelta(days=2))
    j.page.goto(f"{j.base}/episodes/{episode.pk}/close/")
    assert "Meetings of this episode still scheduled" in page.content()
    j.check("close-with-future-meeting")
    page.get_by_label("Outcome of the episode").fill("Moved to another area.")
    page.get_by_label(re.compile("Cancel these meetings")).check()
    j.submit("Close the episode")
    assert "1 scheduled meeting cancelled" in page.content()
    future.refresh_from_db()
    assert future.status == "cancelled" and future.cancelled_by == "team"
    j.page.goto(f"{j.base}/")
    assert f"/meetings/{future.pk}/" not in page.content()
    assert j.problems == []
