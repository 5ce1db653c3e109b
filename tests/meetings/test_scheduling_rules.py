"""Pure rules for scheduling (warnings, the daily run in London days, the clock reading) and the
.ics writer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from meetings import rules
from meetings.ics import CalendarEvent, meeting_calendar

DUE = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
POLICY = rules.ClockPolicy(
    window=timedelta(hours=24),
    unscheduled_after=timedelta(hours=4),
    at_risk_lead=timedelta(hours=4),
)


def _warnings(**kw):
    args = {
        "staff_ids": {1, 2},
        "core_team_ids": {1},
        "double_booked": [],
        "scheduled_start": DUE - timedelta(hours=1),
        "first_meeting_due_at": DUE,
        "first_meeting_held": False,
        "first_meeting_window": timedelta(hours=24),
    }
    args.update(kw)
    return rules.meeting_warnings(**args)


@pytest.mark.hazard("HAZ-04.C3")
def test_it_warns_about_nothing_for_a_good_meeting():
    assert _warnings() == []


@pytest.mark.hazard("HAZ-04.C3")
def test_it_warns_for_each_problem():
    found = _warnings(
        staff_ids={3}, double_booked=["Sam"], scheduled_start=DUE + timedelta(seconds=1)
    )
    assert len(found) == 4


def test_it_does_not_warn_at_the_due_instant_or_after_the_first_meeting():
    assert _warnings(scheduled_start=DUE) == []
    assert _warnings(scheduled_start=DUE + timedelta(days=2), first_meeting_held=True) == []


@pytest.mark.hazard("HAZ-08.C2")
def test_it_keeps_the_london_wall_clock_across_the_spring_change():
    referral = datetime(2026, 3, 27, 9, 0, tzinfo=UTC)  # clocks go forward 29 March 2026
    starts = rules.daily_run_starts(
        referral_received_at=referral, first_start=datetime(2026, 3, 28, 10, 0, tzinfo=UTC), days=3
    )
    assert [s.astimezone(rules.LONDON).hour for s in starts] == [10, 10, 10]
    assert starts[2] - starts[1] == timedelta(hours=24)
    assert starts[1] - starts[0] == timedelta(hours=23)


@pytest.mark.hazard("HAZ-08.C2")
def test_it_stops_the_run_at_day_fourteen():
    referral = datetime(2026, 1, 1, 23, 30, tzinfo=UTC)
    starts = rules.daily_run_starts(
        referral_received_at=referral, first_start=datetime(2026, 1, 10, 10, 0, tzinfo=UTC), days=14
    )
    assert starts[-1].date() == datetime(2026, 1, 14).date()
    assert len(starts) == 5


@pytest.mark.hazard("HAZ-01.C5")
def test_it_reads_the_clock_in_words_at_due_minus_one_second_and_due():
    assert (
        rules.clock_time_left(
            first_meeting_due_at=DUE, policy=POLICY, now=DUE - timedelta(seconds=1)
        )[0]
        == "danger"
    )
    level, words = rules.clock_time_left(first_meeting_due_at=DUE, policy=POLICY, now=DUE)
    assert level == "danger" and words.startswith("Overdue")
    assert rules.clock_time_left(
        first_meeting_due_at=DUE, policy=POLICY, now=DUE - timedelta(hours=10)
    ) == (
        "ok",
        "10 h 00 min left",
    )


@pytest.mark.hazard("HAZ-09.C2")
def test_it_writes_a_folded_escaped_ics_event():
    event = CalendarEvent(
        meeting_id=7,
        sequence=2,
        start=DUE,
        end=DUE + timedelta(hours=1),
        place="Home; flat 2, " + "x" * 100,
        organizer_email="team@nhs.example",
    )
    ics = meeting_calendar(event, method="REQUEST", now=DUE, attendee_email="a@example.org")
    lines = ics.split("\r\n")
    assert "DTSTART:20260303T090000Z" in lines
    assert all(len(line.encode()) <= 75 for line in lines)
    assert "LOCATION:Home\\; flat 2\\," in ics
    assert ics.endswith("END:VCALENDAR\r\n")
    (parsed,) = Calendar.from_ical(ics).walk("VEVENT")
    assert parsed["LOCATION"] == "Home; flat 2, " + "x" * 100
    assert parsed["SEQUENCE"] == 2


def test_a_request_names_its_attendee_and_a_publication_none():
    event = CalendarEvent(
        meeting_id=7,
        sequence=0,
        start=DUE,
        end=DUE + timedelta(hours=1),
        place="",
        organizer_email="team@nhs.example",
    )
    with pytest.raises(ValueError):
        meeting_calendar(event, method="REQUEST", now=DUE)
    with pytest.raises(ValueError):
        meeting_calendar(event, method="PUBLISH", now=DUE, attendee_email="a@example.org")


@pytest.mark.hazard("HAZ-01.C5")
@pytest.mark.parametrize(
    ("lead_hours", "left", "level"),
    [
        (4, timedelta(hours=8, seconds=1), "ok"),
        (4, timedelta(hours=8), "warning"),
        (4, timedelta(hours=4, seconds=1), "warning"),
        (4, timedelta(hours=4), "danger"),
        (6, timedelta(hours=12, seconds=1), "ok"),
        (6, timedelta(hours=12), "warning"),
        (6, timedelta(hours=6, seconds=1), "warning"),
        (6, timedelta(hours=6), "danger"),
        (0, timedelta(seconds=1), "ok"),
    ],
)
def test_the_clock_turns_urgent_at_the_configured_at_risk_lead(lead_hours, left, level):
    policy = rules.ClockPolicy(
        window=timedelta(hours=24),
        unscheduled_after=timedelta(hours=4),
        at_risk_lead=timedelta(hours=lead_hours),
    )
    assert (
        rules.clock_time_left(first_meeting_due_at=DUE, policy=policy, now=DUE - left)[0] == level
    )
