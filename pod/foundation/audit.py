"""The audit trail: database triggers on every table that matters, and the record-access log.

1. `install_triggers()` runs after every `migrate` (and after pytest-django's flush). It creates
   the PL/pgSQL functions (pod/foundation/audit_sql.py) and an AFTER row trigger on each table
   in TRACKED, so changes made through forms, the admin, `.update()`, `bulk_create()` and raw SQL
   all land in pod.AuditEvent with the row before and after (secrets redacted).
2. "Who" comes from the signed pghistory context (pod/foundation/audit_context.py).
3. The audit tables refuse UPDATE and DELETE (a row trigger) and TRUNCATE (a statement
   trigger), whoever asks. These are our own triggers rather than pgtrigger's, so
   `pgtrigger.ignore()` cannot switch them off; only the table owner can, and production runs
   the application as a role that owns nothing (pod/foundation/db_role.py).
4. Each audit row carries the hash of the one before it (audit_sql.py, audit_chain.py), so a row
   removed or changed by the owner is found by `manage.py audit_verify`.

Why tables are listed here rather than decorated in each app: the other apps' models stay
untouched and no other app's migrations change when the audit does.
tests/pod/test_audit_coverage.py fails on any table that has no trigger and is not in
UNAUDITED_TABLES with its reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from django.apps import apps
from django.db import connections, transaction
from django.db.models import Model
from django.http import HttpRequest

from pod.foundation import audit_sql, record_targets
from pod.foundation.audit_context import AuditContextMiddleware, connect_celery_signals
from pod.foundation.audit_models import RecordAccess

__all__ = ["AuditContextMiddleware", "connect_celery_signals"]

ALL_OPERATIONS = "INSERT OR UPDATE OR DELETE"


class Tracked(NamedTuple):
    """A model whose table the audit trigger watches."""

    label: str
    # Keys never copied into the audit (secrets); a change to one is still listed by name.
    redact: tuple[str, ...] = ()
    # Keys whose change alone is not worth an event (derived bookkeeping, counters).
    ignore: tuple[str, ...] = ()
    operations: str = ALL_OPERATIONS


# django-otp's bookkeeping on every use of a device: when it was last used and the clock drift.
_OTP_USE = ("last_t", "drift", "last_used_at", "last_generated_timestamp")

TRACKED: list[Tracked] = [
    # The person and their network.
    Tracked("networks.ServiceUser", ignore=("search_name",)),  # derived from the names
    Tracked("networks.NetworkMember"),
    Tracked("networks.PeerAssignment"),
    Tracked("networks.PeerContact"),
    Tracked("networks.IdentityConfirmation"),
    Tracked("networks.DetailsCorrection"),
    # Derived bookkeeping (recomputed from audited rows by the services and sweeps) is not worth
    # an event on its own: the clock's next check, and a meeting's stored attendance counts.
    Tracked("meetings.Episode", ignore=("clock_next_check_at",)),
    Tracked(
        "meetings.Meeting",
        ignore=(
            "network_members_present",
            "staff_present",
            "core_team_present",
            "person_present",
            # Derived by meetings.services.counting from the audited times and attendance.
            "counts_as_network_meeting",
            "recorded_after_event",
        ),
    ),
    Tracked("meetings.MeetingChange"),
    Tracked("meetings.Participant"),
    Tracked("meetings.Utterance"),
    Tracked("meetings.Decision"),
    Tracked("meetings.CarePlanVersion"),
    Tracked("meetings.Prescription", ignore=("audited_at",)),
    Tracked("meetings.CurrentMedication"),
    Tracked("meetings.Alert"),
    Tracked("meetings.Review"),  # the managers' decisions on breaches, overrides, violations
    # Outcomes: assessments, every scored and licensed measure (PHQ-9 item 9 included), fidelity.
    Tracked("outcomes.OutcomeAssessment"),
    Tracked("outcomes.ScoredMeasure"),
    Tracked("outcomes.LicensedMeasure"),
    Tracked("outcomes.FidelityRating"),
    Tracked("outcomes.SurveyInvitation", redact=("token_hash",)),
    # An import's history (who, when, which file by its hash, what it did). The file and its
    # problem report are not copied (the rows it writes are audited on their own tables), and
    # its progress counter is not worth an event per step.
    Tracked(
        "outcomes.OutcomeImport",
        redact=("file_content", "problems_csv"),
        ignore=("updated_at", "rows_checked"),
    ),
    # The answers are anonymous by design (HAZ-10.C4): an INSERT event would carry the time and
    # transaction of the invitation being spent and so lead back to the person. Changing or
    # deleting an answer afterwards is what tampering looks like, and that is recorded.
    Tracked("outcomes.SurveyResponse", operations="UPDATE OR DELETE"),
    # Subject access: what a clinician chose to release, and why.
    Tracked("pod.SubjectAccessInclusion"),
    # Staff, organisation and security state.
    Tracked("pod.User", redact=("password",), ignore=("last_login",)),
    Tracked("pod.TeamMembership"),
    Tracked("pod.TrainingRecord"),
    Tracked("pod.Trust"),
    Tracked("pod.Team"),
    Tracked("pod.Notification"),
    Tracked("auth.Group"),
    Tracked("otp_totp.TOTPDevice", redact=("key",), ignore=_OTP_USE),
    Tracked("otp_static.StaticDevice", ignore=_OTP_USE),
    Tracked("otp_static.StaticToken", redact=("token",)),
    # The FHIR API: who may call it (machine clients and their OAuth applications; the secret's
    # hash is never copied) and who exported what. An export's progress and heartbeat, written
    # after every chunk, are not worth an event each.
    Tracked("fhir.ApiClient"),
    Tracked("oauth2_provider.Application", redact=("client_secret",)),
    Tracked("fhir.ExportJob", ignore=("progress", "heartbeat_at")),
    Tracked(
        "django_celery_beat.PeriodicTask",
        ignore=("last_run_at", "total_run_count", "date_changed"),
    ),
]
# Many-to-many tables that carry clinical meaning or security state: (model label, field name).
TRACKED_M2M: list[tuple[str, str]] = [
    ("meetings.Episode", "core_team"),
    ("networks.PeerContact", "members"),
    ("meetings.CarePlanVersion", "involved_members"),
    ("pod.User", "groups"),
    ("pod.User", "user_permissions"),
    ("auth.Group", "permissions"),
]
APPEND_ONLY = ["pod.AuditEvent", "pod.RecordAccess"]

# Tables with no audit trigger, and why. Short on purpose: a new table is audited unless it is
# added here with a reason (tests/pod/test_audit_coverage.py walks every table in the database).
UNAUDITED_TABLES: dict[str, str] = {
    "pod_auditevent": "the audit itself: append-only, TRUNCATE refused, hash-chained",
    "pod_recordaccess": "the access log itself: append-only, TRUNCATE refused, hash-chained",
    "django_migrations": "schema history, written by migrate as the owner",
    "django_content_type": "reference data written by migrate",
    "auth_permission": "reference data written by migrate (grants of it are audited)",
    "django_session": "session keys are secrets; sign-in and sign-out are logged by axes",
    "django_admin_log": "the admin's own log; every change it lists is audited on its table",
    "axes_accessattempt": "django-axes' log of failed sign-ins (itself a security log)",
    "axes_accessfailurelog": "django-axes' log of failed sign-ins (itself a security log)",
    "axes_accesslog": "django-axes' log of sign-ins and sign-outs (itself a security log)",
    "axes_accessattemptexpiration": "django-axes' lockout expiry bookkeeping",
    "pod_formsubmission": "one-time form tokens, no clinical data, deleted after a week",
    "django_celery_beat_periodictasks": "beat's change counter, no data",
    "django_celery_beat_intervalschedule": "schedule shapes; which task runs on one is audited",
    "django_celery_beat_crontabschedule": "schedule shapes; which task runs on one is audited",
    "django_celery_beat_solarschedule": "schedule shapes; which task runs on one is audited",
    "django_celery_beat_clockedschedule": "schedule shapes; which task runs on one is audited",
    "pod_sweepheartbeat": "when each periodic task last completed, no data",
    "meetings_clockcheckfailure": "the sweep's retry bookkeeping: an episode id and an error class",
    "pod_outboxmessage": "each row is itself the record of a message owed and sent (to whom, "
    "when, the provider's answer); its content is drawn from audited rows",
    "fhir_ratebucket": "the API's rate-limit counters, no data",
    "outcomes_outcomeimportrow": "an import preview's staging rows (UNLOGGED), deleted after the "
    "import; what the import writes is audited on the assessments",
    "oauth2_provider_accesstoken": "OAuth tokens are secrets (stored hashed), short-lived and "
    "purged daily; the clients that hold them are audited",
    "oauth2_provider_refreshtoken": "as oauth2_provider_accesstoken (POD issues none)",
    "oauth2_provider_grant": "as oauth2_provider_accesstoken (POD issues none)",
    "oauth2_provider_idtoken": "as oauth2_provider_accesstoken (POD issues none)",
    "oauth2_provider_devicegrant": "as oauth2_provider_accesstoken (POD issues none)",
}


def _sql_array(values: tuple[str, ...]) -> str:
    return "'{" + ",".join(values) + "}'"


def tracked_tables() -> list[tuple[str, tuple[str, ...], tuple[str, ...], str]]:
    """(db table, redacted keys, ignored keys, operations) for every audited table."""
    # Tracked(*entry): an entry written as a plain (label, redact, ignore) tuple works too.
    entries = [Tracked(*entry) for entry in TRACKED]
    tables = [
        (apps.get_model(t.label)._meta.db_table, t.redact, t.ignore, t.operations) for t in entries
    ]
    for label, field in TRACKED_M2M:
        through = apps.get_model(label)._meta.get_field(field).remote_field.through
        tables.append((through._meta.db_table, (), (), ALL_OPERATIONS))
    return tables


def install_triggers(using: str = "default") -> None:
    """Create or replace the audit functions and triggers. Idempotent; safe on every migrate."""
    connection = connections[using]
    quote = connection.ops.quote_name
    with transaction.atomic(using=using), connection.cursor() as cursor:
        existing = set(connection.introspection.table_names(cursor))
        if "pod_auditevent" not in existing:
            return  # pod's migrations have not run yet in this database
        columns = {
            c.name for c in connection.introspection.get_table_description(cursor, "pod_auditevent")
        }
        if "row_hash" not in columns:
            return  # this database is still before the migration that adds the chain
        cursor.execute("SELECT current_schema()")
        schema = quote(cursor.fetchone()[0])
        cursor.execute(audit_sql.AUDIT_ROW_FUNCTION.format(schema=schema))
        cursor.execute(audit_sql.HASH_FUNCTIONS.format(schema=schema))
        cursor.execute(audit_sql.CHAIN_FUNCTIONS.format(schema=schema))
        for table, redact, ignore, operations in tracked_tables():
            if table not in existing:
                continue
            cursor.execute(
                f"CREATE OR REPLACE TRIGGER pod_audit AFTER {operations} "
                f"ON {quote(table)} FOR EACH ROW "
                f"EXECUTE FUNCTION pod_audit_row({_sql_array(redact)}, {_sql_array(ignore)})"
            )
        for label in APPEND_ONLY:
            table = quote(apps.get_model(label)._meta.db_table)
            cursor.execute(
                f"CREATE OR REPLACE TRIGGER pod_audit_append_only BEFORE UPDATE OR DELETE "
                f"ON {table} FOR EACH ROW EXECUTE FUNCTION pod_audit_refuse()"
            )
            cursor.execute(
                f"CREATE OR REPLACE TRIGGER pod_audit_no_truncate BEFORE TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION pod_audit_refuse()"
            )
        for table, function in audit_sql.CHAINED_TABLES:
            cursor.execute(
                f"CREATE OR REPLACE TRIGGER pod_audit_chain BEFORE INSERT "
                f"ON {quote(table)} FOR EACH ROW EXECUTE FUNCTION {function}()"
            )


def install_on_migrate(using: str = "default", **kwargs: Any) -> None:
    install_triggers(using)


# --- The access log ----------------------------------------------------------------------------
# The request attribute that collects what a response shows: [(kind, ids, what)].
_SHOWN = "_pod_records_shown"


def note_shown(request: HttpRequest, kind: str, ids: Iterable[int], what: str) -> None:
    """Note that the response to `request` shows these records' identifiable data.

    `kind` is "person" (ids are people's ids) or a kind registered with
    pod.foundation.record_targets ("episode", "meeting"); `what` is a short code such as
    "list:caseload", never personal data. Costs no query: RecordAccessMiddleware writes one
    RecordAccess row per person shown, all in one insert, after a 200 response, on commit
    (`write_accesses`). Call it from every list, lookup, export and admin page that shows
    people; the pages of one person are noted by the middleware from their URL.
    """
    shown = getattr(request, _SHOWN, None)
    if shown is None:
        shown = []
        setattr(request, _SHOWN, shown)
    shown.append((kind, [int(i) for i in ids if i is not None], what))


def shown_on(request: HttpRequest) -> list[tuple[str, list[int], str]]:
    """What `note_shown` collected for this request (the middleware reads it)."""
    return list(getattr(request, _SHOWN, []))


def write_accesses(
    *, user_id: int | None, view_name: str, shown: list[tuple[str, list[int], str]]
) -> int:
    """Resolve what a response showed to people and insert one RecordAccess per person, in one
    bulk insert (plus at most one query per registered kind). Returns the rows written."""
    rows: dict[int, str] = {}
    for kind, ids, what in shown:
        for person_id in record_targets.person_ids_for(kind, set(ids)).values():
            rows.setdefault(person_id, what)
    RecordAccess.objects.bulk_create(
        RecordAccess(
            user_id=user_id,
            service_user_id=person_id,
            what=what[:60],
            view_name=view_name[:120],
        )
        for person_id, what in rows.items()
    )
    return len(rows)


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
