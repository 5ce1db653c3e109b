"""Organisation: trusts, teams, staff and their training; in-app notifications.

The models of the `pod` app are defined here, in the foundation, and loaded by Django through
pod/models.py. Import them from here (`from pod.foundation.models import User`).
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q


class Trust(models.Model):
    name = models.CharField(max_length=200, unique=True)
    code = models.CharField(max_length=10, unique=True, help_text="ODS organisation code")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    class Kind(models.TextChoices):
        EIP = "EIP", "Early Intervention in Psychosis"
        CRT = "CRT", "Crisis Resolution"
        COMMUNITY = "COMMUNITY", "Community mental health"

    trust = models.ForeignKey(Trust, on_delete=models.PROTECT, related_name="teams")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # How the people invited to a meeting reach the team: the ORGANIZER and reply address of
    # meeting invitations, and the phone number their calendars show. Blank address: the site's
    # DEFAULT_FROM_EMAIL; blank phone: none shown.
    contact_email = models.EmailField(max_length=254, blank=True)
    contact_phone = models.CharField(max_length=30, blank=True)

    class Meta:
        ordering = ["trust__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["trust", "name"], name="team_unique_name_in_trust")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.trust.name})"


class User(AbstractUser):
    """A member of staff. The role decides what they may do; memberships decide whom they see."""

    class Role(models.TextChoices):
        CLINICIAN = "clinician", "Clinician"
        PRESCRIBER = "prescriber", "Prescriber"
        PEER_WORKER = "peer_worker", "Peer worker"
        PEER_VOLUNTEER = "peer_volunteer", "Peer volunteer"
        SERVICE_MANAGER = "service_manager", "Service manager"
        ADMINISTRATOR = "administrator", "Administrator"

    role = models.CharField(max_length=20, choices=Role.choices, default=Role.CLINICIAN)
    profession = models.CharField(
        max_length=100, blank=True, help_text="e.g. nurse, social worker, psychiatrist"
    )
    teams = models.ManyToManyField(Team, through="TeamMembership", related_name="staff")

    class Meta:
        ordering = ["last_name", "first_name"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_prescriber(self) -> bool:
        return self.role == self.Role.PRESCRIBER

    @property
    def is_peer(self) -> bool:
        return self.role in (self.Role.PEER_WORKER, self.Role.PEER_VOLUNTEER)

    @property
    def is_clinical(self) -> bool:
        """Clinicians and prescribers: the staff who hold clinical records."""
        return self.role in (self.Role.CLINICIAN, self.Role.PRESCRIBER)


class TeamMembership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    joined_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "team"], name="membership_unique_user_team")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.team}"


class TrainingRecord(models.Model):
    class Course(models.TextChoices):
        POD = "POD", "Peer-supported Open Dialogue (1-year diploma)"
        IPS = "IPS", "Intentional Peer Support"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="training")
    course = models.CharField(max_length=3, choices=Course.choices)
    started_on = models.DateField()
    completed_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["user", "course", "started_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(completed_on__isnull=True)
                | Q(completed_on__gte=models.F("started_on")),
                name="training_completed_after_start",
                violation_error_message="Training cannot be completed before it started.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.get_course_display()}"


class Notification(models.Model):
    """One in-app copy of an alert for one member of staff. Written by alert delivery."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    alert = models.ForeignKey(
        "meetings.Alert", on_delete=models.CASCADE, related_name="notifications"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Delivery is at-least-once; this makes a repeated delivery write nothing new.
            models.UniqueConstraint(fields=["user", "alert"], name="notification_once_per_user")
        ]
        indexes = [
            models.Index(
                fields=["user"], condition=Q(read_at__isnull=True), name="notification_unread"
            )
        ]

    def __str__(self) -> str:
        return f"{self.alert} -> {self.user}"


class FormSubmission(models.Model):
    """One row per form token that reached a view which changes the record.

    The token is issued with the form (pod.foundation.submissions) and inserted in the same
    transaction as the change it submits, under a unique constraint: a second POST of the same
    token (a double click, a retry after a timeout, a resubmitted tab) waits for the first and
    is answered with the first one's result instead of writing again. Not clinical data: kept for
    a week (pod.foundation.submissions.SUBMISSION_KEEP), then deleted by a daily task.
    """

    token = models.UUIDField(unique=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    view_name = models.CharField(max_length=120)
    # Where the first submission sent the browser (a redirect's Location), so a repeat goes there.
    result_url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.view_name} {self.token}"


class SweepHeartbeat(models.Model):
    """When each periodic task last completed: beat's heartbeat, read by the monitoring endpoint.

    One row per Celery task name: written when the task joins beat's schedule (pod/beat_schedule.py,
    `expected_since`) and after every successful run (pod.foundation.heartbeats, `completed_at`).
    Bookkeeping, not clinical data.
    """

    task_name = models.CharField(max_length=200, unique=True)
    # When the schedule first held the task: a task that has never completed is late only once
    # its first run was due.
    expected_since = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.task_name}: last completed {self.completed_at or 'never'}"
