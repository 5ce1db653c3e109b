"""The plausibility rules for dates and times, and the form fields that apply them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django import forms

from pod.foundation.fields import LocalDateTimeField, PlausibleDateField
from pod.foundation.plausibility import (
    ImplausibleTime,
    appointment_error,
    birth_date_error,
    duration_error,
    event_error,
    local_to_instant,
    query_date,
)

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
TODAY = date(2026, 11, 30)


def test_it_refuses_an_event_before_1900_and_in_the_future():
    assert "before 1900" in event_error(datetime(1899, 12, 31, tzinfo=UTC), now=NOW, what="X")
    assert "future" in event_error(NOW + timedelta(minutes=6), now=NOW, what="X")
    assert event_error(NOW + timedelta(minutes=5), now=NOW, what="X") is None
    assert event_error(date(1, 1, 1), now=NOW, what="X")
    assert "future" in event_error(date(2026, 12, 1), now=NOW, what="X")
    assert event_error(TODAY, now=NOW, what="X") is None


def test_it_refuses_an_event_before_the_event_it_follows():
    referral = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    message = event_error(
        referral - timedelta(minutes=1),
        now=NOW,
        what="A meeting",
        not_before=referral,
        not_before_what="the referral",
    )
    assert message == "A meeting cannot be before the referral (29 Nov 2026 09:00)."
    # A date on the referral's own calendar day is plausible.
    assert event_error(date(2026, 11, 29), now=NOW, what="X", not_before=referral) is None


def test_it_bounds_appointments_to_two_years_ahead():
    assert appointment_error(NOW + timedelta(days=700), now=NOW, what="A meeting") is None
    assert "two years" in appointment_error(
        datetime(9999, 12, 31, 23, 30, tzinfo=UTC), now=NOW, what="A meeting"
    )


def test_it_checks_a_birth_against_today_and_the_record():
    assert "future" in birth_date_error(date(2090, 1, 1), today=TODAY)
    assert "1900" in birth_date_error(date(1800, 1, 1), today=TODAY)
    assert "after events" in birth_date_error(
        date(2001, 5, 5), today=TODAY, first_event=date(2000, 1, 1)
    )
    assert birth_date_error(date(1990, 5, 5), today=TODAY, first_event=date(2020, 1, 1)) is None


def test_it_bounds_durations():
    start = NOW
    assert "end after" in duration_error(start, start, what="A meeting", maximum=timedelta(hours=8))
    assert "at least 20 minutes" in duration_error(
        start,
        start + timedelta(minutes=1),
        what="A meeting",
        minimum=timedelta(minutes=20),
        maximum=timedelta(hours=8),
    )
    assert "8 hours" in duration_error(
        start, start + timedelta(hours=9), what="A meeting", maximum=timedelta(hours=8)
    )


@pytest.mark.parametrize(
    "raw", ["9999-12-31", "0001-01-01", "1899-12-31", "2026-13-01", "x" * 10_000, "2026-1-1"]
)
def test_it_refuses_implausible_query_dates_with_a_message(raw):
    with pytest.raises(ValueError) as error:
        query_date(raw, today=TODAY)
    assert str(error.value)


def test_it_reads_a_plausible_query_date():
    assert query_date("2026-11-30", today=TODAY) == TODAY
    assert query_date("", today=TODAY) is None
    assert query_date(None, today=TODAY) is None


def test_it_asks_which_of_the_two_autumn_0130s_is_meant_and_stores_the_choice():
    wall = datetime(2026, 10, 25, 1, 30)
    with pytest.raises(ImplausibleTime) as error:
        local_to_instant(wall)
    assert error.value.ambiguous
    assert "happened twice" in error.value.message
    assert local_to_instant(wall, fold=0) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # BST
    assert local_to_instant(wall, fold=1) == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # GMT


def test_it_refuses_a_time_in_the_spring_gap_and_says_why():
    with pytest.raises(ImplausibleTime) as error:
        local_to_instant(datetime(2026, 3, 29, 1, 30))
    assert not error.value.ambiguous
    assert "did not happen" in error.value.message
    assert local_to_instant(datetime(2026, 3, 29, 2, 30)) == datetime(
        2026, 3, 29, 1, 30, tzinfo=UTC
    )


class _Form(forms.Form):
    held_at = LocalDateTimeField(kind="event", what="The meeting")
    appointment = LocalDateTimeField(kind="appointment", what="The meeting", required=False)
    born = PlausibleDateField(kind="birth", required=False)


def test_the_field_shows_the_choice_for_an_ambiguous_time_and_accepts_it():
    form = _Form({"held_at": "2025-10-26T01:30"})
    assert not form.is_valid()
    assert "happened twice" in form.errors["held_at"][0]
    assert 'name="held_at_fold"' in str(form["held_at"])
    chosen = _Form({"held_at": "2025-10-26T01:30", "held_at_fold": "1"})
    assert chosen.is_valid(), chosen.errors
    assert chosen.cleaned_data["held_at"] == datetime(2025, 10, 26, 1, 30, tzinfo=UTC)


def test_a_time_typed_as_the_error_message_shows_it_is_accepted():
    """Issue 13 review: the message's example, day/month/year, was itself refused."""
    form = _Form({"held_at": "24/11/2026 14:30"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["held_at"] == datetime(2026, 11, 24, 14, 30, tzinfo=UTC)  # GMT
    assert not _Form({"held_at": "31/02/2026 14:30"}).is_valid()


@pytest.mark.parametrize(
    "data",
    [
        {"held_at": "9999-12-31T23:59"},
        {"held_at": "0001-01-01T00:00"},
        {"held_at": "2026-11-30T12:00", "appointment": "9999-12-31T23:30"},
        {"held_at": "x" * 10_000},
        {"held_at": "2026-11-30T12:00", "born": "2090-01-01"},
        {"held_at": "2026-11-30T12:00", "born": "9" * 10_000},
        {"held_at": "2026-03-29T01:30"},
    ],
)
def test_the_fields_put_implausible_input_at_the_field(data):
    form = _Form(data)
    assert not form.is_valid()
    assert set(form.errors) <= {"held_at", "appointment", "born"}
