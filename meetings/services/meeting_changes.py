"""The history of a meeting's changes (issue 10): snapshots, and cancelling under a held lock.

These helpers take an episode whose row the caller has already locked
(meetings.services.episodes.episode_lock_for_change, or episode_close's own lock), so both the
meeting pages (meetings.services.lifecycle) and closing an episode can use them without an
import cycle. Nothing here opens a transaction of its own: the caller's transaction holds the
change, its MeetingChange row and the messages it owes together.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError

from meetings.models import CalledOffBy, Episode, Meeting, MeetingChange, Participant
from meetings.services.clock import episode_refresh_clock
from meetings.services.meeting_messages import owe_meeting_messages
from pod.foundation.justification import reason_refusal
from pod.foundation.models import User

# How a participant who came to a held meeting without an invitation is recorded (a correction).
CAME_UNINVITED = "Came without an invitation"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _participant_label(participant: Participant) -> str:
    if participant.kind == Participant.Kind.SERVICE_USER:
        return "The person"
    return str(participant)


def meeting_snapshot(meeting: Meeting) -> dict[str, Any]:
    """The meeting as it stands, for MeetingChange.before/after (JSON-safe).

    Shape: {"status", "scheduled_start", "scheduled_end", "actual_start", "actual_end" (ISO 8601
    instants in UTC or None), "location", "location_detail", "cancelled_by", "cancelled_reason",
    "participants": [{"id", "kind", "staff_id", "network_member_id", "label", "invited",
    "not_invited_reason", "attended"}, ...] (the person first, then by row id)}.
    """
    participants = sorted(
        meeting.participants.select_related("staff", "network_member"),
        key=lambda p: (p.kind != Participant.Kind.SERVICE_USER, p.pk),
    )
    return {
        "status": meeting.status,
        "scheduled_start": _iso(meeting.scheduled_start),
        "scheduled_end": _iso(meeting.scheduled_end),
        "actual_start": _iso(meeting.actual_start),
        "actual_end": _iso(meeting.actual_end),
        "location": meeting.location,
        "location_detail": meeting.location_detail,
        "cancelled_by": meeting.cancelled_by,
        "cancelled_reason": meeting.cancelled_reason,
        "participants": [
            {
                "id": p.pk,
                "kind": p.kind,
                "staff_id": p.staff_id,
                "network_member_id": p.network_member_id,
                "label": _participant_label(p),
                "invited": p.invited,
                "not_invited_reason": p.not_invited_reason,
                "attended": p.attended,
            }
            for p in participants
        ],
    }


def snapshot_has_invitees(snapshot: dict[str, Any]) -> bool:
    """Whether anyone was invited in a snapshot (the person, network members or staff): such a
    change owes them a message (a cancellation or an update)."""
    return any(p["invited"] for p in snapshot["participants"])


def meeting_change_record(
    *,
    meeting: Meeting,
    kind: str,
    before: dict[str, Any],
    reason: str,
    changed_by: User | None,
    now: datetime,
    called_off_by: str = "",
    messages_owed: bool = False,
) -> MeetingChange:
    """Write one MeetingChange row (after the change is saved): `before` as given, `after`
    taken now. ValidationError for an empty reason or a cancellation that does not say who."""
    change = MeetingChange(
        meeting=meeting,
        kind=kind,
        changed_by=changed_by,
        changed_at=now,
        reason=reason.strip(),
        called_off_by=called_off_by,
        before=before,
        after=meeting_snapshot(meeting),
        messages_owed=messages_owed,
    )
    change.full_clean()
    change.save()
    return change


def meeting_cancel_locked(
    *,
    episode: Episode,
    meeting: Meeting,
    called_off_by: str,
    reason: str,
    changed_by: User | None,
    now: datetime,
) -> MeetingChange:
    """Cancel a scheduled meeting of `episode`, whose row the caller holds locked.

    Marks the meeting cancelled (who called it off, when, the reason), records the change with
    the meeting as it was, and recomputes the 24-hour clock: a cancelled meeting is no longer
    "arranged", so the sweep may raise `unscheduled` again (meetings.rules.clock_alerts_due).
    ValidationError for a meeting that is not scheduled (held or already cancelled), an empty
    reason, or an unknown `called_off_by` (CalledOffBy: person | network | team). Those invited
    are owed a cancellation only while the meeting is still to come (it ends after `now`).
    """
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk, episode=episode)
    errors: dict[str, str] = {}
    if meeting.status != Meeting.Status.SCHEDULED:
        raise ValidationError(
            "Only a scheduled meeting can be cancelled; a held meeting's record can be corrected."
        )
    if called_off_by not in CalledOffBy.values:
        errors["called_off_by"] = "Say who called the meeting off."
    if refusal := reason_refusal(reason, what="The reason the meeting was called off"):
        errors["reason"] = refusal
    if errors:
        raise ValidationError(errors)
    before = meeting_snapshot(meeting)
    # A meeting whose time has passed without being recorded held is called off with no message:
    # telling the network days later that a meeting is cancelled misleads (issue 10 review).
    still_to_come = meeting.scheduled_end > now
    meeting.status = Meeting.Status.CANCELLED
    meeting.cancelled_by = called_off_by
    meeting.cancelled_reason = reason.strip()[:200]
    meeting.cancelled_at = now
    meeting.full_clean()
    meeting.save(update_fields=["status", "cancelled_by", "cancelled_reason", "cancelled_at"])
    change = meeting_change_record(
        meeting=meeting,
        kind=MeetingChange.Kind.CANCELLED,
        before=before,
        reason=reason,
        changed_by=changed_by,
        now=now,
        called_off_by=called_off_by,
        messages_owed=still_to_come and snapshot_has_invitees(before),
    )
    if still_to_come:
        # Everyone invited is told, in this transaction (issue 11: an outbox row per recipient).
        owe_meeting_messages(meeting, kind="cancellation", now=now)
    episode_refresh_clock(episode, now=now)
    return change
