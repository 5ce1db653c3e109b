"""The clinician's home lists (issue 17, point 3): the figures each row carries are counted by
subqueries, not by joining and grouping, and the team scope is read fresh on every query."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from meetings import selectors
from meetings.services.episodes import episode_close
from meetings.services.meetings import meeting_schedule
from pod.foundation.models import TeamMembership
from tests import factories as f
from tests.meetings.helpers import held_meeting, recent_episode

pytestmark = pytest.mark.django_db


def test_caseload_counts_held_meetings_and_lists_my_core_team_first(
    team, other_team, clinician, clinician2
):
    third = f.make_user("clinician", team)
    theirs = recent_episode(team, [clinician2, third], hours_ago=72)
    held_meeting(theirs, [clinician2], hours_after_referral=2)
    held_meeting(theirs, [clinician2], hours_after_referral=26)
    mine = recent_episode(team, [clinician, clinician2], hours_ago=72)
    closed = recent_episode(team, [clinician, clinician2], hours_ago=72)
    episode_close(episode=closed, outcome="done", closed_at=timezone.now(), now=timezone.now())
    outsiders = [f.make_user("clinician", other_team) for _ in range(2)]
    recent_episode(other_team, outsiders, hours_ago=72)

    rows = [(e.pk, e.mine, e.held) for e in selectors.home_caseload(clinician)]

    assert rows == [(mine.pk, True, 0), (theirs.pk, False, 2)]


def test_home_meetings_count_the_staff_invited_and_whether_i_attend(
    team, other_team, clinician, clinician2
):
    now = timezone.now()
    episode = recent_episode(team, [clinician, clinician2], hours_ago=2)
    start = now + timedelta(hours=1)
    meeting = meeting_schedule(
        episode=episode,
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=1),
        location="home",
        staff=[clinician2],
        created_by=None,
        now=now,
    )
    outsider = f.make_user("clinician", other_team)
    elsewhere = recent_episode(
        other_team, [outsider, f.make_user("clinician", other_team)], hours_ago=2
    )
    meeting_schedule(
        episode=elsewhere,
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=1),
        location="home",
        staff=[outsider],
        created_by=None,
        now=now,
    )
    window = {"start": start - timedelta(hours=1), "end": start + timedelta(hours=1)}

    as_invited = [
        (m.pk, m.staff_count, m.i_attend) for m in selectors.home_meetings(clinician2, **window)
    ]
    as_colleague = [
        (m.pk, m.staff_count, m.i_attend) for m in selectors.home_meetings(clinician, **window)
    ]

    assert as_invited == [(meeting.pk, 1, 1)]
    assert as_colleague == [(meeting.pk, 1, 0)]


def test_leaving_the_team_takes_its_lists_away_at_once(team, clinician, clinician2):
    now = timezone.now()
    episode = recent_episode(team, [clinician, clinician2], hours_ago=2)
    start = now + timedelta(hours=1)
    meeting_schedule(
        episode=episode,
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=1),
        location="home",
        staff=[clinician],
        created_by=None,
        now=now,
    )
    window = {"start": start - timedelta(hours=1), "end": start + timedelta(hours=1)}
    assert selectors.home_caseload(clinician).exists()

    TeamMembership.objects.filter(user=clinician, team=team).delete()

    # The same user object (as within one request): nothing about the team is remembered.
    assert not selectors.home_caseload(clinician).exists()
    assert not selectors.home_meetings(clinician, **window).exists()
    assert not selectors.home_open_clock_episodes(clinician).exists()
    assert not selectors.episodes_for(clinician).filter(pk=episode.pk).exists()
