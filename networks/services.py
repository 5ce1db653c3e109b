"""Every write to a person's network. Views and admin call these."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Min

from networks.models import DetailsCorrection, IdentityConfirmation, NetworkMember, ServiceUser
from networks.rules import normalise_nhs_number
from pod.foundation.justification import reason_refusal
from pod.foundation.localtime import LONDON
from pod.foundation.models import User
from pod.foundation.plausibility import birth_date_error

# What a clinician may correct about a person, with a reason (service_user_correct).
CORRECTABLE_FIELDS = (
    "nhs_number",
    "given_name",
    "family_name",
    "preferred_name",
    "date_of_birth",
    "phone",
    "email",
    "address",
    "postcode",
)


def _jsonable(value: object) -> object:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _first_event_day(person: ServiceUser) -> date | None:
    """The London day of the earliest dated event on the person's record (a referral, a peer
    contact, an outcome assessment, a scored or licensed measure), or None when there is none:
    a date of birth cannot be after it. Reverse relations only: networks imports no app above."""
    days: list[date] = []
    for manager, field in (
        ("episodes", "referral_received_at"),
        ("peer_contacts", "contact_at"),
        ("outcome_assessments", "assessed_on"),
        ("scored_measures", "completed_on"),
        ("licensed_measures", "completed_on"),
    ):
        related = getattr(person, manager, None)
        if related is None:
            continue
        first = related.aggregate(first=Min(field))["first"]
        if isinstance(first, datetime):
            days.append(first.astimezone(LONDON).date())
        elif isinstance(first, date):
            days.append(first)
    return min(days, default=None)


@transaction.atomic
def service_user_correct(
    *,
    person: ServiceUser,
    changes: dict[str, Any],
    reason: str,
    corrected_by: User,
    today: date,
) -> DetailsCorrection:
    """Correct a person's identifying details and keep the reason beside the change.

    `changes` maps fields of CORRECTABLE_FIELDS to their new values; fields whose value does not
    change are left out of the record. The person's row is locked first. ValidationError (by
    field) for an empty reason, nothing changed, an unknown field, or a value the model refuses
    (an NHS number refused by networks.rules.nhs_number_refusal or on another person's record,
    a date of birth that pod.foundation.plausibility.birth_date_error refuses on the London
    date `today`); nothing is saved then. Both rows are audited.
    """
    unknown = set(changes) - set(CORRECTABLE_FIELDS)
    if unknown:
        raise ValidationError(f"These details cannot be corrected here: {sorted(unknown)}")
    if refusal := reason_refusal(reason, what="The reason the details are corrected"):
        raise ValidationError({"reason": refusal})
    locked = ServiceUser.objects.select_for_update().get(pk=person.pk)
    if "nhs_number" in changes:
        changes = {**changes, "nhs_number": normalise_nhs_number(changes["nhs_number"])}
    diff = {
        field: [_jsonable(getattr(locked, field)), _jsonable(value)]
        for field, value in changes.items()
        if getattr(locked, field) != value
    }
    if not diff:
        raise ValidationError("Nothing was changed: the details are as recorded.")
    born = changes.get("date_of_birth")
    if "date_of_birth" in diff and born is not None:
        refusal = birth_date_error(born, today=today, first_event=_first_event_day(locked))
        if refusal:
            raise ValidationError({"date_of_birth": refusal})
    for field in diff:
        setattr(locked, field, changes[field])
    locked.full_clean()
    locked.save(update_fields=list(diff))
    correction = DetailsCorrection(
        service_user=locked, changes=diff, reason=reason.strip(), corrected_by=corrected_by
    )
    correction.full_clean()
    correction.save()
    return correction


def identity_confirmation_record(
    *, person: ServiceUser, entered: dict[str, Any], confirmed_by: User
) -> IdentityConfirmation:
    """Keep what a referral entered for a number already on record under other details, beside
    the record it was confirmed to be (the clinician's explicit "same person"). Call inside the
    referral's transaction."""
    confirmation = IdentityConfirmation(
        service_user=person,
        entered_given_name=str(entered.get("given_name") or ""),
        entered_family_name=str(entered.get("family_name") or ""),
        entered_date_of_birth=entered.get("date_of_birth") or None,
        recorded_given_name=person.given_name,
        recorded_family_name=person.family_name,
        recorded_date_of_birth=person.date_of_birth,
        confirmed_by=confirmed_by,
    )
    confirmation.full_clean()
    confirmation.save()
    return confirmation


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
CONTACT = ("contact_consent", "consent_recorded_at", "consent_recorded_by")
INFORMATION = (
    "information_consent",
    "information_consent_recorded_at",
    "information_consent_recorded_by",
)
CONSENT_KINDS = {"contact": CONTACT, "information": INFORMATION}
Answer = NetworkMember.Consent


def _apply_consent(
    member: NetworkMember,
    consent: str | None,
    recorded_by: User,
    now: datetime,
    kind: tuple[str, str, str] = CONTACT,
) -> None:
    """Stamp one kind of consent with the date and who took it when its answer changes.

    `consent` is a NetworkMember.Consent value ("not_asked", "agreed", "refused") or None (the
    question was not put: nothing changes). An unchanged answer keeps its original stamp.
    Agreed and refused are both stamped (issue 13: a refusal is an answer, with who and when).
    Going back to "not yet asked" after an answer is refused with a field error: an answer once
    given is changed by another answer (withdrawal is "refused"), never erased. ValueError for
    a value that is not an answer (the forms offer only the three)."""
    answer, at, by = kind
    if consent is None or consent == getattr(member, answer):
        return
    if consent not in Answer.values:
        raise ValueError(f"not a consent answer: {consent!r}")
    if consent == Answer.NOT_ASKED:
        raise ValidationError(
            {answer: "This was answered already; record their answer now (agreed or refused)."}
        )
    setattr(member, answer, consent)
    setattr(member, at, now)
    setattr(member, by, recorded_by)


def _consent_from_form(
    member: NetworkMember, field: str, submitted: str | None, drawn: str | None
) -> str | None:
    """The answer to apply for `field`: None (keep what is recorded now) when the form left the
    answer it was drawn with; `submitted` when the form changed it and the record still holds
    what the form was drawn with. ValidationError on `field` when someone else changed the
    answer since the form was drawn. With `drawn` None (no form), `submitted` as given."""
    if drawn is None or submitted is None:
        return submitted
    if submitted == drawn:
        return None
    current = getattr(member, field)
    if current != drawn:
        label = NetworkMember.Consent(current).label
        raise ValidationError(
            {
                field: f"Someone recorded another answer since you opened this form: it is now "
                f'"{label}". Check with them, then answer again.'
            }
        )
    return submitted


def apply_consents(
    member: NetworkMember,
    recorded_by: User,
    now: datetime,
    *,
    contact_consent: str | None,
    information_consent: str | None,
) -> None:
    """Apply both consent answers (None: not asked). The peer services call this too."""
    _apply_consent(member, contact_consent, recorded_by, now, CONTACT)
    _apply_consent(member, information_consent, recorded_by, now, INFORMATION)


@transaction.atomic
def network_member_add(
    *,
    service_user: ServiceUser,
    added_by: User,
    now: datetime,
    contact_consent: str = Answer.NOT_ASKED,
    information_consent: str = Answer.NOT_ASKED,
    **fields: Any,
) -> NetworkMember:
    """Add someone to the person's network, recording each consent answer (date and who) unless
    it is "not yet asked". ValidationError (by field) for a "not invited" without a reason."""
    unknown = set(fields) - set(MEMBER_FIELDS)
    if unknown:
        raise TypeError(f"unknown member fields: {sorted(unknown)}")
    member = NetworkMember(service_user=service_user, added_by=added_by, **fields)
    _check_invitation_wish(member)
    apply_consents(
        member,
        added_by,
        now,
        contact_consent=contact_consent,
        information_consent=information_consent,
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
    contact_consent: str | None = None,
    information_consent: str | None = None,
    consent_as_drawn: dict[str, str | None] | None = None,
    **fields: Any,
) -> NetworkMember:
    """Change a member's details; a changed consent answer is re-stamped (date and who).

    `consent_as_drawn` ({"contact_consent": answer, "information_consent": answer}, from a form)
    holds the answers as recorded when the form was drawn: an answer the form did not change is
    left as it is recorded now, and one the form changed while someone else had changed it
    meanwhile is refused (a stale form must not turn a refusal back into "agreed").
    ValidationError for an ended member, an answer taken back to "not yet asked", or an answer
    changed since the form was drawn."""
    member = NetworkMember.objects.select_for_update().get(pk=member.pk)
    drawn = consent_as_drawn or {}
    contact_consent = _consent_from_form(
        member, "contact_consent", contact_consent, drawn.get("contact_consent")
    )
    information_consent = _consent_from_form(
        member, "information_consent", information_consent, drawn.get("information_consent")
    )
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
        contact_consent=contact_consent,
        information_consent=information_consent,
    )
    member.full_clean()
    member.save()
    return member


@transaction.atomic
def network_member_record_consent(
    *,
    member: NetworkMember,
    consent: str,
    recorded_by: User,
    now: datetime,
    kind: str = "contact",
) -> NetworkMember:
    """Record a member's answer, "agreed" or "refused" (withdrawing consent is "refused"): to be
    contacted and invited (kind="contact") or to receive information about the person's care
    (kind="information"). Recording it explicitly always re-stamps the date and who, even when
    the answer is the same. ValueError for "not_asked" or anything else."""
    if consent not in (Answer.AGREED, Answer.REFUSED):
        raise ValueError(f"not an answer to record: {consent!r}")
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
