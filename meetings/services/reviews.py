"""Opening and deciding the service manager's reviews (meetings/review_models.py)."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from meetings.models import Alert, Episode, Review
from pod.foundation.models import User

# Which alerts open a review, and of which kind: the ones escalated to the managers
# (Alert.escalates_to_managers).
ALERT_REVIEW_KIND: dict[str, str] = {
    Alert.Kind.BREACHED: Review.Kind.BREACH,
    Alert.Kind.MEDICATION_OVERRIDE: Review.Kind.OVERRIDE,
    Alert.Kind.MEDICATION_VIOLATION: Review.Kind.VIOLATION,
}


def review_open(*, kind: str, subject_id: int, episode: Episode, raised_at: datetime) -> Review:
    """Open the review of (kind, subject), or return the one already open or decided for it.

    Safe to repeat and to race: the unique (kind, subject_id) constraint is the arbiter
    (INSERT ... ON CONFLICT DO NOTHING, then read), so two deliveries of the same alert open one
    review. ValueError for a kind Review.Kind does not know.
    """
    if kind not in Review.Kind.values:
        raise ValueError(f"unknown review kind {kind!r}")
    Review.objects.bulk_create(
        [
            Review(
                kind=kind,
                subject_id=subject_id,
                episode=episode,
                team_id=episode.team_id,
                raised_at=raised_at,
            )
        ],
        ignore_conflicts=True,
    )
    return Review.objects.get(kind=kind, subject_id=subject_id)


def review_open_for_alert(alert: Alert) -> Review | None:
    """The review of an alert escalated to the managers (opened now if it was not yet); None
    for an alert that is not reviewed (unscheduled, at risk)."""
    kind = ALERT_REVIEW_KIND.get(alert.kind)
    if kind is None:
        return None
    return review_open(
        kind=kind, subject_id=alert.pk, episode=alert.episode, raised_at=alert.raised_at
    )


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
