"""Outcomes per person at baseline, 12, 24 and 60 months (the Lapland table's measures)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class OutcomeAssessment(models.Model):
    class Timepoint(models.IntegerChoices):
        BASELINE = 0, "Baseline"
        MONTH_12 = 12, "12 months"
        MONTH_24 = 24, "24 months"
        MONTH_60 = 60, "60 months"

    class SymptomLevel(models.TextChoices):
        NONE = "none", "None"
        MILD = "mild", "Mild"
        MODERATE = "moderate", "Moderate"
        SEVERE = "severe", "Severe"

    service_user = models.ForeignKey(
        "networks.ServiceUser", on_delete=models.PROTECT, related_name="outcome_assessments"
    )
    timepoint_months = models.PositiveSmallIntegerField(choices=Timepoint.choices)
    assessed_on = models.DateField()
    symptom_level = models.CharField(max_length=10, choices=SymptomLevel.choices)
    relapse = models.BooleanField()
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
                condition=Q(timepoint_months__in=[0, 12, 24, 60]), name="outcome_known_timepoint"
            ),
            models.CheckConstraint(
                condition=Q(hospital_bed_days__lte=3660), name="outcome_bed_days_plausible"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_user} at {self.get_timepoint_months_display()}"
