"""Fixtures of the URL-walking tests: one team's world with every kind of record in it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from meetings.models import Review
from meetings.services.meetings import meeting_schedule
from networks.models import PeerAssignment, PeerContact
from outcomes.models import OutcomeImport
from tests import factories as f


@pytest.fixture
def world(
    team,
    episode,
    service_user,
    clinician,
    prescriber,
    peer_worker,
    peer_volunteer,
    manager,
    admin_user,
    outsider,
    referral_at,
):
    member = f.make_member(service_user, name="Sky", contact_consent="not_asked")
    meeting = meeting_schedule(
        episode=episode,
        scheduled_start=referral_at + timedelta(hours=3),
        scheduled_end=referral_at + timedelta(hours=4),
        location="home",
        staff=[clinician],
        network_members=[member],
        created_by=clinician,
        now=referral_at + timedelta(hours=1),
    )
    assignments = {
        peer: PeerAssignment.objects.create(
            service_user=service_user, peer=peer, assigned_by=clinician, assigned_at=referral_at
        )
        for peer in (peer_worker, peer_volunteer)
    }
    contact = PeerContact.objects.create(
        service_user=service_user,
        peer=peer_worker,
        contact_at=referral_at + timedelta(hours=2),
        mode="phone",
        duration_minutes=10,
        purpose="support",
    )
    import_job = OutcomeImport.objects.create(
        team=team,
        uploaded_by=manager,
        created_at=referral_at,
        updated_at=referral_at,
        file_name="trial.csv",
        file_sha256="0" * 64,
        file_size=0,
        mode="add",
        date_format="iso",
        status="refused",
    )
    # A manager's review of a breach (its subject id names no alert: the breach's facts come from
    # the episode, and the world's tests raise their own alerts).
    review = Review.objects.create(
        kind=Review.Kind.BREACH,
        subject_id=987654,
        episode=episode,
        team=team,
        raised_at=referral_at + timedelta(hours=24),
    )
    users = {
        "clinician": clinician,
        "prescriber": prescriber,
        "peer_worker": peer_worker,
        "peer_volunteer": peer_volunteer,
        "manager": manager,
        "admin": admin_user,
        "outsider": outsider,
        "anonymous": None,
    }
    ids = {
        "episode": episode.pk,
        "meeting": meeting.pk,
        "person": service_user.pk,
        "member": member.pk,
        "contact": contact.pk,
        "assignment": assignments[peer_worker].pk,
        "team": team.pk,
        "import_job": import_job.pk,
        "review": review.pk,
    }
    return users, ids
