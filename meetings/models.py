"""Episodes of care, network meetings and what is said and decided in them; the alert outbox."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower


class Episode(models.Model):
    """One episode of care: referral -> first network meeting -> ... -> closed."""

    class TriageCategory(models.TextChoices):
        # UK Mental Health Triage Scale
        A = "A", "A - Emergency (immediate)"
        B = "B", "B - Very high urgency (within 4 hours)"
        C = "C", "C - High urgency (within 24 hours)"
        D = "D", "D - Semi-urgent (within 72 hours)"
        E = "E", "E - Non-urgent (within 4 weeks)"
        F = "F", "F - Advice"
        G = "G", "G - Referral not requiring face-to-face response"

    class Source(models.TextChoices):
        SELF = "self", "Self-referral"
        FAMILY = "family", "Family or friend"
        GP = "gp", "GP"
        AE = "ae", "A&E / liaison"
        POLICE = "police", "Police"
        MENTAL_HEALTH = "mental_health", "Other mental health team"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        REFERRED = "referred", "Referred - first meeting pending"
        ACTIVE = "active", "Active"
        CLOSED = "closed", "Closed"

    service_user = models.ForeignKey(
        "networks.ServiceUser", on_delete=models.PROTECT, related_name="episodes"
    )
    team = models.ForeignKey("pod.Team", on_delete=models.PROTECT, related_name="episodes")
    referral_received_at = models.DateTimeField()
    referral_source = models.CharField(max_length=20, choices=Source.choices)
    triage_category = models.CharField(max_length=1, choices=TriageCategory.choices)
    reason = models.TextField(help_text="The reason for referral, as given")
    core_team = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="core_episodes")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REFERRED)

    # The 24-hour clock. Recomputed by meetings.services.clock on every change, never by hand.
    first_meeting_due_at = models.DateTimeField()
    first_meeting_held_at = models.DateTimeField(null=True, blank=True)
    time_to_first_meeting = models.DurationField(null=True, blank=True)
    # When the first-meeting sweep must next look at this episode; NULL once nothing can fall due.
    clock_next_check_at = models.DateTimeField(null=True, blank=True)

    closed_at = models.DateTimeField(null=True, blank=True)
    closure_outcome = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-referral_received_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(first_meeting_due_at__gt=F("referral_received_at")),
                name="episode_due_after_referral",
            ),
            models.CheckConstraint(
                condition=Q(status="closed", closed_at__isnull=False)
                | (~Q(status="closed") & Q(closed_at__isnull=True)),
                name="episode_closed_has_date",
            ),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | Q(closed_at__gte=F("referral_received_at")),
                name="episode_closed_after_referral",
                violation_error_message="An episode cannot close before its referral.",
            ),
            models.CheckConstraint(
                condition=Q(first_meeting_held_at__isnull=True)
                | Q(first_meeting_held_at__gte=F("referral_received_at")),
                name="episode_first_meeting_after_referral",
            ),
            # One open episode per person: the team that meets them keeps them (no hand-offs).
            models.UniqueConstraint(
                fields=["service_user"],
                condition=~Q(status="closed"),
                name="episode_one_open_per_person",
                violation_error_message="This person already has an open episode.",
            ),
        ]
        indexes = [
            # Used by meetings.sweeps.first_meeting_sweep: only open clocks carry a check time,
            # so the index stays the size of the open clocks however many episodes are closed.
            models.Index(
                fields=["clock_next_check_at"],
                condition=Q(clock_next_check_at__isnull=False),
                name="episode_clock_due",
            ),
            models.Index(fields=["team", "status"], name="episode_team_status"),
            # Dashboards (outcomes.selectors) filter each team's referrals by period.
            models.Index(fields=["team", "referral_received_at"], name="episode_team_referral"),
        ]

    def __str__(self) -> str:
        return f"Episode {self.pk} for {self.service_user}"

    @property
    def is_closed(self) -> bool:
        return self.status == self.Status.CLOSED


class CalledOffBy(models.TextChoices):
    """Who called a meeting off (issue 10): the person, someone of their network, or the team."""

    PERSON = "person", "The person"
    NETWORK = "network", "Their network"
    TEAM = "team", "The team"


class Meeting(models.Model):
    class Location(models.TextChoices):
        HOME = "home", "The person's home"
        TEAM_BASE = "team_base", "Team base"
        COMMUNITY = "community", "Community venue"
        HOSPITAL = "hospital", "Hospital"
        VIDEO = "video", "Video call"

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        HELD = "held", "Held"
        CANCELLED = "cancelled", "Cancelled"

    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="meetings")
    scheduled_start = models.DateTimeField()
    scheduled_end = models.DateTimeField()
    location = models.CharField(max_length=20, choices=Location.choices)
    location_detail = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    actual_start = models.DateTimeField(null=True, blank=True)
    actual_end = models.DateTimeField(null=True, blank=True)
    cancelled_reason = models.CharField(max_length=200, blank=True)
    # The iCalendar SEQUENCE of the meeting's event (RFC 5545 3.8.7.4): 0 when scheduled, one more
    # for each change the network is told of (meetings.services.meeting_messages).
    calendar_sequence = models.PositiveIntegerField(default=0, editable=False)
    # Who called a cancelled meeting off, and when (meetings.services.lifecycle.meeting_cancel);
    # blank/NULL for a meeting that is not cancelled. Each change is in MeetingChange.
    cancelled_by = models.CharField(
        "called off by", max_length=10, choices=CalledOffBy.choices, blank=True
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Attendance derived from the participant rows (and the episode's core team) by
    # meetings.services.meetings.meeting_attendance_refresh when the meeting is recorded held or
    # its attendance changes; NULL until held. The dashboards read these instead of walking every
    # participant row (benchmarks/dashboards/RESULTS.md).
    network_members_present = models.PositiveSmallIntegerField(
        null=True, blank=True, editable=False
    )
    staff_present = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    core_team_present = models.BooleanField(null=True, blank=True, editable=False)
    person_present = models.BooleanField(null=True, blank=True, editable=False)
    # When the meeting was recorded as held (the service's `now`); NULL when not held, and for
    # meetings recorded held before this was kept. meetings.medication_rules reads it: a meeting
    # recorded held before it ended never counts towards the medication rule, and one recorded
    # more than POD_RECORDED_AFTER_EVENT_HOURS after it ended is "recorded after the event".
    recorded_held_at = models.DateTimeField(null=True, blank=True)
    # False for a meeting recorded as one that took place without being arranged in POD before
    # it began (meetings.services.meetings.meeting_record_past): always "recorded after the
    # event" for the medication rule's mark (meetings.medication_rules).
    arranged_in_advance = models.BooleanField(default=True, editable=False)
    recorded_after_event = models.BooleanField(null=True, blank=True, editable=False)
    # Whether this held meeting counts as a network meeting under meetings.medication_rules
    # (plausible, attended, distinct), recomputed for the whole episode by
    # meetings.services.counting.episode_counted_meetings_refresh whenever a held meeting of the
    # episode changes; NULL until held. The dashboards' meeting figures read it.
    counts_as_network_meeting = models.BooleanField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["scheduled_start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(scheduled_end__gt=F("scheduled_start")),
                name="meeting_scheduled_end_after_start",
                violation_error_message="A meeting must end after it starts.",
            ),
            models.CheckConstraint(
                condition=Q(actual_end__isnull=True)
                | Q(actual_start__isnull=False, actual_end__gt=F("actual_start")),
                name="meeting_actual_end_after_start",
                violation_error_message="A meeting must end after it starts.",
            ),
            models.CheckConstraint(
                condition=~Q(status="held")
                | Q(actual_start__isnull=False, actual_end__isnull=False),
                name="meeting_held_has_times",
                violation_error_message="A held meeting needs its actual start and end.",
            ),
        ]
        indexes = [
            # The medication rule counts held meetings per episode before an instant.
            models.Index(
                fields=["episode", "actual_start"],
                condition=Q(status="held"),
                name="meeting_held_by_episode",
            ),
            models.Index(fields=["scheduled_start"], name="meeting_scheduled_start"),
        ]

    def __str__(self) -> str:
        return f"Meeting {self.pk} ({self.get_status_display()})"


class MeetingChange(models.Model):
    """One change to a meeting after it was arranged: cancelled, rescheduled, or its held record
    corrected. `before` and `after` are snapshots of the meeting (times, place, status and who
    was invited or came; meetings.services.meeting_changes.meeting_snapshot), so the meeting's
    history shows each earlier version. Written only by meetings.services.lifecycle (and by
    closing an episode, which cancels its future meetings); never changed afterwards.
    """

    class Kind(models.TextChoices):
        CANCELLED = "cancelled", "Cancelled"
        RESCHEDULED = "rescheduled", "Rescheduled"
        CORRECTED = "corrected", "Record corrected"

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="changes")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField()
    reason = models.TextField()
    # For a cancellation: who called it off.
    called_off_by = models.CharField(max_length=10, choices=CalledOffBy.choices, blank=True)
    before = models.JSONField()
    after = models.JSONField()
    # True when the change owes a message to those invited (a cancellation or an update); the
    # messages themselves are written by the meeting-messages service in the same transaction.
    messages_owed = models.BooleanField(default=False)

    class Meta:
        ordering = ["meeting", "changed_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(reason=""),
                name="meeting_change_has_reason",
                violation_error_message="Give a reason for the change.",
            ),
            models.CheckConstraint(
                condition=~Q(kind="cancelled") | ~Q(called_off_by=""),
                name="meeting_change_cancel_says_who",
                violation_error_message="Say who called the meeting off.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} (meeting {self.meeting_id})"


class Participant(models.Model):
    """Attendance: one row per person invited to (or deliberately not invited to) a meeting."""

    class Kind(models.TextChoices):
        SERVICE_USER = "service_user", "The person"
        NETWORK_MEMBER = "network_member", "Network member"
        STAFF = "staff", "Staff"

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="participants")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    network_member = models.ForeignKey(
        "networks.NetworkMember", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    invited = models.BooleanField(default=True)
    not_invited_reason = models.CharField(max_length=300, blank=True)
    attended = models.BooleanField(null=True, help_text="Unknown until the meeting is recorded")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="service_user", network_member__isnull=True, staff__isnull=True)
                    | Q(kind="network_member", network_member__isnull=False, staff__isnull=True)
                    | Q(kind="staff", network_member__isnull=True, staff__isnull=False)
                ),
                name="participant_kind_matches_reference",
            ),
            models.CheckConstraint(
                condition=Q(invited=True) | ~Q(not_invited_reason=""),
                name="participant_not_invited_has_reason",
                violation_error_message="Say why this person was not invited.",
            ),
            models.UniqueConstraint(
                fields=["meeting"],
                condition=Q(kind="service_user"),
                name="participant_one_service_user",
            ),
            models.UniqueConstraint(
                fields=["meeting", "network_member"],
                condition=Q(kind="network_member"),
                name="participant_member_once",
            ),
            models.UniqueConstraint(
                fields=["meeting", "staff"],
                condition=Q(kind="staff"),
                name="participant_staff_once",
            ),
        ]
        indexes = [
            # Dashboards count attendance by kind per meeting from the index alone.
            models.Index(
                fields=["meeting", "kind"],
                include=["attended", "staff"],
                name="participant_meeting_kind",
            )
        ]

    def __str__(self) -> str:
        if self.kind == self.Kind.STAFF:
            return str(self.staff)
        if self.kind == self.Kind.NETWORK_MEMBER:
            return str(self.network_member)
        return "The person"


class Utterance(models.Model):
    """The dialogic record: each voice in their own words, and the professionals' reflections."""

    class Kind(models.TextChoices):
        VOICE = "voice", "In their own words"
        REFLECTION = "reflection", "Reflection (spoken in front of the network)"

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="utterances")
    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.VOICE)
    words = models.TextField()
    position = models.PositiveIntegerField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["meeting", "position"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "position"], name="utterance_position"),
            models.CheckConstraint(condition=~Q(words=""), name="utterance_has_words"),
        ]

    def __str__(self) -> str:
        return self.words[:60]


class Decision(models.Model):
    """A decision made in a meeting, with the network present."""

    class Kind(models.TextChoices):
        CARE = "care", "Care"
        MEDICATION = "medication", "Medication"
        ADMISSION = "admission", "Admission"
        NEXT_MEETING = "next_meeting", "Next meeting"
        OTHER = "other", "Other"

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="decisions")
    kind = models.CharField(max_length=15, choices=Kind.choices)
    text = models.TextField()
    person_agreed = models.BooleanField(null=True, help_text="Did the person agree?")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["meeting", "recorded_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.text[:60]}"


class CarePlanVersion(models.Model):
    """A care plan, written with the person in a meeting. Each change is a new version."""

    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="care_plans")
    version = models.PositiveIntegerField()
    meeting = models.ForeignKey(
        Meeting, null=True, blank=True, on_delete=models.PROTECT, related_name="care_plans"
    )
    what_matters = models.TextField(help_text="What matters to the person, in their own words")
    actions = models.TextField(help_text="What will be done")
    responsible = models.TextField(help_text="Who will do it")
    person_views = models.TextField(blank=True, help_text="The person's views on the plan")
    person_involved = models.BooleanField(default=True)
    person_agreed = models.BooleanField()
    involved_members = models.ManyToManyField(
        "networks.NetworkMember", blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["episode", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["episode", "version"], name="care_plan_version_unique")
        ]
        # Dashboards (care plans with the person's involvement) select versions by period.
        indexes = [models.Index(fields=["created_at"], name="care_plan_created")]

    def __str__(self) -> str:
        return f"Care plan v{self.version} for episode {self.episode_id}"


class CurrentMedication(models.Model):
    """A medicine the person already takes, on the episode's current-medication list, with where
    the team learnt it and the date of that source. A prescription is "continuing" only for a
    medicine on this list (meetings.services.prescriptions); anything else is new and the
    3-meetings rule applies (DOMAIN.md; issue 10, point 2)."""

    class Source(models.TextChoices):
        REFERRAL = "referral", "The referral"
        GP_RECORD = "gp_record", "GP record or summary care record"
        PERSON = "person", "The person"
        NETWORK = "network", "A member of the person's network"
        OTHER_SERVICE = "other_service", "Another service or hospital discharge letter"
        PHARMACY = "pharmacy", "Pharmacy or dispensing record"
        EARLIER_PRESCRIPTION = (
            "earlier_prescription",
            "A continuing prescription recorded before POD kept this list",
        )

    episode = models.ForeignKey(
        Episode, on_delete=models.PROTECT, related_name="current_medications"
    )
    medicine = models.CharField(max_length=200)
    dose = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=25, choices=Source.choices)
    source_detail = models.CharField(max_length=300, blank=True)
    source_date = models.DateField(help_text="The date of the source (letter, record, account)")
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["episode", "medicine"]
        constraints = [
            models.UniqueConstraint(
                Lower("medicine"),
                "episode",
                name="current_medication_once_per_episode",
                violation_error_message="This medicine is already on the list.",
            ),
            models.CheckConstraint(
                condition=~Q(medicine=""), name="current_medication_has_medicine"
            ),
        ]

    def __str__(self) -> str:
        return self.medicine


class Prescription(models.Model):
    class OverrideReason(models.TextChoices):
        NONE = "", "No override"
        RAPID_RESPONSE = "rapid_response", "Rapid response: physical safety threatened"

    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="prescriptions")
    medicine = models.CharField(max_length=200)
    dose = models.CharField(max_length=200, blank=True)
    is_new = models.BooleanField(
        "new medication",
        help_text="Not a continuing medicine from the current-medication list (the 3-meeting rule "
        "applies)",
    )
    is_antipsychotic = models.BooleanField("antipsychotic (neuroleptic)")
    prescriber = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="prescriptions"
    )
    prescribed_at = models.DateTimeField()
    # Snapshot of the rule's input at prescribing time, so the record explains itself.
    meetings_held_before = models.PositiveIntegerField(null=True, blank=True)
    # The decision it was made under, so an auditor can replay it (issue 10, point 2): the ids
    # of the meetings counted (meetings.medication_rules), the threshold and the rule's version.
    # NULL / "" for prescriptions made before these were kept, or not through the service.
    counted_meeting_ids = ArrayField(models.BigIntegerField(), null=True, blank=True)
    meetings_required = models.PositiveSmallIntegerField(null=True, blank=True)
    rule_version = models.CharField(max_length=40, blank=True, default="", db_default="")
    # A continuing prescription names the entry of the current-medication list it continues.
    current_medication = models.ForeignKey(
        CurrentMedication,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="prescriptions",
    )
    override_reason = models.CharField(
        max_length=20, choices=OverrideReason.choices, blank=True, default=""
    )
    override_explanation = models.TextField(blank=True)
    decision = models.ForeignKey(
        Decision, null=True, blank=True, on_delete=models.PROTECT, related_name="prescriptions"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Set by meetings.tasks.audit_prescriptions once it has checked this row.
    audited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-prescribed_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(override_reason="") | ~Q(override_explanation=""),
                name="prescription_override_explained",
                violation_error_message="An override needs a written explanation.",
            ),
            models.CheckConstraint(
                condition=Q(is_new=True) | Q(current_medication__isnull=False),
                name="prescription_continuing_is_on_the_list",
                violation_error_message=(
                    "A continuing prescription must be for a medicine on the person's "
                    "current-medication list."
                ),
            ),
        ]
        indexes = [
            # Used by meetings.tasks.audit_prescriptions to find rows not yet audited.
            models.Index(
                fields=["created_at"],
                condition=Q(audited_at__isnull=True),
                name="prescription_unaudited",
            ),
            # Dashboards (the medication rule) select prescriptions by period.
            models.Index(fields=["prescribed_at"], name="prescription_prescribed_at"),
        ]

    def __str__(self) -> str:
        return f"{self.medicine} ({'new' if self.is_new else 'continuing'})"

    @property
    def kind(self) -> str:
        """ "override", "new" or "continuing": how the manager's medication section counts it."""
        if self.override_reason:
            return "override"
        return "new" if self.is_new else "continuing"


class Alert(models.Model):
    """The alert outbox. One row per (subject, kind); delivery is a separate, repeatable step.

    Delivery (meetings/alerts.py) writes the in-app notifications and owes one email per
    recipient to the message outbox (pod/foundation/outbox.py), then stamps `queued_at`;
    `delivered_at` is when the last of those emails was sent (at once when there is none).
    """

    class Kind(models.TextChoices):
        UNSCHEDULED = "unscheduled", "No first meeting arranged"
        AT_RISK = "at_risk", "24-hour first meeting at risk"
        BREACHED = "breached", "24-hour first meeting breached"
        MEDICATION_OVERRIDE = "medication_override", "Medication rule overridden"
        MEDICATION_VIOLATION = "medication_violation", "Medication rule violated"

    kind = models.CharField(max_length=25, choices=Kind.choices)
    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="alerts")
    prescription = models.ForeignKey(
        Prescription, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    message = models.TextField()
    raised_at = models.DateTimeField()
    queued_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    delivery_attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-raised_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["episode", "kind"],
                condition=Q(prescription__isnull=True),
                name="alert_once_per_episode_kind",
            ),
            models.UniqueConstraint(
                fields=["prescription", "kind"],
                condition=Q(prescription__isnull=False),
                name="alert_once_per_prescription_kind",
            ),
        ]
        indexes = [
            # Used by meetings.tasks.deliver_alerts: alerts not yet handed to the outbox.
            models.Index(
                fields=["raised_at"], condition=Q(queued_at__isnull=True), name="alert_unqueued"
            ),
            # Used by /health/monitor/: the oldest alert not yet delivered.
            models.Index(
                fields=["raised_at"],
                condition=Q(delivered_at__isnull=True),
                name="alert_undelivered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} (episode {self.episode_id})"

    @property
    def escalates_to_managers(self) -> bool:
        return self.kind in (
            self.Kind.BREACHED,
            self.Kind.MEDICATION_OVERRIDE,
            self.Kind.MEDICATION_VIOLATION,
        )


class ClockCheckFailure(models.Model):
    """An episode whose 24-hour clock check raised, and how many times in a row.

    Written by the sweep (meetings/sweeps.py), which tries such an episode again 10 minutes
    later and deletes the row once a check succeeds; /health/monitor/ reports an episode that
    keeps failing. Holds the exception's class only, never its text.
    """

    episode = models.OneToOneField(Episode, on_delete=models.CASCADE, related_name="+")
    failures = models.PositiveIntegerField(default=1)
    first_failed_at = models.DateTimeField()
    last_failed_at = models.DateTimeField()
    error_class = models.CharField(max_length=200)

    def __str__(self) -> str:
        return f"episode {self.episode_id}: {self.failures} failed clock checks"


# The manager's review lives in its own module; imported here so Django registers the model.
from meetings.review_models import Review  # noqa: E402, F401
