"""The 24-hour clock an episode stores: recomputed from its meetings after every change."""

from __future__ import annotations

from datetime import datetime

from meetings import rules
from meetings.models import Episode
from meetings.selectors import clock_policy, episode_clock_facts


def episode_refresh_clock(episode: Episode, *, now: datetime) -> None:
    """Recompute the clock fields from the meetings after any change that can move them.

    Stores when the first meeting was held and how long after the referral, moves a referred
    episode to active once a meeting is held, and stores when the sweep must next look at it
    (meetings.rules.clock_next_check_at; None once nothing can fall due). The caller holds the
    transaction (and, for a change to the episode's meetings, the episode's row lock).
    """
    facts = episode_clock_facts(episode)
    episode.first_meeting_held_at = facts.first_meeting_held_at
    episode.time_to_first_meeting = (
        facts.first_meeting_held_at - episode.referral_received_at
        if facts.first_meeting_held_at
        else None
    )
    if episode.status == Episode.Status.REFERRED and facts.first_meeting_held_at:
        episode.status = Episode.Status.ACTIVE
    episode.clock_next_check_at = rules.clock_next_check_at(
        facts=facts, policy=clock_policy(), now=now
    )
    episode.save(
        update_fields=[
            "first_meeting_held_at",
            "time_to_first_meeting",
            "status",
            "clock_next_check_at",
        ]
    )
