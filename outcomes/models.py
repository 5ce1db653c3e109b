"""Outcomes per person at each outcome time point (rules.OUTCOME_TIMEPOINTS: the Lapland table's
measures), scored and licensed measures, the experience survey and fidelity ratings."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from outcomes import rules


class OutcomeAssessment(models.Model):
    class SymptomLevel(models.TextChoices):
        NONE = "none", "None"
        MILD = "mild", "Mild"
        MODERATE = "moderate", "Moderate"
        SEVERE = "severe", "Severe"

    service_user = models.ForeignKey(
        "networks.ServiceUser", on_delete=models.PROTECT, related_name="outcome_assessments"
    )
    timepoint_months = models.PositiveSmallIntegerField(choices=rules.TIMEPOINT_CHOICES)
    assessed_on = models.DateField()
    symptom_level = models.CharField(max_length=10, choices=SymptomLevel.choices)
    relapse = models.BooleanField(help_text="Relapsed since the previous time point")
    # Time to relapse is the trial's primary outcome (Kaplan-Meier, log-rank, Cox). When the
    # date of the first relapse is known it is recorded here; when it is not, the survival
    # analysis treats the relapse as happening in the interval since the previous assessment
    # (outcomes/survival.py says how that interval is approximated).
    relapse_on = models.DateField(
        "date of relapse",
        null=True,
        blank=True,
        help_text="Date the relapse began, when known (only with a relapse)",
    )
    hospital_bed_days = models.PositiveIntegerField()
    disability_benefit = models.BooleanField("claiming disability benefit")
    neuroleptic_use = models.BooleanField("using neuroleptic (antipsychotic) medication")
    work_or_study = models.BooleanField("in work or study")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["service_user", "timepoint_months"]
        constraints = [
            models.UniqueConstraint(
                fields=["service_user", "timepoint_months"],
                name="outcome_once_per_timepoint",
                violation_error_message="This person already has an assessment at that time point.",
            ),
            models.CheckConstraint(
                condition=Q(timepoint_months__in=list(rules.OUTCOME_TIMEPOINTS)),
                name="outcome_known_timepoint",
            ),
            models.CheckConstraint(
                condition=Q(hospital_bed_days__lte=rules.MAX_HOSPITAL_BED_DAYS),
                name="outcome_bed_days_plausible",
            ),
            models.CheckConstraint(
                condition=Q(relapse_on__isnull=True)
                | Q(relapse=True, relapse_on__lte=models.F("assessed_on")),
                name="outcome_relapse_date_with_relapse",
                violation_error_message="A relapse date needs a relapse, on or before the "
                "assessment.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_user} at {self.get_timepoint_months_display()}"


# --- The outcome import (outcomes/importing/) ---------------------------------------------------


class OutcomeImport(models.Model):
    """One uploaded file of outcome assessments: the job that previews and imports it, and its
    line in the import history.

    The row is the job. It is unique on (team, file hash, mode): uploading the same file again
    for the same team and mode finds this row instead of starting a second import, and once it
    is imported a re-run writes nothing. The file is kept (in the database, not on disk) until
    it is imported, then emptied: only its name and SHA-256 stay. Not audited by the trigger
    (pod/foundation/audit.py): the row would copy the whole file into the audit; the
    assessments and people it writes are audited, attributed to `imported_by`.
    """

    class Mode(models.TextChoices):
        ADD = "add", "Add new assessments"
        UPDATE = "update", "Add new and update existing assessments"

    class DateFormat(models.TextChoices):
        ISO = "iso", "YYYY-MM-DD (ISO)"
        UK = "uk", "DD/MM/YYYY (day first, UK)"

    class Status(models.TextChoices):
        PREVIEWING = "previewing", "Checking the file"
        READY = "ready", "Checked: ready to import"
        REFUSED = "refused", "Checked: rows refused, nothing can be imported"
        IMPORTING = "importing", "Importing"
        IMPORTED = "imported", "Imported"
        FAILED = "failed", "Failed: nothing was imported"

    team = models.ForeignKey("pod.Team", on_delete=models.PROTECT, related_name="+")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    from_command = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    previewed_at = models.DateTimeField(null=True, blank=True)
    imported_at = models.DateTimeField(null=True, blank=True)
    file_name = models.CharField(max_length=255)
    file_sha256 = models.CharField(max_length=64)
    file_size = models.PositiveIntegerField()
    file_content = models.BinaryField(blank=True)
    mode = models.CharField(max_length=6, choices=Mode.choices)
    date_format = models.CharField(max_length=3, choices=DateFormat.choices)
    register_new = models.BooleanField(default=False)
    # NHS numbers the uploader confirmed are the same person despite a different name or date
    # of birth in the file.
    same_person = ArrayField(models.CharField(max_length=10), default=list, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    note = models.TextField(blank=True)
    rows_total = models.PositiveIntegerField(default=0)
    rows_checked = models.PositiveIntegerField(default=0)
    added = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    refused = models.PositiveIntegerField(default=0)
    warned = models.PositiveIntegerField(default=0)
    people_registered = models.PositiveIntegerField(default=0)
    # What the preview shows (counts, grouped problems, changes; capped) and the fingerprint of
    # the plan it showed: the import writes only that plan.
    preview = models.JSONField(default=dict, blank=True)
    plan_fingerprint = models.CharField(max_length=64, blank=True)
    # SHA-256 of what the preview read from the record (people and their assessments): the
    # import writes the staged plan only if the record, re-read under lock, still gives it.
    facts_fingerprint = models.CharField(max_length=64, blank=True)
    problems_csv = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "file_sha256", "mode"], name="outcome_import_once_per_file"
            )
        ]
        indexes = [models.Index(fields=["status", "updated_at"])]

    def __str__(self) -> str:
        return f"Import of {self.file_name} ({self.get_mode_display()})"

    @property
    def running(self) -> bool:
        return self.status in (self.Status.PREVIEWING, self.Status.IMPORTING)


class OutcomeImportRow(models.Model):
    """One row of a previewed import's plan, staged until "Import" (then deleted): what will be
    added, updated or left unchanged. The import writes the assessments with one INSERT ...
    SELECT from these rows (outcomes/importing/writing.py). Not audited: derived from the file,
    like it, and never the record itself."""

    class Action(models.TextChoices):
        ADD = "add"
        UPDATE = "update"
        UNCHANGED = "unchanged"

    # No database constraint (nor WAL: the table is UNLOGGED, migration 0005): staging is
    # written with COPY at preview and deleted at import, as fast as the disk allows. Rows lost
    # in a crash only make the import check the file again (jobs.import_run).
    job = models.ForeignKey(
        OutcomeImport, on_delete=models.CASCADE, db_constraint=False, related_name="+"
    )
    line = models.PositiveIntegerField()
    action = models.CharField(max_length=9, choices=Action.choices)
    nhs_number = models.CharField(max_length=10)
    person_id = models.BigIntegerField(null=True)  # None: a person this import registers
    trial_arm = models.CharField(max_length=3)
    given_name = models.CharField(max_length=100, blank=True)
    family_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField(null=True)
    timepoint_months = models.PositiveSmallIntegerField()
    assessed_on = models.DateField()
    symptom_level = models.CharField(max_length=10)
    relapse = models.BooleanField()
    relapse_on = models.DateField(null=True)
    hospital_bed_days = models.PositiveIntegerField()
    disability_benefit = models.BooleanField()
    neuroleptic_use = models.BooleanField()
    work_or_study = models.BooleanField()

    class Meta:
        indexes = [models.Index(fields=["job", "action"])]

    def __str__(self) -> str:
        return f"Line {self.line} of import {self.job_id}"


# --- Scored and licensed measures ------------------------------------------------------------


class ScoredMeasure(models.Model):
    """A free-to-use measure completed by the person, with its item scores and the scores the
    software computed from them (outcomes.rules) at the time it was recorded."""

    class Instrument(models.TextChoices):
        DIALOG = "DIALOG", "DIALOG"
        PHQ9 = "PHQ9", "PHQ-9"
        GAD7 = "GAD7", "GAD-7"

    service_user = models.ForeignKey(
        "networks.ServiceUser", on_delete=models.PROTECT, related_name="scored_measures"
    )
    instrument = models.CharField(max_length=6, choices=Instrument.choices)
    completed_on = models.DateField()
    item_scores = ArrayField(models.PositiveSmallIntegerField())
    # PHQ-9 and GAD-7: the sum of the items and its severity band. NULL/blank for DIALOG.
    total = models.PositiveSmallIntegerField(null=True, blank=True)
    band = models.CharField(max_length=20, blank=True)
    # DIALOG: the mean of the 8 life-domain items and of the 3 treatment items. NULL otherwise.
    life_domains_mean = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    treatment_mean = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["service_user", "instrument", "completed_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(instrument="DIALOG", item_scores__len=11)
                | Q(instrument="PHQ9", item_scores__len=9)
                | Q(instrument="GAD7", item_scores__len=7),
                name="scored_measure_item_count",
                violation_error_message="The number of item scores does not match the measure.",
            ),
        ]
        indexes = [models.Index(fields=["service_user", "instrument", "completed_on"])]

    def __str__(self) -> str:
        return f"{self.get_instrument_display()} on {self.completed_on}"


class LicensedMeasure(models.Model):
    """A licensed measure, kept by name and total score only: never its items or their text."""

    class Name(models.TextChoices):
        REQOL10 = "ReQoL-10", "ReQoL-10"
        REQOL20 = "ReQoL-20", "ReQoL-20"
        WEMWBS = "WEMWBS", "WEMWBS"
        SWEMWBS = "SWEMWBS", "SWEMWBS"
        HONOS = "HoNOS", "HoNOS"

    service_user = models.ForeignKey(
        "networks.ServiceUser", on_delete=models.PROTECT, related_name="licensed_measures"
    )
    name = models.CharField(max_length=10, choices=Name.choices)
    completed_on = models.DateField()
    score = models.DecimalField(max_digits=5, decimal_places=2)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["service_user", "name", "completed_on"]

    def __str__(self) -> str:
        return f"{self.name} {self.score} on {self.completed_on}"


# --- Experience survey -----------------------------------------------------------------------


class SurveyInvitation(models.Model):
    """A one-time link to the experience survey, issued by a clinician to a person.

    Only a SHA-256 hash of the token is stored: the link itself exists only in what was shown or
    sent to the person. The invitation knows who it was for; the response it produces does not
    (SurveyResponse has no link back), so answers can never be reported per person.
    """

    service_user = models.ForeignKey(
        "networks.ServiceUser", on_delete=models.CASCADE, related_name="survey_invitations"
    )
    team = models.ForeignKey("pod.Team", on_delete=models.PROTECT, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    # A clinician withdrew it (lost), or it had expired unused when the next one was issued.
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-issued_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("issued_at")), name="survey_expires_after_issue"
            ),
            # One open link per person (outcomes.services.survey_invitation_issue withdraws an
            # expired one before issuing the next): the experience figures cannot be stuffed.
            models.UniqueConstraint(
                fields=["service_user"],
                condition=Q(used_at__isnull=True, withdrawn_at__isnull=True),
                name="survey_one_open_link_per_person",
                violation_error_message="This person already has an open survey link.",
            ),
        ]

    def __str__(self) -> str:
        return f"Survey invitation {self.pk}"


class SurveyResponse(models.Model):
    """One person's answers. Deliberately holds only the team and the month: no person, no
    invitation, no exact time, so that it cannot be traced back to whoever gave it."""

    class Answer(models.TextChoices):
        DEFINITELY = "definitely", "Yes, definitely"
        SOMEWHAT = "somewhat", "Yes, to some extent"
        NO = "no", "No"
        NOT_APPLICABLE = "na", "Don't know / not applicable"

    team = models.ForeignKey("pod.Team", on_delete=models.PROTECT, related_name="+")
    submitted_month = models.DateField(help_text="First day of the month it was submitted")
    involved_in_care = models.CharField(max_length=10, choices=Answer.choices)
    family_involved = models.CharField(max_length=10, choices=Answer.choices)
    agreed_care = models.CharField(max_length=10, choices=Answer.choices)
    understands_what_matters = models.CharField(max_length=10, choices=Answer.choices)
    helps_with_what_matters = models.CharField(max_length=10, choices=Answer.choices)
    feel_hopeful = models.CharField(max_length=10, choices=Answer.choices)

    class Meta:
        indexes = [models.Index(fields=["team", "submitted_month"])]

    def __str__(self) -> str:
        return f"Survey response {self.pk}"


# --- Fidelity --------------------------------------------------------------------------------


class FidelityRating(models.Model):
    """One member of staff's rating of one meeting on the twelve key elements of dialogic
    practice (outcomes.rules.FIDELITY_ELEMENTS). Element names only: never the manual's text."""

    class Score(models.IntegerChoices):
        ABSENT = 0, "0 - not present"
        A_LITTLE = 1, "1 - a little"
        MOSTLY = 2, "2 - mostly"
        FULLY = 3, "3 - fully"

    meeting = models.ForeignKey(
        "meetings.Meeting", on_delete=models.CASCADE, related_name="fidelity_ratings"
    )
    rater = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="fidelity_ratings"
    )
    rated_at = models.DateTimeField()
    two_or_more_therapists = models.PositiveSmallIntegerField(choices=Score.choices)
    network_participation = models.PositiveSmallIntegerField(choices=Score.choices)
    open_ended_questions = models.PositiveSmallIntegerField(choices=Score.choices)
    responding_to_utterances = models.PositiveSmallIntegerField(choices=Score.choices)
    present_moment = models.PositiveSmallIntegerField(choices=Score.choices)
    multiple_viewpoints = models.PositiveSmallIntegerField(choices=Score.choices)
    relational_focus = models.PositiveSmallIntegerField(choices=Score.choices)
    matter_of_fact_problem_talk = models.PositiveSmallIntegerField(choices=Score.choices)
    own_words_not_symptoms = models.PositiveSmallIntegerField(choices=Score.choices)
    reflections = models.PositiveSmallIntegerField(choices=Score.choices)
    transparency = models.PositiveSmallIntegerField(choices=Score.choices)
    tolerating_uncertainty = models.PositiveSmallIntegerField(choices=Score.choices)

    class Meta:
        ordering = ["-rated_at"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "rater"], name="fidelity_once_per_rater")
        ]

    def __str__(self) -> str:
        return f"Fidelity of meeting {self.meeting_id} by {self.rater}"
