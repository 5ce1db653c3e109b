"""Writes for peer work: assignments, the contact log and network building (proposals + consent).

Every function validates, raises django ValidationError with field keys, and writes all or nothing.
Who may call them is checked twice: the views use networks.selectors to scope what a user can
open, and these services check the domain facts (a peer must be assigned, a clinician must be of
the team).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction

from networks import rules, services
from networks.models import NetworkMember, PeerAssignment, PeerContact, ServiceUser
from pod.foundation.models import User
from pod.foundation.plausibility import event_error

# A contact logged "now" on a phone whose clock runs a little fast is still accepted.
_CLOCK_SKEW = timedelta(minutes=5)


def _is_team_clinician(user: User, service_user: ServiceUser) -> bool:
    return user.is_clinical and user.memberships.filter(team_id=service_user.team_id).exists()


def _open_assignment(peer: User, service_user: ServiceUser) -> PeerAssignment | None:
    return PeerAssignment.objects.filter(
        peer=peer, service_user=service_user, ended_at__isnull=True
    ).first()


@transaction.atomic
def peer_assign(
    *, service_user: ServiceUser, peer: User, assigned_by: User, now: datetime
) -> PeerAssignment:
    """Assign a peer worker or volunteer of the person's team to them."""
    if not _is_team_clinician(assigned_by, service_user):
        raise ValidationError("Only a clinician of the person's team can assign a peer.")
    if not peer.is_peer or not peer.is_active:
        raise ValidationError({"peer": "Choose a peer worker or peer volunteer."})
    if not peer.memberships.filter(team_id=service_user.team_id).exists():
        raise ValidationError({"peer": "This peer is not in the person's team."})
    # Lock the person so two clinicians assigning at once cannot both pass the check below.
    ServiceUser.objects.select_for_update().filter(pk=service_user.pk).first()
    if _open_assignment(peer, service_user) is not None:
        raise ValidationError({"peer": f"{peer} is already assigned to {service_user}."})
    assignment = PeerAssignment(
        service_user=service_user, peer=peer, assigned_by=assigned_by, assigned_at=now
    )
    assignment.full_clean()
    assignment.save()
    return assignment


@transaction.atomic
def peer_unassign(*, assignment: PeerAssignment, ended_by: User, now: datetime) -> PeerAssignment:
    """End an assignment. The peer's contact log stays; they can no longer open the person."""
    assignment = PeerAssignment.objects.select_for_update().get(pk=assignment.pk)
    if not _is_team_clinician(ended_by, assignment.service_user):
        raise ValidationError("Only a clinician of the person's team can end an assignment.")
    if assignment.ended_at is not None:
        raise ValidationError("This assignment has already ended.")
    assignment.ended_at = now
    assignment.full_clean()
    assignment.save(update_fields=["ended_at"])
    return assignment


def _check_contact(
    *,
    service_user: ServiceUser,
    members: list[NetworkMember],
    with_service_user: bool,
    contact_at: datetime,
    duration_minutes: int,
    now: datetime,
    already: Collection[int] = (),
) -> None:
    """ValidationError by field for a contact that cannot be logged. A member who refused to be
    contacted cannot be picked (issue 13) unless already on the contact being changed (`already`:
    their ids), so an old contact stays editable after a later refusal."""
    errors: dict[str, str] = {}
    if not members and not with_service_user:
        errors["who"] = "Choose who the contact was with: the person, a network member, or both."
    if any(m.service_user_id != service_user.pk or m.status != m.Status.ACTIVE for m in members):
        errors["who"] = "Choose only active members of this person's network."
    refused = [
        m.name
        for m in members
        if m.contact_consent == NetworkMember.Consent.REFUSED and m.pk not in already
    ]
    if refused and "who" not in errors:
        errors["who"] = (
            f"{', '.join(refused)} refused to be contacted by the team: untick them, and do not "
            "contact them."
        )
    if not 1 <= duration_minutes <= 24 * 60:
        errors["duration_minutes"] = "A contact lasts between 1 minute and 24 hours."
    if contact_at > now + _CLOCK_SKEW:
        errors["contact_at"] = "A contact cannot be logged in the future."
    elif refusal := event_error(
        contact_at,
        now=now,
        what="A contact",
        not_before=service_user.date_of_birth,
        not_before_what="the person's date of birth",
    ):
        errors["contact_at"] = refusal
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def peer_contact_log(
    *,
    service_user: ServiceUser,
    peer: User,
    members: Iterable[NetworkMember],
    with_service_user: bool,
    contact_at: datetime,
    mode: str,
    duration_minutes: int,
    purpose: str,
    note: str = "",
    now: datetime,
) -> PeerContact:
    """Log a peer's contact with the person and/or members of their network."""
    if not peer.is_peer or _open_assignment(peer, service_user) is None:
        raise ValidationError("Only a peer assigned to this person can log a contact.")
    members = list(members)
    _check_contact(
        service_user=service_user,
        members=members,
        with_service_user=with_service_user,
        contact_at=contact_at,
        duration_minutes=duration_minutes,
        now=now,
    )
    contact = PeerContact(
        service_user=service_user,
        peer=peer,
        with_service_user=with_service_user,
        contact_at=contact_at,
        mode=mode,
        duration_minutes=duration_minutes,
        purpose=purpose,
        note=note,
    )
    contact.full_clean()
    contact.save()
    contact.members.set(members)
    return contact


@transaction.atomic
def peer_contact_update(
    *,
    contact: PeerContact,
    user: User,
    members: Iterable[NetworkMember],
    with_service_user: bool,
    contact_at: datetime,
    mode: str,
    duration_minutes: int,
    purpose: str,
    note: str = "",
    now: datetime,
) -> PeerContact:
    """Change a contact: only its author, only within 24 hours of logging it (rules)."""
    contact = (
        PeerContact.objects.select_for_update().select_related("service_user").get(pk=contact.pk)
    )
    if not rules.peer_contact_is_editable(
        author_id=contact.peer_id, user_id=user.pk, created_at=contact.created_at, now=now
    ):
        raise ValidationError(
            "This contact is fixed: only its author can change it, within 24 hours of logging it."
        )
    members = list(members)
    _check_contact(
        service_user=contact.service_user,
        members=members,
        with_service_user=with_service_user,
        contact_at=contact_at,
        duration_minutes=duration_minutes,
        now=now,
        already=set(contact.members.values_list("pk", flat=True)),
    )
    contact.with_service_user = with_service_user
    contact.contact_at = contact_at
    contact.mode = mode
    contact.duration_minutes = duration_minutes
    contact.purpose = purpose
    contact.note = note
    contact.full_clean()
    contact.save()
    contact.members.set(members)
    return contact


@transaction.atomic
def network_member_propose(
    *,
    service_user: ServiceUser,
    proposed_by: User,
    name: str,
    category: str,
    relationship: str,
    closeness: int = NetworkMember.Closeness.DISTANT,
    phone: str = "",
    email: str = "",
    now: datetime,
) -> NetworkMember:
    """A peer proposes someone new (a neighbour, a friend from a group). They are not part of the
    network - not on the map, not counted, not invited - until the person's consent is recorded."""
    if not proposed_by.is_peer or _open_assignment(proposed_by, service_user) is None:
        raise ValidationError("Only a peer assigned to this person can propose a member.")
    member = NetworkMember(
        service_user=service_user,
        name=name,
        category=category,
        relationship=relationship,
        closeness=closeness,
        phone=phone,
        email=email,
        status=NetworkMember.Status.PROPOSED,
        added_by=proposed_by,
    )
    member.full_clean()
    member.save()
    return member


def _may_record_consent(user: User, service_user: ServiceUser) -> bool:
    if user.is_peer:
        return _open_assignment(user, service_user) is not None
    return _is_team_clinician(user, service_user)


@transaction.atomic
def network_member_accept_with_consent(
    *,
    member: NetworkMember,
    recorded_by: User,
    person_consents: bool,
    member_consents_to_contact: str,
    now: datetime,
    member_consents_to_information: str = NetworkMember.Consent.NOT_ASKED,
) -> NetworkMember:
    """Record the person's consent: the proposed member joins the network now.

    `member_consents_to_contact` records, at the same time, the new member's answer to being
    contacted by the team (a NetworkMember.Consent value: "not_asked", "agreed", "refused";
    unless agreed their contact details stay hidden from peers), and
    `member_consents_to_information` their answer to being given information about the
    person's care. "agreed" and "refused" are stamped with the date and who recorded them."""
    member = (
        NetworkMember.objects.select_for_update().select_related("service_user").get(pk=member.pk)
    )
    if not _may_record_consent(recorded_by, member.service_user):
        raise ValidationError("Only the person's team or their assigned peer can record consent.")
    if member.status != NetworkMember.Status.PROPOSED:
        raise ValidationError("This member is not waiting for consent.")
    if not person_consents:
        raise ValidationError({"person_consents": "Record the person's consent to add them."})
    member.status = NetworkMember.Status.ACTIVE
    member.joined_at = now
    services.apply_consents(
        member,
        recorded_by,
        now,
        contact_consent=member_consents_to_contact,
        information_consent=member_consents_to_information,
    )
    member.full_clean()
    member.save()
    return member


@transaction.atomic
def network_member_decline(
    *, member: NetworkMember, recorded_by: User, now: datetime
) -> NetworkMember:
    """The person does not want a proposed member in their network: the proposal ends without the
    member ever joining (joined_at == ended_at, so no dated snapshot of the network shows them)."""
    member = (
        NetworkMember.objects.select_for_update().select_related("service_user").get(pk=member.pk)
    )
    if not _may_record_consent(recorded_by, member.service_user):
        raise ValidationError("Only the person's team or their assigned peer can record this.")
    if member.status != NetworkMember.Status.PROPOSED:
        raise ValidationError("This member is not waiting for consent.")
    member.status = NetworkMember.Status.ENDED
    member.joined_at = now
    member.ended_at = now
    member.full_clean()
    member.save()
    return member
