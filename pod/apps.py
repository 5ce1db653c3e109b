from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PodConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "pod"
    verbose_name = "POD organisation"

    def ready(self) -> None:
        # The audit trail's triggers are (re)installed after every migrate: see pod/audit.py.
        from pod import audit, audit_admin  # noqa: F401  (audit_admin registers admin pages)

        post_migrate.connect(audit.install_on_migrate, sender=self, dispatch_uid="pod_audit")
        audit.connect_celery_signals()

        from django.contrib.auth.signals import user_logged_in

        from pod.middleware import on_user_logged_in

        user_logged_in.connect(on_user_logged_in, dispatch_uid="pod_session_clocks")

        # The admin also refuses a session without the second factor (pod/twofactor.py).
        from django.contrib import admin

        from pod.twofactor import PodAdminSite

        admin.site.__class__ = PodAdminSite
