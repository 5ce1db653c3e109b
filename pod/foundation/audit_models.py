"""The audit: every change to clinical data, and every look at a person's record.

Loaded by pod/models.py, like the organisation's models, so both tables belong to the `pod`
app (only pod's migrations change when the audit does).

Why one JSONB change table and not one pghistory event model per tracked model: pghistory's
per-model event tables copy the tracked model's columns, so any field another app adds to a
tracked model would need a `pod` migration at the same moment, or every insert into that model
fails inside the trigger. Storing `to_jsonb(OLD)` / `to_jsonb(NEW)` survives schema changes in
the other apps untouched. pghistory still supplies the "who": its middleware and
`pghistory.context()` put the user, URL or task into the transaction, and the trigger copies it.

Both tables are append-only: triggers installed by pod/foundation/audit.py refuse UPDATE,
DELETE and TRUNCATE inside PostgreSQL, so neither the admin, `.update()` nor raw SQL from the
application can rewrite history; the application's database role has no such privilege either
(pod/foundation/db_role.py). Each row carries the hash of the row before it in its table
(`seq`, `prev_hash`, `row_hash`, set by a trigger), so a row the owner removes or changes breaks
the chain where `manage.py audit_verify` finds it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Now


class AuditEvent(models.Model):
    """One row per INSERT, UPDATE or DELETE of a tracked row, written by a database trigger."""

    class Operation(models.TextChoices):
        INSERT = "INSERT", "Created"
        UPDATE = "UPDATE", "Changed"
        DELETE = "DELETE", "Deleted"

    at = models.DateTimeField(db_default=Now(), db_index=True)
    table_name = models.CharField(max_length=63)
    row_id = models.CharField(max_length=40)
    operation = models.CharField(max_length=6, choices=Operation.choices)
    # Field names whose value changed (UPDATE only). Redacted fields are listed but not stored.
    changed_fields = models.JSONField(default=list, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    # pghistory context: {"user": <id>, "url": "/path/"} from a request, {"task": ...} from Celery.
    context = models.JSONField(null=True, blank=True)
    context_id = models.UUIDField(null=True, blank=True)
    # Denormalised from the context for search; kept even if the account is later deleted.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    # The PostgreSQL role that made the change: tells a DBA's raw SQL apart from the web app.
    db_user = models.CharField(max_length=63, blank=True)
    txid = models.BigIntegerField(null=True, blank=True)
    # The hash chain, filled in by the database (pod/foundation/audit_sql.py); rows written
    # before the chain existed have no seq.
    seq = models.BigIntegerField(null=True, blank=True, unique=True, editable=False)
    prev_hash = models.CharField(max_length=64, blank=True, editable=False)
    row_hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["table_name", "row_id"], name="auditevent_row"),
            models.Index(fields=["user", "at"], name="auditevent_user_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_operation_display()} {self.table_name} {self.row_id}"


class RecordAccess(models.Model):
    """Someone opened or exported a person's record. No personal data beyond the two keys."""

    at = models.DateTimeField(db_default=Now(), db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    # No database constraint: the log outlives the record it describes.
    service_user = models.ForeignKey(
        "networks.ServiceUser",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    # What was looked at: a short code such as "person", "episode", "export:json".
    what = models.CharField(max_length=60)
    # The URL name (never the full path or query string, which could carry personal data).
    view_name = models.CharField(max_length=120, blank=True)
    # Set by the database whatever the application sends: the login role, and the chain.
    db_user = models.CharField(max_length=63, blank=True, editable=False)
    seq = models.BigIntegerField(null=True, blank=True, unique=True, editable=False)
    prev_hash = models.CharField(max_length=64, blank=True, editable=False)
    row_hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "record access"
        verbose_name_plural = "record accesses"
        indexes = [
            models.Index(fields=["service_user", "at"], name="recordaccess_person_at"),
            models.Index(fields=["user", "at"], name="recordaccess_user_at"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} looked at {self.what} of person {self.service_user_id}"
