"""The pages' compiled look-ups run as prepared statements (issue 17, point 3;
pod/foundation/compiled_query.py): prepared once per connection, planned once, still right when
PostgreSQL refuses to prepare one, when a pooler dropped them, and after a reconnection."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from pod.foundation import compiled_query
from pod.foundation.models import User
from tests.meetings.helpers import recent_episode


def _prepared_here() -> dict[str, tuple[int, int]]:
    """This connection's prepared statements: name -> (generic plans, custom plans)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, generic_plans, custom_plans FROM pg_prepared_statements")
        return {name: (generic, custom) for name, generic, custom in cursor.fetchall()}


def _user_by_id(user_id):
    return User.objects.filter(pk=user_id)


@pytest.fixture
def fresh_shapes(monkeypatch):
    """No shape compiled, none refused, and none prepared on this connection: a statement's
    name is its SQL's digest, so an earlier test's would otherwise be there already."""
    monkeypatch.setattr(compiled_query, "_SHAPES", {})
    monkeypatch.setattr(compiled_query, "_NOT_PREPARABLE", set())
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    connections["default"].__dict__.pop("_pod_prepared", None)  # the wrapper's, not the proxy's


@pytest.mark.django_db
def test_a_shape_is_prepared_once_and_then_planned_once(fresh_shapes, clinician):
    with CaptureQueriesContext(connection) as queries:
        found = compiled_query.shape_instances("t.user", _user_by_id, [clinician.pk])
    assert [u.pk for u in found] == [clinician.pk]
    (name,) = {c.name for c in compiled_query._SHAPES.values()}
    assert name in _prepared_here()
    # The request's own query is the EXECUTE; the PREPARE is not one of its queries.
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["EXECUTE"]
    for _ in range(10):
        assert compiled_query.shape_instances("t.user", _user_by_id, [clinician.pk])
    # Planned once, for any values (plan_cache_mode = force_generic_plan, pod/settings.py):
    # never again for a request's own values.
    assert _prepared_here()[name] == (11, 0)


@pytest.mark.django_db
def test_the_home_pages_lists_are_prepared_and_never_planned_per_request(
    client, fresh_shapes, team, clinician, clinician2
):
    for hours in (2, 5, 30):
        recent_episode(team, [clinician, clinician2], hours_ago=hours)
    client.force_login(clinician)
    for _ in range(8):
        assert client.get(reverse("home")).status_code == 200
    prepared = _prepared_here()
    names = {c.name for c in compiled_query._SHAPES.values() if c.sql is not None}
    assert names and names <= set(prepared)
    assert all(prepared[name][0] > 0 and prepared[name][1] == 0 for name in names), prepared


@pytest.mark.django_db
def test_off_nothing_is_prepared(fresh_shapes, clinician, settings):
    settings.POD_DB_PREPARED_STATEMENTS = False
    with CaptureQueriesContext(connection) as queries:
        assert compiled_query.shape_instances("t.user", _user_by_id, [clinician.pk])
    (name,) = {c.name for c in compiled_query._SHAPES.values()}
    assert name not in _prepared_here()
    assert queries.captured_queries[0]["sql"].startswith("SELECT")


def _constant(user_id):
    # `$1 IS NULL`: PostgreSQL cannot tell the parameter's type, so it cannot prepare this.
    return User.objects.extra(where=["%s IS NULL"], params=[user_id])


@pytest.mark.django_db
def test_a_statement_postgresql_cannot_prepare_runs_unprepared_in_the_same_transaction(
    fresh_shapes, clinician
):
    probe = compiled_query.compile_query(_constant(-5), [-5])
    assert "%s IS NULL" in probe.sql  # the bare parameter that cannot be prepared
    with transaction.atomic():
        assert compiled_query.shape_instances("t.constant", _constant, [clinician.pk]) == []
        # The refusal did not abort the transaction.
        assert User.objects.filter(pk=clinician.pk).exists()
    (name,) = {c.name for c in compiled_query._SHAPES.values()}
    assert name in compiled_query._NOT_PREPARABLE
    assert name not in _prepared_here()


@pytest.mark.django_db
def test_statements_dropped_inside_a_transaction_fail_that_transaction_only(
    fresh_shapes, clinician
):
    assert compiled_query.shape_instances("t.user", _user_by_id, [clinician.pk])
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # what a pooler's DISCARD ALL does
    with pytest.raises(DatabaseError), transaction.atomic():
        compiled_query.shape_instances("t.user", _user_by_id, [clinician.pk])
    # Prepared again at the next use.
    assert [u.pk for u in compiled_query.shape_instances("t.user", _user_by_id, [clinician.pk])]


@pytest.mark.django_db(transaction=True)
def test_statements_dropped_between_requests_are_prepared_again(fresh_shapes, team):
    user = User.objects.create(username="prep", role="clinician")
    assert compiled_query.shape_instances("t.user", _user_by_id, [user.pk])
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    assert [u.pk for u in compiled_query.shape_instances("t.user", _user_by_id, [user.pk])] == [
        user.pk
    ]
    # A new connection (a new server session) has none: they are prepared on it, before the
    # first use (inside a transaction, a missing statement would fail the transaction).
    connection.close()
    with transaction.atomic():
        found = compiled_query.shape_instances("t.user", _user_by_id, [user.pk])
    assert [u.pk for u in found] == [user.pk]
    assert {c.name for c in compiled_query._SHAPES.values()} <= set(_prepared_here())


@pytest.fixture
def change_username_type():
    """What a migration run beside live workers does: the type of a column their prepared
    statements return changes (varchar(150) to varchar(n)); put back afterwards."""
    table = connection.ops.quote_name(User._meta.db_table)

    def change(length: int) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {table} ALTER COLUMN username TYPE varchar({length})")

    yield change
    change(150)


@pytest.mark.django_db(transaction=True)
def test_a_statement_whose_result_type_a_migration_changed_is_prepared_again(
    fresh_shapes, team, change_username_type
):
    user = User.objects.create(username="prep", role="clinician")
    assert compiled_query.shape_instances("t.user", _user_by_id, [user.pk])
    (name,) = {c.name for c in compiled_query._SHAPES.values()}
    change_username_type(151)
    # Inside a transaction, PostgreSQL's "cached plan must not change result type" fails that
    # transaction only...
    with pytest.raises(DatabaseError, match="result type"), transaction.atomic():
        compiled_query.shape_instances("t.user", _user_by_id, [user.pk])
    # ...and the statement is replaced at its next use, prepared again, not given up on.
    found = compiled_query.shape_instances("t.user", _user_by_id, [user.pk])
    assert [u.pk for u in found] == [user.pk]
    assert name in _prepared_here() and name not in compiled_query._NOT_PREPARABLE

    # Outside a transaction, the first use after such a change is answered, not failed.
    change_username_type(152)
    found = compiled_query.shape_instances("t.user", _user_by_id, [user.pk])
    assert [u.pk for u in found] == [user.pk]
    assert name in _prepared_here() and name not in compiled_query._NOT_PREPARABLE


HUGE = 10**20  # no bigint holds it


@pytest.mark.django_db
@pytest.mark.parametrize("value", [HUGE, -HUGE, 2**31])
def test_an_id_no_parameter_type_holds_answers_no_rows_not_an_error(fresh_shapes, clinician, value):
    """EXECUTE converts its values to the types fixed at PREPARE (bigint for an id) and failed
    on one it could not hold, where the ORM answers no rows: an id typed into a URL was a 500."""
    assert list(User.objects.filter(pk=value)) == []
    assert compiled_query.shape_instances("t.user", _user_by_id, [clinician.pk])
    with transaction.atomic():  # and the transaction is not aborted
        assert compiled_query.shape_instances("t.user", _user_by_id, [value]) == []
        assert User.objects.filter(pk=clinician.pk).exists()


@pytest.mark.django_db
def test_a_person_or_episode_id_too_big_for_any_column_is_a_404(
    client, fresh_shapes, team, clinician, clinician2
):
    client.force_login(clinician)
    episode = recent_episode(team, [clinician, clinician2], hours_ago=2)
    assert (
        client.get(reverse("people:person_detail", args=[episode.service_user_id])).status_code
        == 200
    )
    for name in ("people:person_detail", "meetings:episode_detail", "meetings:episode_timeline"):
        assert client.get(reverse(name, args=[HUGE])).status_code == 404, name


def _other_user_query(user_id):
    return User.objects.filter(pk=user_id, is_active=True)


@pytest.mark.django_db
def test_a_statements_name_is_its_sql_so_no_two_processes_give_one_name_two_meanings(
    fresh_shapes, clinician, monkeypatch
):
    """Each process used to number its statements (pod_q1, pod_q2...) in the order it met
    them: behind a pooler handing one server session to several processes, pod_q1 of one was
    a different query of another, and EXECUTE would run it. Each process here starts its count
    afresh, as a new process does."""
    import itertools

    monkeypatch.setattr(compiled_query, "_NAMES", itertools.count(1), raising=False)
    first = compiled_query.compile_query(_user_by_id(-5), [-5])
    monkeypatch.setattr(compiled_query, "_SHAPES", {})
    monkeypatch.setattr(compiled_query, "_NAMES", itertools.count(1), raising=False)
    other = compiled_query.compile_query(_other_user_query(-5), [-5])
    monkeypatch.setattr(compiled_query, "_NAMES", itertools.count(1), raising=False)
    again = compiled_query.compile_query(_user_by_id(-5), [-5])
    assert first.sql != other.sql
    assert first.name != other.name
    assert first.name == again.name  # the same SQL: the same statement in every process
    assert len(first.name) <= 63  # PostgreSQL's longest name


@pytest.mark.django_db(transaction=True)
def test_a_lost_connection_while_preparing_fails_that_use_only(fresh_shapes, team):
    """A PREPARE that failed for any reason (a dropped connection, say) used to mark the
    statement as one PostgreSQL cannot prepare: unprepared in that process until it restarted.
    Now only PostgreSQL's refusal of the statement itself does; the error is Django's."""
    import psycopg2
    from django.db import Error as DjangoError

    user = User.objects.create(username="prep", role="clinician")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    other = psycopg2.connect(**connection.get_connection_params())  # as Django connects
    try:
        other.autocommit = True
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()
    with pytest.raises(DjangoError):
        compiled_query.shape_instances("t.user", _user_by_id, [user.pk])
    (name,) = {c.name for c in compiled_query._SHAPES.values()}
    assert name not in compiled_query._NOT_PREPARABLE
    connection.close()
    assert [u.pk for u in compiled_query.shape_instances("t.user", _user_by_id, [user.pk])] == [
        user.pk
    ]
    assert name in _prepared_here()


@pytest.mark.django_db
def test_in_a_broken_transaction_it_fails_as_any_query_does(fresh_shapes, clinician):
    """It raised psycopg2's own errors there, which `except DatabaseError` does not catch."""
    from django.db.transaction import TransactionManagementError

    with transaction.atomic():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1/0")
        except DatabaseError:
            pass
        with pytest.raises(DatabaseError):
            compiled_query.shape_instances("t.user", _user_by_id, [clinician.pk])
        transaction.set_rollback(True)
    with transaction.atomic():
        try:
            with transaction.atomic(savepoint=False), connection.cursor() as cursor:
                cursor.execute("SELECT 1/0")
        except DatabaseError:
            pass
        with pytest.raises(TransactionManagementError):
            list(_user_by_id(clinician.pk))  # what the ORM does here
        with pytest.raises(TransactionManagementError):
            compiled_query.shape_instances("t.user", _user_by_id, [clinician.pk])
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_executes_are_logged_as_djangos_queries_are_failed_ones_too(
    fresh_shapes, clinician, caplog
):
    import logging

    assert compiled_query.shape_instances("t.user", _user_by_id, [clinician.pk])
    with caplog.at_level(logging.DEBUG, logger="django.db.backends"):
        with CaptureQueriesContext(connection) as queries:
            compiled_query.shape_instances("t.user", _user_by_id, [clinician.pk])
            with connection.cursor() as cursor:
                cursor.execute("DEALLOCATE ALL")
            with pytest.raises(DatabaseError), transaction.atomic():
                compiled_query.shape_instances("t.user", _user_by_id, [clinician.pk])
    executes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("EXECUTE")]
    assert len(executes) == 2  # the one answered and the one that failed
    logged = [r.getMessage() for r in caplog.records if "EXECUTE" in r.getMessage()]
    assert len(logged) == 2
