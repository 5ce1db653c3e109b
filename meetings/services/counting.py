"""Store, on each held meeting, whether it counts as a network meeting for the medication rule
and whether it was recorded after the event (meetings.medication_rules has the definition)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from meetings import medication_rules
from meetings.models import Episode, Meeting
from meetings.selectors import counting_policy, episode_held_meetings, held_meeting_facts


@transaction.atomic
def episode_counted_meetings_refresh(episode: Episode, *, now: datetime) -> dict[int, bool]:
    """Judge every held meeting of the episode and store `counts_as_network_meeting` and
    `recorded_after_event` on each; NULL both on the episode's meetings that are not held.
    Returns {meeting id: counts} for the held ones. Call it, with the episode row locked,
    whenever a held meeting of the episode is recorded, corrected or cancelled: whether one
    meeting counts depends on the others (overlap). Two queries plus one UPDATE per change."""
    meetings = episode_held_meetings([episode.pk]).get(episode.pk, [])
    judged = medication_rules.meetings_judged(
        [held_meeting_facts(m) for m in meetings], policy=counting_policy(), now=now
    )
    by_id = {j.meeting_id: j for j in judged}
    for meeting in meetings:
        judgement = by_id.get(meeting.pk)
        counts = judgement.counts if judgement else False
        late = judgement.recorded_after_event if judgement else False
        if meeting.counts_as_network_meeting != counts or meeting.recorded_after_event != late:
            Meeting.objects.filter(pk=meeting.pk).update(
                counts_as_network_meeting=counts, recorded_after_event=late
            )
    Meeting.objects.filter(episode=episode).exclude(status=Meeting.Status.HELD).exclude(
        counts_as_network_meeting__isnull=True, recorded_after_event__isnull=True
    ).update(counts_as_network_meeting=None, recorded_after_event=None)
    return {j.meeting_id: j.counts for j in judged}
