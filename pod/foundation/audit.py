"""The audit trail: database triggers on every clinical table, and the record-access log.

1. `install_triggers()` runs after every `migrate` (and after pytest-django's flush). It creates
   one PL/pgSQL function, `pod_audit_row()`, and an AFTER INSERT/UPDATE/DELETE row trigger on each
   table in TRACKED. Changes made through forms, the admin, `.update()`, `bulk_create()` and raw
   SQL therefore all land in pod.AuditEvent with the row before and after.
2. "Who" comes from pghistory: `pghistory.middleware.HistoryMiddleware` (settings.MIDDLEWARE)
   enters `pghistory.context(user=..., url=...)` for every request, and the Celery signal handlers
   below do the same for tasks. pghistory injects the context into each SQL statement as a
   transaction-local setting; the trigger copies it. A change made outside the application (a
   DBA's psql session) has no context but keeps the database role in `db_user`.
3. The audit tables refuse UPDATE and DELETE (`pod_audit_refuse()`), whoever asks. These are our
   own triggers rather than pgtrigger's, so `pgtrigger.ignore()` cannot switch them off; only a
   table owner running DDL can, and production runs the web app as a role that owns nothing
   (README "Security").

Why tables are listed here rather than decorated in each app: the other apps' models stay
untouched and no other app's migrations change when the audit does.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import ExitStack
from typing import Any

import pghistory
from celery.signals import task_postrun, task_prerun
from django.apps import apps
from django.db import connections
from django.db.models import Model
from django.http import HttpRequest
from django.urls import Resolver404, resolve
from pghistory.middleware import HistoryMiddleware

from pod.foundation.audit_models import RecordAccess

# (model label, keys never stored, keys whose change alone is not worth an event)
TRACKED: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    ("networks.ServiceUser", (), ()),
    ("networks.NetworkMember", (), ()),
    ("networks.PeerAssignment", (), ()),
    ("networks.PeerContact", (), ()),
    # Derived bookkeeping (recomputed from audited rows by the services and sweeps) is not worth
    # an event on its own: the clock's next check, and a meeting's stored attendance counts.
    ("meetings.Episode", (), ("clock_next_check_at",)),
    (
        "meetings.Meeting",
        (),
        ("network_members_present", "staff_present", "core_team_present"),
    ),
    ("meetings.Participant", (), ()),
    ("meetings.Utterance", (), ()),
    ("meetings.Decision", (), ()),
    ("meetings.CarePlanVersion", (), ()),
    ("meetings.Prescription", (), ("audited_at",)),
    ("outcomes.OutcomeAssessment", (), ()),
    # The password hash is never copied into the audit; a change to it is still listed by name.
    ("pod.User", ("password",), ("last_login",)),
    ("pod.TeamMembership", (), ()),
    ("pod.TrainingRecord", (), ()),
    # The FHIR API: who may call it (machine clients and their OAuth applications; the secret's
    # hash is never copied) and who exported what. An export's progress and heartbeat, written
    # after every chunk, are not worth an event each.
    ("fhir.ApiClient", (), ()),
    ("oauth2_provider.Application", ("client_secret",), ()),
    ("fhir.ExportJob", (), ("progress", "heartbeat_at")),
]
# Many-to-many tables that carry clinical meaning: (model label, field name).
TRACKED_M2M: list[tuple[str, str]] = [
    ("meetings.Episode", "core_team"),
    ("networks.PeerContact", "members"),
    ("meetings.CarePlanVersion", "involved_members"),
]
APPEND_ONLY = ["pod.AuditEvent", "pod.RecordAccess"]

_AUDIT_ROW_FUNCTION = """
CREATE OR REPLACE FUNCTION pod_audit_row() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_catalog AS $$
DECLARE
    _redact text[] := TG_ARGV[0]::text[];
    _ignore text[] := TG_ARGV[1]::text[];
    _old jsonb;
    _new jsonb;
    _changed jsonb := '[]'::jsonb;
    _ctx jsonb;
    _ctx_id uuid;
    _user bigint;
BEGIN
    IF TG_OP <> 'INSERT' THEN _old := to_jsonb(OLD); END IF;
    IF TG_OP <> 'DELETE' THEN _new := to_jsonb(NEW); END IF;
    IF TG_OP = 'UPDATE' THEN
        SELECT COALESCE(jsonb_agg(n.key ORDER BY n.key), '[]'::jsonb) INTO _changed
          FROM jsonb_each(_new) AS n
         WHERE n.value IS DISTINCT FROM (_old -> n.key) AND NOT (n.key = ANY(_ignore));
        IF _changed = '[]'::jsonb THEN RETURN NULL; END IF;
    END IF;
    _old := _old - _redact;
    _new := _new - _redact;
    BEGIN
        _ctx := NULLIF(current_setting('pghistory.context_metadata', true), '')::jsonb;
        _ctx_id := NULLIF(current_setting('pghistory.context_id', true), '')::uuid;
    EXCEPTION WHEN others THEN
        -- A malformed context must not lose the event: keep it without the "who".
        _ctx := NULL;
        _ctx_id := NULL;
    END;
    IF jsonb_typeof(_ctx -> 'user') = 'number' THEN _user := (_ctx ->> 'user')::bigint; END IF;
    INSERT INTO pod_auditevent (at, table_name, row_id, operation, changed_fields, before, after,
                                context, context_id, user_id, db_user, txid)
    VALUES (clock_timestamp(), TG_TABLE_NAME, COALESCE(_new ->> 'id', _old ->> 'id', ''), TG_OP,
            _changed, _old, _new, _ctx, _ctx_id, _user, session_user, txid_current());
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION pod_audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'The POD audit is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""


def _sql_array(values: tuple[str, ...]) -> str:
    return "'{" + ",".join(values) + "}'"


def tracked_tables() -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """(db table, redacted keys, ignored keys) for every audited table."""
    tables = [
        (apps.get_model(label)._meta.db_table, redact, ignore) for label, redact, ignore in TRACKED
    ]
    for label, field in TRACKED_M2M:
        through = apps.get_model(label)._meta.get_field(field).remote_field.through
        tables.append((through._meta.db_table, (), ()))
    return tables


def install_triggers(using: str = "default") -> None:
    """Create or replace the audit functions and triggers. Idempotent; safe on every migrate."""
    connection = connections[using]
    with connection.cursor() as cursor:
        existing = set(connection.introspection.table_names(cursor))
        if "pod_auditevent" not in existing:
            return  # pod's migrations have not run yet in this database
        cursor.execute("SELECT current_schema()")
        schema = connection.ops.quote_name(cursor.fetchone()[0])
        cursor.execute(_AUDIT_ROW_FUNCTION.format(schema=schema))
        for table, redact, ignore in tracked_tables():
            if table not in existing:
                continue
            cursor.execute(
                f"CREATE OR REPLACE TRIGGER pod_audit AFTER INSERT OR UPDATE OR DELETE "
                f"ON {connection.ops.quote_name(table)} FOR EACH ROW "
                f"EXECUTE FUNCTION pod_audit_row({_sql_array(redact)}, {_sql_array(ignore)})"
            )
        for label in APPEND_ONLY:
            table = apps.get_model(label)._meta.db_table
            cursor.execute(
                f"CREATE OR REPLACE TRIGGER pod_audit_append_only BEFORE UPDATE OR DELETE "
                f"ON {connection.ops.quote_name(table)} FOR EACH ROW "
                f"EXECUTE FUNCTION pod_audit_refuse()"
            )


def install_on_migrate(using: str = "default", **kwargs: Any) -> None:
    install_triggers(using)


# --- Celery: attribute task writes to the task ------------------------------------------------
# task id -> the pghistory context entered for it, left when the task has run.
_task_contexts: dict[str, ExitStack] = {}


def _task_prerun(task_id: str | None = None, task: Any = None, **kwargs: Any) -> None:
    entered = ExitStack()
    entered.enter_context(pghistory.context(task=getattr(task, "name", "task"), task_id=task_id))
    _task_contexts[task_id or ""] = entered


def _task_postrun(task_id: str | None = None, **kwargs: Any) -> None:
    entered = _task_contexts.pop(task_id or "", None)
    if entered is not None:
        entered.close()


def connect_celery_signals() -> None:
    task_prerun.connect(_task_prerun, weak=False, dispatch_uid="pod_audit_prerun")
    task_postrun.connect(_task_postrun, weak=False, dispatch_uid="pod_audit_postrun")


# --- The access log ----------------------------------------------------------------------------
def record_access(request: HttpRequest, service_user: Model | int, what: str) -> RecordAccess:
    """Log that `request.user` looked at (or exported) part of a person's record.

    Call from every view or export that shows a person's record, after the access check has
    passed: `record_access(request, person, "episode")`. `what` is a short code, never
    personal data. Accepts the person or their id.
    """
    person_id = service_user if isinstance(service_user, int) else service_user.pk
    match = getattr(request, "resolver_match", None)
    user = getattr(request, "user", None)
    return RecordAccess.objects.create(
        user=user if user is not None and user.is_authenticated else None,
        service_user_id=person_id,
        what=what[:60],
        view_name=(match.view_name if match else "")[:120],
    )


def record_access_many(
    request: HttpRequest, service_user_ids: Iterable[int], what: str
) -> list[RecordAccess]:
    """Log, one row per person, that `request.user` exported part of these people's records
    (an export of many people at once: a research data set). As record_access, in one
    INSERT."""
    match = getattr(request, "resolver_match", None)
    user = getattr(request, "user", None)
    return RecordAccess.objects.bulk_create(
        RecordAccess(
            user=user if user is not None and user.is_authenticated else None,
            service_user_id=person_id,
            what=what[:60],
            view_name=(match.view_name if match else "")[:120],
        )
        for person_id in sorted(set(service_user_ids))
    )


# --- The request context ------------------------------------------------------------------------
class AuditContextMiddleware(HistoryMiddleware):
    """pghistory's HistoryMiddleware, minus secrets in the URL it records.

    The audit keeps the path of the request that made a change. A survey link or password-reset
    link carries its token in the path; the token is replaced so the audit cannot be used to
    open someone's survey.
    """

    SECRET_PARAMETERS = ("token", "uidb64")

    def get_context(self, request: HttpRequest) -> dict[str, Any]:
        context = super().get_context(request)
        try:
            kwargs = resolve(request.path_info).kwargs
        except Resolver404:
            return context
        for name in self.SECRET_PARAMETERS:
            value = kwargs.get(name)
            if isinstance(value, str) and value:
                context["url"] = context["url"].replace(value, f"<{name}>")
        return context
