"""Only plausible, distinct network meetings count, through the services: the issue's
one-minute meetings, meetings recorded after the event, the audit of rows made another way."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from meetings.models import Alert, Meeting, Participant
from meetings.services.meetings import meeting_record_held, meeting_record_past, meeting_schedule
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
    """The issue's example: meetings in the past, each recorded held for a minute, all within
    one minute (arranging them in the past is refused now: they are recorded as meetings that
    took place, HAZ-04.C88)."""
    now = referral_at + timedelta(days=3)
    for i in range(3):
        start = referral_at + timedelta(hours=2 + i)
        meeting_record_past(
            episode=episode,
            actual_start=start,
            actual_end=start + timedelta(minutes=1),
            location="home",
            staff=staff,
            person_attended=True,
            recorded_by=staff[0],
            now=now + timedelta(seconds=10 * i),
        )
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


# --- A correction after prescribing (issue 10 review finding) ---------------------------------


@pytest.mark.hazard("HAZ-03.C86")
def test_correcting_a_counted_meeting_after_prescribing_reopens_the_audit_and_names_it(
    episode, staff, prescriber, referral_at, manager
):
    from meetings.alerts import alerts_deliver_pending
    from meetings.models import Prescription, Review
    from meetings.review_selectors import review_facts
    from meetings.services.lifecycle import meeting_correct

    start = referral_at + timedelta(hours=2)
    meetings = []
    for i in range(3):
        meeting = schedule(episode, staff, start + timedelta(days=i))
        record(meeting, now=start + timedelta(days=i, hours=2))
        meetings.append(meeting)
    at = start + timedelta(days=4)
    prescription = prescribe(episode, prescriber, at)
    assert prescription.counted_meeting_ids == [m.pk for m in meetings]
    assert prescriptions_audit(now=at + timedelta(minutes=5)) == 0  # audited: keeps the rule
    assert Prescription.objects.get(pk=prescription.pk).audited_at is not None

    # Days later the second meeting's record is corrected: it lasted ten minutes.
    second = meetings[1]
    second.refresh_from_db()
    later = at + timedelta(days=2)
    meeting_correct(
        meeting=second,
        actual_start=second.actual_start,
        actual_end=second.actual_start + timedelta(minutes=10),
        location=second.location,
        location_detail=second.location_detail,
        attended={p.pk: True for p in second.participants.all()},
        reason="The meeting ended after ten minutes when the person left.",
        changed_by=staff[0],
        now=later,
    )
    assert Prescription.objects.get(pk=prescription.pk).audited_at is None  # reopened

    assert prescriptions_audit(now=later + timedelta(minutes=5)) == 1
    alert = Alert.objects.get(kind="medication_violation", prescription=prescription)
    assert "corrected afterwards" in alert.message
    assert f"no longer counting: meeting {second.pk}" in alert.message
    assert "did not go through POD's prescribing form" not in alert.message

    # The manager's review shows both counts: 3 of 3 when prescribed, 2 of 3 now.
    alerts_deliver_pending(now=later + timedelta(minutes=6))
    review = Review.objects.get(subject_id=alert.pk)
    facts = {fact.label: fact.value for fact in review_facts(review, now=later)}
    assert facts["Network meetings counted when prescribed"].startswith("3 of the 3")
    assert facts["Counted now, after a correction"].startswith("2 of 3")


def test_a_correction_reopens_only_prescriptions_that_counted_the_meeting(
    episode, staff, prescriber, referral_at
):
    from meetings.models import Prescription
    from meetings.services.lifecycle import meeting_correct

    start = referral_at + timedelta(hours=2)
    meetings = []
    for i in range(4):
        meeting = schedule(episode, staff, start + timedelta(days=i))
        record(meeting, now=start + timedelta(days=i, hours=2))
        meetings.append(meeting)
    at = start + timedelta(days=2, hours=3)  # after three meetings, before the fourth
    prescription = prescribe(episode, prescriber, at)
    prescriptions_audit(now=start + timedelta(days=5))
    fourth = meetings[3]
    fourth.refresh_from_db()
    meeting_correct(
        meeting=fourth,
        actual_start=fourth.actual_start,
        actual_end=fourth.actual_start + timedelta(minutes=45),
        location=fourth.location,
        location_detail=fourth.location_detail,
        attended={p.pk: True for p in fourth.participants.all()},
        reason="It ended at a quarter to, not on the hour.",
        changed_by=staff[0],
        now=start + timedelta(days=6),
    )
    assert Prescription.objects.get(pk=prescription.pk).audited_at is not None
