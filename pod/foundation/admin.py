from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django_otp.plugins.otp_static.admin import StaticDeviceAdmin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from pod.foundation import twofactor
from pod.foundation.admin_access import DeletionShowsPeopleMixin, PersonRecordAdmin
from pod.foundation.models import (
    Notification,
    SweepHeartbeat,
    Team,
    TeamMembership,
    TrainingRecord,
    Trust,
    User,
)
from pod.foundation.outbox import messages_send_again
from pod.foundation.outbox_models import OutboxMessage


@admin.register(Trust)
class TrustAdmin(DeletionShowsPeopleMixin, admin.ModelAdmin):
    list_display = ["name", "code"]
    search_fields = ["name", "code"]


@admin.register(Team)
class TeamAdmin(DeletionShowsPeopleMixin, admin.ModelAdmin):
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
class UserAdmin(DeletionShowsPeopleMixin, BaseUserAdmin):
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


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Every email POD owes or has sent: read-only, except sending failed ones again once the
    cause (an address, the mail server) is fixed. In demo mode, where emails are not sent, the
    place to read them."""

    list_display = ["queued_at", "kind", "cause", "recipient_key", "state", "attempts", "sent_at"]
    list_filter = ["state", "kind"]
    search_fields = ["cause", "recipient_key", "subject"]
    date_hierarchy = "queued_at"
    actions = ["send_again"]

    def get_readonly_fields(
        self, request: HttpRequest, obj: OutboxMessage | None = None
    ) -> list[str]:
        return [field.name for field in OutboxMessage._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: OutboxMessage | None = None) -> bool:
        return False

    @admin.action(description="Send the selected failed messages again")
    def send_again(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        count = messages_send_again(list(queryset.values_list("pk", flat=True)), now=timezone.now())
        self.message_user(request, f"{count} failed message(s) queued again.", messages.SUCCESS)


@admin.register(SweepHeartbeat)
class SweepHeartbeatAdmin(admin.ModelAdmin):
    list_display = ["task_name", "completed_at"]
    readonly_fields = ["task_name", "completed_at"]


# --- Second factor: never a secret, not even to an administrator ------------------------------
# django-otp's own admin shows a device's key and QR code and lists backup codes. Ours shows who
# has what and when it was used, and lets an administrator remove a lost device (the user is
# emailed and enrols again at their next sign-in). Nothing can be added or edited here: devices
# are enrolled by their owner (pod.foundation.views.twofactor_setup).
_DEVICE_FIELDS = ("user", "name", "confirmed", "created_at", "last_used_at")


class _DeviceAdminMixin(admin.ModelAdmin):
    list_display = _DEVICE_FIELDS
    fieldsets = ((None, {"fields": _DEVICE_FIELDS}),)
    readonly_fields = _DEVICE_FIELDS
    exclude = ("key",)
    inlines = ()

    def get_fieldsets(self, request, obj=None):
        return self.fieldsets

    def get_inline_instances(self, request, obj=None):
        return []  # never the backup codes

    def get_urls(self):
        # Without django-otp's QR-code and configuration views.
        return admin.ModelAdmin.get_urls(self)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def delete_model(self, request, obj) -> None:
        owner = obj.user
        super().delete_model(request, obj)
        twofactor.second_factor_notify(owner, "removed_by_admin")

    def delete_queryset(self, request, queryset) -> None:
        owners = {d.user for d in queryset.select_related("user")}
        super().delete_queryset(request, queryset)
        for owner in owners:
            twofactor.second_factor_notify(owner, "removed_by_admin")


class PodTOTPDeviceAdmin(_DeviceAdminMixin, TOTPDeviceAdmin):
    pass


class PodStaticDeviceAdmin(_DeviceAdminMixin, StaticDeviceAdmin):
    pass


for _model, _admin in ((TOTPDevice, PodTOTPDeviceAdmin), (StaticDevice, PodStaticDeviceAdmin)):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
    admin.site.register(_model, _admin)
