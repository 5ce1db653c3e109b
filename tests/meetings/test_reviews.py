"""The service manager's review (issue 13, point 1): every breach, override and violation opens
a review that the team's managers may open, with the facts the rule used and never the dialogic
record; the manager records a decision, a note, who and when; the review is audited; the
dashboard counts open and closed reviews and the time to review; the manager's home page is a
queue of open reviews, oldest first."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from meetings.alerts import alert_raise, alerts_deliver_pending
from meetings.models import Alert, Review, Utterance
from meetings.review_selectors import open_reviews_queue, review_summary
from meetings.reviews import review_open
from meetings.services.prescriptions import prescription_create
from meetings.services.reviews import review_decide
from meetings.sweeps import first_meeting_sweep
from pod.foundation import paging
from pod.foundation.audit_models import AuditEvent, RecordAccess
from tests import factories as f
from tests.meetings.helpers import held_meeting, person_participant
from tests.pod.test_bounded_lists import assert_pager_links_land

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"

pytestmark = pytest.mark.django_db


def _breach(episode):
    """Run the sweep at the due time and deliver: the breach alert and its review."""
    first_meeting_sweep(now=episode.first_meeting_due_at)
    alerts_deliver_pending(now=episode.first_meeting_due_at)
    return Review.objects.get(kind=Review.Kind.BREACH, episode=episode)


def _override(episode, prescriber, at):
    prescription_create(
        episode=episode,
        medicine="Olanzapine",
        dose="5 mg at night",
        is_antipsychotic=True,
        prescriber=prescriber,
        prescribed_at=at,
        now=at,
        override_reason="rapid_response",
        override_explanation="Not eaten or drunk for three days; physical safety at risk.",
    )
    alerts_deliver_pending(now=at)
    return Review.objects.get(kind=Review.Kind.OVERRIDE, episode=episode)


def test_it_opens_one_review_per_escalated_alert_however_often_delivery_runs(episode):
    first_meeting_sweep(now=episode.first_meeting_due_at)
    alert_raise(
        episode=episode,
        kind=Alert.Kind.UNSCHEDULED,
        message="None.",
        now=episode.referral_received_at,
    )
    alerts_deliver_pending(now=episode.first_meeting_due_at)
    Alert.objects.update(queued_at=None)  # delivery again, as after a killed worker
    alerts_deliver_pending(now=episode.first_meeting_due_at)
    # Only the breach is reviewed (the unscheduled and at-risk alerts are the team's own).
    (review,) = Review.objects.all()
    assert review.kind == Review.Kind.BREACH
    assert review.raised_at == Alert.objects.get(kind="breached").raised_at
    assert review.team_id == episode.team_id and review.is_open


def test_it_refuses_an_unknown_kind(episode, referral_at):
    with pytest.raises(ValueError):
        review_open(kind="late_record", subject_id=1, episode=episode, raised_at=referral_at)


def test_the_breach_review_shows_the_rules_facts_and_not_the_dialogic_record(
    client, episode, manager, clinician, django_capture_on_commit_callbacks
):
    meeting = held_meeting(episode, [clinician], hours_after_referral=30)
    Utterance.objects.create(
        meeting=meeting,
        participant=person_participant(meeting),
        words="Zanzibar-lighthouse words the person said",
        position=1,
        recorded_by=clinician,
    )
    review = Review.objects.create(
        kind=Review.Kind.BREACH,
        subject_id=1,
        episode=episode,
        team=episode.team,
        raised_at=episode.first_meeting_due_at,
    )
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(reverse("meetings:review_detail", args=[review.pk]))
    page = response.content.decode()
    assert "24-hour first meeting breached" in page
    # Referral Mon 2 Mar 2026 09:00 UTC (GMT), due 24 h later, held 30 h after the referral
    # (the year is written when it is not this year).
    year = "" if timezone.localtime().year == 2026 else " 2026"
    assert f"Mon 2 Mar{year}, 09:00" in page
    assert f"Tue 3 Mar{year}, 09:00" in page
    assert f"Tue 3 Mar{year}, 15:00" in page
    assert "Late by</dt>" in page and "6 h 00 min" in page
    assert "Zanzibar-lighthouse" not in page
    # The page names the person: the look is logged.
    assert RecordAccess.objects.filter(user=manager, service_user=episode.service_user).exists()


def test_the_override_review_shows_the_reason_and_meetings_counted(
    client, episode, manager, prescriber, referral_at
):
    review = _override(episode, prescriber, referral_at + timedelta(hours=3))
    client.force_login(manager)
    page = client.get(reverse("meetings:review_detail", args=[review.pk])).content.decode()
    assert "Rapid response: physical safety threatened" in page
    assert "Not eaten or drunk for three days" in page
    assert "0 of the 3 the rule requires" in page


def test_only_the_teams_managers_may_open_a_review(
    client, episode, manager, clinician, admin_user, other_team
):
    review = _breach(episode)
    url = reverse("meetings:review_detail", args=[review.pk])
    other_manager = f.make_user("service_manager", other_team)
    for user, status in ((manager, 200), (other_manager, 404), (clinician, 403), (admin_user, 403)):
        client.force_login(user)
        assert client.get(url).status_code == status, user.role
    client.force_login(other_manager)
    assert client.get(reverse("meetings:review_list")).content.decode().count("review-queue") == 0


@pytest.mark.hazard("HAZ-03.C70")
def test_a_manager_records_a_decision_who_and_when_and_it_is_audited(client, episode, manager):
    review = _breach(episode)
    client.force_login(manager)
    url = reverse("meetings:review_detail", args=[review.pk])
    response = client.post(url, {"decision": "action_taken", "note": ""})
    assert response.status_code == 200  # a note is needed for "action taken"
    assert "Say what was done" in response.content.decode()
    review.refresh_from_db()
    assert review.is_open
    response = client.post(
        url, {"decision": "action_taken", "note": "Discussed with the team lead; rota changed."}
    )
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.decision == "action_taken" and review.decided_by == manager
    assert review.decided_at is not None
    page = client.get(url).content.decode()
    assert "Action taken" in page and "rota changed" in page
    event = AuditEvent.objects.get(
        table_name="meetings_review", row_id=str(review.pk), operation="UPDATE"
    )
    assert event.user_id == manager.pk
    assert set(event.changed_fields) >= {"decision", "note", "decided_by_id", "decided_at"}


@pytest.mark.hazard("HAZ-03.C70")
def test_a_decided_review_is_not_decided_again(episode, manager, team):
    review = _breach(episode)
    second = f.make_user("service_manager", team)
    now = timezone.now()
    review_decide(review=review, decision="no_action", note="", decided_by=manager, now=now)
    with pytest.raises(ValidationError, match="already decided"):
        review_decide(review=review, decision="escalated", note="x", decided_by=second, now=now)
    review.refresh_from_db()
    assert review.decision == "no_action" and review.decided_by == manager


def test_only_a_manager_of_the_team_may_decide(episode, clinician, other_team):
    review = _breach(episode)
    for user in (clinician, f.make_user("service_manager", other_team)):
        with pytest.raises(ValidationError, match="service manager of the team"):
            review_decide(
                review=review, decision="no_action", note="", decided_by=user, now=timezone.now()
            )


def test_the_home_page_is_a_queue_of_open_reviews_oldest_first(
    client, team, manager, clinician, clinician2
):
    base = timezone.now() - timedelta(days=10)
    reviews = []
    for days in (3, 1, 2):
        episode = f.make_episode(
            team=team,
            core_team=[clinician, clinician2],
            referral_received_at=base + timedelta(days=days),
        )
        reviews.append(
            review_open(
                kind=Review.Kind.BREACH,
                subject_id=episode.pk,
                episode=episode,
                raised_at=episode.first_meeting_due_at,
            )
        )
    review_decide(
        review=reviews[2], decision="no_action", note="", decided_by=manager, now=timezone.now()
    )
    client.force_login(manager)
    page = client.get("/").content.decode()
    links = [reverse("meetings:review_detail", args=[r.pk]) for r in reviews]
    assert "2 open" in page
    assert links[1] in page and links[0] in page and links[2] not in page
    assert page.index(links[1]) < page.index(links[0])  # oldest first
    queue, open_count = open_reviews_queue(manager, limit=1)
    assert [r.pk for r in queue] == [reviews[1].pk] and open_count == 2


def test_the_dashboard_counts_open_and_closed_reviews_and_the_time_to_review(
    client, episode, manager, team, referral_at
):
    review = _breach(episode)
    review_decide(
        review=review,
        decision="no_action",
        note="",
        decided_by=manager,
        now=review.raised_at + timedelta(days=1, hours=2),
    )
    summary = review_summary(
        [team.pk], start_at=referral_at - timedelta(days=1), end_at=referral_at + timedelta(days=9)
    )
    assert (summary.open, summary.closed) == (0, 1)
    assert summary.mean_time_words == "1 day 2 h"
    client.force_login(manager)
    page = client.get(
        reverse("outcomes:dashboard"), {"start": "2026-03-01", "end": "2026-03-31"}
    ).content.decode()
    assert 'id="reviews"' in page and "1 day 2 h" in page


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_manager_works_the_queue_in_the_browser(
    live_server, browser, team, clinician, clinician2, manager
):
    episode = f.make_episode(
        team=team,
        core_team=[clinician, clinician2],
        referral_received_at=timezone.now() - timedelta(hours=30),
    )
    first_meeting_sweep(now=timezone.now())
    alerts_deliver_pending(now=timezone.now())
    client = Client()
    client.force_login(manager)
    for width in (1280, 360):
        context = browser.new_context(viewport={"width": width, "height": 800})
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
        page.goto(live_server.url + "/")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"manager-review-queue-{width}.png"), full_page=True)
        if width == 1280:
            with page.expect_navigation():
                page.locator(".review-queue a").first.click()
            assert "Review: 24-hour first meeting breached" in page.title()
            page.get_by_label("Reviewed - no action").check()
            page.get_by_label("Note").fill("Out-of-hours referral; cover agreed.")
            with page.expect_navigation():
                page.get_by_role("button", name="Record the decision").click()
            assert "Your decision is recorded." in page.content()
            page.screenshot(path=str(ARTIFACTS / "manager-review-decided.png"), full_page=True)
        context.close()
    review = Review.objects.get(episode=episode)
    assert review.decision == "no_action" and review.decided_by == manager


def _reviews_page(client, query=""):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("meetings:review_list") + query)
    assert response.status_code == 200
    return response, len(queries.captured_queries)


def _add_reviews(team, clinician, clinician2, manager, *, opened, decided):
    base = timezone.now() - timedelta(days=30)
    for i in range(opened + decided):
        episode = f.make_episode(
            team=team,
            core_team=[clinician, clinician2],
            referral_received_at=base + timedelta(hours=i),
        )
        review = review_open(
            kind=Review.Kind.BREACH,
            subject_id=episode.pk,
            episode=episode,
            raised_at=episode.first_meeting_due_at,
        )
        if i >= opened:
            review_decide(
                review=review,
                decision="no_action",
                note="",
                decided_by=manager,
                now=timezone.now() - timedelta(minutes=i),
            )


def test_the_reviews_page_pages_both_lists_and_costs_the_same_however_many(
    client, team, manager, clinician, clinician2, monkeypatch
):
    """Issue 17, point 1: the open and the closed reviews are each one page at a time (they had
    been cut at 100 with no way to the rest), every review on exactly one page, in order."""
    monkeypatch.setattr(paging, "LIST_SIZE", 2)
    client.force_login(manager)
    _add_reviews(team, clinician, clinician2, manager, opened=2, decided=2)
    small, small_queries = _reviews_page(client)
    _add_reviews(team, clinician, clinician2, manager, opened=3, decided=2)
    large, large_queries = _reviews_page(client)
    assert large_queries == small_queries
    assert len(large.context["queue"]) == 2 and len(large.context["closed"]) == 2
    text = large.content.decode()
    assert_pager_links_land(text)
    assert "Open (5), oldest first" in text and "Closed (4), latest first" in text
    assert "1–2 of 5" in text and "1–2 of 4" in text

    open_seen, closed_seen = [], []
    for number in (1, 2, 3):
        context = client.get(reverse("meetings:review_list") + f"?open={number}&closed=2").context
        open_seen += list(context["queue"])
        closed_seen = list(context["closed"])  # the other list keeps its own page
        assert context["closed"].number == 2
    expected_open = list(
        Review.objects.filter(decision=Review.Decision.OPEN).order_by("raised_at", "pk")
    )
    assert open_seen == expected_open  # each once, oldest first
    latest_first = list(
        Review.objects.exclude(decision=Review.Decision.OPEN).order_by("-decided_at", "-pk")
    )
    assert closed_seen == latest_first[2:4]
