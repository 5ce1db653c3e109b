"""Every write to a person's network. Views and admin call these."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from networks.models import NetworkMember, ServiceUser
from pod.foundation.models import User

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


# Each kind of consent a member gives: its answer and the date and who recorded it.
CONTACT = ("consent_to_contact", "consent_recorded_at", "consent_recorded_by")
INFORMATION = (
    "consent_to_information",
    "information_consent_recorded_at",
    "information_consent_recorded_by",
)
CONSENT_KINDS = {"contact": CONTACT, "information": INFORMATION}


def _apply_consent(
    member: NetworkMember,
    consent: bool | None,
    recorded_by: User,
    now: datetime,
    kind: tuple[str, str, str] = CONTACT,
) -> None:
    """Stamp one kind of consent with the date and who took it when its answer is given or
    changes. An unchanged answer keeps its original stamp; None (not asked) changes nothing; and
    an unticked box on a member never asked is the default, not an answer, so it is not stamped."""
    answer, at, by = kind
    if consent is None or (consent == getattr(member, answer) and getattr(member, at) is not None):
        return
    if not consent and not getattr(member, answer) and getattr(member, at) is None:
        return
    setattr(member, answer, consent)
    setattr(member, at, now)
    setattr(member, by, recorded_by)


def apply_consents(
    member: NetworkMember,
    recorded_by: User,
    now: datetime,
    *,
    consent_to_contact: bool | None,
    consent_to_information: bool | None,
) -> None:
    """Apply both consent answers (None: not asked). The peer services call this too."""
    _apply_consent(member, consent_to_contact, recorded_by, now, CONTACT)
    _apply_consent(member, consent_to_information, recorded_by, now, INFORMATION)


@transaction.atomic
def network_member_add(
    *,
    service_user: ServiceUser,
    added_by: User,
    now: datetime,
    consent_to_contact: bool = False,
    consent_to_information: bool = False,
    **fields: Any,
) -> NetworkMember:
    """Add someone to the person's network, recording each consent (date and who) if given."""
    unknown = set(fields) - set(MEMBER_FIELDS)
    if unknown:
        raise TypeError(f"unknown member fields: {sorted(unknown)}")
    member = NetworkMember(service_user=service_user, added_by=added_by, **fields)
    _check_invitation_wish(member)
    apply_consents(
        member,
        added_by,
        now,
        consent_to_contact=consent_to_contact,
        consent_to_information=consent_to_information,
    )
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
    consent_to_information: bool | None = None,
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
    apply_consents(
        member,
        updated_by,
        now,
        consent_to_contact=consent_to_contact,
        consent_to_information=consent_to_information,
    )
    member.full_clean()
    member.save()
    return member


@transaction.atomic
def network_member_record_consent(
    *,
    member: NetworkMember,
    consent: bool,
    recorded_by: User,
    now: datetime,
    kind: str = "contact",
) -> NetworkMember:
    """Record that a member gave (or withdrew) consent: to be contacted and invited
    (kind="contact") or to receive information about the person's care (kind="information").
    Recording it explicitly always re-stamps the date and who, even when the answer is the same."""
    fields = CONSENT_KINDS[kind]
    member = NetworkMember.objects.select_for_update().get(pk=member.pk)
    answer, at, by = fields
    setattr(member, answer, consent)
    setattr(member, at, now)
    setattr(member, by, recorded_by)
    member.full_clean()
    member.save(update_fields=list(fields))
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
