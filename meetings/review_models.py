"""The service manager's review of an event a clinical rule flagged (issue 13).

Kept beside models.py (which imports it, so Django finds it) to keep that module readable. A
review is generic: a `kind` names what is reviewed and `subject_id` the row of it, so another
kind of event becomes reviewable with one line in `Review.Kind` and its facts in
meetings/review_selectors.py `REVIEW_FACTS` (and whatever opens it calling `review_open`):

    kind                  subject_id is a               opened by
    breach                meetings.Alert (breached)     alert delivery (meetings/alerts.py)
    override              meetings.Alert (override)     alert delivery
    violation             meetings.Alert (violation)    alert delivery
    (late_record, to come: meetings.Meeting recorded after the event)
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Review(models.Model):
    """One review by a service manager of the team: open until a decision is recorded."""

    class Kind(models.TextChoices):
        BREACH = "breach", "24-hour first meeting breached"
        OVERRIDE = "override", "Medication rule overridden (rapid response)"
        VIOLATION = "violation", "Medication rule violated (found by the prescription audit)"

    class Decision(models.TextChoices):
        OPEN = "", "Not yet reviewed"
        NO_ACTION = "no_action", "Reviewed - no action"
        ACTION_TAKEN = "action_taken", "Action taken"
        ESCALATED = "escalated", "Escalated"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    # The id of the row the kind names (table in the module docstring). Not a foreign key, so a
    # new kind needs no schema change.
    subject_id = models.PositiveBigIntegerField()
    episode = models.ForeignKey("meetings.Episode", on_delete=models.PROTECT, related_name="+")
    # The episode's team, kept on the row: the managers' queue is read by team.
    team = models.ForeignKey("pod.Team", on_delete=models.PROTECT, related_name="+")
    # When the rule flagged the event (the alert's raised_at): time to review counts from here.
    raised_at = models.DateTimeField()
    decision = models.CharField(
        max_length=20, choices=Decision.choices, blank=True, default=Decision.OPEN
    )
    note = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["raised_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "subject_id"], name="review_once_per_subject"),
            models.CheckConstraint(
                condition=Q(decision="", decided_by__isnull=True, decided_at__isnull=True)
                | (~Q(decision="") & Q(decided_by__isnull=False, decided_at__isnull=False)),
                name="review_decision_has_who_and_when",
            ),
            models.CheckConstraint(
                condition=Q(decision__in=["", "no_action"]) | ~Q(note=""),
                name="review_action_has_note",
                violation_error_message="Say what was done, or to whom it was escalated.",
            ),
        ]
        indexes = [
            # The managers' work queue (pod/home.py): open reviews of their teams, oldest first.
            models.Index(
                fields=["team", "raised_at"], condition=Q(decision=""), name="review_open_queue"
            ),
        ]

    def __str__(self) -> str:
        return f"Review {self.pk} ({self.get_kind_display()})"

    @property
    def is_open(self) -> bool:
        return self.decision == self.Decision.OPEN
