"""Read-only admin for the audit: administrators search changes and record accesses here.

Registered through pod/admin.py (Django's admin autodiscovery). Nothing can be added, changed or
deleted through these pages; the database refuses it anyway (pod/foundation/audit.py).
"""

from __future__ import annotations

from django.contrib import admin

from pod.foundation.audit_models import AuditEvent, RecordAccess


class _ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_view_permission(self, request, obj=None) -> bool:
        user = request.user
        return user.is_active and (user.is_superuser or user.role == user.Role.ADMINISTRATOR)

    def has_module_permission(self, request) -> bool:
        return self.has_view_permission(request)


@admin.register(AuditEvent)
class AuditEventAdmin(_ReadOnlyAdmin):
    list_display = ["at", "operation", "table_name", "row_id", "changed_fields", "user", "db_user"]
    list_filter = ["operation", "table_name"]
    # A number finds every change to rows with that id (filter by table alongside); a word finds
    # the changes made by that username or database role.
    search_fields = ["=row_id", "=user__username", "=db_user"]
    search_help_text = "A row id (choose the table on the right), a username or a database role."
    date_hierarchy = "at"
    list_select_related = ["user"]
    readonly_fields = [f.name for f in AuditEvent._meta.fields]
    show_full_result_count = False


@admin.register(RecordAccess)
class RecordAccessAdmin(_ReadOnlyAdmin):
    list_display = ["at", "user", "service_user_id", "what", "view_name"]
    list_filter = ["what"]
    search_fields = ["=user__username"]
    search_help_text = "A person's id (every look at their record) or a staff username."

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if term.isdigit():
            return queryset.filter(service_user_id=int(term)), False
        return super().get_search_results(request, queryset, search_term)

    date_hierarchy = "at"
    list_select_related = ["user"]
    readonly_fields = [f.name for f in RecordAccess._meta.fields]
    show_full_result_count = False
