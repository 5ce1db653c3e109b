"""Django's admin autodiscovery imports `<app>.admin`; the `pod` app's admin pages live in the
foundation (pod/foundation/admin.py for the organisation, audit_admin.py for the audit)."""

from pod.foundation import admin, audit_admin

__all__ = ["admin", "audit_admin"]
