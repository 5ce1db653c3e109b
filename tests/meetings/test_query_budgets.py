"""Every page's query count does not grow with the meetings or network members (1 vs 50)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from meetings.models import CarePlanVersion, Decision, Meeting, Participant
from meetings.services.clock import episode_refresh_clock
from meetings.services.dialogic_record import utterance_add
from meetings.services.episodes import episode_close
from tests import factories as f
from tests.meetings.helpers import person_participant, recent_episode

BUDGET = 30


def _build(team, staff, n):
    """An episode with n network members and n held meetings, each with a voice and a decision."""
    episode = recent_episode(team, staff, hours_ago=24 * 10)
    for _ in range(n):
        f.make_member(
            episode.service_user,
            email="m@example.org",
            contact_consent="agreed",
            consent_recorded_at=timezone.now(),
            consent_recorded_by=staff[0],
        )
    start = episode.referral_received_at + timedelta(hours=1)
    meetings = []
    for i in range(n):
        s = start + timedelta(hours=3 * i)
        meetings.append(
            Meeting(
                episode=episode,
                scheduled_start=s,
                scheduled_end=s + timedelta(hours=1),
                location="home",
                status="held",
                actual_start=s,
                actual_end=s + timedelta(hours=1),
            )
        )
    Meeting.objects.bulk_create(meetings)
    parts = []
    for m in meetings:
        parts.append(Participant(meeting=m, kind="service_user", attended=True))
        parts += [Participant(meeting=m, kind="staff", staff=u, attended=True) for u in staff]
        parts += [
            Participant(meeting=m, kind="network_member", network_member=nm, attended=True)
            for nm in episode.service_user.network_members.all()[:3]
        ]
    Participant.objects.bulk_create(parts)
    episode_refresh_clock(episode, now=timezone.now())
    first = meetings[0]
    utterance_add(
        meeting=first,
        participant=person_participant(first),
        kind="voice",
        words="Me first",
        recorded_by=staff[0],
    )
    Decision.objects.bulk_create(
        [
            Decision(meeting=m, kind="care", text="Go on", person_agreed=True, recorded_by=staff[0])
            for m in meetings
        ]
    )
    plans = CarePlanVersion.objects.bulk_create(
        [
            CarePlanVersion(
                episode=episode,
                version=i + 1,
                meeting=m,
                what_matters="x",
                actions="y",
                responsible="z",
                person_agreed=True,
                created_by=staff[0],
            )
            for i, m in enumerate(meetings)
        ]
    )
    two = list(episode.service_user.network_members.all()[:2])
    CarePlanVersion.involved_members.through.objects.bulk_create(
        [
            CarePlanVersion.involved_members.through(careplanversion=p, networkmember=nm)
            for p in plans
            for nm in two
        ]
    )
    return episode, first


PAGES = [
    ("meetings:episode_detail", False),
    ("meetings:episode_timeline", False),
    ("meetings:care_plan", False),
    ("meetings:prescribe", False),
    ("meetings:episode_close", False),
    ("meetings:meeting_new", False),
    ("meetings:meeting_daily_run", False),
    ("meetings:meeting_detail", True),
    ("meetings:meeting_record_held", True),
    ("meetings:meeting_cancel", True),
    ("meetings:meeting_reschedule", True),
    ("meetings:meeting_correct", True),
]
# Pages of a scheduled meeting (a held one is corrected instead): the meeting is set back to
# scheduled first; it lies in the past, so closing the episode afterwards has nothing to cancel.
FOR_A_SCHEDULED_MEETING = {
    "meetings:meeting_record_held",
    "meetings:meeting_cancel",
    "meetings:meeting_reschedule",
}


def _count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(("name", "with_meeting"), PAGES, ids=[p[0] for p in PAGES])
def test_it_keeps_each_episode_page_within_budget_at_1_and_50(
    client, team, prescriber, clinician2, name, with_meeting
):
    client.force_login(prescriber)
    counts = []
    for n in (1, 50):
        episode, meeting = _build(team, [prescriber, clinician2], n)
        if name in FOR_A_SCHEDULED_MEETING:
            Meeting.objects.filter(pk=meeting.pk).update(
                status="scheduled", actual_start=None, actual_end=None
            )
        kwargs = {"pk": episode.pk, **({"meeting_pk": meeting.pk} if with_meeting else {})}
        counts.append(_count(client, reverse(name, kwargs=kwargs)))
        episode_close(
            episode=episode,
            outcome="done",
            closed_at=timezone.now(),
            now=timezone.now(),
            cancel_meetings=list(
                episode.meetings.filter(status="scheduled").values_list("pk", flat=True)
            ),
        )
    assert counts[0] == counts[1], counts
    assert max(counts) <= BUDGET


def test_it_keeps_home_and_network_pages_within_budget_at_1_and_50(
    client, team, prescriber, clinician2
):
    client.force_login(prescriber)
    counts = {"home": [], "members": [], "edit": []}
    for n in (1, 50):
        episode, _ = _build(team, [prescriber, clinician2], n)
        member = episode.service_user.network_members.first()
        counts["home"].append(_count(client, "/"))
        counts["members"].append(
            _count(client, reverse("networks:member_list", args=[episode.service_user_id]))
        )
        counts["edit"].append(
            _count(
                client, reverse("networks:member_edit", args=[episode.service_user_id, member.pk])
            )
        )
    for page, (one, fifty) in counts.items():
        assert one == fifty and fifty <= BUDGET, (page, one, fifty)
