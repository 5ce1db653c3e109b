from django.contrib import admin

from networks.models import NetworkMember, PeerAssignment, PeerContact, ServiceUser
from networks.selectors import people_search
from pod.foundation.admin_access import PersonRecordAdmin


class NetworkMemberInline(admin.TabularInline):
    model = NetworkMember
    extra = 0
    fields = ["name", "category", "relationship", "closeness", "status", "contact_consent"]
    # Consent is recorded with its date and who took it, on the member's own pages.
    readonly_fields = ["contact_consent"]


@admin.register(ServiceUser)
class ServiceUserAdmin(PersonRecordAdmin):
    person_path = "pk"
    list_display = ["nhs_number", "family_name", "given_name", "date_of_birth", "team", "trial_arm"]
    list_filter = ["trial_arm", "team__trust", "team"]
    # The same search as the clinicians' (networks.selectors.people_search): NHS number with any
    # spacing, names whatever their accents, capitals or apostrophes, most similar first.
    search_fields = ["nhs_number"]
    search_help_text = "An NHS number (any spacing) or a name."
    list_select_related = ["team__trust"]
    inlines = [NetworkMemberInline]

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        found = people_search(queryset, search_term, limit=100)
        return queryset.filter(pk__in=[p.pk for p in found]), False


@admin.register(NetworkMember)
class NetworkMemberAdmin(PersonRecordAdmin):
    list_display = [
        "name",
        "relationship",
        "category",
        "closeness",
        "service_user",
        "status",
        "contact_consent",
        "information_consent",
        "person_wants_invited",
    ]
    list_filter = [
        "category",
        "closeness",
        "status",
        "contact_consent",
        "information_consent",
        "person_wants_invited",
    ]
    search_fields = [
        "name",
        "relationship",
        "service_user__family_name",
        "service_user__nhs_number",
    ]
    # A consent answer is recorded from the member's page (who and when stamped by the service,
    # never typed), so the admin shows it read-only (issue 13 review: the admin could erase a
    # refusal or credit an answer to anyone).
    readonly_fields = [
        "contact_consent",
        "consent_recorded_at",
        "consent_recorded_by",
        "information_consent",
        "information_consent_recorded_at",
        "information_consent_recorded_by",
    ]
    list_select_related = ["service_user"]
    raw_id_fields = ["service_user"]


@admin.register(PeerAssignment)
class PeerAssignmentAdmin(PersonRecordAdmin):
    list_display = ["peer", "service_user", "assigned_by", "assigned_at", "ended_at"]
    list_filter = ["peer__role", ("ended_at", admin.EmptyFieldListFilter), "service_user__team"]
    search_fields = ["peer__username", "peer__last_name", "service_user__family_name"]
    list_select_related = ["peer", "service_user", "assigned_by"]
    raw_id_fields = ["service_user"]


@admin.register(PeerContact)
class PeerContactAdmin(PersonRecordAdmin):
    list_display = ["contact_at", "peer", "service_user", "mode", "purpose", "duration_minutes"]
    list_filter = ["mode", "purpose"]
    search_fields = ["service_user__family_name", "peer__username", "note"]
    date_hierarchy = "contact_at"
    list_select_related = ["peer", "service_user"]
    raw_id_fields = ["service_user", "members"]
