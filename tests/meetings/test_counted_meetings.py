"""Only plausible, distinct network meetings count, through the services: the issue's
one-minute meetings, meetings recorded after the event, the audit of rows made another way."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from meetings.models import Alert, Meeting, Participant
from meetings.services.meetings import meeting_record_held, meeting_schedule
from meetings.services.prescriptions import prescription_create
from meetings.sweeps import prescriptions_audit


def schedule(episode, staff, start, minutes=60, now=None):
    return meeting_schedule(
        episode=episode,
        scheduled_start=start,
        scheduled_end=start + timedelta(minutes=minutes),
        location="home",
        staff=staff,
        created_by=staff[0],
        now=now or start - timedelta(hours=1),
    )


def record(meeting, *, minutes=60, now, attend=lambda p: True, start=None):
    start = start or meeting.scheduled_start
    return meeting_record_held(
        meeting=meeting,
        actual_start=start,
        actual_end=start + timedelta(minutes=minutes),
        attended={p.pk: attend(p) for p in meeting.participants.all()},
        recorded_by=None,
        now=now,
    )


def prescribe(episode, prescriber, at):
    return prescription_create(
        episode=episode,
        medicine="Olanzapine",
        is_antipsychotic=True,
        prescriber=prescriber,
        prescribed_at=at,
        now=at,
    )


@pytest.fixture
def staff(clinician, clinician2):
    return [clinician, clinician2]


@pytest.mark.hazard("HAZ-04.C40", "HAZ-03.C40")
def test_three_meetings_recorded_held_for_a_minute_each_do_not_reach_three_of_three(
    episode, staff, prescriber, referral_at
):
    """The issue's example: meetings scheduled in the past, each recorded held for a minute,
    all within one minute."""
    now = referral_at + timedelta(days=3)
    for i in range(3):
        meeting = schedule(episode, staff, referral_at + timedelta(hours=2 + i), now=now)
        record(meeting, minutes=1, now=now + timedelta(seconds=10 * i))
    assert list(Meeting.objects.values_list("counts_as_network_meeting", flat=True)) == [False] * 3
    with pytest.raises(ValidationError, match="0 of 3 network meetings"):
        prescribe(episode, prescriber, now + timedelta(minutes=1))


@pytest.mark.hazard("HAZ-04.C41")
def test_a_meeting_without_the_person_or_their_network_or_with_one_staff_does_not_count(
    episode, staff, prescriber, referral_at
):
    start = referral_at + timedelta(hours=2)
    staff_only = record(
        schedule(episode, staff, start),
        now=start + timedelta(hours=2),
        attend=lambda p: p.kind == Participant.Kind.STAFF,
    )
    one_staff = record(
        schedule(episode, staff, start + timedelta(days=1)),
        now=start + timedelta(days=1, hours=2),
        attend=lambda p: p.kind != Participant.Kind.STAFF or p.staff_id == staff[0].pk,
    )
    staff_only.refresh_from_db()
    one_staff.refresh_from_db()
    assert (staff_only.person_present, staff_only.counts_as_network_meeting) == (False, False)
    assert (one_staff.staff_present, one_staff.counts_as_network_meeting) == (1, False)


@pytest.mark.hazard("HAZ-04.C42")
def test_of_two_overlapping_held_meetings_the_first_counts(episode, staff, referral_at):
    start = referral_at + timedelta(hours=2)
    first = schedule(episode, staff, start)
    second = schedule(episode, staff, start + timedelta(minutes=30))
    # Recorded in the other order: the one that started first still counts.
    record(second, now=start + timedelta(hours=3))
    record(first, now=start + timedelta(hours=3))
    counts = dict(Meeting.objects.values_list("pk", "counts_as_network_meeting"))
    assert counts == {first.pk: True, second.pk: False}


@pytest.mark.hazard("HAZ-04.C40")
def test_a_held_meeting_cannot_end_in_the_future(episode, staff, referral_at):
    start = referral_at + timedelta(hours=2)
    meeting = schedule(episode, staff, start)
    with pytest.raises(ValidationError) as refused:
        record(meeting, minutes=60 * 24 * 365 * 70, now=start + timedelta(hours=2))
    assert "actual_end" in refused.value.message_dict
    assert Meeting.objects.get(pk=meeting.pk).status == Meeting.Status.SCHEDULED


@pytest.mark.hazard("HAZ-04.C43")
def test_a_meeting_recorded_days_later_counts_and_is_marked(
    episode, staff, prescriber, referral_at
):
    start = referral_at + timedelta(hours=2)
    prompt = record(schedule(episode, staff, start), now=start + timedelta(hours=20))
    late = record(
        schedule(episode, staff, start + timedelta(days=1)),
        now=start + timedelta(days=4),
    )
    prompt.refresh_from_db()
    late.refresh_from_db()
    assert late.recorded_held_at == start + timedelta(days=4)
    assert (prompt.recorded_after_event, prompt.counts_as_network_meeting) == (False, True)
    assert (late.recorded_after_event, late.counts_as_network_meeting) == (True, True)


@pytest.mark.hazard("HAZ-03.C4", "HAZ-04.C40")
def test_the_audit_applies_the_same_definition_to_rows_made_another_way(
    episode, staff, prescriber, referral_at
):
    start = referral_at + timedelta(hours=2)
    for i in range(3):  # three one-minute meetings
        record(
            schedule(episode, staff, start + timedelta(days=i)),
            minutes=1,
            now=start + timedelta(days=i, hours=1),
        )
    at = start + timedelta(days=4)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO meetings_prescription (episode_id, medicine, dose, is_new,"
            " is_antipsychotic, prescriber_id, prescribed_at, override_reason,"
            " override_explanation, created_at)"
            " VALUES (%s, 'Risperidone', '', true, true, %s, %s, '', '', %s)",
            [episode.pk, prescriber.pk, at, at],
        )
    assert prescriptions_audit(now=at + timedelta(minutes=5)) == 1
    assert "0 of 3" in Alert.objects.get(kind="medication_violation").message


@pytest.mark.hazard("HAZ-03.C4", "HAZ-03.C41")
def test_the_audit_does_not_count_meetings_recorded_after_the_prescription(
    episode, staff, prescriber, referral_at
):
    start = referral_at + timedelta(hours=2)
    meetings = [schedule(episode, staff, start + timedelta(days=i)) for i in range(3)]
    at = start + timedelta(days=3)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO meetings_prescription (episode_id, medicine, dose, is_new,"
            " is_antipsychotic, prescriber_id, prescribed_at, override_reason,"
            " override_explanation, created_at)"
            " VALUES (%s, 'Risperidone', '', true, true, %s, %s, '', '', %s)",
            [episode.pk, prescriber.pk, at, at],
        )
    # Recorded held afterwards, as if to justify it.
    for m in meetings:
        record(m, now=at + timedelta(minutes=1))
    assert prescriptions_audit(now=at + timedelta(minutes=5)) == 1
