"""Prescribing under the 3-meetings-before-medication rule, and the current-medication list."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from meetings import medication_rules, rules
from meetings.alerts import alert_raise
from meetings.models import Alert, CurrentMedication, Episode, Prescription
from meetings.selectors import meetings_counted_before
from meetings.services.episodes import episode_lock_for_change
from pod.foundation.localtime import LONDON
from pod.foundation.models import User
from pod.foundation.plausibility import FUTURE_TOLERANCE, event_error


@transaction.atomic
def prescription_create(
    *,
    episode: Episode,
    medicine: str,
    dose: str = "",
    continuing: CurrentMedication | None = None,
    is_antipsychotic: bool,
    prescriber: User,
    prescribed_at: datetime,
    override_reason: str = "",
    override_explanation: str = "",
    now: datetime,
) -> Prescription:
    """Prescribe under the 3-meetings-before-medication rule (meetings.rules.medication_decision,
    with POD_MEETINGS_BEFORE_MEDICATION meetings required, counted by
    meetings.medication_rules; DOMAIN.md, issue 10 point 2).

    `continuing`: the entry of the episode's current-medication list this prescription
    continues; None for a new medicine (anything not on the list is new). `medicine` is then
    the list's medicine (a different name given here is refused).

    The episode row is locked first, so a prescription and a meeting being recorded held (which
    locks the same row) on the same episode are decided one after the other: the prescription
    counts the meetings as committed when it got the lock. The prescription stores the decision
    it was made under (counted meeting ids, threshold, rule version). A prescription under the
    rapid-response override raises a `medication_override` alert. ValidationError, with
    nothing saved, when the rule refuses it, the prescriber is not one, the list entry is of
    another episode, the date is before the referral or in the future, or the episode is closed.
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
    if continuing is not None:
        if continuing.episode_id != episode.pk:
            errors["continuing"] = "That medicine is not on this episode's list."
        elif medicine.strip() and medicine.strip().casefold() != continuing.medicine.casefold():
            errors["medicine"] = (
                f"A continuing prescription is for {continuing.medicine}, as on the list; "
                "a different medicine is new."
            )
        elif continuing.recorded_at - prescribed_at > FUTURE_TOLERANCE or (
            continuing.source_date > prescribed_at.astimezone(LONDON).date()
        ):
            # Issue 10 review: a medicine put on the list after the prescription's date (or
            # known only from a later source) was not current when it was prescribed. Forms
            # give times to the minute, so a few minutes' difference is tolerated.
            errors["continuing"] = (
                f"{continuing.medicine} was put on the current-medication list on "
                f"{continuing.recorded_at.astimezone(LONDON):%d %b %Y %H:%M} (source dated "
                f"{continuing.source_date:%d %b %Y}): a prescription dated before that cannot "
                "continue it. It is new, and the rule applies."
            )
        medicine = continuing.medicine
    if errors:
        raise ValidationError(errors)
    required: int = settings.POD_MEETINGS_BEFORE_MEDICATION
    counted = meetings_counted_before(episode, prescribed_at, now=now)
    decision = rules.medication_decision(
        is_new=continuing is None,
        meetings_held_before=len(counted),
        meetings_required=required,
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
        is_new=continuing is None,
        current_medication=continuing,
        is_antipsychotic=is_antipsychotic,
        prescriber=prescriber,
        prescribed_at=prescribed_at,
        meetings_held_before=len(counted),
        counted_meeting_ids=counted,
        meetings_required=required,
        rule_version=medication_rules.RULE_VERSION,
        override_reason=override_reason if overridden else "",
        override_explanation=override_explanation.strip() if overridden else "",
    )
    prescription.full_clean()
    prescription.save()
    if overridden:
        alert_raise(
            episode=episode,
            prescription=prescription,
            kind=Alert.Kind.MEDICATION_OVERRIDE,
            message=(
                f"Episode {episode.pk}: a new medicine was prescribed after {len(counted)} of "
                f"{decision.meetings_required} network meetings under the rapid-response "
                f"override. Reason given: {override_explanation.strip()}"
            ),
            now=now,
        )
    return prescription


@transaction.atomic
def current_medication_add(
    *,
    episode: Episode,
    medicine: str,
    dose: str = "",
    source: str,
    source_detail: str = "",
    source_date: date,
    recorded_by: User | None,
    now: datetime,
) -> CurrentMedication:
    """Put a medicine the person already takes on the episode's current-medication list, with
    its source and the source's date (at referral or any time later in the episode).

    ValidationError (by field) for a closed episode, a medicine already on the list, an
    unknown source, or a source date in the future or before 1900.
    """
    episode = episode_lock_for_change(episode)
    if message := event_error(source_date, now=now, what="The source's date"):
        raise ValidationError({"source_date": message})
    entry = CurrentMedication(
        episode=episode,
        medicine=" ".join(medicine.split()),
        dose=dose.strip(),
        source=source,
        source_detail=source_detail.strip(),
        source_date=source_date,
        recorded_at=now,
        recorded_by=recorded_by,
    )
    entry.full_clean()
    entry.save()
    return entry
