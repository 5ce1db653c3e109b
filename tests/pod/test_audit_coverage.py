"""Every table that holds clinical or identity data or security state has the audit trigger.

The test walks every table in the database (and every model Django knows), so a table added
next month is audited unless someone adds it to UNAUDITED_TABLES with a reason.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from pod.foundation.audit import UNAUDITED_TABLES
from pod.foundation.audit_models import AuditEvent
from pod.foundation.twofactor import backup_codes_replace

pytestmark = pytest.mark.django_db


def _audited_tables() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname = 'pod_audit' AND NOT t.tgisinternal AND t.tgenabled <> 'D'"
        )
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.hazard("HAZ-07.C8")
def test_every_table_has_the_audit_trigger_or_a_reason_not_to():
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))
    models = {m._meta.db_table for m in apps.get_models(include_auto_created=True)}
    assert models <= tables  # every model's table was walked
    missing = sorted(tables - _audited_tables() - set(UNAUDITED_TABLES))
    assert not missing, "Tables with no audit trigger and no reason given:\n" + "\n".join(missing)


def test_the_allow_list_names_only_tables_that_exist_and_have_no_trigger():
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))
    assert set(UNAUDITED_TABLES) <= tables
    assert not set(UNAUDITED_TABLES) & _audited_tables()
    # 26 today: the FHIR API brought OAuth's token tables (secrets, purged daily).
    assert len(UNAUDITED_TABLES) <= 30 and all(UNAUDITED_TABLES.values())


@pytest.mark.hazard("HAZ-07.C8")
@pytest.mark.parametrize(
    "table",
    [
        "outcomes_scoredmeasure",
        "outcomes_licensedmeasure",
        "outcomes_fidelityrating",
        "outcomes_surveyinvitation",
        "outcomes_surveyresponse",
        "meetings_alert",
        "otp_totp_totpdevice",
        "otp_static_staticdevice",
        "otp_static_statictoken",
        "pod_teammembership",
        "networks_detailscorrection",
        "networks_identityconfirmation",
        "pod_subjectaccessinclusion",
    ],
)
def test_the_tables_the_issue_named_are_audited(table):
    assert table in _audited_tables()


@pytest.mark.hazard("HAZ-07.C8")
def test_authenticator_keys_and_backup_codes_are_audited_but_never_copied(clinician):
    device = TOTPDevice.objects.create(user=clinician, name="phone", confirmed=True)
    codes = backup_codes_replace(clinician)
    created = AuditEvent.objects.get(table_name="otp_totp_totpdevice", operation="INSERT")
    assert created.after["user_id"] == clinician.pk and "key" not in created.after
    tokens = AuditEvent.objects.filter(table_name="otp_static_statictoken")
    assert tokens.count() == len(codes)
    assert all("token" not in e.after for e in tokens)
    text = str(list(AuditEvent.objects.values_list("before", "after")))
    assert device.key not in text and not any(code in text for code in codes)
    StaticToken.objects.filter(token=codes[0]).delete()  # a backup code used up
    used = AuditEvent.objects.get(table_name="otp_static_statictoken", operation="DELETE")
    assert "token" not in used.before
