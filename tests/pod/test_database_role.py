"""The application's database role cannot tamper with the audit, whatever it tries.

`manage.py db_app_role` creates the role; these tests run as it - once inside the test's own
transaction (SET ROLE), once over a real login - and try every way around the audit: alter or
disable its triggers, truncate, switch triggers off with session_replication_role, update or
delete audit rows, forge one, replace the trigger function.
"""

from __future__ import annotations

from io import StringIO

import psycopg2
import psycopg2.errors
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from pod.foundation.audit_chain import verify_chain
from pod.foundation.audit_models import AuditEvent, RecordAccess
from pod.foundation.db_role import app_role_problems, ensure_on_migrate
from tests import factories as f

ROLE = settings.POD_APP_DB_ROLE

ATTACKS = {
    "disable the audit trigger": "ALTER TABLE networks_serviceuser DISABLE TRIGGER pod_audit",
    "disable every trigger": "ALTER TABLE pod_auditevent DISABLE TRIGGER ALL",
    "drop the append-only trigger": "DROP TRIGGER pod_audit_append_only ON pod_auditevent",
    "replace the trigger function": (
        "CREATE OR REPLACE FUNCTION pod_audit_row() RETURNS trigger LANGUAGE plpgsql "
        "AS $$ BEGIN RETURN NULL; END; $$"
    ),
    "alter the audit table": "ALTER TABLE pod_auditevent DROP COLUMN row_hash",
    "truncate the audit": "TRUNCATE pod_auditevent",
    "truncate the access log": "TRUNCATE pod_recordaccess",
    # Row triggers do not fire on TRUNCATE: a clinical table emptied so would leave no trace.
    "truncate a clinical table": "TRUNCATE networks_serviceuser CASCADE",
    "add a trigger": (
        "CREATE TRIGGER x AFTER INSERT ON networks_serviceuser "
        "FOR EACH ROW EXECUTE FUNCTION pod_audit_refuse()"
    ),
    "switch triggers off": "SET session_replication_role = replica",
    "rewrite an audit row": "UPDATE pod_auditevent SET after = '{}'",
    "delete audit rows": "DELETE FROM pod_auditevent",
    "rewrite an access": "UPDATE pod_recordaccess SET user_id = NULL",
    "delete accesses": "DELETE FROM pod_recordaccess",
    "forge an audit row": (
        "INSERT INTO pod_auditevent (at, table_name, row_id, operation, changed_fields, "
        "db_user, prev_hash, row_hash) VALUES (now(), 'networks_serviceuser', '1', 'DELETE', "
        "'[]', 'someone', '', '')"
    ),
    "change an anonymous survey answer": "UPDATE outcomes_surveyresponse SET agreed_care = 'no'",
}


def _tries(cursor_execute) -> dict[str, str]:
    """Each attack in its own savepoint; {attack: what the database said} for those refused."""
    refused = {}
    for name, sql in ATTACKS.items():
        try:
            with transaction.atomic():
                cursor_execute(sql)
        except DatabaseError as error:
            refused[name] = str(error).splitlines()[0]
    return refused


@pytest.mark.django_db
@pytest.mark.hazard("HAZ-07.C9")
def test_the_command_creates_a_role_that_owns_nothing_and_cannot_truncate():
    out = StringIO()
    call_command("db_app_role", stdout=out)
    assert "owns nothing" in out.getvalue()
    assert app_role_problems(ROLE) == []


@pytest.mark.django_db
@pytest.mark.hazard("HAZ-07.C9", "HAZ-07.C3")
def test_as_the_app_role_every_way_around_the_audit_is_refused(team, clinician):
    call_command("db_app_role", stdout=StringIO())
    person = f.make_service_user(team)
    RecordAccess.objects.create(user=clinician, service_user=person, what="person")
    events_before = AuditEvent.objects.count()
    with connection.cursor() as cursor:
        cursor.execute(f'SET LOCAL ROLE "{ROLE}"')
        refused = _tries(cursor.execute)
        # The application itself still works as the role: its writes are audited (the trigger
        # runs as the owner) and it appends to the access log.
        f.make_service_user(team, family_name="Written as the app")
        RecordAccess.objects.create(user=clinician, service_user=person, what="person")
        cursor.execute("RESET ROLE")
    assert sorted(refused) == sorted(ATTACKS), f"not refused: {set(ATTACKS) - set(refused)}"
    assert all("permission denied" in why or "must be owner" in why for why in refused.values()), (
        refused
    )
    assert AuditEvent.objects.count() == events_before + 1
    assert verify_chain("pod_auditevent").intact and verify_chain("pod_recordaccess").intact


@pytest.mark.django_db(transaction=True)
@pytest.mark.hazard("HAZ-07.C9")
def test_logged_in_as_the_app_role_it_is_refused_and_named_in_the_audit(team):
    call_command("db_app_role", stdout=StringIO())
    person = f.make_service_user(team)
    db = connection.settings_dict
    app = psycopg2.connect(
        dbname=db["NAME"], host=db["HOST"] or None, port=db["PORT"] or None, user=ROLE
    )
    app.autocommit = True
    try:
        with app.cursor() as cursor:
            cursor.execute("SELECT current_user")
            assert cursor.fetchone()[0] == ROLE
            refused = []
            for name, sql in ATTACKS.items():
                try:
                    cursor.execute(sql)
                except psycopg2.errors.InsufficientPrivilege:
                    refused.append(name)
            cursor.execute(
                "UPDATE networks_serviceuser SET phone = '01234 567890' WHERE id = %s",
                [person.pk],
            )
    finally:
        app.close()
    assert sorted(refused) == sorted(ATTACKS)
    change = AuditEvent.objects.get(table_name="networks_serviceuser", operation="UPDATE")
    assert change.db_user == ROLE  # the login role, from the server, not from the application


@pytest.mark.django_db
@pytest.mark.hazard("HAZ-07.C9")
def test_migrate_keeps_the_role_current_in_development_only(settings):
    settings.POD_APP_DB_ROLE = "pod_app_dev_check"
    settings.DEBUG = False
    ensure_on_migrate()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [settings.POD_APP_DB_ROLE])
        created_in_production = cursor.fetchone() is not None
    assert not created_in_production  # production: the operator runs db_app_role
    settings.DEBUG = True
    ensure_on_migrate()
    assert app_role_problems(settings.POD_APP_DB_ROLE) == []  # created, least privilege
