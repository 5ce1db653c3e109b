from django.contrib import admin

from outcomes.models import (
    FidelityRating,
    LicensedMeasure,
    OutcomeAssessment,
    ScoredMeasure,
    SurveyInvitation,
)
from pod.foundation.admin_access import PersonRecordAdmin


@admin.register(OutcomeAssessment)
class OutcomeAssessmentAdmin(PersonRecordAdmin):
    list_display = [
        "service_user",
        "timepoint_months",
        "assessed_on",
        "symptom_level",
        "relapse",
        "hospital_bed_days",
        "disability_benefit",
        "neuroleptic_use",
        "work_or_study",
    ]
    list_filter = [
        "timepoint_months",
        "symptom_level",
        "relapse",
        "service_user__trial_arm",
        "service_user__team",
    ]
    search_fields = ["service_user__nhs_number", "service_user__family_name"]
    raw_id_fields = ["service_user"]
    list_select_related = ["service_user"]


@admin.register(ScoredMeasure)
class ScoredMeasureAdmin(PersonRecordAdmin):
    list_display = [
        "service_user",
        "instrument",
        "completed_on",
        "total",
        "band",
        "life_domains_mean",
        "treatment_mean",
    ]
    list_filter = ["instrument"]
    search_fields = ["service_user__nhs_number", "service_user__family_name"]
    raw_id_fields = ["service_user"]
    readonly_fields = ["total", "band", "life_domains_mean", "treatment_mean"]


@admin.register(LicensedMeasure)
class LicensedMeasureAdmin(PersonRecordAdmin):
    list_display = ["service_user", "name", "completed_on", "score"]
    list_filter = ["name"]
    search_fields = ["service_user__nhs_number", "service_user__family_name"]
    raw_id_fields = ["service_user"]


@admin.register(SurveyInvitation)
class SurveyInvitationAdmin(PersonRecordAdmin):
    list_display = ["pk", "team", "issued_at", "expires_at", "used_at"]
    list_filter = ["team", ("used_at", admin.EmptyFieldListFilter)]
    search_fields = ["service_user__nhs_number", "service_user__family_name"]
    readonly_fields = ["token_hash"]
    raw_id_fields = ["service_user"]


@admin.register(FidelityRating)
class FidelityRatingAdmin(PersonRecordAdmin):
    person_path = "meeting__episode__service_user"
    list_display = ["meeting", "rater", "rated_at"]
    list_filter = ["meeting__episode__team"]
    search_fields = ["rater__username", "rater__last_name"]
    raw_id_fields = ["meeting"]
