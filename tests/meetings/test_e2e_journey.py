"""The whole journey in Debian's Chromium: referral -> network -> three meetings held ->
prescription allowed; a second episode with two meetings -> prescription refused -> override
with a reason -> the service manager alerted. axe-core checks every page; each page is
screenshotted to test-artifacts/."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from meetings.models import Alert, Episode, Meeting, Prescription
from networks.models import NetworkMember
from pod.foundation.models import Notification
from tests import factories as f

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "journey"
PASSWORD = "pw-for-tests-1234"

pytestmark = [pytest.mark.browser]


class Journey:
    def __init__(self, page, base_url):
        from axe_playwright_python.sync_playwright import Axe

        self.page = page
        self.base = base_url
        self.axe = Axe()
        self.step = 0
        self.problems: list[str] = []
        self.seen: set[str] = set()

    def check(self, name: str) -> None:
        """Screenshot the page and collect serious or critical accessibility violations.

        Each kind of page is checked once (the first time it is seen): repeating the same
        template with other data adds minutes, not coverage.
        """
        kind = re.sub(r"-(first|second|third|casey.*|jordan|casey)$", "", name, flags=re.I)
        if kind in self.seen:
            return
        self.seen.add(kind)
        self.step += 1
        self.page.screenshot(path=str(ARTIFACTS / f"{self.step:02d}-{name}.png"), full_page=True)
        results = self.axe.run(self.page)
        for v in results.response["violations"]:
            if v["impact"] in ("serious", "critical"):
                targets = [n["target"] for n in v["nodes"]][:3]
                self.problems.append(f"{name}: {v['id']} ({v['impact']}) {targets}")

    def go(self, path: str, name: str) -> None:
        self.page.goto(self.base + path)
        self.check(name)

    def login(self, username: str) -> None:
        page = self.page
        page.context.clear_cookies()
        page.goto(self.base + "/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name=re.compile("log in|sign in", re.I)).click()

    # Clicking starts a navigation that wait_for_load_state() would not wait for (the old page is
    # already loaded), so a following goto() could cancel a form post still in flight. Each
    # click that leaves the page therefore waits for the next page to load.
    def submit(self, label: str) -> None:
        with self.page.expect_navigation():
            self.page.get_by_role("button", name=label).click()

    def follow(self, link) -> None:
        with self.page.expect_navigation():
            self.page.get_by_role("link", name=link).click()


def _local(dt) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


def _take_referral(
    j: Journey, *, nhs: str, given: str, referral_at, core_names: list[str]
) -> Episode:
    page = j.page
    j.go("/episodes/new/", f"referral-{given}")
    page.get_by_label("NHS number").fill(nhs)
    # htmx tells at once whether the NHS number is someone the team knows.
    page.get_by_text("Not known to your team").wait_for()
    page.get_by_label("Given name").fill(given)
    page.get_by_label("Family name").fill("Rivers")
    page.get_by_label("Date of birth").fill("1998-04-12")
    page.get_by_label("Source").select_option("gp")
    page.get_by_label("Triage category").select_option("C")  # starts blank (issue 13)
    page.get_by_label("Reason for referral").fill("Frightened, not sleeping; family worried.")
    page.get_by_label("Referral received at").fill(_local(referral_at))
    for name in core_names:
        box = page.get_by_label(re.compile(re.escape(name)))
        if not box.is_checked():
            box.check()
    j.submit("Take the referral and start the clock")
    assert "The clock is running" in page.content()
    j.check(f"episode-clock-{given}")
    return Episode.objects.get(service_user__given_name=given)


def _meeting_held(j: Journey, episode: Episode, start, *, record: bool, tag: str) -> None:
    """A meeting that already took place (the journey cannot wait for time to pass, and a
    meeting is arranged only in the future: issue 10), recorded from the episode page."""
    page = j.page
    j.go(f"/episodes/{episode.pk}/", f"episode-{tag}")
    j.follow("Record a meeting that took place")
    page.get_by_label("Started at").fill(_local(start))
    page.get_by_label("Ended at").fill(_local(start + timedelta(minutes=50)))
    page.locator("#id_location").select_option("home")
    j.check(f"took-place-{tag}")
    # Attendance is recorded, not assumed (issue 10): nobody is ticked until someone ticks them.
    boxes = page.locator("main form").get_by_role("checkbox").all()
    assert boxes
    for box in boxes:
        assert not box.is_checked()
        box.check()
    j.submit("Record the meeting")
    assert "The meeting is recorded as held" in page.content()
    j.check(f"meeting-held-{tag}")
    if record:
        page.get_by_label("Who spoke").select_option(label="The person")
        page.get_by_label("Their words").fill("I want to sleep again and get back to college.")
        j.submit("Add to the record")
        page.get_by_label("Who spoke").select_option(label="Chris Nurse")
        page.get_by_label("What it is").select_option("reflection")
        page.get_by_label("Their words").fill("I notice how much college matters to Jordan.")
        j.submit("Add to the record")
        page.get_by_label("Kind of decision").select_option("next_meeting")
        page.get_by_label("The decision").fill("Meet again tomorrow at home.")
        page.get_by_label("Did the person agree?").select_option("yes")
        j.submit("Record the decision")
        assert "Decision recorded" in page.content()
        j.check(f"meeting-record-{tag}")


@pytest.mark.django_db(transaction=True)
def test_it_runs_an_episode_from_referral_to_closure_in_the_browser(live_server, settings, browser):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    import shutil

    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    team = f.make_team(f.make_trust(name="North East London", code="RAT"), name="Crisis team")
    chris = f.make_user("clinician", team, username="chris", first_name="Chris", last_name="Nurse")
    f.make_user("clinician", team, username="sam", first_name="Sam", last_name="Social")
    f.make_user("prescriber", team, username="priya", first_name="Priya", last_name="Psych")
    f.make_user(
        "service_manager", team, username="morgan", first_name="Morgan", last_name="Manager"
    )
    now = timezone.now()
    referral_at = now - timedelta(hours=6)

    page = browser.new_page(viewport={"width": 360, "height": 800})
    page.set_default_timeout(15000)
    j = Journey(page, live_server.url)
    j.go("/accounts/login/", "login")
    j.login("chris")
    j.check("home-empty")

    # 1. Referral intake starts the clock.
    episode = _take_referral(
        j,
        nhs=f.valid_nhs_number(),
        given="Jordan",
        referral_at=referral_at,
        core_names=["Chris Nurse", "Sam Social"],
    )
    j.go("/", "home-clock")
    assert "left" in page.content()

    # 2. The network: a sister who consents and gave an email.
    j.go(f"/episodes/{episode.pk}/", "episode-network-link")
    j.follow(re.compile("The network"))
    j.check("network-empty")
    j.follow("Add a network member")
    page.get_by_label("Name").fill("Dana Rivers")
    page.get_by_label("Who they are").select_option("family")
    page.get_by_label("Relationship, in the person's words").fill("older sister")
    page.get_by_label("Email").fill("dana@example.org")
    # Each consent is answered, nothing preselected: contact agreed, information not yet asked.
    page.locator("#id_contact_consent_1").check()
    page.locator("#id_information_consent_0").check()
    j.check("network-add")
    j.submit("Add to the network")
    assert "Dana Rivers" in page.content()
    j.check("network-list")
    assert NetworkMember.objects.get().consent_recorded_by == chris

    # 3. Three meetings held; the first stops the clock.
    for i, tag in enumerate(["first", "second", "third"]):
        _meeting_held(
            j, episode, referral_at + timedelta(minutes=60 + 90 * i), record=(i == 0), tag=tag
        )
        if i == 0:
            j.go(f"/episodes/{episode.pk}/", "episode-clock-stopped")
            assert "Clock stopped" in page.content()
    assert Meeting.objects.filter(episode=episode, status="held").count() == 3
    from django.core import mail

    assert not any("dana@example.org" in m.to for m in mail.outbox)  # none for past meetings
    # The next meeting, arranged for tomorrow: Dana, who consented, is emailed an invitation.
    j.go(f"/episodes/{episode.pk}/", "episode-three-held")
    j.follow("Schedule a meeting")
    page.get_by_label("Starts at").fill(_local(now + timedelta(days=1)))
    page.locator("#id_location").select_option("home")
    j.check("schedule-next")
    j.submit("Schedule and send invitations")
    assert "Meeting scheduled" in page.content()
    j.check("meeting-scheduled")
    assert any("dana@example.org" in m.to for m in mail.outbox)

    # 4. The care plan, written in a meeting.
    j.go(f"/episodes/{episode.pk}/care-plan/", "care-plan-empty")
    page.get_by_label("What matters to the person").fill("Sleeping again; college in May.")
    page.get_by_label("What will be done").fill("Daily meetings at home for a week.")
    page.get_by_label("By whom").fill("Chris and Sam, with Dana.")
    page.get_by_label("Yes").check()
    page.get_by_label(re.compile("Dana Rivers")).check()
    j.submit("Save a new version")
    assert "Version 1" in page.content()
    j.check("care-plan")

    # 5. The prescriber: 3 of 3 held, a new medicine is allowed.
    j.login("priya")
    j.go(f"/episodes/{episode.pk}/prescribe/", "prescribe-allowed")
    assert "3 of 3 network meetings held" in page.content()
    page.get_by_label("Medicine").fill("Zopiclone")
    j.submit("Prescribe")
    assert Prescription.objects.filter(episode=episode, override_reason="").count() == 1

    # 6. The timeline and closure.
    j.login("chris")
    j.go(f"/episodes/{episode.pk}/timeline/", "timeline")
    assert "Referral received" in page.content() and "Prescription" in page.content()
    j.go(f"/episodes/{episode.pk}/close/", "close")
    page.get_by_label("Outcome of the episode").fill("Sleeping; back at college.")
    j.submit("Close the episode")
    assert "read-only" in page.content()
    j.check("episode-closed")

    # 7. A second episode with two meetings: refused, then the override alerts the manager.
    second = _take_referral(
        j,
        nhs=f.valid_nhs_number(),
        given="Casey",
        referral_at=referral_at,
        core_names=["Chris Nurse", "Sam Social"],
    )
    for i, tag in enumerate(["casey-first", "casey-second"]):
        _meeting_held(
            j, second, referral_at + timedelta(minutes=60 + 90 * i), record=False, tag=tag
        )
    j.login("priya")
    j.go(f"/episodes/{second.pk}/prescribe/", "prescribe-two-held")
    assert "2 of 3 network meetings held" in page.content()
    page.get_by_label("Medicine").fill("Olanzapine")
    j.submit("Prescribe")
    assert "Not prescribed" in page.content()
    j.check("prescribe-refused")
    page.get_by_label(re.compile("Rapid response")).check()
    page.get_by_label(re.compile("Why the override is needed")).fill(
        "Not eaten or drunk for three days; physical safety threatened."
    )
    j.submit("Prescribe")
    assert "service manager will be alerted" in page.content()
    j.check("prescribe-overridden")
    alert = Alert.objects.get(episode=second, kind=Alert.Kind.MEDICATION_OVERRIDE)
    assert Notification.objects.filter(alert=alert, user__username="morgan").exists()
    j.login("morgan")
    j.check("manager-home")
    assert "Medication rule overridden" in page.content()
    assert j.problems == []
