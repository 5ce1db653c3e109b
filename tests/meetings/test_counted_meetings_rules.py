"""Which held meetings count towards the 3-meetings rule (meetings.medication_rules), with a
fixed `now` and no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from meetings import medication_rules as mr

POLICY = mr.CountingPolicy(
    minimum_length=timedelta(minutes=20), late_record_after=timedelta(hours=24)
)
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=10)


def meeting(
    id=1,
    start=T0,
    minutes=60,
    recorded_after=timedelta(minutes=10),
    staff=2,
    person=True,
    members=0,
    recorded_at="auto",
):
    end = start + timedelta(minutes=minutes)
    return mr.HeldMeeting(
        id=id,
        actual_start=start,
        actual_end=end,
        recorded_at=end + recorded_after if recorded_at == "auto" else recorded_at,
        staff_present=staff,
        person_present=person,
        network_members_present=members,
    )


def refusals(m, now=NOW):
    return mr.meeting_refusals(m, policy=POLICY, now=now)


@pytest.mark.hazard("HAZ-04.C40")
@pytest.mark.parametrize(
    ("minutes", "expected"),
    [(1, (mr.TOO_SHORT,)), (19, (mr.TOO_SHORT,)), (20, ()), (480, ()), (481, (mr.TOO_LONG,))],
)
def test_it_counts_only_meetings_of_plausible_length(minutes, expected):
    assert refusals(meeting(minutes=minutes)) == expected


@pytest.mark.hazard("HAZ-04.C40")
def test_a_meeting_that_ends_before_it_starts_never_counts():
    assert mr.ENDS_BEFORE_START in refusals(meeting(minutes=-30))


@pytest.mark.hazard("HAZ-04.C41")
@pytest.mark.parametrize(
    ("staff", "person", "members", "expected"),
    [
        (2, True, 0, ()),
        (2, False, 1, ()),
        (3, True, 4, ()),
        (1, True, 2, (mr.FEWER_THAN_TWO_STAFF,)),
        (2, False, 0, (mr.NO_NETWORK,)),
        (0, False, 0, (mr.FEWER_THAN_TWO_STAFF, mr.NO_NETWORK)),
    ],
)
def test_a_network_meeting_has_two_staff_and_the_person_or_their_network(
    staff, person, members, expected
):
    assert refusals(meeting(staff=staff, person=person, members=members)) == expected


@pytest.mark.hazard("HAZ-04.C40")
def test_a_meeting_recorded_held_before_it_ended_or_ending_in_the_future_does_not_count():
    # Recorded as held at its start: a claim about the future when it was made.
    early = meeting(recorded_after=timedelta(minutes=-60))
    assert refusals(early) == (mr.RECORDED_BEFORE_IT_ENDED,)
    # Five minutes of clock disagreement are tolerated; six are not.
    assert refusals(meeting(recorded_after=timedelta(minutes=-5))) == ()
    assert refusals(meeting(recorded_after=timedelta(minutes=-6))) == (mr.RECORDED_BEFORE_IT_ENDED,)
    # An end in the future (the year 2099) never counts, whenever it was recorded.
    far = meeting(start=datetime(2099, 1, 1, tzinfo=UTC), recorded_at=None)
    assert refusals(far) == (mr.IN_THE_FUTURE,)
    # A meeting recorded before the recording time was kept is judged on the rest.
    assert refusals(meeting(recorded_at=None)) == ()


@pytest.mark.hazard("HAZ-04.C42")
def test_of_overlapping_meetings_only_the_first_to_start_counts():
    first = meeting(id=7, start=T0)
    second = meeting(id=3, start=T0 + timedelta(minutes=30))  # overlaps the first
    third = meeting(id=9, start=T0 + timedelta(minutes=90))  # 30 minutes after the first ends
    judged = mr.meetings_judged([third, second, first], policy=POLICY, now=NOW)
    assert [(j.meeting_id, j.counts) for j in judged] == [(7, True), (3, False), (9, True)]
    assert judged[1].refusals == (mr.OVERLAPS,) and judged[1].overlaps_meeting_id == 7
    # Two starting together: the lower id counts.
    twin = meeting(id=2, start=T0)
    judged = mr.meetings_judged([first, twin], policy=POLICY, now=NOW)
    assert [(j.meeting_id, j.counts) for j in judged] == [(2, True), (7, False)]


@pytest.mark.hazard("HAZ-04.C42")
def test_a_meeting_that_does_not_count_cannot_knock_out_a_real_one():
    bogus = meeting(id=1, start=T0, minutes=90, staff=1)  # one member of staff only
    real = meeting(id=2, start=T0 + timedelta(minutes=10))
    judged = mr.meetings_judged([bogus, real], policy=POLICY, now=NOW)
    assert [(j.meeting_id, j.counts) for j in judged] == [(1, False), (2, True)]


@pytest.mark.hazard("HAZ-04.C40", "HAZ-03.C40")
def test_three_one_minute_meetings_in_one_minute_count_for_nothing():
    """The issue's example: meetings scheduled in the past, each recorded held for a minute."""
    quick = [
        meeting(id=i, start=T0 + timedelta(minutes=i), minutes=1, recorded_at=NOW) for i in range(3)
    ]
    assert mr.counted_meeting_ids(quick, before=NOW, policy=POLICY, now=NOW) == []


@pytest.mark.hazard("HAZ-04.C43")
def test_recorded_after_the_event_means_more_than_24_hours_after_it_ended_and_still_counts():
    on_time = meeting(id=1, recorded_after=timedelta(hours=24))
    late = meeting(
        id=2, start=T0 + timedelta(days=1), recorded_after=timedelta(hours=24, seconds=1)
    )
    judged = mr.meetings_judged([on_time, late], policy=POLICY, now=NOW)
    assert [(j.counts, j.recorded_after_event) for j in judged] == [(True, False), (True, True)]
    assert not mr.recorded_after_event(actual_end=T0, recorded_at=None, policy=POLICY)


@pytest.mark.hazard("HAZ-04.C1", "HAZ-03.C41")
def test_only_meetings_started_before_and_recorded_before_the_decision_count():
    a = meeting(id=1, start=T0)
    b = meeting(id=2, start=T0 + timedelta(days=1))
    c = meeting(id=3, start=T0 + timedelta(days=2))
    both = [a, b, c]
    assert mr.counted_meeting_ids(both, before=NOW, policy=POLICY, now=NOW) == [1, 2, 3]
    # A prescription made before the third meeting started.
    before_c = c.actual_start - timedelta(seconds=1)
    assert mr.counted_meeting_ids(both, before=before_c, policy=POLICY, now=NOW) == [1, 2]
    # Decided before the third was recorded: it did not exist for the decision.
    decided = c.recorded_at - timedelta(seconds=1)
    assert mr.counted_meeting_ids(both, before=NOW, policy=POLICY, now=decided) == [1, 2]


@pytest.mark.hazard("HAZ-04.C42")
def test_meetings_less_than_30_minutes_apart_are_one_sitting():
    """Issue 10 review: three touching 20-minute meetings, recorded in a minute, made 3 of 3."""
    parts = [meeting(id=i, start=T0 + timedelta(minutes=20 * i), minutes=20) for i in range(3)]
    assert mr.counted_meeting_ids(parts, before=NOW, policy=POLICY, now=NOW) == [0]
    judged = mr.meetings_judged(parts, policy=POLICY, now=NOW)
    assert judged[1].refusals == (mr.OVERLAPS,) and "same sitting" in mr.refusal_words(judged[1])
    spaced = [
        meeting(id=i, start=T0 + timedelta(minutes=20 * i + 29 * i), minutes=20) for i in range(2)
    ]
    assert mr.counted_meeting_ids(spaced, before=NOW, policy=POLICY, now=NOW) == [0]
    apart = [
        meeting(id=i, start=T0 + timedelta(minutes=20 * i + 30 * i), minutes=20) for i in range(3)
    ]
    assert mr.counted_meeting_ids(apart, before=NOW, policy=POLICY, now=NOW) == [0, 1, 2]


@pytest.mark.hazard("HAZ-04.C43")
def test_a_meeting_not_arranged_in_advance_is_recorded_after_the_event_and_still_counts():
    unarranged = mr.HeldMeeting(
        id=1,
        actual_start=T0,
        actual_end=T0 + timedelta(hours=1),
        recorded_at=T0 + timedelta(hours=1, minutes=5),
        staff_present=2,
        person_present=True,
        network_members_present=0,
        arranged_in_advance=False,
    )
    (judged,) = mr.meetings_judged([unarranged], policy=POLICY, now=NOW)
    assert (judged.counts, judged.recorded_after_event) == (True, True)
