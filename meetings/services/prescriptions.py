"""Prescribing under the 3-meetings-before-medication rule."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from meetings import rules
from meetings.alerts import alert_raise
from meetings.models import Alert, Episode, Prescription
from meetings.selectors import meetings_held_before
from meetings.services.episodes import episode_lock_for_change
from pod.foundation.models import User


@transaction.atomic
def prescription_create(
    *,
    episode: Episode,
    medicine: str,
    dose: str = "",
    is_new: bool,
    is_antipsychotic: bool,
    prescriber: User,
    prescribed_at: datetime,
    override_reason: str = "",
    override_explanation: str = "",
    now: datetime,
) -> Prescription:
    """Prescribe under the 3-meetings-before-medication rule (meetings.rules.medication_decision,
    with POD_MEETINGS_BEFORE_MEDICATION meetings required).

    The episode row is locked first, so two concurrent prescriptions on the same episode are
    decided one after the other against the same, committed count of held meetings. A
    prescription under the rapid-response override raises a `medication_override` alert.
    ValidationError, with nothing saved, when the rule refuses it, the prescriber is not one,
    the date is before the referral or in the future, or the episode is closed.
    """
    episode = episode_lock_for_change(episode)
    if not prescriber.is_prescriber:
        raise ValidationError("Only a prescriber can prescribe.")
    errors: dict[str, str] = {}
    if prescribed_at < episode.referral_received_at:
        errors["prescribed_at"] = "A prescription cannot be dated before the referral."
    elif prescribed_at > now + timedelta(minutes=5):
        errors["prescribed_at"] = "A prescription cannot be dated in the future."
    if override_reason and override_reason != Prescription.OverrideReason.RAPID_RESPONSE:
        errors["override_reason"] = "Unknown override reason."
    if errors:
        raise ValidationError(errors)
    held = meetings_held_before(episode, prescribed_at)
    decision = rules.medication_decision(
        is_new=is_new,
        meetings_held_before=held,
        meetings_required=settings.POD_MEETINGS_BEFORE_MEDICATION,
        override_reason=override_reason,
        override_explanation=override_explanation,
    )
    if not decision.allowed:
        field = "override_explanation" if decision.needs_override else "__all__"
        raise ValidationError({field: decision.message})
    overridden = decision.needs_override
    prescription = Prescription(
        episode=episode,
        medicine=medicine,
        dose=dose,
        is_new=is_new,
        is_antipsychotic=is_antipsychotic,
        prescriber=prescriber,
        prescribed_at=prescribed_at,
        meetings_held_before=held,
        override_reason=override_reason if overridden else "",
        override_explanation=override_explanation if overridden else "",
    )
    prescription.full_clean()
    prescription.save()
    if overridden:
        alert_raise(
            episode=episode,
            prescription=prescription,
            kind=Alert.Kind.MEDICATION_OVERRIDE,
            message=(
                f"Episode {episode.pk}: a new medicine was prescribed after {held} of "
                f"{decision.meetings_required} network meetings under the rapid-response "
                f"override. Reason given: {override_explanation.strip()}"
            ),
            now=now,
        )
    return prescription
