"""The application's least-privilege database role (`manage.py db_app_role`).

Migrations run as the database owner; the web app and the workers connect as this role, which
owns nothing. What it may do, table by table:

- every application table: SELECT, INSERT, UPDATE, DELETE (no TRUNCATE - row triggers do not
  fire on it, so it would empty a table without a trace - no TRIGGER, no REFERENCES);
- pod_auditevent: SELECT only. The audit trigger's function runs as the owner (SECURITY DEFINER),
  so changes are still recorded; the role cannot write, change, delete or forge an audit row;
- pod_recordaccess: SELECT and INSERT (the application writes the access log), never UPDATE or
  DELETE; the chain trigger stamps the time, the role and the hash whatever it sends;
- outcomes_surveyresponse: SELECT and INSERT (anonymous answers are never changed);
- django_migrations: SELECT (schema history belongs to the owner).

Because it owns no table it cannot ALTER, DROP or DISABLE TRIGGER on any of them, and without
superuser it cannot `SET session_replication_role` (which would switch every trigger off) -
on PostgreSQL 15+ any `GRANT SET ON PARAMETER session_replication_role` is revoked too. It has
no CREATEROLE, CREATEDB, REPLICATION or BYPASSRLS. `app_role_problems()` checks all of this
against the catalogue after every run; tests/pod/test_database_role.py connects as the role and
tries each attack.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

from django.conf import settings
from django.db import connections, transaction
from django.db.backends.utils import CursorWrapper
from django.db.utils import DatabaseError

ATTRIBUTES = "NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
# table -> the only privileges the role keeps on it (all tables not listed: read and write rows)
NARROWED: dict[str, tuple[str, ...]] = {
    "pod_auditevent": ("SELECT",),
    "pod_recordaccess": ("SELECT", "INSERT"),
    "outcomes_surveyresponse": ("SELECT", "INSERT"),
    "django_migrations": ("SELECT",),
}
ROW_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE")


def _statements(role: str, schema: str, database: str, tables: set[str]) -> Iterator[str]:
    """The statements that (re)create the role's privileges from nothing. Idempotent."""
    yield f"ALTER ROLE {role} LOGIN {ATTRIBUTES}"
    yield f"GRANT CONNECT ON DATABASE {database} TO {role}"
    yield f"GRANT USAGE ON SCHEMA {schema} TO {role}"
    yield f"REVOKE CREATE ON SCHEMA {schema} FROM {role}"
    yield f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {role}"
    yield f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {role}"
    yield f"GRANT {', '.join(ROW_PRIVILEGES)} ON ALL TABLES IN SCHEMA {schema} TO {role}"
    for table, keep in NARROWED.items():
        if table in tables:
            drop = [p for p in ROW_PRIVILEGES if p not in keep]
            yield f"REVOKE {', '.join(drop)} ON {schema}.{table} FROM {role}"
    yield f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}"


def _revoke_parameter(cursor: CursorWrapper, role: str, pg_version: int) -> None:
    """PostgreSQL 15+ lets a superuser GRANT SET on a superuser-only parameter; take any such
    grant back. Only a superuser may do this; another owner leaves it (the check reports it)."""
    if pg_version < 150000:
        return
    try:
        with transaction.atomic(using=cursor.db.alias):
            cursor.execute(
                f"REVOKE SET, ALTER SYSTEM ON PARAMETER session_replication_role FROM {role}"
            )
    except DatabaseError:
        pass


def app_role_ensure(role: str, *, password: str | None = None, using: str = "default") -> None:
    """Create the role if it does not exist and give it exactly the privileges above.

    Run as the owner of the tables (who needs CREATEROLE, or a superuser, to create the role the
    first time). Idempotent: run it after every `migrate`, so new tables are covered.
    """
    connection = connections[using]
    quote = connection.ops.quote_name
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_schema(), current_database(), "
            "current_setting('server_version_num')::int"
        )
        schema, database, pg_version = cursor.fetchone()
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            try:
                with transaction.atomic(using=using):
                    cursor.execute(f"CREATE ROLE {quote(role)} LOGIN {ATTRIBUTES}")
            except DatabaseError:
                # Another database on this server created it at the same moment (parallel test
                # runs); if it still does not exist, the error was real.
                cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
                if cursor.fetchone() is None:
                    raise
        tables = set(connection.introspection.table_names(cursor))
        for statement in _statements(quote(role), quote(schema), quote(database), tables):
            cursor.execute(statement)
        _revoke_parameter(cursor, quote(role), pg_version)
        if password:
            cursor.execute(f"ALTER ROLE {quote(role)} PASSWORD %s", [password])


def app_role_problems(role: str, using: str = "default") -> list[str]:
    """What the role could do that it must not, read from the catalogue; [] when none."""
    connection = connections[using]
    problems: list[str] = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls "
            "FROM pg_roles WHERE rolname = %s",
            [role],
        )
        row = cursor.fetchone()
        if row is None:
            return [f"the role {role} does not exist"]
        for flag, name in zip(
            row, ("SUPERUSER", "CREATEROLE", "CREATEDB", "REPLICATION", "BYPASSRLS"), strict=True
        ):
            if flag:
                problems.append(f"{role} has {name}")
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'S', 'v', 'm') "
            "AND pg_has_role(%s, c.relowner, 'USAGE')",
            [role],
        )
        problems += [f"{role} owns (or acts as the owner of) {r[0]}" for r in cursor.fetchall()]
        cursor.execute(
            "SELECT c.relname, p.privilege FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "CROSS JOIN unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'TRIGGER', "
            "'REFERENCES']) AS p(privilege) "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') "
            "AND has_table_privilege(%s, c.oid, p.privilege)",
            [role],
        )
        for table, privilege in cursor.fetchall():
            # Never TRUNCATE (row triggers do not see it), TRIGGER or REFERENCES, on any table.
            allowed = NARROWED.get(table, ("SELECT", "INSERT", "UPDATE", "DELETE"))
            if privilege not in allowed:
                problems.append(f"{role} may {privilege} on {table}")
        cursor.execute("SELECT current_setting('server_version_num')::int")
        if cursor.fetchone()[0] >= 150000:
            cursor.execute(
                "SELECT has_parameter_privilege(%s, 'session_replication_role', 'SET')", [role]
            )
            if cursor.fetchone()[0]:
                problems.append(f"{role} may SET session_replication_role")
    return problems


def ensure_on_migrate(using: str = "default", **kwargs: object) -> None:
    """post_migrate, development only (DEBUG on, `make run`): keep the role current, so the
    privileges the tests and production rely on are what a developer sees. A migrating user
    who may not create roles gets a warning, not a failed migrate."""
    if not settings.DEBUG:
        return
    try:
        app_role_ensure(settings.POD_APP_DB_ROLE, using=using)
    except DatabaseError as error:
        warnings.warn(
            f"db_app_role: could not set up {settings.POD_APP_DB_ROLE}: {error}", stacklevel=1
        )
