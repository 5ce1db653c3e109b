"""The audit is tamper-evident: TRUNCATE refused, rows hash-chained, `audit_verify` finds a
removed or changed row, and a claimed "who" without the application's signature shows."""

from __future__ import annotations

import threading
from io import StringIO

import pghistory
import psycopg2
import psycopg2.errors
import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, connections, transaction
from django.urls import reverse

from networks.models import ServiceUser
from pod.foundation.audit_chain import verify_attribution, verify_chain
from pod.foundation.audit_context import context_is_verified
from pod.foundation.audit_models import AuditEvent, RecordAccess
from pod.tasks import audit_verify
from tests import factories as f

pytestmark = pytest.mark.django_db


def _as_owner_without_triggers(sql: str, params=()) -> None:
    """What only the owner (here a superuser) can do: switch the triggers off and edit."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)
        cursor.execute("SET LOCAL session_replication_role = DEFAULT")


def _verify() -> str:
    out = StringIO()
    call_command("audit_verify", stdout=out)
    return out.getvalue()


@pytest.mark.hazard("HAZ-07.C7")
def test_it_chains_every_audit_row_to_the_one_before(team, clinician):
    people = [f.make_service_user(team) for _ in range(3)]
    RecordAccess.objects.create(user=clinician, service_user=people[0], what="person")
    events = list(AuditEvent.objects.order_by("seq"))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[0].prev_hash == ""
    for before, after in zip(events, events[1:], strict=False):
        assert after.prev_hash == before.row_hash and len(after.row_hash) == 64
    assert verify_chain("pod_auditevent").intact
    assert verify_chain("pod_recordaccess").checked == 1
    assert "The audit chains are intact." in _verify()


@pytest.mark.hazard("HAZ-07.C7")
def test_audit_verify_names_a_row_the_owner_deleted(team):
    for _ in range(4):
        f.make_service_user(team)
    victim = AuditEvent.objects.order_by("seq")[1]
    _as_owner_without_triggers("DELETE FROM pod_auditevent WHERE id = %s", [victim.pk])
    with pytest.raises(CommandError) as refused:
        _verify()
    assert f"pod_auditevent: seq {victim.seq} (no row)" in str(refused.value)
    assert "removed" in str(refused.value)


@pytest.mark.hazard("HAZ-07.C7")
def test_audit_verify_names_a_row_the_owner_changed(team, clinician):
    person = f.make_service_user(team, family_name="Rivers")
    event = AuditEvent.objects.get(table_name="networks_serviceuser", row_id=str(person.pk))
    _as_owner_without_triggers(
        'UPDATE pod_auditevent SET after = after || \'{"family_name": "Other"}\' WHERE id = %s',
        [event.pk],
    )
    access = RecordAccess.objects.create(user=clinician, service_user=person, what="person")
    _as_owner_without_triggers(
        "UPDATE pod_recordaccess SET user_id = NULL WHERE id = %s", [access.pk]
    )
    with pytest.raises(CommandError) as refused:
        _verify()
    message = str(refused.value)
    assert f"pod_auditevent: seq {event.seq} (row id {event.pk})" in message
    assert f"pod_recordaccess: seq 1 (row id {access.pk})" in message
    assert "does not match its hash" in message


@pytest.mark.hazard("HAZ-07.C7")
def test_audit_verify_names_a_row_slipped_in_with_the_triggers_off(team, clinician):
    person = f.make_service_user(team)
    RecordAccess.objects.create(user=clinician, service_user=person, what="person")
    _as_owner_without_triggers(
        "INSERT INTO pod_recordaccess (at, user_id, service_user_id, what, view_name, db_user, "
        "prev_hash, row_hash) VALUES (now(), %s, %s, 'person', '', 'pod_app', '', '')",
        [clinician.pk, person.pk],
    )
    RecordAccess.objects.create(user=clinician, service_user=person, what="person")
    with pytest.raises(CommandError, match="outside the chain"):
        _verify()


@pytest.mark.hazard("HAZ-07.C7")
def test_an_anchor_finds_rows_removed_from_the_end(team):
    f.make_service_user(team)
    head = verify_chain("pod_auditevent")
    _as_owner_without_triggers("DELETE FROM pod_auditevent WHERE seq = %s", [head.head_seq])
    assert verify_chain("pod_auditevent").intact  # nothing after it to notice the gap ...
    with pytest.raises(CommandError, match="no longer in the chain"):
        call_command(
            "audit_verify",
            f"--anchor=pod_auditevent:{head.head_seq}:{head.head_hash}",
            stdout=StringIO(),
        )  # ... but the head printed by an earlier run is gone


@pytest.mark.hazard("HAZ-07.C3")
@pytest.mark.parametrize("table", ["pod_auditevent", "pod_recordaccess"])
def test_it_refuses_truncate_even_to_the_owner(table, service_user):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {table}")
    assert AuditEvent.objects.exists()


@pytest.mark.hazard("HAZ-07.C7")
def test_the_application_cannot_backdate_or_prehash_an_access(clinician, service_user):
    access = RecordAccess.objects.create(
        user=clinician, service_user=service_user, what="person", seq=99, row_hash="f" * 64
    )
    access.refresh_from_db()
    assert access.seq == 1 and access.row_hash != "f" * 64
    assert access.db_user  # stamped by the database, whatever was sent


@pytest.mark.hazard("HAZ-07.C2")
def test_a_change_made_through_a_request_is_signed_for_the_signed_in_user(
    client, clinician, service_user
):
    client.force_login(clinician)
    response = client.post(
        reverse("networks:member_add", args=[service_user.pk]),
        {
            "name": "Sky",
            "category": "family",
            "relationship": "sister",
            "closeness": 2,
            "person_wants_invited": "on",
            "contact_consent": "not_asked",
            "information_consent": "not_asked",
        },
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(table_name="networks_networkmember")
    assert event.user_id == clinician.pk
    assert context_is_verified(event.context) is True


@pytest.mark.hazard("HAZ-07.C2")
def test_a_claim_for_someone_else_is_recorded_as_unverified(clinician, outsider, service_user):
    with pghistory.context(user=clinician.pk, url="/made-up/"):
        ServiceUser.objects.filter(pk=service_user.pk).update(phone="01234 567890")
    event = AuditEvent.objects.get(table_name="networks_serviceuser", operation="UPDATE")
    assert event.user_id == clinician.pk  # what was claimed is kept ...
    assert context_is_verified(event.context) is False  # ... and shown as not vouched for
    report = verify_attribution()
    assert report.unverified == 1 and report.examples == [event.pk]
    assert "1 change(s) claim a user or task without a valid signature" in _verify()


@pytest.mark.hazard("HAZ-07.C2")
def test_a_tampered_signature_does_not_verify(clinician, outsider):
    from pod.foundation.audit_context import signed

    context = signed(user=clinician.pk, url="/x/")
    assert context_is_verified(context) is True
    assert context_is_verified({**context, "user": outsider.pk}) is False
    assert context_is_verified({"url": "/x/"}) is None  # claims no one (db_user says who)


@pytest.mark.hazard("HAZ-07.C7")
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_append_one_unbroken_chain(team):
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(8):
                with transaction.atomic():
                    f.make_service_user(team, family_name=f"Writer{n}x{i}")
                    f.make_service_user(team, family_name=f"Writer{n}y{i}")
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    report = verify_chain("pod_auditevent")
    assert report.intact, report.first_break
    assert report.checked == AuditEvent.objects.count() >= 64


@pytest.mark.hazard("HAZ-07.C7")
def test_the_daily_task_logs_the_heads_and_an_error_on_a_break(team, caplog):
    for _ in range(3):
        f.make_service_user(team)
    with caplog.at_level("INFO", logger="pod.audit"):
        assert audit_verify() is True
    assert "audit chain pod_auditevent:" in caplog.text and "head pod_auditevent:" in caplog.text
    victim = AuditEvent.objects.order_by("seq")[1]
    _as_owner_without_triggers("DELETE FROM pod_auditevent WHERE id = %s", [victim.pk])
    caplog.clear()
    with caplog.at_level("INFO", logger="pod.audit"):
        assert audit_verify() is False
    assert f"seq {victim.seq}" in caplog.text and "ERROR" in caplog.text


@pytest.mark.hazard("HAZ-07.C7")
@pytest.mark.django_db(transaction=True)
def test_a_stale_snapshot_cannot_fork_the_chain(team):
    """A REPEATABLE READ transaction reads the head from its old snapshot; the unique `seq`
    turns that into an error instead of a second row claiming the same place."""
    person = f.make_service_user(team)
    db = connection.settings_dict
    stale = psycopg2.connect(
        dbname=db["NAME"], host=db["HOST"] or None, port=db["PORT"] or None, user=db["USER"]
    )
    try:
        stale.set_session(isolation_level="REPEATABLE READ")
        with stale.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pod_auditevent")  # the snapshot is taken here
            f.make_service_user(team)  # another transaction appends and commits meanwhile
            with pytest.raises(psycopg2.errors.UniqueViolation):
                cursor.execute(
                    "UPDATE networks_serviceuser SET phone = '01234' WHERE id = %s", [person.pk]
                )
        stale.rollback()
    finally:
        stale.close()
    assert verify_chain("pod_auditevent").intact
