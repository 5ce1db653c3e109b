"""Every write in outcomes: measures, assessments, the experience survey and fidelity ratings."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from meetings.models import Meeting, Participant
from networks.models import ServiceUser
from outcomes import rules, scoring
from outcomes.models import (
    FidelityRating,
    LicensedMeasure,
    OutcomeAssessment,
    ScoredMeasure,
    SurveyInvitation,
    SurveyResponse,
)
from pod.foundation.localtime import LONDON
from pod.foundation.models import User
from pod.foundation.plausibility import earliest_error, event_error


def _not_in_future(day: date, now: datetime, field: str, *, born: date | None = None) -> None:
    """pod.foundation.plausibility.event_error at `field`: not before 1900, not after today
    (London), not before the person's date of birth `born`."""
    refusal = event_error(
        day, now=now, what="This date", not_before=born, not_before_what="the date of birth"
    )
    if refusal:
        raise ValidationError({field: refusal})


def _check_relapse_date(service_user: ServiceUser, fields: dict[str, Any]) -> None:
    relapse_on: date | None = fields.get("relapse_on")
    if relapse_on is None:
        return
    if not fields.get("relapse"):
        raise ValidationError({"relapse_on": "A relapse date needs a relapse recorded."})
    if floor := earliest_error(relapse_on, what="The relapse"):
        raise ValidationError({"relapse_on": floor})
    if relapse_on > fields["assessed_on"]:
        raise ValidationError({"relapse_on": "The relapse must be on or before the assessment."})
    baseline = OutcomeAssessment.objects.filter(service_user=service_user, timepoint_months=0)
    baseline_on = baseline.values_list("assessed_on", flat=True).first()
    if fields["timepoint_months"] != 0 and baseline_on and relapse_on <= baseline_on:
        raise ValidationError(
            {"relapse_on": f"The relapse must be after the baseline assessment ({baseline_on})."}
        )


@transaction.atomic
def scored_measure_record(
    *,
    service_user: ServiceUser,
    instrument: str,
    item_scores: Sequence[int],
    completed_on: date,
    recorded_by: User | None,
    now: datetime,
) -> ScoredMeasure:
    """Score a DIALOG, PHQ-9 or GAD-7 and keep the items with the computed scores."""
    if instrument not in scoring.SCORERS:
        raise ValidationError({"instrument": "Unknown measure."})
    _not_in_future(completed_on, now, "completed_on", born=service_user.date_of_birth)
    try:
        score = scoring.SCORERS[instrument](list(item_scores))
    except ValueError as error:
        raise ValidationError({"__all__": str(error)}) from error
    measure = ScoredMeasure(
        service_user=service_user,
        instrument=instrument,
        completed_on=completed_on,
        item_scores=list(item_scores),
        total=score.total,
        band=score.band,
        life_domains_mean=score.life_domains_mean,
        treatment_mean=score.treatment_mean,
        recorded_by=recorded_by,
    )
    measure.full_clean()
    measure.save()
    return measure


@transaction.atomic
def licensed_measure_record(
    *,
    service_user: ServiceUser,
    name: str,
    score: Decimal,
    completed_on: date,
    recorded_by: User | None,
    now: datetime,
) -> LicensedMeasure:
    """Keep a licensed measure by name and total score only."""
    _not_in_future(completed_on, now, "completed_on", born=service_user.date_of_birth)
    error = scoring.licensed_score_error(name=name, score=score)
    if error:
        raise ValidationError({"score": error})
    measure = LicensedMeasure(
        service_user=service_user,
        name=name,
        score=score,
        completed_on=completed_on,
        recorded_by=recorded_by,
    )
    measure.full_clean()
    measure.save()
    return measure


@transaction.atomic
def outcome_assessment_record(
    *, service_user: ServiceUser, recorded_by: User | None, now: datetime, **fields: Any
) -> OutcomeAssessment:
    """Record the outcomes at one time point (one per person and time point). A relapse date
    (time to relapse: outcomes/survival.py) needs a relapse, on or before the assessment and
    after the person's baseline assessment; ValidationError at the field otherwise."""
    _not_in_future(fields["assessed_on"], now, "assessed_on", born=service_user.date_of_birth)
    _check_relapse_date(service_user, fields)
    if OutcomeAssessment.objects.filter(
        service_user=service_user, timepoint_months=fields["timepoint_months"]
    ).exists():
        raise ValidationError(
            {"timepoint_months": "This person already has an assessment at that time point."}
        )
    assessment = OutcomeAssessment(service_user=service_user, recorded_by=recorded_by, **fields)
    assessment.full_clean()
    assessment.save()
    return assessment


# --- Experience survey -------------------------------------------------------------------------


@transaction.atomic
def survey_invitation_issue(
    *, service_user: ServiceUser, issued_by: User, now: datetime
) -> tuple[SurveyInvitation, str]:
    """Issue a one-time link. Returns the invitation and the token; only its hash is stored, so
    the token must be shown (link, QR code) now - it cannot be recovered later.

    One live link per person and one answer per rules.SURVEY_INTERVAL (rules.
    survey_issue_refusal): ValidationError otherwise. The person's row is locked first, so two
    clinicians issuing at once are decided one after the other; a link that expired unused is
    withdrawn here; the database's unique constraint on open links backs the rule.
    """
    ServiceUser.objects.select_for_update().filter(pk=service_user.pk).first()
    mine = SurveyInvitation.objects.filter(service_user=service_user)
    open_link = mine.filter(used_at__isnull=True, withdrawn_at__isnull=True).first()
    last_answered = mine.filter(used_at__isnull=False).order_by("-used_at").first()
    refusal = rules.survey_issue_refusal(
        open_link_expires_at=open_link.expires_at if open_link else None,
        last_answered_at=last_answered.used_at if last_answered else None,
        now=now,
    )
    if refusal:
        raise ValidationError(refusal)
    if open_link is not None:  # expired unused: it can never be used, so it is closed now
        open_link.withdrawn_at = now
        open_link.save(update_fields=["withdrawn_at"])
    token = secrets.token_urlsafe(32)
    invitation = SurveyInvitation(
        service_user=service_user,
        team=service_user.team,
        token_hash=rules.survey_token_hash(token),
        issued_by=issued_by,
        issued_at=now,
        expires_at=rules.survey_expires_at(issued_at=now),
    )
    invitation.full_clean()
    invitation.save()
    return invitation, token


@transaction.atomic
def survey_invitation_withdraw(*, service_user: ServiceUser, now: datetime) -> int:
    """Withdraw the person's open link (lost, or given to the wrong person): it stops working
    and a new one may be issued. Returns how many were withdrawn (0 or 1)."""
    return SurveyInvitation.objects.filter(
        service_user=service_user, used_at__isnull=True, withdrawn_at__isnull=True
    ).update(withdrawn_at=now)


def survey_open_link(service_user: ServiceUser, now: datetime) -> SurveyInvitation | None:
    """The person's live link (neither used, withdrawn nor expired), if any."""
    return SurveyInvitation.objects.filter(
        service_user=service_user,
        used_at__isnull=True,
        withdrawn_at__isnull=True,
        expires_at__gt=now,
    ).first()


def survey_invitation_for_token(token: str) -> SurveyInvitation | None:
    return SurveyInvitation.objects.filter(token_hash=rules.survey_token_hash(token)).first()


@transaction.atomic
def survey_response_submit(
    *, token: str, answers: Mapping[str, str], now: datetime
) -> SurveyResponse:
    """Store the answers and spend the link, in one transaction.

    The invitation row is locked first, so two submissions of the same link (a double click, two
    tabs) are decided one after the other and the second is refused. The response keeps only
    the team and the month: nothing that leads back to the person.
    """
    invitation = (
        SurveyInvitation.objects.select_for_update()
        .filter(token_hash=rules.survey_token_hash(token))
        .first()
    )
    if invitation is None:
        raise ValidationError("This link is not valid.")
    refusal = rules.survey_link_refusal(
        expires_at=invitation.expires_at,
        used_at=invitation.used_at,
        withdrawn_at=invitation.withdrawn_at,
        now=now,
    )
    if refusal:
        raise ValidationError(refusal)
    fields = [f for f, _s, _n in rules.SURVEY_STATEMENTS]
    missing = {f: "Please choose an answer." for f in fields if not answers.get(f)}
    if missing:
        raise ValidationError(missing)
    response = SurveyResponse(
        team=invitation.team,
        submitted_month=now.astimezone(LONDON).date().replace(day=1),
        **{f: answers[f] for f in fields},
    )
    response.full_clean()
    response.save()
    invitation.used_at = now
    invitation.save(update_fields=["used_at"])
    return response


# --- Fidelity ----------------------------------------------------------------------------------


def meeting_staff_present(meeting: Meeting, user: User) -> bool:
    return Participant.objects.filter(
        meeting=meeting, kind=Participant.Kind.STAFF, staff=user, attended=True
    ).exists()


@transaction.atomic
def fidelity_rating_record(
    *, meeting: Meeting, rater: User, scores: Mapping[str, int], now: datetime
) -> FidelityRating:
    """A member of staff who was present rates a held meeting on the twelve key elements."""
    if meeting.status != Meeting.Status.HELD:
        raise ValidationError("Only a meeting that has been held can be rated.")
    if not meeting_staff_present(meeting, rater):
        raise ValidationError("Only staff who were present at the meeting can rate it.")
    if meeting.actual_end and now < meeting.actual_end - timedelta(minutes=5):
        raise ValidationError("A meeting can be rated once it has ended.")
    fields = [f for f, _label in rules.FIDELITY_ELEMENTS]
    errors = {
        f: "Choose a rating from 0 to 3."
        for f in fields
        if not isinstance(scores.get(f), int) or not 0 <= scores[f] <= 3
    }
    if errors:
        raise ValidationError(errors)
    if FidelityRating.objects.filter(meeting=meeting, rater=rater).exists():
        raise ValidationError("You have already rated this meeting.")
    rating = FidelityRating(
        meeting=meeting, rater=rater, rated_at=now, **{f: scores[f] for f in fields}
    )
    rating.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            rating.save()
    except IntegrityError as error:  # a concurrent second rating by the same person
        raise ValidationError("You have already rated this meeting.") from error
    return rating
