"""The race that matters for the medication rule: a new prescription submitted while the third
meeting is being recorded as held, in both orders, on real database connections.

Both writes lock the episode row first (meetings.services.episodes.episode_lock_for_change), so
they are decided one after the other: whichever holds the row first finishes before the other
reads anything. Each test pauses the first write inside its transaction until the second is
seen waiting for a lock (pg_locks) or has finished, so the outcome shows whether the second
waited. Without the lock in prescription_create, the prescription does not wait and both tests
fail (checked by removing it: see the branch's report).
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from meetings.models import Meeting, Prescription
from meetings.services import meetings as meeting_services
from meetings.services import prescriptions as prescription_services
from meetings.services.meetings import meeting_record_held, meeting_schedule
from meetings.services.prescriptions import prescription_create

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.hazard("HAZ-03.C42")]


def _someone_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        # Only this test database's sessions: other databases share the server.
        cursor.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE NOT l.granted AND a.datname = current_database()"
        )
        return cursor.fetchone()[0] > 0


def _pause_until(done: threading.Event, timeout: float = 10) -> None:
    """Hold the caller (inside its transaction) until the other thread waits for a lock or
    has finished."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if done.is_set() or _someone_waits_for_a_lock():
            return
        time.sleep(0.02)


def _meeting(episode, staff, start, *, hold: bool):
    meeting = meeting_schedule(
        episode=episode,
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=1),
        location="home",
        staff=staff,
        created_by=staff[0],
        now=start - timedelta(hours=1),
    )
    if hold:
        _record(meeting, staff, now=start + timedelta(hours=2))
    return meeting


def _record(meeting, staff, *, now):
    return meeting_record_held(
        meeting=meeting,
        actual_start=meeting.scheduled_start,
        actual_end=meeting.scheduled_end,
        attended={p.pk: True for p in meeting.participants.all()},
        recorded_by=staff[0],
        now=now,
    )


@pytest.fixture
def two_held_and_a_third(episode, clinician, clinician2, referral_at):
    staff = [clinician, clinician2]
    for day in (0, 1):
        _meeting(episode, staff, referral_at + timedelta(days=day, hours=2), hold=True)
    third = _meeting(episode, staff, referral_at + timedelta(days=2, hours=2), hold=False)
    now = referral_at + timedelta(days=2, hours=4)
    return staff, third, now


def _run(*targets):
    threads = [threading.Thread(target=t) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)


def _prescribe(episode, prescriber, now):
    return prescription_create(
        episode=episode,
        medicine="Olanzapine",
        is_antipsychotic=True,
        prescriber=prescriber,
        prescribed_at=now,
        now=now,
    )


def test_a_prescription_sent_while_the_third_meeting_is_recorded_waits_and_counts_it(
    episode, prescriber, two_held_and_a_third, monkeypatch
):
    staff, third, now = two_held_and_a_third
    recording_inside, prescribed = threading.Event(), threading.Event()
    outcome: list[object] = []
    refresh = meeting_services.episode_refresh_clock

    def refresh_then_pause(episode, *, now):
        # Inside meeting_record_held, after its writes, with the episode row locked.
        recording_inside.set()
        _pause_until(prescribed)
        return refresh(episode, now=now)

    monkeypatch.setattr(meeting_services, "episode_refresh_clock", refresh_then_pause)

    def record():
        try:
            _record(third, staff, now=now)
        finally:
            connections.close_all()

    def prescribe():
        try:
            assert recording_inside.wait(10)
            outcome.append(_prescribe(episode, prescriber, now))
        except ValidationError as error:
            outcome.append(error)
        finally:
            prescribed.set()
            connections.close_all()

    _run(record, prescribe)
    (result,) = outcome
    assert isinstance(result, Prescription), f"refused: {result}"
    assert result.meetings_held_before == 3
    assert third.pk in result.counted_meeting_ids


def test_a_meeting_recorded_while_a_prescription_is_decided_waits_and_does_not_count(
    episode, prescriber, two_held_and_a_third, monkeypatch
):
    staff, third, now = two_held_and_a_third
    prescribing_inside, recorded = threading.Event(), threading.Event()
    outcome: list[object] = []
    count = prescription_services.meetings_counted_before

    def pause_then_count(episode, instant, *, now):
        # Inside prescription_create, after it took the episode row, before it counts.
        prescribing_inside.set()
        _pause_until(recorded)
        return count(episode, instant, now=now)

    monkeypatch.setattr(prescription_services, "meetings_counted_before", pause_then_count)

    def prescribe():
        try:
            outcome.append(_prescribe(episode, prescriber, now))
        except ValidationError as error:
            outcome.append(error)
        finally:
            connections.close_all()

    def record():
        try:
            assert prescribing_inside.wait(10)
            _record(third, staff, now=now)
        finally:
            recorded.set()
            connections.close_all()

    _run(prescribe, record)
    (result,) = outcome
    assert isinstance(result, ValidationError), "prescribed on a meeting recorded after it"
    assert "2 of 3 network meetings" in " ".join(result.messages)
    assert not Prescription.objects.exists()
    # The recording went ahead once the prescription was decided; a new attempt counts it.
    assert Meeting.objects.get(pk=third.pk).status == Meeting.Status.HELD
    monkeypatch.setattr(prescription_services, "meetings_counted_before", count)
    assert _prescribe(episode, prescriber, now).meetings_held_before == 3
