"""Peer services: assignment, the contact log (24-hour edit window) and network building."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from networks import peer_services
from networks.models import NetworkMember, PeerAssignment, PeerContact
from tests import factories as f

UTC = UTC
NOW = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)


@pytest.fixture
def assigned(service_user, peer_volunteer, clinician):
    return peer_services.peer_assign(
        service_user=service_user, peer=peer_volunteer, assigned_by=clinician, now=NOW
    )


def _log(service_user, peer, members=(), with_person=True, **kw):
    return peer_services.peer_contact_log(
        service_user=service_user,
        peer=peer,
        members=members,
        with_service_user=with_person,
        contact_at=kw.pop("contact_at", NOW),
        mode=kw.pop("mode", "phone"),
        duration_minutes=kw.pop("duration_minutes", 15),
        purpose=kw.pop("purpose", "support"),
        note=kw.pop("note", ""),
        now=kw.pop("now", NOW),
    )


def test_it_assigns_a_peer_of_the_team_once(assigned, service_user, peer_volunteer, clinician):
    assert assigned.ended_at is None
    with pytest.raises(ValidationError) as err:
        peer_services.peer_assign(
            service_user=service_user, peer=peer_volunteer, assigned_by=clinician, now=NOW
        )
    assert "peer" in err.value.message_dict


def test_it_refuses_assignment_by_a_peer_or_of_a_clinician_or_of_another_team(
    service_user, peer_worker, peer_volunteer, clinician, clinician2, other_team
):
    with pytest.raises(ValidationError):
        peer_services.peer_assign(
            service_user=service_user, peer=peer_volunteer, assigned_by=peer_worker, now=NOW
        )
    with pytest.raises(ValidationError):
        peer_services.peer_assign(
            service_user=service_user, peer=clinician2, assigned_by=clinician, now=NOW
        )
    stranger = f.make_user("peer_worker", other_team)
    with pytest.raises(ValidationError):
        peer_services.peer_assign(
            service_user=service_user, peer=stranger, assigned_by=clinician, now=NOW
        )
    assert not PeerAssignment.objects.exists()


def test_it_ends_an_assignment_and_allows_a_new_one(
    assigned, service_user, peer_volunteer, clinician
):
    peer_services.peer_unassign(assignment=assigned, ended_by=clinician, now=NOW)
    assigned.refresh_from_db()
    assert assigned.ended_at == NOW
    again = peer_services.peer_assign(
        service_user=service_user, peer=peer_volunteer, assigned_by=clinician, now=NOW
    )
    assert again.pk != assigned.pk


def test_it_logs_a_contact_with_members_and_the_person(assigned, service_user, peer_volunteer):
    sister = f.make_member(service_user, name="Dana")
    contact = _log(service_user, peer_volunteer, members=[sister])
    assert contact.with_service_user
    assert list(contact.members.all()) == [sister]


def test_it_refuses_a_contact_from_an_unassigned_peer(service_user, peer_worker):
    with pytest.raises(ValidationError):
        _log(service_user, peer_worker)
    assert not PeerContact.objects.exists()


@pytest.mark.hazard("HAZ-05.C4")
def test_it_refuses_a_contact_with_nobody_in_the_future_or_with_another_persons_member(
    assigned, service_user, peer_volunteer, team
):
    with pytest.raises(ValidationError) as err:
        _log(service_user, peer_volunteer, with_person=False)
    assert "who" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        _log(service_user, peer_volunteer, contact_at=NOW + timedelta(hours=1))
    assert "contact_at" in err.value.message_dict
    stranger = f.make_member(f.make_service_user(team))
    with pytest.raises(ValidationError) as err:
        _log(service_user, peer_volunteer, members=[stranger])
    assert "who" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        _log(service_user, peer_volunteer, duration_minutes=0)
    assert "duration_minutes" in err.value.message_dict
    assert not PeerContact.objects.exists()


def _update(contact, user, now, note="changed"):
    return peer_services.peer_contact_update(
        contact=contact,
        user=user,
        members=[],
        with_service_user=True,
        contact_at=contact.contact_at,
        mode="visit",
        duration_minutes=30,
        purpose="practical_help",
        note=note,
        now=now,
    )


def test_it_lets_the_author_change_a_contact_within_24_hours(
    assigned, service_user, peer_volunteer
):
    contact = _log(service_user, peer_volunteer)
    _update(contact, peer_volunteer, contact.created_at + timedelta(hours=23, minutes=59))
    contact.refresh_from_db()
    assert (contact.mode, contact.note) == ("visit", "changed")


@pytest.mark.hazard("HAZ-07.C5")
def test_it_fixes_a_contact_after_24_hours_and_against_other_users(
    assigned, service_user, peer_volunteer, peer_worker, clinician
):
    contact = _log(service_user, peer_volunteer)
    with pytest.raises(ValidationError):
        _update(contact, peer_volunteer, contact.created_at + timedelta(hours=24))
    peer_services.peer_assign(
        service_user=service_user, peer=peer_worker, assigned_by=clinician, now=NOW
    )
    with pytest.raises(ValidationError):
        _update(contact, peer_worker, contact.created_at)
    contact.refresh_from_db()
    assert contact.mode == "phone" and contact.note == ""


def test_it_adds_a_proposed_member_to_the_network_only_with_consent(
    assigned, service_user, peer_volunteer, clinician
):
    member = peer_services.network_member_propose(
        service_user=service_user,
        proposed_by=peer_volunteer,
        name="Mo",
        category="neighbour",
        relationship="neighbour at no. 4",
        now=NOW,
    )
    assert member.status == NetworkMember.Status.PROPOSED and member.joined_at is None
    with pytest.raises(ValidationError) as err:
        peer_services.network_member_accept_with_consent(
            member=member,
            recorded_by=clinician,
            person_consents=False,
            member_consents_to_contact="not_asked",
            now=NOW,
        )
    assert "person_consents" in err.value.message_dict
    later = NOW + timedelta(days=1)
    peer_services.network_member_accept_with_consent(
        member=member,
        recorded_by=clinician,
        person_consents=True,
        member_consents_to_contact="agreed",
        now=later,
    )
    member.refresh_from_db()
    assert member.status == NetworkMember.Status.ACTIVE
    assert member.joined_at == later
    assert member.contact_consent == "agreed" and member.consent_recorded_by == clinician


def test_it_refuses_a_proposal_from_an_unassigned_peer_or_a_clinician(
    service_user, peer_worker, clinician
):
    for user in (peer_worker, clinician):
        with pytest.raises(ValidationError):
            peer_services.network_member_propose(
                service_user=service_user,
                proposed_by=user,
                name="Mo",
                category="friend",
                relationship="friend",
                now=NOW,
            )
    assert not NetworkMember.objects.exists()


def test_it_records_a_declined_proposal_that_never_joined(assigned, service_user, peer_volunteer):
    member = peer_services.network_member_propose(
        service_user=service_user,
        proposed_by=peer_volunteer,
        name="Mo",
        category="friend",
        relationship="friend",
        now=NOW,
    )
    peer_services.network_member_decline(member=member, recorded_by=peer_volunteer, now=NOW)
    member.refresh_from_db()
    assert member.status == NetworkMember.Status.ENDED
    assert member.joined_at == member.ended_at == NOW
