"""Every write to a person's network. Views and admin call these."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from networks.models import NetworkMember, ServiceUser
from pod.models import User

# The fields a clinician edits on the member form; consent is recorded separately because it
# carries who took it and when.
MEMBER_FIELDS = (
    "name",
    "category",
    "relationship",
    "closeness",
    "phone",
    "email",
    "address",
    "person_wants_invited",
    "not_invited_reason",
)


def _check_invitation_wish(member: NetworkMember) -> None:
    if member.person_wants_invited:
        member.not_invited_reason = ""
    elif not member.not_invited_reason.strip():
        raise ValidationError(
            {"not_invited_reason": "Say why the person does not want them invited."}
        )


def _apply_consent(member: NetworkMember, consent: bool, recorded_by: User, now: datetime) -> None:
    """Consent is stamped with the date and who took it whenever its answer changes."""
    if consent == member.consent_to_contact and member.consent_recorded_at is not None:
        return
    member.consent_to_contact = consent
    member.consent_recorded_at = now
    member.consent_recorded_by = recorded_by


@transaction.atomic
def network_member_add(
    *,
    service_user: ServiceUser,
    added_by: User,
    now: datetime,
    consent_to_contact: bool = False,
    **fields: Any,
) -> NetworkMember:
    """Add someone to the person's network, recording consent (date and who) if given."""
    unknown = set(fields) - set(MEMBER_FIELDS)
    if unknown:
        raise TypeError(f"unknown member fields: {sorted(unknown)}")
    member = NetworkMember(service_user=service_user, added_by=added_by, **fields)
    _check_invitation_wish(member)
    if consent_to_contact:
        _apply_consent(member, True, added_by, now)
    member.full_clean()
    member.save()
    return member


@transaction.atomic
def network_member_update(
    *,
    member: NetworkMember,
    updated_by: User,
    now: datetime,
    consent_to_contact: bool | None = None,
    **fields: Any,
) -> NetworkMember:
    """Change a member's details; a changed consent answer is re-stamped (date and who)."""
    member = NetworkMember.objects.select_for_update().get(pk=member.pk)
    if member.status == NetworkMember.Status.ENDED:
        raise ValidationError("This member has left the network; their record is kept as it was.")
    unknown = set(fields) - set(MEMBER_FIELDS)
    if unknown:
        raise TypeError(f"unknown member fields: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(member, name, value)
    _check_invitation_wish(member)
    if consent_to_contact is not None and (
        consent_to_contact != member.consent_to_contact
        or (consent_to_contact and member.consent_recorded_at is None)
    ):
        _apply_consent(member, consent_to_contact, updated_by, now)
    member.full_clean()
    member.save()
    return member


@transaction.atomic
def network_member_record_consent(
    *, member: NetworkMember, consent: bool, recorded_by: User, now: datetime
) -> NetworkMember:
    """Record that a member gave (or withdrew) consent to be contacted and invited."""
    member = NetworkMember.objects.select_for_update().get(pk=member.pk)
    member.consent_to_contact = consent
    member.consent_recorded_at = now
    member.consent_recorded_by = recorded_by
    member.full_clean()
    member.save(update_fields=["consent_to_contact", "consent_recorded_at", "consent_recorded_by"])
    return member


@transaction.atomic
def network_member_end(*, member: NetworkMember, now: datetime) -> NetworkMember:
    """End someone's place in the network. The row is kept: past attendance points at it."""
    member = NetworkMember.objects.select_for_update().get(pk=member.pk)
    if member.status == NetworkMember.Status.ENDED:
        raise ValidationError("This member has already left the network.")
    member.status = NetworkMember.Status.ENDED
    member.ended_at = now
    member.full_clean()
    member.save(update_fields=["status", "ended_at"])
    return member
