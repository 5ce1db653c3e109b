from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from pod.foundation.admin_access import PersonRecordAdmin
from pod.foundation.models import Notification, Team, TeamMembership, TrainingRecord, Trust, User


@admin.register(Trust)
class TrustAdmin(admin.ModelAdmin):
    list_display = ["name", "code"]
    search_fields = ["name", "code"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "trust", "kind"]
    list_filter = ["kind", "trust"]
    search_fields = ["name", "trust__name"]
    list_select_related = ["trust"]


class MembershipInline(admin.TabularInline):
    model = TeamMembership
    extra = 0
    autocomplete_fields = ["team"]


class TrainingInline(admin.TabularInline):
    model = TrainingRecord
    extra = 0


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "first_name", "last_name", "role", "profession", "is_active"]
    list_filter = ["role", "is_active", "memberships__team"]
    fieldsets = (*(BaseUserAdmin.fieldsets or ()), ("POD", {"fields": ["role", "profession"]}))
    add_fieldsets = (*BaseUserAdmin.add_fieldsets, ("POD", {"fields": ["role", "profession"]}))
    inlines = [MembershipInline, TrainingInline]


@admin.register(TrainingRecord)
class TrainingRecordAdmin(admin.ModelAdmin):
    list_display = ["user", "course", "started_on", "completed_on"]
    list_filter = ["course"]
    search_fields = ["user__username", "user__last_name"]
    list_select_related = ["user"]


@admin.register(Notification)
class NotificationAdmin(PersonRecordAdmin):
    person_path = "alert__episode__service_user"
    list_display = ["user", "alert", "created_at", "read_at"]
    list_filter = ["alert__kind"]
    list_select_related = ["user", "alert"]
    search_fields = ["user__username"]
