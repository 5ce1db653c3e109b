"""The 24-hour rule as pure functions, with a pinned `now` (no database)."""

from datetime import UTC, datetime, timedelta

import pytest

from meetings import rules
from pod.foundation.localtime import LONDON

UTC = UTC
POLICY = rules.ClockPolicy(
    window=timedelta(hours=24),
    unscheduled_after=timedelta(hours=4),
    at_risk_lead=timedelta(hours=4),
)
REFERRAL = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DUE = REFERRAL + timedelta(hours=24)


def facts(**kw):
    return rules.ClockFacts(
        **{
            "referral_received_at": REFERRAL,
            "first_meeting_due_at": DUE,
            "first_meeting_held_at": None,
            "earliest_scheduled_start": None,
            "closed": False,
            "raised": frozenset(),
            **kw,
        }
    )


@pytest.mark.hazard("HAZ-01.C1")
def test_it_makes_the_first_meeting_due_24_elapsed_hours_after_referral():
    assert rules.first_meeting_due_at(referral_received_at=REFERRAL, window=POLICY.window) == DUE


@pytest.mark.hazard("HAZ-08.C1")
def test_it_counts_elapsed_hours_across_the_autumn_clock_change():
    # Saturday 25 October 2025 10:00 BST; clocks go back at 02:00 on Sunday.
    referral = datetime(2025, 10, 25, 10, 0, tzinfo=LONDON)
    due = rules.first_meeting_due_at(referral_received_at=referral, window=POLICY.window)
    assert due.astimezone(LONDON).replace(tzinfo=None) == datetime(2025, 10, 26, 9, 0)
    assert due - referral == timedelta(hours=24)


@pytest.mark.hazard("HAZ-08.C1")
def test_it_counts_elapsed_hours_across_the_spring_clock_change():
    referral = datetime(2026, 3, 28, 10, 0, tzinfo=LONDON)  # clocks go forward Sunday 01:00
    due = rules.first_meeting_due_at(referral_received_at=referral, window=POLICY.window)
    assert due.astimezone(LONDON).replace(tzinfo=None) == datetime(2026, 3, 29, 11, 0)


@pytest.mark.hazard("HAZ-01.C1")
def test_it_raises_nothing_one_second_before_due_and_breached_at_due():
    f = facts(raised=frozenset({rules.UNSCHEDULED, rules.AT_RISK}))
    assert rules.clock_alerts_due(facts=f, policy=POLICY, now=DUE - timedelta(seconds=1)) == []
    assert rules.clock_alerts_due(facts=f, policy=POLICY, now=DUE) == [rules.BREACHED]


@pytest.mark.hazard("HAZ-01.C2")
def test_it_raises_unscheduled_at_four_hours_when_nothing_is_arranged():
    at = REFERRAL + timedelta(hours=4)
    assert rules.clock_alerts_due(facts=facts(), policy=POLICY, now=at - timedelta(seconds=1)) == []
    assert rules.clock_alerts_due(facts=facts(), policy=POLICY, now=at) == [rules.UNSCHEDULED]


@pytest.mark.hazard("HAZ-01.C2")
def test_it_does_not_raise_unscheduled_when_a_meeting_is_arranged():
    f = facts(earliest_scheduled_start=REFERRAL + timedelta(hours=6))
    assert rules.clock_alerts_due(facts=f, policy=POLICY, now=REFERRAL + timedelta(hours=5)) == []


@pytest.mark.hazard("HAZ-01.C2")
def test_it_raises_at_risk_when_the_only_meeting_is_after_the_due_time():
    f = facts(
        earliest_scheduled_start=DUE + timedelta(hours=2), raised=frozenset({rules.UNSCHEDULED})
    )
    at = DUE - timedelta(hours=4)
    assert rules.clock_alerts_due(facts=f, policy=POLICY, now=at - timedelta(seconds=1)) == []
    assert rules.clock_alerts_due(facts=f, policy=POLICY, now=at) == [rules.AT_RISK]


@pytest.mark.hazard("HAZ-01.C2")
def test_it_does_not_raise_at_risk_when_a_meeting_is_scheduled_before_due():
    f = facts(earliest_scheduled_start=DUE - timedelta(hours=1))
    assert rules.clock_alerts_due(facts=f, policy=POLICY, now=DUE - timedelta(hours=2)) == []


@pytest.mark.hazard("HAZ-01.C4")
def test_it_stops_the_clock_when_the_first_meeting_is_held_in_time():
    f = facts(first_meeting_held_at=REFERRAL + timedelta(hours=20))
    assert rules.clock_alerts_due(facts=f, policy=POLICY, now=DUE + timedelta(hours=1)) == []
    assert rules.clock_next_check_at(facts=f, policy=POLICY, now=DUE) is None
    assert rules.first_meeting_in_time(facts=f) is True


@pytest.mark.hazard("HAZ-01.C4")
def test_it_counts_a_first_meeting_held_exactly_at_due_as_in_time():
    f = facts(first_meeting_held_at=DUE)
    assert rules.first_meeting_in_time(facts=f) is True
    assert rules.clock_alerts_due(facts=f, policy=POLICY, now=DUE + timedelta(hours=1)) == []


@pytest.mark.hazard("HAZ-01.C3")
def test_it_records_a_breach_for_a_first_meeting_held_late():
    f = facts(first_meeting_held_at=DUE + timedelta(minutes=30))
    assert rules.clock_alerts_due(facts=f, policy=POLICY, now=DUE + timedelta(hours=1)) == [
        rules.BREACHED
    ]


@pytest.mark.hazard("HAZ-02.C1")
def test_it_never_raises_a_kind_twice():
    f = facts(raised=frozenset({rules.UNSCHEDULED, rules.AT_RISK, rules.BREACHED}))
    assert rules.clock_alerts_due(facts=f, policy=POLICY, now=DUE + timedelta(days=3)) == []
    assert rules.clock_next_check_at(facts=f, policy=POLICY, now=DUE) is None


@pytest.mark.hazard("HAZ-01.C1")
def test_it_skips_warnings_once_the_due_time_has_passed():
    # A sweep that runs late raises the breach, not stale warnings.
    assert rules.clock_alerts_due(facts=facts(), policy=POLICY, now=DUE + timedelta(minutes=5)) == [
        rules.BREACHED
    ]


@pytest.mark.hazard("HAZ-01.C1")
def test_it_schedules_the_next_check_at_the_next_threshold():
    assert rules.clock_next_check_at(facts=facts(), policy=POLICY, now=REFERRAL) == (
        REFERRAL + timedelta(hours=4)
    )
    f = facts(raised=frozenset({rules.UNSCHEDULED}))
    assert rules.clock_next_check_at(facts=f, policy=POLICY, now=REFERRAL + timedelta(hours=4)) == (
        DUE - timedelta(hours=4)
    )


@pytest.mark.hazard("HAZ-01.C4")
def test_it_raises_nothing_for_a_closed_episode():
    assert rules.clock_alerts_due(facts=facts(closed=True), policy=POLICY, now=DUE) == []
    assert rules.clock_next_check_at(facts=facts(closed=True), policy=POLICY, now=DUE) is None
