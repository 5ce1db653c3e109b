"""Deciding the service manager's reviews (meetings/review_models.py); opening them is
meetings/reviews.py, which alert delivery calls."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from meetings.models import Review
from pod.foundation.justification import reason_refusal
from pod.foundation.models import User


@transaction.atomic
def review_decide(
    *, review: Review, decision: str, note: str, decided_by: User, now: datetime
) -> Review:
    """Record a manager's decision on an open review: who, when, the decision and a note.

    The row is locked first, so two managers deciding at once are taken one after the other and
    the second is refused. ValidationError, with nothing saved, when the review is already
    decided, the decision is not one of reviewed - no action / action taken / escalated, the
    note is missing for "action taken" or "escalated", or the user is not a service manager of
    the review's team.
    """
    locked = Review.objects.select_for_update().get(pk=review.pk)
    if not locked.is_open:
        raise ValidationError(
            f"This review was already decided by {locked.decided_by} "
            f"({locked.get_decision_display()})."
        )
    if decision not in Review.Decision.values or decision == Review.Decision.OPEN:
        raise ValidationError({"decision": "Choose a decision."})
    if (
        decision != Review.Decision.NO_ACTION
        and note.strip()  # an empty note: the model's check says what is needed
        and (refusal := reason_refusal(note, what="Your note"))
    ):
        # "Action taken" and "escalated" must say what was done, or to whom (HAZ-03.C70).
        raise ValidationError({"note": refusal})
    if (
        decided_by.role != User.Role.SERVICE_MANAGER
        or not decided_by.memberships.filter(team_id=locked.team_id).exists()
    ):
        raise ValidationError("Only a service manager of the team can decide this review.")
    locked.decision = decision
    locked.note = note.strip()
    locked.decided_by = decided_by
    locked.decided_at = now
    locked.full_clean()
    locked.save(update_fields=["decision", "note", "decided_by", "decided_at"])
    return locked
