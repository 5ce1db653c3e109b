from django.contrib import admin

from outcomes.models import OutcomeAssessment


@admin.register(OutcomeAssessment)
class OutcomeAssessmentAdmin(admin.ModelAdmin):
    list_display = ["service_user", "timepoint_months", "assessed_on", "symptom_level", "relapse",
                    "hospital_bed_days", "disability_benefit", "neuroleptic_use", "work_or_study"]
    list_filter = ["timepoint_months", "symptom_level", "relapse", "service_user__trial_arm",
                   "service_user__team"]
    search_fields = ["service_user__nhs_number", "service_user__family_name"]
    raw_id_fields = ["service_user"]
    list_select_related = ["service_user"]
