"""Reads for the service manager's reviews (meetings/review_models.py): who may open which, the
facts each rule used, the managers' work queue and the dashboard's counts.

The facts are what the rule judged (times, meetings counted, the override's reason), never the
dialogic record: no utterance, decision text or care plan is read here.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.http import Http404

from meetings.models import Alert, Prescription, Review
from meetings.rules import hours_label
from meetings.selectors import meetings_counted_before
from pod.foundation.models import User
from pod.foundation.time_words import instant_words, span_words

# How many open reviews the manager's home page lists (the oldest first); the reviews page has
# the rest.
HOME_QUEUE_LIMIT = 20


def reviews_for(user: User) -> QuerySet[Review]:
    """Reviews a user may open: the service managers of the review's team, no one else."""
    if not user.is_authenticated or not user.is_active or user.role != User.Role.SERVICE_MANAGER:
        return Review.objects.none()
    return Review.objects.filter(team__memberships__user=user)


def get_review_for_user(user: User, review_pk: int) -> Review:
    """The review with its episode, person and team, if `user` may open it; otherwise Http404."""
    review = (
        reviews_for(user)
        .filter(pk=review_pk)
        .select_related("episode__service_user", "team", "decided_by")
        .first()
    )
    if review is None:
        raise Http404("No such review")
    return review


def review_person_ids(review_ids: Collection[int]) -> dict[int, int]:
    """{review id: the id of the person it concerns}. One query. Registered with
    pod.foundation.record_targets for the access log (MeetingsConfig.ready)."""
    return dict(
        Review.objects.filter(pk__in=list(review_ids)).values_list("pk", "episode__service_user_id")
    )


def open_reviews(user: User) -> QuerySet[Review]:
    """The open reviews of the user's teams, oldest first (the longest waiting needs attention
    first), the primary key breaking ties so paging never shows one twice; episode, person and
    team loaded."""
    return (
        reviews_for(user)
        .filter(decision=Review.Decision.OPEN)
        .select_related("episode__service_user", "team")
        .order_by("raised_at", "pk")
    )


def open_reviews_queue(user: User, *, limit: int = HOME_QUEUE_LIMIT) -> tuple[list[Review], int]:
    """The manager's work queue: (up to `limit` open reviews of their teams, oldest first; how
    many are open in all). Two queries."""
    queue = open_reviews(user)
    return list(queue[:limit]), queue.count()


def review_ids_for_alerts(alert_ids: Collection[int]) -> dict[int, int]:
    """{alert id: the id of its review} for the alerts that have one. One query."""
    kinds = [Review.Kind.BREACH, Review.Kind.OVERRIDE, Review.Kind.VIOLATION]
    return dict(
        Review.objects.filter(kind__in=kinds, subject_id__in=list(alert_ids)).values_list(
            "subject_id", "pk"
        )
    )


def closed_reviews(user: User) -> QuerySet[Review]:
    """The decided reviews of the user's teams, most recent decision first (the primary key
    breaking ties); episode, person, team and decider loaded."""
    return (
        reviews_for(user)
        .exclude(decision=Review.Decision.OPEN)
        .select_related("episode__service_user", "team", "decided_by")
        .order_by("-decided_at", "-pk")
    )


@dataclass(frozen=True)
class ReviewSummary:
    """Reviews of events raised in a period: how many are open and closed, and the mean time
    from the event being flagged to the decision (None when none is closed)."""

    open: int
    closed: int
    mean_time_to_review: timedelta | None

    @property
    def mean_time_words(self) -> str:
        return "" if self.mean_time_to_review is None else span_words(self.mean_time_to_review)


def review_summary(
    team_ids: Collection[int], *, start_at: datetime, end_at: datetime
) -> ReviewSummary:
    """Counts for the dashboard: reviews of the teams whose event was raised in
    [start_at, end_at). One query."""
    took = ExpressionWrapper(F("decided_at") - F("raised_at"), output_field=DurationField())
    figures = Review.objects.filter(
        team_id__in=list(team_ids), raised_at__gte=start_at, raised_at__lt=end_at
    ).aggregate(
        open=Count("pk", filter=Q(decision="")),
        closed=Count("pk", filter=~Q(decision="")),
        mean=Avg(took, filter=~Q(decision="")),
    )
    return ReviewSummary(figures["open"], figures["closed"], figures["mean"])


# --- The facts each kind of review shows ----------------------------------------------------


@dataclass(frozen=True)
class Fact:
    label: str
    value: str


def _breach_facts(review: Review, now: datetime) -> list[Fact]:
    episode = review.episode
    held = episode.first_meeting_held_at
    # The window in force when the referral came (the due time was set from it then).
    window = episode.first_meeting_due_at - episode.referral_received_at
    facts = [
        Fact("Referral received", instant_words(episode.referral_received_at, now=now)),
        Fact("Triage category", episode.get_triage_category_display()),
        Fact("First meeting due by", instant_words(episode.first_meeting_due_at, now=now)),
        Fact("The rule's window", f"{hours_label(window)} hours"),
        Fact("Breach flagged", instant_words(review.raised_at, now=now)),
    ]
    if held is None:
        overdue = span_words(now - episode.first_meeting_due_at)
        facts.append(Fact("First meeting held", f"Not yet: overdue by {overdue}"))
    else:
        late = span_words(held - episode.first_meeting_due_at)
        facts += [
            Fact("First meeting held", instant_words(held, now=now)),
            Fact("Late by", late),
        ]
    return facts


def _prescription_facts(review: Review, now: datetime) -> list[Fact]:
    alert = Alert.objects.select_related("prescription__prescriber", "prescription__episode").get(
        pk=review.subject_id
    )
    prescription = alert.prescription
    if prescription is None:  # pragma: no cover - the alert kinds reviewed here always have one
        return [Fact("Alert", alert.message)]
    facts = [
        Fact("Prescribed", instant_words(prescription.prescribed_at, now=now)),
        Fact("Medicine", f"{prescription.medicine} {prescription.dose}".strip()),
        Fact("New to the person", "Yes" if prescription.is_new else "No"),
        Fact("Antipsychotic", "Yes" if prescription.is_antipsychotic else "No"),
        *_counting_facts(prescription, now),
        Fact("Prescriber", prescription.prescriber.get_full_name() or "(no name)"),
    ]
    if review.kind == Review.Kind.OVERRIDE:
        facts += [
            Fact("Override", prescription.get_override_reason_display()),
            Fact("The prescriber's reason", prescription.override_explanation),
        ]
    else:
        facts.append(Fact("What the audit found", alert.message))
    return facts


def _counting_facts(prescription: Prescription, now: datetime) -> list[Fact]:
    """The network meetings the rule counted when the medicine was prescribed (as stored on the
    prescription) and those that count now, on the meetings' records as they stand: the two
    differ when a held meeting was corrected afterwards (issue 10). One query."""
    required = prescription.meetings_required or settings.POD_MEETINGS_BEFORE_MEDICATION
    counted_then = prescription.counted_meeting_ids
    counted_now = meetings_counted_before(
        prescription.episode, prescription.prescribed_at, now=prescription.created_at
    )
    if counted_then is None:  # it did not go through the prescribing form
        return [
            Fact(
                "Network meetings held before it",
                f"{len(counted_now)} of the {required} the rule requires",
            )
        ]
    facts = [
        Fact(
            "Network meetings counted when prescribed",
            f"{len(counted_then)} of the {required} the rule requires"
            + (f" (meetings {', '.join(map(str, counted_then))})" if counted_then else ""),
        )
    ]
    if sorted(counted_now) != sorted(counted_then):
        lost = [i for i in counted_then if i not in counted_now]
        facts.append(
            Fact(
                "Counted now, after a correction",
                f"{len(counted_now)} of {required}"
                + (f" (no longer counting: meeting {', '.join(map(str, lost))})" if lost else ""),
            )
        )
    return facts


# Kind -> (review, now) -> the facts the rule used. A new kind adds its function here.
REVIEW_FACTS: dict[str, Callable[[Review, datetime], list[Fact]]] = {
    Review.Kind.BREACH: _breach_facts,
    Review.Kind.OVERRIDE: _prescription_facts,
    Review.Kind.VIOLATION: _prescription_facts,
}


def review_facts(review: Review, *, now: datetime) -> list[Fact]:
    """The facts the rule used for `review`, as (label, value) in words. At most two queries."""
    return REVIEW_FACTS[review.kind](review, now)
