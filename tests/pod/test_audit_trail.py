"""Every change to clinical data is recorded by the database, whoever makes it and however."""

from __future__ import annotations

from datetime import date

import pghistory
import pytest
from django.db import DatabaseError, connection, transaction

from networks.models import ServiceUser
from pod.foundation.audit import TRACKED, TRACKED_M2M, tracked_tables
from pod.foundation.audit_models import AuditEvent, RecordAccess
from pod.foundation.models import TrainingRecord
from tests import factories as f

pytestmark = pytest.mark.django_db


def _events(obj, operation=None):
    qs = AuditEvent.objects.filter(table_name=obj._meta.db_table, row_id=str(obj.pk))
    if operation:
        qs = qs.filter(operation=operation)
    return qs.order_by("id")


@pytest.mark.hazard("HAZ-07.C1")
def test_it_records_a_create_with_the_row_after(service_user):
    event = _events(service_user, "INSERT").get()
    assert event.before is None
    assert event.after["nhs_number"] == service_user.nhs_number
    assert event.after["family_name"] == "Rivers"


@pytest.mark.hazard("HAZ-07.C1")
def test_it_records_before_and_after_of_a_save(service_user):
    service_user.family_name = "Brook"
    service_user.save()
    event = _events(service_user, "UPDATE").get()
    assert event.before["family_name"] == "Rivers"
    assert event.after["family_name"] == "Brook"
    assert event.changed_fields == ["family_name"]


@pytest.mark.hazard("HAZ-07.C1")
def test_it_records_queryset_update_and_bulk_create(team, service_user):
    ServiceUser.objects.filter(pk=service_user.pk).update(postcode="E1 1AA")
    assert _events(service_user, "UPDATE").get().after["postcode"] == "E1 1AA"

    made = ServiceUser.objects.bulk_create(
        [
            ServiceUser(
                nhs_number=f.valid_nhs_number(),
                given_name="B",
                family_name=f"Bulk{i}",
                date_of_birth=date(1980, 1, 1),
                team=team,
            )
            for i in range(3)
        ]
    )
    assert (
        AuditEvent.objects.filter(
            table_name="networks_serviceuser",
            operation="INSERT",
            row_id__in=[str(p.pk) for p in made],
        ).count()
        == 3
    )


@pytest.mark.hazard("HAZ-07.C1")
def test_it_records_raw_sql_and_deletes(team):
    person = f.make_service_user(team)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE networks_serviceuser SET phone = %s WHERE id = %s", ["07700 900123", person.pk]
        )
    assert _events(person, "UPDATE").get().after["phone"] == "07700 900123"

    pk = person.pk
    person.delete()
    deleted = AuditEvent.objects.get(
        table_name="networks_serviceuser", row_id=str(pk), operation="DELETE"
    )
    assert deleted.before["phone"] == "07700 900123"
    assert deleted.after is None
    assert deleted.db_user  # the database role, which tells a DBA's psql from the web app


def test_it_skips_an_update_that_changes_nothing(service_user):
    service_user.save()
    assert not _events(service_user, "UPDATE").exists()


@pytest.mark.hazard("HAZ-07.C2")
def test_it_attributes_changes_to_the_context_user_and_url(clinician, service_user):
    with pghistory.context(user=clinician.pk, url="/people/1/edit/"):
        service_user.given_name = "Jo"
        service_user.save()
    event = _events(service_user, "UPDATE").get()
    assert event.user_id == clinician.pk
    assert event.context["url"] == "/people/1/edit/"
    assert event.context_id is not None


@pytest.mark.hazard("HAZ-07.C2")
def test_it_attributes_admin_changes_to_the_signed_in_administrator(client, admin_user, team):
    client.force_login(admin_user)
    response = client.post(
        "/admin/pod/trainingrecord/add/",
        {"user": admin_user.pk, "course": "POD", "started_on": "2026-01-05", "completed_on": ""},
    )
    assert response.status_code == 302, response.content[:500]
    record = TrainingRecord.objects.get()
    event = _events(record, "INSERT").get()
    assert event.user_id == admin_user.pk
    assert event.context["url"] == "/admin/pod/trainingrecord/add/"


def test_it_never_copies_the_password_hash_but_lists_its_change(clinician):
    clinician.set_password("another-long-password-9")
    clinician.save()
    event = _events(clinician, "UPDATE").get()
    assert event.changed_fields == ["password"]
    assert "password" not in event.after and "password" not in event.before
    assert not any("password" in e.after for e in _events(clinician) if e.after)


def test_it_does_not_log_a_sign_in_as_a_change(client, clinician):
    client.force_login(clinician)  # updates last_login only
    assert not _events(clinician, "UPDATE").exists()


@pytest.mark.hazard("HAZ-07.C1")
def test_it_records_many_to_many_changes(episode, prescriber):
    episode.core_team.add(prescriber)
    through = type(episode).core_team.through
    assert AuditEvent.objects.filter(
        table_name=through._meta.db_table, operation="INSERT", after__user_id=prescriber.pk
    ).exists()


@pytest.mark.hazard("HAZ-07.C3")
def test_it_refuses_to_rewrite_or_delete_the_audit(service_user, clinician):
    event = _events(service_user).first()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(after={})
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM pod_auditevent")

    access = RecordAccess.objects.create(user=clinician, service_user=service_user, what="person")
    with pytest.raises(DatabaseError), transaction.atomic():
        RecordAccess.objects.filter(pk=access.pk).update(what="nothing")
    with pytest.raises(DatabaseError), transaction.atomic():
        RecordAccess.objects.filter(pk=access.pk).delete()
    assert AuditEvent.objects.filter(pk=event.pk, after=event.after).exists()


@pytest.mark.hazard("HAZ-07.C3")
def test_it_keeps_the_access_log_when_the_person_is_deleted(team, clinician):
    person = f.make_service_user(team)
    RecordAccess.objects.create(user=clinician, service_user=person, what="person")
    pk = person.pk
    person.delete()
    assert RecordAccess.objects.filter(service_user_id=pk).count() == 1


@pytest.mark.hazard("HAZ-07.C1")
def test_it_has_a_trigger_on_every_tracked_table():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT event_object_table FROM information_schema.triggers "
            "WHERE trigger_name = 'pod_audit'"
        )
        triggered = {row[0] for row in cursor.fetchall()}
    expected = {table for table, *_ in tracked_tables()}
    assert len(expected) == len(TRACKED) + len(TRACKED_M2M)
    assert expected <= triggered


@pytest.mark.hazard("HAZ-10.C3")
def test_it_keeps_link_tokens_out_of_the_recorded_url(rf, clinician):
    from pod.foundation.audit_context import AuditContextMiddleware

    captured = {}

    def view(request):
        import pghistory.runtime

        captured.update(pghistory.runtime._tracker.value.metadata)
        from django.http import HttpResponse

        return HttpResponse()

    request = rf.get("/accounts/reset/MQ/abc-123secret/")
    request.user = clinician
    AuditContextMiddleware(view)(request)
    assert captured["url"] == "/accounts/reset/<uidb64>/<token>/"
    assert captured["user"] == clinician.pk
