from django.apps import AppConfig
from django.contrib import admin
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_migrate

from pod.foundation.db_role import ensure_on_migrate


class PodConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "pod"
    verbose_name = "POD organisation"

    def ready(self) -> None:
        # Imported here, not at the top: these modules load models, which cannot be imported
        # while Django is still reading the AppConfigs.
        # `tasks` registers our Celery tasks in every process; beat_schedule loads
        # django-celery-beat's models.
        from pod import beat_schedule, tasks  # noqa: F401, PLC0415 (loads models)
        from pod.foundation import audit, heartbeats  # noqa: PLC0415 (loads models)
        from pod.foundation.audit_context import resign_on_login  # noqa: PLC0415 (loads models)
        from pod.foundation.middleware import on_user_logged_in  # noqa: PLC0415 (loads models)
        from pod.foundation.twofactor import PodAdminSite  # noqa: PLC0415 (loads models)

        # The audit trail's triggers are (re)installed after every migrate (see audit.py).
        post_migrate.connect(audit.install_on_migrate, sender=self, dispatch_uid="pod_audit")
        # Development: the least-privilege application role, kept current (db_role.py).
        post_migrate.connect(ensure_on_migrate, sender=self, dispatch_uid="pod_db_app_role")
        audit.connect_celery_signals()
        # Beat's schedule in the database follows the code after every migrate (beat_schedule.py).
        post_migrate.connect(
            beat_schedule.sync_on_migrate, sender=self, dispatch_uid="pod_beat_schedule"
        )
        # Every completed run of a task on beat's schedule is recorded, for /health/monitor/.
        heartbeats.connect_celery_signals()
        user_logged_in.connect(on_user_logged_in, dispatch_uid="pod_session_clocks")
        # Signing in changes who the request acts for: sign the audit context again.
        user_logged_in.connect(resign_on_login, dispatch_uid="pod_audit_resign")
        # The admin also refuses a session without the second factor.
        admin.site.__class__ = PodAdminSite
