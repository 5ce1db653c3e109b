from django.contrib import admin

from networks.models import NetworkMember, PeerAssignment, PeerContact, ServiceUser


class NetworkMemberInline(admin.TabularInline):
    model = NetworkMember
    extra = 0
    fields = ["name", "category", "relationship", "closeness", "status", "consent_to_contact"]
    # Consent is recorded with its date and who took it, on the member's own pages.
    readonly_fields = ["consent_to_contact"]


@admin.register(ServiceUser)
class ServiceUserAdmin(admin.ModelAdmin):
    list_display = ["nhs_number", "family_name", "given_name", "date_of_birth", "team", "trial_arm"]
    list_filter = ["trial_arm", "team__trust", "team"]
    search_fields = ["nhs_number", "family_name", "given_name", "preferred_name"]
    list_select_related = ["team__trust"]
    inlines = [NetworkMemberInline]


@admin.register(NetworkMember)
class NetworkMemberAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "relationship",
        "category",
        "closeness",
        "service_user",
        "status",
        "consent_to_contact",
        "consent_to_information",
        "person_wants_invited",
    ]
    list_filter = [
        "category",
        "closeness",
        "status",
        "consent_to_contact",
        "consent_to_information",
        "person_wants_invited",
    ]
    search_fields = [
        "name",
        "relationship",
        "service_user__family_name",
        "service_user__nhs_number",
    ]
    list_select_related = ["service_user"]
    raw_id_fields = ["service_user"]


@admin.register(PeerAssignment)
class PeerAssignmentAdmin(admin.ModelAdmin):
    list_display = ["peer", "service_user", "assigned_by", "assigned_at", "ended_at"]
    list_filter = ["peer__role", ("ended_at", admin.EmptyFieldListFilter), "service_user__team"]
    search_fields = ["peer__username", "peer__last_name", "service_user__family_name"]
    list_select_related = ["peer", "service_user", "assigned_by"]
    raw_id_fields = ["service_user"]


@admin.register(PeerContact)
class PeerContactAdmin(admin.ModelAdmin):
    list_display = ["contact_at", "peer", "service_user", "mode", "purpose", "duration_minutes"]
    list_filter = ["mode", "purpose"]
    search_fields = ["service_user__family_name", "peer__username", "note"]
    date_hierarchy = "contact_at"
    list_select_related = ["peer", "service_user"]
    raw_id_fields = ["service_user", "members"]
