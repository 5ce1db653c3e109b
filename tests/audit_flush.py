"""Tests only: let Django's flush between transactional tests empty the audit tables.

The audit refuses TRUNCATE for everyone (a statement trigger, pod/foundation/audit.py). Django's
`flush` - run by pytest-django after every `transaction=True` test - truncates every table in one
statement. As the owner of the test database, the flush turns that one guard off for its own
transaction and back on before it commits; production never flushes.
"""

from __future__ import annotations

from django.db.backends.postgresql.operations import DatabaseOperations

AUDIT_TABLES = ("pod_auditevent", "pod_recordaccess")
_original_sql_flush = DatabaseOperations.sql_flush


def _sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
    statements = _original_sql_flush(
        self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
    )
    guarded = [t for t in AUDIT_TABLES if t in tables]
    if not statements or not guarded:
        return statements
    return [
        *(f"ALTER TABLE {t} DISABLE TRIGGER pod_audit_no_truncate" for t in guarded),
        *statements,
        *(f"ALTER TABLE {t} ENABLE TRIGGER pod_audit_no_truncate" for t in guarded),
    ]


def allow_flush() -> None:
    DatabaseOperations.sql_flush = _sql_flush
