from django.conf import settings
from django.contrib import admin
from django.utils import timezone

from meetings import rules
from meetings.models import (
    Alert,
    CarePlanVersion,
    ClockCheckFailure,
    CurrentMedication,
    Decision,
    Episode,
    Meeting,
    Participant,
    Prescription,
    Utterance,
)
from meetings.services.clock import episode_refresh_clock
from meetings.services.counting import episode_counted_meetings_refresh
from meetings.services.meetings import meeting_attendance_refresh
from pod.foundation.admin_access import PersonRecordAdmin


@admin.register(Episode)
class EpisodeAdmin(PersonRecordAdmin):
    list_display = [
        "pk",
        "service_user",
        "team",
        "status",
        "triage_category",
        "referral_received_at",
        "first_meeting_due_at",
        "first_meeting_held_at",
    ]
    list_filter = ["status", "triage_category", "referral_source", "team__trust", "team"]
    search_fields = ["service_user__nhs_number", "service_user__family_name", "reason"]
    date_hierarchy = "referral_received_at"
    list_select_related = ["service_user", "team__trust"]
    raw_id_fields = ["service_user"]
    filter_horizontal = ["core_team"]
    # The clock is derived from the meetings by meetings.services.clock; never typed in.
    readonly_fields = [
        "first_meeting_due_at",
        "first_meeting_held_at",
        "time_to_first_meeting",
        "clock_next_check_at",
    ]

    def save_model(self, request, obj, form, change):
        # The clock is derived, as in meetings.services.episodes.episode_open, whatever page
        # saved it.
        obj.first_meeting_due_at = rules.first_meeting_due_at(
            referral_received_at=obj.referral_received_at, window=settings.POD_FIRST_MEETING_WINDOW
        )
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # A change of core team changes whether its held meetings had a core-team member.
        if "core_team" in form.changed_data:
            for meeting in form.instance.meetings.filter(status=Meeting.Status.HELD):
                meeting_attendance_refresh(meeting)
            episode_counted_meetings_refresh(form.instance, now=timezone.now())
        episode_refresh_clock(form.instance, now=timezone.now())


def _settled(meeting: Meeting | None) -> bool:
    """A held or cancelled meeting: its record changes only from its own page, through
    meetings.services.lifecycle (a correction with a reason, kept in its history, which also
    reopens the audit of prescriptions that counted it), never in the admin (issue 10 review:
    an admin edit of a counted meeting left no history and reopened no audit)."""
    return meeting is not None and meeting.status != Meeting.Status.SCHEDULED


class ParticipantInline(admin.TabularInline):
    model = Participant
    extra = 0
    raw_id_fields = ["network_member", "staff"]

    def has_add_permission(self, request, obj=None):
        return not _settled(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not _settled(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not _settled(obj) and super().has_delete_permission(request, obj)


@admin.register(Meeting)
class MeetingAdmin(PersonRecordAdmin):
    person_path = "episode__service_user"
    list_display = ["pk", "episode", "scheduled_start", "location", "status", "actual_start"]
    list_filter = ["status", "location", "episode__team"]
    search_fields = ["episode__service_user__family_name", "episode__service_user__nhs_number"]
    date_hierarchy = "scheduled_start"
    list_select_related = ["episode__service_user"]
    raw_id_fields = ["episode"]
    inlines = [ParticipantInline]

    def has_add_permission(self, request):
        # A meeting is arranged, or recorded as one that took place, from the episode's page,
        # where the rules hold (issue 10 review: an admin-added held meeting skipped the team,
        # time and "recorded after the event" checks).
        return False

    def has_delete_permission(self, request, obj=None):
        # A held or cancelled meeting is part of the record (the medication rule counted it).
        return not _settled(obj) and super().has_delete_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if _settled(obj):
            return [f.name for f in Meeting._meta.concrete_fields]
        return super().get_readonly_fields(request, obj)

    def save_model(self, request, obj, form, change):
        # Marked held here: when it was recorded held, as meetings.services.meetings does.
        if obj.status == Meeting.Status.HELD and obj.recorded_held_at is None:
            obj.recorded_held_at = timezone.now()
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        # A meeting marked held or cancelled here moves the 24-hour clock like the pages do,
        # and its stored attendance follows the participant rows edited inline.
        super().save_related(request, form, formsets, change)
        meeting_attendance_refresh(form.instance)
        # Whether it (and the episode's other meetings) count towards the medication rule.
        episode_counted_meetings_refresh(form.instance.episode, now=timezone.now())
        episode_refresh_clock(form.instance.episode, now=timezone.now())


@admin.register(Utterance)
class UtteranceAdmin(PersonRecordAdmin):
    person_path = "meeting__episode__service_user"
    list_display = ["meeting", "position", "kind", "participant", "recorded_by"]
    list_filter = ["kind"]
    search_fields = ["words"]
    raw_id_fields = ["meeting", "participant"]


@admin.register(Decision)
class DecisionAdmin(PersonRecordAdmin):
    person_path = "meeting__episode__service_user"
    list_display = ["meeting", "kind", "text", "person_agreed", "recorded_at"]
    list_filter = ["kind", "person_agreed"]
    search_fields = ["text"]
    raw_id_fields = ["meeting"]


@admin.register(CarePlanVersion)
class CarePlanVersionAdmin(PersonRecordAdmin):
    person_path = "episode__service_user"
    list_display = [
        "episode",
        "version",
        "person_involved",
        "person_agreed",
        "created_by",
        "created_at",
    ]
    list_filter = ["person_involved", "person_agreed"]
    search_fields = ["what_matters", "actions"]
    raw_id_fields = ["episode", "meeting", "involved_members"]


@admin.register(Prescription)
class PrescriptionAdmin(PersonRecordAdmin):
    person_path = "episode__service_user"
    list_display = [
        "medicine",
        "episode",
        "is_new",
        "is_antipsychotic",
        "prescriber",
        "prescribed_at",
        "meetings_held_before",
        "override_reason",
        "audited_at",
    ]
    list_filter = ["is_new", "is_antipsychotic", "override_reason", "episode__team"]
    search_fields = ["medicine", "episode__service_user__nhs_number"]
    date_hierarchy = "prescribed_at"
    raw_id_fields = ["episode", "decision", "current_medication"]
    list_select_related = ["prescriber", "episode"]
    readonly_fields = [
        "meetings_held_before",
        "counted_meeting_ids",
        "meetings_required",
        "rule_version",
        "audited_at",
    ]


@admin.register(CurrentMedication)
class CurrentMedicationAdmin(PersonRecordAdmin):
    person_path = "episode__service_user"
    list_display = ["medicine", "episode", "source", "source_date", "recorded_at"]
    list_filter = ["source"]
    search_fields = ["medicine"]
    raw_id_fields = ["episode"]


@admin.register(Alert)
class AlertAdmin(PersonRecordAdmin):
    person_path = "episode__service_user"
    list_display = [
        "kind",
        "episode",
        "raised_at",
        "queued_at",
        "delivered_at",
        "delivery_attempts",
    ]
    list_filter = ["kind", ("delivered_at", admin.EmptyFieldListFilter), "episode__team"]
    search_fields = ["message"]
    date_hierarchy = "raised_at"
    raw_id_fields = ["episode", "prescription"]
    readonly_fields = [
        "kind",
        "episode",
        "prescription",
        "message",
        "raised_at",
        "queued_at",
        "delivered_at",
        "delivery_attempts",
        "last_error",
    ]


@admin.register(ClockCheckFailure)
class ClockCheckFailureAdmin(admin.ModelAdmin):
    """Episodes whose 24-hour clock check keeps failing (also on /health/monitor/)."""

    list_display = ["episode", "failures", "first_failed_at", "last_failed_at", "error_class"]
    readonly_fields = ["episode", "failures", "first_failed_at", "last_failed_at", "error_class"]
    raw_id_fields = ["episode"]
