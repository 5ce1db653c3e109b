"""Hand-built records for the dashboard tests: every field set explicitly, so each figure's
expected answer can be worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from meetings.models import Alert, CurrentMedication, Episode, Meeting, Participant, Prescription
from meetings.services.counting import episode_counted_meetings_refresh
from meetings.services.meetings import meeting_attendance_refresh
from networks.models import NetworkMember
from tests import factories as f

JUDGED_AT = datetime(2100, 1, 1, tzinfo=UTC)


def episode(
    team,
    *,
    referral: datetime,
    held_after_hours: float | None,
    closed_at=None,
    core=(),
    person=None,
) -> Episode:
    held = referral + timedelta(hours=held_after_hours) if held_after_hours is not None else None
    ep = Episode.objects.create(
        service_user=person or f.make_service_user(team),
        team=team,
        referral_received_at=referral,
        referral_source="gp",
        triage_category="C",
        reason="Test",
        first_meeting_due_at=referral + timedelta(hours=24),
        first_meeting_held_at=held,
        time_to_first_meeting=(held - referral) if held else None,
        status="closed" if closed_at else ("active" if held else "referred"),
        closed_at=closed_at,
    )
    ep.core_team.set(core)
    return ep


def meeting(
    ep: Episode, *, start: datetime, members=(), staff=(), absent_staff=(), held: bool = True
) -> Meeting:
    m = Meeting.objects.create(
        episode=ep,
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=1),
        location="home",
        status="held" if held else "scheduled",
        actual_start=start if held else None,
        actual_end=start + timedelta(hours=1) if held else None,
    )
    Participant.objects.create(meeting=m, kind="service_user", attended=held or None)
    for member, attended in members:
        Participant.objects.create(
            meeting=m, kind="network_member", network_member=member, attended=attended
        )
    for user in staff:
        Participant.objects.create(meeting=m, kind="staff", staff=user, attended=True)
    for user in absent_staff:
        Participant.objects.create(meeting=m, kind="staff", staff=user, attended=False)
    # The attendance stored on the meeting, and whether the episode's held meetings count as
    # network meetings, as meetings.services.meetings does when it is recorded held.
    meeting_attendance_refresh(m)
    # Judged from far ahead: every hand-built meeting is in the past by then.
    episode_counted_meetings_refresh(ep, now=JUDGED_AT)
    m.refresh_from_db()
    return m


def prescription(
    ep: Episode, prescriber, *, at: datetime, is_new=True, held_before=None, override=""
) -> Prescription:
    # A continuing medicine is one on the person's current-medication list.
    listed = None
    if not is_new:
        listed, _ = CurrentMedication.objects.get_or_create(
            episode=ep,
            medicine="Test",
            defaults={"source": "gp_record", "source_date": at.date(), "recorded_at": at},
        )
    return Prescription.objects.create(
        episode=ep,
        medicine="Test",
        is_new=is_new,
        current_medication=listed,
        is_antipsychotic=False,
        prescriber=prescriber,
        prescribed_at=at,
        meetings_held_before=held_before,
        override_reason="rapid_response" if override else "",
        override_explanation=override,
    )


def alert(ep: Episode, kind: str, message: str, at: datetime, prescription=None) -> Alert:
    return Alert.objects.create(
        episode=ep, kind=kind, message=message, raised_at=at, prescription=prescription
    )


def member(person, **kw) -> NetworkMember:
    return f.make_member(person, **kw)
