"""Recording a meeting held stores its attendance on the meeting row for the dashboards."""

from datetime import timedelta

import pytest

from meetings.models import Participant
from meetings.services.meetings import (
    meeting_attendance_refresh,
    meeting_record_held,
    meeting_schedule,
)
from tests import factories as f


@pytest.mark.hazard("HAZ-04.C4", "HAZ-11.C5")
def test_it_stores_the_attendance_when_a_meeting_is_recorded_held(
    episode, clinician, peer_worker, service_user, referral_at
):
    sister = f.make_member(service_user)
    brother = f.make_member(service_user)
    start = referral_at + timedelta(hours=3)
    meeting = meeting_schedule(
        episode=episode,
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=1),
        location="home",
        staff=[clinician, peer_worker],
        network_members=[sister, brother],
        created_by=clinician,
        now=referral_at,
    )
    assert meeting.network_members_present is None
    present = {
        p.pk: p.kind == Participant.Kind.SERVICE_USER
        or p.network_member_id == sister.pk
        or p.staff_id in (clinician.pk, peer_worker.pk)
        for p in meeting.participants.all()
    }

    meeting_record_held(
        meeting=meeting,
        actual_start=start,
        actual_end=start + timedelta(hours=1),
        attended=present,
        recorded_by=clinician,
        now=start + timedelta(hours=2),
    )

    meeting.refresh_from_db()
    assert (meeting.network_members_present, meeting.staff_present) == (1, 2)
    assert meeting.core_team_present is True


@pytest.mark.hazard("HAZ-04.C4", "HAZ-11.C5")
def test_it_recomputes_the_attendance_when_it_changes(
    episode, clinician, peer_worker, service_user, referral_at
):
    start = referral_at + timedelta(hours=3)
    meeting = meeting_schedule(
        episode=episode,
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=1),
        location="home",
        staff=[clinician, peer_worker],
        network_members=[],
        created_by=clinician,
        now=referral_at,
    )
    meeting_record_held(
        meeting=meeting,
        actual_start=start,
        actual_end=start + timedelta(hours=1),
        attended={p.pk: p.staff_id == peer_worker.pk for p in meeting.participants.all()},
        recorded_by=clinician,
        now=start + timedelta(hours=2),
    )
    meeting.refresh_from_db()
    assert (meeting.staff_present, meeting.core_team_present) == (1, False)

    meeting.participants.filter(staff=clinician).update(attended=True)
    meeting_attendance_refresh(meeting)

    meeting.refresh_from_db()
    assert (meeting.staff_present, meeting.core_team_present) == (2, True)
