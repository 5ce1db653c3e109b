"""A meeting's lifecycle after it is arranged (issue 10): cancel, reschedule, correct.

Each service locks the episode's row first (the same lock as every other write to the episode),
changes the one meeting in place, writes a MeetingChange row holding the meeting as it was and
as it is now, and recomputes the 24-hour clock. The meeting keeps its id through every change, so
its page shows one meeting with its history (meetings.selectors.meeting_history).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from meetings.models import Meeting, MeetingChange, Participant, Prescription
from meetings.services.clock import episode_refresh_clock
from meetings.services.counting import episode_counted_meetings_refresh
from meetings.services.episodes import episode_lock_for_change
from meetings.services.meeting_changes import (
    CAME_UNINVITED,
    meeting_cancel_locked,
    meeting_change_record,
    meeting_snapshot,
    snapshot_has_invitees,
)
from meetings.services.meeting_messages import owe_meeting_messages
from meetings.services.meetings import (
    meeting_attendance_refresh,
    refuse_refused_contact,
    staff_of_team_check,
)
from networks.models import NetworkMember
from pod.foundation.justification import reason_refusal
from pod.foundation.models import User
from pod.foundation.plausibility import appointment_error, event_error
from pod.foundation.task_queue import task_send_on_commit

AUDIT_PRESCRIPTIONS_TASK = "meetings.tasks.audit_prescriptions"


@transaction.atomic
def meeting_cancel(
    *,
    meeting: Meeting,
    called_off_by: str,
    reason: str,
    changed_by: User | None,
    now: datetime,
) -> MeetingChange:
    """Cancel a scheduled meeting: who called it off (person | network | team) and why.

    The meeting leaves the home pages and no longer counts as arranged for the 24-hour clock.
    Returns the MeetingChange (messages_owed when anyone was invited). ValidationError for a
    closed episode, a meeting that is not scheduled, an empty reason or an unknown party.
    """
    episode = episode_lock_for_change(meeting.episode)
    return meeting_cancel_locked(
        episode=episode,
        meeting=meeting,
        called_off_by=called_off_by,
        reason=reason,
        changed_by=changed_by,
        now=now,
    )


def _reschedule_times_errors(
    *, referral_received_at: datetime, start: datetime, end: datetime, now: datetime
) -> dict[str, str]:
    errors: dict[str, str] = {}
    message = appointment_error(
        start,
        now=now,
        what="The meeting",
        not_before=referral_received_at,
        not_before_what="the referral",
    )
    if message:
        errors["scheduled_start"] = message
    elif end <= start:
        errors["duration_minutes"] = "A meeting must end after it starts."
    return errors


def _invitations_set(
    meeting: Meeting,
    *,
    staff: Iterable[User],
    network_members: Iterable[NetworkMember],
) -> bool:
    """Make the meeting's staff and invited network members those chosen; True if any changed.

    A member the person does not want invited stays recorded as not invited (with the reason);
    a member no longer chosen, or a member of staff no longer attending, loses their row (a
    scheduled meeting has no record yet that could refer to it; the history keeps who it was).
    """
    changed = False
    rows = list(meeting.participants.all())
    staff_ids = {u.pk for u in staff}
    have_staff = {p.staff_id: p for p in rows if p.kind == Participant.Kind.STAFF}
    for user_id, row in have_staff.items():
        if user_id not in staff_ids:
            row.delete()
            changed = True
    for user_id in staff_ids - set(have_staff):
        Participant.objects.create(meeting=meeting, kind=Participant.Kind.STAFF, staff_id=user_id)
        changed = True

    chosen = {m.pk: m for m in network_members}
    have_members = {
        p.network_member_id: p for p in rows if p.kind == Participant.Kind.NETWORK_MEMBER
    }
    members = list(
        NetworkMember.objects.filter(
            service_user_id=meeting.episode.service_user_id, status=NetworkMember.Status.ACTIVE
        )
    )
    refuse_refused_contact(members, set(chosen))
    for member in members:
        member_row = have_members.get(member.pk)
        if not member.may_be_invited:
            # Not to be invited (the person's wish, or the member refused contact), whatever
            # was chosen: an invitation made before that changed is withdrawn, with the reason
            # (issue 13 review: it stayed "invited" and was still addressed).
            if member_row is not None and member_row.invited:
                member_row.invited = False
                member_row.not_invited_reason = member.not_invited_because
                member_row.save(update_fields=["invited", "not_invited_reason"])
                changed = True
            continue
        if member.pk in chosen and member_row is None:
            Participant.objects.create(
                meeting=meeting, kind=Participant.Kind.NETWORK_MEMBER, network_member=member
            )
            changed = True
        elif member.pk in chosen and member_row is not None and not member_row.invited:
            member_row.invited, member_row.not_invited_reason = True, ""
            member_row.save(update_fields=["invited", "not_invited_reason"])
            changed = True
        elif member.pk not in chosen and member_row is not None and member_row.invited:
            member_row.delete()
            changed = True
    return changed


@transaction.atomic
def meeting_reschedule(
    *,
    meeting: Meeting,
    scheduled_start: datetime,
    scheduled_end: datetime,
    location: str,
    location_detail: str,
    staff: Iterable[User],
    network_members: Iterable[NetworkMember],
    reason: str,
    changed_by: User | None,
    now: datetime,
) -> MeetingChange:
    """Move a scheduled meeting: its time, place, staff or invited network members.

    The same meeting (same id) is changed; a MeetingChange row keeps the earlier version, with
    messages_owed when anyone was invited before or after. The 24-hour clock is recomputed (a
    first meeting moved past the due time raises `at_risk` as the rules say).
    ValidationError (by field) for a closed episode, a meeting that is not scheduled, an
    implausible time (pod.foundation.plausibility.appointment_error: before 1900, before the
    referral, more than two years ahead), an end not after the start, an empty reason, or a
    change that changes nothing.
    """
    episode = episode_lock_for_change(meeting.episode)
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk, episode=episode)
    meeting.episode = episode
    if meeting.status != Meeting.Status.SCHEDULED:
        raise ValidationError("Only a scheduled meeting can be rescheduled.")
    errors = _reschedule_times_errors(
        referral_received_at=episode.referral_received_at,
        start=scheduled_start,
        end=scheduled_end,
        now=now,
    )
    if refusal := reason_refusal(reason, what="The reason the meeting is changed"):
        errors["reason"] = refusal
    if errors:
        raise ValidationError(errors)
    staff = staff_of_team_check(episode, staff)
    before = meeting_snapshot(meeting)
    meeting.scheduled_start = scheduled_start
    meeting.scheduled_end = scheduled_end
    meeting.location = location
    meeting.location_detail = location_detail
    meeting.full_clean()
    meeting.save(update_fields=["scheduled_start", "scheduled_end", "location", "location_detail"])
    _invitations_set(meeting, staff=staff, network_members=network_members)
    after = meeting_snapshot(meeting)
    if after == before:
        raise ValidationError("Nothing was changed: the meeting is as it was.")
    change = meeting_change_record(
        meeting=meeting,
        kind=MeetingChange.Kind.RESCHEDULED,
        before=before,
        reason=reason,
        changed_by=changed_by,
        now=now,
        messages_owed=snapshot_has_invitees(before) or snapshot_has_invitees(after),
    )
    # Everyone invited is told, in this transaction (issue 11: REQUEST with the next SEQUENCE;
    # CANCEL to anyone taken off the list).
    owe_meeting_messages(meeting, kind="update", now=now)
    episode_refresh_clock(episode, now=now)
    return change


@transaction.atomic
def meeting_correct(
    *,
    meeting: Meeting,
    actual_start: datetime,
    actual_end: datetime,
    location: str,
    location_detail: str,
    attended: Mapping[int, bool],
    came_uninvited: Iterable[NetworkMember | User] = (),
    reason: str,
    changed_by: User | None,
    now: datetime,
) -> MeetingChange:
    """Correct a held meeting's record: when it started and ended, where, and who attended.

    `attended` maps participant id -> attended (a participant missing from it did not attend).
    `came_uninvited` adds network members of the person, or staff, who came without an
    invitation: each gets a participant row "not invited (came without an invitation)", attended.
    The earlier version is kept in a MeetingChange row and shown in the meeting's history; the
    attendance counts and the 24-hour clock are recomputed (a correction can move the first
    meeting's time). No message is owed (the meeting has happened).
    ValidationError (by field) for a closed episode, a meeting that is not held, a start before
    the referral or in the future, an end not after the start or in the future, an uninvited
    attendee who is already listed or is not of the person's network, an empty reason, or a
    correction that changes nothing.
    """
    episode = episode_lock_for_change(meeting.episode)
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk, episode=episode)
    meeting.episode = episode
    if meeting.status != Meeting.Status.HELD:
        raise ValidationError("Only a held meeting's record can be corrected.")
    errors: dict[str, str] = {}
    start_error = event_error(
        actual_start,
        now=now,
        what="The meeting's start",
        not_before=episode.referral_received_at,
        not_before_what="the referral",
    )
    if start_error:
        errors["actual_start"] = start_error
    end_error = event_error(actual_end, now=now, what="The meeting's end")
    if end_error:
        errors["actual_end"] = end_error
    elif not start_error and actual_end <= actual_start:
        errors["actual_end"] = "A meeting must end after it starts."
    if refusal := reason_refusal(reason, what="The reason for the correction"):
        errors["reason"] = refusal
    rows = list(meeting.participants.all())
    listed_members = {p.network_member_id for p in rows if p.network_member_id}
    listed_staff = {p.staff_id for p in rows if p.staff_id}
    new_rows: list[Participant] = []
    for person in came_uninvited:
        if isinstance(person, NetworkMember):
            if person.service_user_id != episode.service_user_id or person.pk in listed_members:
                errors["came_uninvited"] = f"{person} is already listed or not of this network."
                continue
            who: dict[str, Any] = {
                "kind": Participant.Kind.NETWORK_MEMBER,
                "network_member": person,
            }
        else:
            if person.pk in listed_staff:
                errors["came_uninvited"] = f"{person} is already listed."
                continue
            who = {"kind": Participant.Kind.STAFF, "staff": person}
        new_rows.append(
            Participant(
                meeting=meeting,
                invited=False,
                not_invited_reason=CAME_UNINVITED,
                attended=True,
                **who,
            )
        )
    if errors:
        raise ValidationError(errors)
    before = meeting_snapshot(meeting)
    meeting.actual_start = actual_start
    meeting.actual_end = actual_end
    meeting.location = location
    meeting.location_detail = location_detail
    meeting.full_clean()
    meeting.save(update_fields=["actual_start", "actual_end", "location", "location_detail"])
    for row in rows:
        row.attended = bool(attended.get(row.pk, False))
    Participant.objects.bulk_update(rows, ["attended"])
    for row in new_rows:
        row.full_clean()
        row.save()
    if meeting_snapshot(meeting) == before:
        raise ValidationError("Nothing was corrected: the record is as it was.")
    change = meeting_change_record(
        meeting=meeting,
        kind=MeetingChange.Kind.CORRECTED,
        before=before,
        reason=reason,
        changed_by=changed_by,
        now=now,
    )
    meeting_attendance_refresh(meeting)
    # A corrected time or attendance may make the meeting count, or stop counting, towards the
    # medication rule (meetings.medication_rules): judge the episode's held meetings again.
    episode_counted_meetings_refresh(episode, now=now)
    prescriptions_reopen_audit(meeting)
    episode_refresh_clock(episode, now=now)
    return change


def prescriptions_reopen_audit(meeting: Meeting) -> int:
    """After a held meeting's record is corrected, send every prescription that counted it
    back to the audit (meetings.sweeps.prescriptions_audit reads only rows with `audited_at`
    NULL): the audit replays the rule on the meetings as they now stand, and raises a
    `medication_violation` alert and a manager's review when a new medicine no longer had its
    three counted meetings. The audit task is queued when the transaction commits, so the
    finding does not wait for the five-minute beat. Returns how many prescriptions were reopened.
    One UPDATE. Source: issue 10 (a correction after prescribing must not leave the rule met on
    paper only); hazard HAZ-03."""
    reopened = Prescription.objects.filter(
        episode_id=meeting.episode_id,
        counted_meeting_ids__contains=[meeting.pk],
        audited_at__isnull=False,
    ).update(audited_at=None)
    if reopened:
        # A nudge only: a broker outage is logged, never raised into the correction, and the
        # beat runs the audit every five minutes.
        task_send_on_commit(AUDIT_PRESCRIPTIONS_TASK)
    return reopened
