"""Read-only admin for the audit: administrators search changes and record accesses here.

Registered through pod/admin.py (Django's admin autodiscovery). Nothing can be added, changed or
deleted through these pages; the database refuses it anyway (pod/foundation/audit.py).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from pod.foundation.audit import note_shown
from pod.foundation.audit_context import context_is_verified
from pod.foundation.audit_models import AuditEvent, RecordAccess
from pod.foundation.numbers import is_ascii_digits

# Keys in an audited row that lead to the person it is about, and the kind of record they name.
_PERSON_KEYS = (("service_user_id", "person"), ("episode_id", "episode"), ("meeting_id", "meeting"))


def audit_event_subject(event: AuditEvent) -> tuple[str, int] | None:
    """(kind, id) of the record a change is about, for the access log (the change page shows the
    row before and after, names included); None when it is about no person."""
    if event.table_name == "networks_serviceuser" and is_ascii_digits(event.row_id):
        return ("person", int(event.row_id))
    row = event.after or event.before or {}
    for key, kind in _PERSON_KEYS:
        if isinstance(row.get(key), int):
            return (kind, row[key])
    return None


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
    list_display = [
        "at",
        "operation",
        "table_name",
        "row_id",
        "changed_fields",
        "user",
        "attribution",
        "db_user",
    ]
    list_filter = ["operation", "table_name"]
    # A number finds every change to rows with that id (filter by table alongside); a word finds
    # the changes made by that username or database role.
    search_fields = ["=row_id", "=user__username", "=db_user"]
    search_help_text = "A row id (choose the table on the right), a username or a database role."
    date_hierarchy = "at"
    list_select_related = ["user"]
    readonly_fields = [*(f.name for f in AuditEvent._meta.fields), "attribution"]
    show_full_result_count = False

    @admin.display(description="who (verified?)")
    def attribution(self, event: AuditEvent) -> str:
        """Whether the recorded "who" carries the application's signature
        (pod/foundation/audit_context.py): a claim without one is shown as unverified."""
        verified = context_is_verified(event.context)
        if verified is None:
            return f"no application context (database role {event.db_user})"
        return "signed by the application" if verified else "UNVERIFIED claim"

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        event = (
            AuditEvent.objects.filter(pk=int(object_id)).first()
            if object_id is not None and is_ascii_digits(object_id)
            else None
        )
        subject = audit_event_subject(event) if event is not None else None
        if subject is not None:
            note_shown(request, subject[0], [subject[1]], "admin:audit")
        return super().changeform_view(request, object_id, form_url, extra_context)


@admin.register(RecordAccess)
class RecordAccessAdmin(_ReadOnlyAdmin):
    list_display = ["at", "user", "service_user_id", "what", "view_name"]
    list_filter = ["what"]
    search_fields = ["=user__username"]
    search_help_text = "A person's id (every look at their record) or a staff username."

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if is_ascii_digits(term):
            return queryset.filter(service_user_id=int(term)), False
        return super().get_search_results(request, queryset, search_term)

    date_hierarchy = "at"
    list_select_related = ["user"]
    readonly_fields = [f.name for f in RecordAccess._meta.fields]
    show_full_result_count = False

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        # The page names the person whose record was looked at.
        access = (
            RecordAccess.objects.filter(pk=int(object_id)).first()
            if object_id is not None and is_ascii_digits(object_id)
            else None
        )
        if access is not None:
            note_shown(request, "person", [access.service_user_id], "admin:access_log")
        return super().changeform_view(request, object_id, form_url, extra_context)
