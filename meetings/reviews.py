"""Opening the service manager's reviews (meetings/review_models.py).

Its own module, below both meetings/alerts.py (delivery opens the review of an escalated alert)
and meetings/services (which import alerts), so neither imports the other to reach it. A new
kind of review (a meeting recorded after the event) calls `review_open` from its service.
"""

from __future__ import annotations

from datetime import datetime

from meetings.models import Alert, Episode, Review

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
