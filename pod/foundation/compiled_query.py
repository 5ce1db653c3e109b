"""A queryset's SQL built and compiled once per shape, then only executed with new values.

Why (issue 17, point 3; benchmarks/pages/RESULTS.md): Django builds and compiles a queryset
afresh on every call. For the home page's five lists that was about half the Python time of the
request: cloning, resolving filters, subqueries and annotations, and writing the SQL, several
times what PostgreSQL takes to answer. The rows of a shape differ from request to request only
in a few values (the user, a day's bounds), so a shape is built once per process from sentinel
values, compiled, and afterwards executed with the sentinels in its parameter list replaced by
the request's values. Each column is converted as Django converts it, and rows become model
instances as `QuerySet.__iter__` makes them (`instances`), or plain converted rows (`rows`).

How to use it:
- `compile_query(queryset, sentinels)`: `queryset` built from `sentinels` (each a value no real
  request has: `sentinel(i, like)` makes one); returns a `Compiled`. A sentinel that reaches the
  parameters transformed (not equal and of the same type) makes it raise RuntimeError rather
  than cache a wrong statement; a queryset that can match nothing compiles to no SQL.
- `rows(compiled, values)`: the converted rows (lists), `values` in the sentinels' order.
- `instances(compiled, values)`: model instances with `select_related` objects and annotations.
`pod.foundation.paging.bounded_compiled` runs a list's first page this way.

Prepared (`shape_instances`, and `rows(..., prepare=True)`): with POD_DB_PREPARED_STATEMENTS on
(the default), each shape is also PREPAREd once per database connection and afterwards run as
`EXECUTE pod_<digest>(values)`, so PostgreSQL stops planning it afresh on every request
(planning was about 1.6 ms of the home page's 2 ms of list queries, more than running them).
POD's connections set `plan_cache_mode = force_generic_plan` (pod/settings.py): each statement
is planned once, for any values. A statement's name is a digest of its SQL, so a name means the
same statement in every process: a connection handed from one process to another (a pooler
misconfigured for them) can run a statement of the same name only with the same SQL, never
another query's. A statement PostgreSQL cannot prepare (a parameter whose type it cannot infer)
runs unprepared from then on; a connection that lost its statements (a pooler's DISCARD ALL), or
whose statement's result type a migration changed, has them prepared again. A value that does
not fit a 4-byte integer (an id typed into a URL, say) runs the statement unprepared: EXECUTE
would convert it to the parameter's type and fail, where the ORM answers no rows. The PREPARE
itself goes through the driver's cursor, not Django's: once per connection and shape, it is not
a query of any request.
tests/pod/test_compiled_query.py runs each compiled list both ways (compiled, and as the plain
ORM queryset) for several users and compares them, so a Django upgrade that changes the
internals below fails there rather than showing the wrong rows.

Django internals relied on (private API, checked against Django 5.2), as in
`outcomes/dashboard/query_cache.py` (which uses this module):
1. `Query.get_compiler(using)` and `SQLCompiler.as_sql()`: the SQL and its parameters in
   placeholder order; `EmptyResultSet` for a query that can match nothing.
2. That a sentinel value reaches `as_sql()`'s parameters unchanged (a model instance as its
   primary key), equal and of the same type.
3. `SQLCompiler.select`, `col_count`, `klass_info` and `annotation_col_map`, filled in by
   `as_sql()`; `SQLCompiler.get_converters(expressions)` ->
   `{column position: (converters, expression)}`, each called as
   `converter(value, expression, connection)`.
4. `django.db.models.query.get_related_populators(klass_info, select, db)` and
   `RelatedPopulator.populate(row, obj)`, as `ModelIterable.__iter__` uses them; the
   populators hold no per-row state and are reused.
5. `QuerySet._iterable_class`: `ModelIterable` for a queryset of model instances (not values()).
6. For `attach_prefetched`, as `django.db.models.query.prefetch_one_level` stores prefetched
   rows: the related manager's `get_queryset()`, or `_apply_rel_filters(queryset)` for a
   `Prefetch` with a queryset, with `_result_cache` and `_prefetch_done` set, kept in the
   instance's `_prefetched_objects_cache` under the relation's name.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import re
import time
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg2
from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import DatabaseError, connections
from django.db.models import Model, QuerySet
from django.db.models.query import ModelIterable, get_related_populators

from pod.foundation.models import User

_SENTINEL_INT = -1_000_000_001
_SENTINEL_YEAR = 1234


def sentinel(i: int, like: Any) -> Any:
    """The `i`-th sentinel standing for a value like `like`: a negative id for a model
    instance (an unsaved instance of its class, with `like`'s other field values, so that code
    reading e.g. a user's role builds the same shape) or an int; a datetime or date in the year
    1234 for a datetime or date. TypeError for anything else."""
    if isinstance(like, Model):
        fields = like._meta.concrete_fields
        stand_in = like.__class__(**{f.attname: getattr(like, f.attname) for f in fields})
        stand_in.pk = _SENTINEL_INT - i
        return stand_in
    if isinstance(like, datetime):
        first = datetime(_SENTINEL_YEAR, 1, 1, 3, 4, 5, tzinfo=like.tzinfo or UTC)
        return first + timedelta(days=i)
    if isinstance(like, date):
        return date(_SENTINEL_YEAR, 1, 1) + timedelta(days=i)
    if isinstance(like, int) and not isinstance(like, bool):
        return _SENTINEL_INT - i
    raise TypeError(f"No sentinel for {type(like).__name__}")


def _has_sentinel(value: Any) -> bool:
    """Whether `sentinel` can stand in for `value`."""
    return isinstance(value, Model | date) or (
        isinstance(value, int) and not isinstance(value, bool)
    )


def _as_param(value: Any) -> Any:
    """What a value becomes among a query's parameters: a model instance its primary key."""
    return value.pk if isinstance(value, Model) else value


def _looks_like_sentinel(param: Any, sentinels: Sequence[Any]) -> bool:
    """Whether `param` seems derived from one of `sentinels` (a date in a sentinel's year, an
    int at or below the highest sentinel id, text naming a sentinel year): a sentinel that
    reached the SQL transformed (an id given to a text column as str too), which a request's
    value would not replace."""
    years = {s.year for s in sentinels if isinstance(s, date)}
    ids = [s for s in sentinels if isinstance(s, int) and not isinstance(s, bool) and s < 0]
    if isinstance(param, date):  # datetimes too
        return param.year in years
    if isinstance(param, int) and not isinstance(param, bool):
        return bool(ids) and param <= max(ids)
    if isinstance(param, str):  # an id given to a text column: the ORM makes it a str
        return any(f"{year}-" in param for year in years) or any(str(i) in param for i in ids)
    return False


Converter = Any  # (value, expression, connection) -> value


@dataclass(frozen=True)
class _Instantiation:
    """How a row becomes a model instance (internals 3 and 4), worked out once per shape."""

    model: type[Model]
    init_list: tuple[str, ...]
    start: int
    end: int
    populators: tuple[Any, ...]
    annotations: tuple[tuple[str, int], ...]


def _instantiation(queryset: QuerySet[Any, Any], compiler: Any) -> _Instantiation | None:
    klass_info = compiler.klass_info
    if queryset._iterable_class is not ModelIterable or klass_info is None:  # internal 5
        return None  # a values() or values_list() query: rows only
    db = queryset.db
    select = compiler.select
    start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
    return _Instantiation(
        model=klass_info["model"],
        init_list=tuple(f[0].target.attname for f in select[start:end]),
        start=start,
        end=end,
        # django-stubs describes a later Django's signature (with fetch_mode); 5.2 takes three.
        populators=tuple(get_related_populators(klass_info, select, db)),  # type: ignore[call-arg]
        annotations=tuple((compiler.annotation_col_map or {}).items()),
    )


@dataclass(frozen=True)
class Compiled:
    sql: str | None  # None: the query can match nothing
    params: tuple[Any, ...]
    slots: tuple[tuple[int, int], ...]  # (position in params, position in values)
    converters: tuple[tuple[int, tuple[Converter, ...], Any], ...]
    db: str
    instantiation: _Instantiation | None  # None: rows only (a values() query, or no SQL)
    name: str = ""  # the prepared statement's name on every connection: pod_<digest of sql>


def compile_query(queryset: QuerySet[Any, Any], sentinels: Sequence[Any]) -> Compiled:
    """`queryset`'s SQL, built from `sentinels`, with where each sentinel sits among its
    parameters. RuntimeError when a sentinel reached the parameters transformed."""
    compiler = queryset.query.get_compiler(queryset.db)  # internal 1
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return Compiled(None, (), (), (), queryset.db, None)
    wanted = [_as_param(s) for s in sentinels]
    slots = []
    for i, param in enumerate(params):  # internal 2
        for j, value in enumerate(wanted):
            if type(param) is type(value) and param == value:
                slots.append((i, j))
                break
        else:
            if _looks_like_sentinel(param, wanted):
                raise RuntimeError(f"A sentinel reached the SQL transformed: {param!r}")
    fields = [s[0] for s in compiler.select[0 : compiler.col_count]]  # internal 3
    converters = tuple(
        (pos, tuple(convs), expr) for pos, (convs, expr) in compiler.get_converters(fields).items()
    )
    return Compiled(
        sql,
        tuple(params),
        tuple(slots),
        converters,
        queryset.db,
        _instantiation(queryset, compiler),
        _statement_name(sql),
    )


def _statement_name(sql: str) -> str:
    """The prepared statement's name: `pod_` and 32 hex digits of the SHA-256 of its SQL (36
    characters, within PostgreSQL's 63), the same in every process for the same SQL."""
    return "pod_" + hashlib.sha256(sql.encode()).hexdigest()[:32]


def rows(compiled: Compiled, values: Sequence[Any], *, prepare: bool = False) -> list[list[Any]]:
    """The compiled query run with `values` in place of its sentinels (same order): each row
    a list of its columns, converted as Django converts them. `prepare`: run it as a prepared
    statement when POD_DB_PREPARED_STATEMENTS is on (the module's docstring)."""
    if compiled.sql is None:
        return []
    params = list(compiled.params)
    for i, j in compiled.slots:
        params[i] = _as_param(values[j])
    # A value EXECUTE could not convert to its parameter's type runs unprepared (the docstring).
    prepare = prepare and all(_fits_int4(params[i]) for i, _ in compiled.slots)
    connection = connections[compiled.db]
    with connection.cursor() as cursor:
        if prepare and settings.POD_DB_PREPARED_STATEMENTS and _prepared(connection, compiled):
            _execute_prepared(connection, cursor, compiled, params)
        else:
            cursor.execute(compiled.sql, params)
        fetched = cursor.fetchall()
    out = []
    for fetched_row in fetched:
        row = list(fetched_row)
        for pos, convs, expr in compiled.converters:
            value = row[pos]
            for convert in convs:
                value = convert(value, expr, connection)
            row[pos] = value
        out.append(row)
    return out


def instances(compiled: Compiled, values: Sequence[Any], *, prepare: bool = False) -> list[Any]:
    """The compiled query's rows as model instances, as iterating the queryset gives them:
    `select_related` objects attached, annotations set as attributes. `prepare` as `rows`."""
    how = compiled.instantiation
    if how is None:
        if compiled.sql is None:
            return []
        raise TypeError("instances() of a values() query: use rows()")
    fetched = rows(compiled, values, prepare=prepare)
    out = []
    for row in fetched:
        obj = how.model.from_db(compiled.db, list(how.init_list), row[how.start : how.end])
        for populator in how.populators:
            populator.populate(row, obj)
        for name, position in how.annotations:
            setattr(obj, name, row[position])
        out.append(obj)
    return out


# --- Prepared statements, once per connection ----------------------------------------------------

_PLACEHOLDER = re.compile(r"%(%|s)")
_SQL_LOG = logging.getLogger("django.db.backends")  # where Django logs each query
_NOT_PREPARABLE: set[str] = set()  # statements PostgreSQL refused to prepare: run unprepared
_INVALID_STATEMENT_NAME = "26000"  # SQLSTATE: no prepared statement of that name
# SQLSTATE of "cached plan must not change result type": a migration changed the type of a
# column the statement returns (varchar(150) to varchar(200), say) while it stayed prepared.
_FEATURE_NOT_SUPPORTED = "0A000"
_DUPLICATE_PREPARED_STATEMENT = "42P05"
# SQLSTATE class "syntax error or access rule violation": PostgreSQL refuses to prepare the
# statement itself (42P18 indeterminate datatype, say), which will not change on a retry.
_CANNOT_PREPARE_CLASS = "42"


_INT4 = range(-(2**31), 2**31)


def _fits_int4(value: Any) -> bool:
    """False for an int outside PostgreSQL's integer (4 bytes), the narrowest type an id or
    count parameter may be given; True for anything else."""
    return not isinstance(value, int) or isinstance(value, bool) or value in _INT4


def _numbered(sql: str) -> str:
    """Django's `%s` placeholders as PostgreSQL's `$1`, `$2`...; `%%` as `%`."""
    counter = itertools.count(1)
    return _PLACEHOLDER.sub(lambda m: "%" if m.group(1) == "%" else f"${next(counter)}", sql)


def _statements(connection: Any) -> set[str]:
    """The names prepared on `connection`'s current server session (a new session, after a
    reconnection, starts with none: keyed by the driver's connection and the server's pid)."""
    raw = connection.connection
    with connection.wrap_database_errors:
        session = (id(raw), raw.get_backend_pid())
    kept = connection.__dict__.get("_pod_prepared")
    if kept is None or kept[0] != session:
        kept = connection.__dict__["_pod_prepared"] = (session, set())
    return kept[1]


def _prepared(connection: Any, compiled: Compiled) -> bool:
    """Whether `compiled` is prepared on `connection`, preparing it if not. False when
    PostgreSQL refuses to prepare it (SQLSTATE class 42: it cannot infer a parameter's type,
    say); then it runs unprepared, here and from now on. Any other error (a lost connection, a
    cancelled statement) raises as Django's, as the query itself would have, and the statement
    is prepared at a later use. Inside a transaction the PREPARE runs in a savepoint, so a
    refusal does not abort the transaction; in a transaction already broken it raises
    TransactionManagementError, as any query does."""
    if compiled.name in _NOT_PREPARABLE:
        return False
    statements = _statements(connection)
    if compiled.name in statements:
        return True
    connection.validate_no_broken_transaction()
    # Through the driver's cursor: once per connection and shape, not a query of the request.
    with connection.wrap_database_errors, connection.connection.cursor() as driver_cursor:
        if not _prepare(driver_cursor, compiled, in_transaction=connection.in_atomic_block):
            _NOT_PREPARABLE.add(compiled.name)
            return False
    statements.add(compiled.name)
    return True


def _prepare(driver_cursor: Any, compiled: Compiled, *, in_transaction: bool) -> bool:
    """PREPARE `compiled` (replacing a stale statement of its name); False when PostgreSQL
    refuses the statement itself (SQLSTATE class 42), psycopg2's error for anything else."""
    assert compiled.sql is not None
    prepare = f"PREPARE {compiled.name} AS {_numbered(compiled.sql)}"
    if in_transaction:
        driver_cursor.execute("SAVEPOINT pod_prepare")
    try:
        try:
            driver_cursor.execute(prepare)
        except psycopg2.Error as error:
            if error.pgcode != _DUPLICATE_PREPARED_STATEMENT:
                raise
            # Still on the server from before its plan went stale: replace it.
            if in_transaction:
                driver_cursor.execute("ROLLBACK TO SAVEPOINT pod_prepare")
            driver_cursor.execute(f"DEALLOCATE {compiled.name}")
            driver_cursor.execute(prepare)
    except psycopg2.Error as error:
        if not (error.pgcode or "").startswith(_CANNOT_PREPARE_CLASS):
            raise
        if in_transaction:
            driver_cursor.execute("ROLLBACK TO SAVEPOINT pod_prepare")
            driver_cursor.execute("RELEASE SAVEPOINT pod_prepare")
        return False
    if in_transaction:
        driver_cursor.execute("RELEASE SAVEPOINT pod_prepare")
    return True


def _execute_prepared(connection: Any, cursor: Any, compiled: Compiled, params: list[Any]) -> None:
    """EXECUTE the prepared statement with `params`. If the server no longer has it (a pooler
    reset the session), forget this connection's statements; if its result type changed under
    it (a migration altered a column it returns), forget that statement. Then, outside a
    transaction, prepare again and retry once; inside one, the error stands (the transaction is
    already aborted) and the statement is prepared afresh at its next use."""
    placeholders = ", ".join(["%s"] * len(params))
    execute = f"EXECUTE {compiled.name}" + (f" ({placeholders})" if params else "")
    try:
        _run_read(connection, cursor, execute, params)
    except DatabaseError as error:
        code = getattr(error.__cause__, "pgcode", None)
        if code == _INVALID_STATEMENT_NAME:
            _statements(connection).clear()
        elif code == _FEATURE_NOT_SUPPORTED:
            _statements(connection).discard(compiled.name)
        else:
            raise
        if connection.in_atomic_block or not _prepared(connection, compiled):
            raise
        _run_read(connection, cursor, execute, params)


def _run_read(connection: Any, cursor: Any, sql: str, params: list[Any]) -> None:
    """Run a statement that only reads on the driver's cursor, past Django's execute wrappers,
    as Django runs a query otherwise: refused in a broken transaction, errors as Django's,
    logged when Django logs queries (tests count it). pghistory's wrapper prepends the audit
    context to every statement that does not start with SELECT (an EXECUTE of a SELECT among
    them): a read changes nothing to attribute, and that was one more statement for each."""
    connection.validate_no_broken_transaction()
    started = time.monotonic()
    try:
        with connection.wrap_database_errors:
            cursor.cursor.execute(sql, params)
    finally:
        if connection.queries_logged:  # as Django's debug cursor: failed statements too
            duration = time.monotonic() - started
            executed = connection.ops.last_executed_query(cursor.cursor, sql, params)
            connection.queries_log.append({"sql": executed, "time": f"{duration:.3f}"})
            _SQL_LOG.debug(
                "(%.3f) %s; args=%s; alias=%s",
                duration,
                executed,
                params,
                connection.alias,
                extra={
                    "duration": duration,
                    "sql": executed,
                    "params": params,
                    "alias": connection.alias,
                },
            )


# --- Shapes compiled once per process -----------------------------------------------------------


def _shape_of(value: Any) -> Any:
    """What of a value, besides being a query parameter, a query's SQL may depend on: its type
    and, for a user, the role and whether active (who may see what: e.g. meetings.selectors
    .episodes_for answers no rows for a role without the clinical record)."""
    if isinstance(value, User):
        return (User, value.role, value.is_active)
    return type(value)


_SHAPES: dict[Hashable, Compiled] = {}
_UNCOMPILED: ContextVar[bool] = ContextVar("compiled_query_off", default=False)


@contextmanager
def uncompiled() -> Iterator[None]:
    """Inside this block, `shape_instances` builds every queryset afresh and iterates it, as
    the ORM does (the tests compare both ways)."""
    token = _UNCOMPILED.set(True)
    try:
        yield
    finally:
        _UNCOMPILED.reset(token)


def shape_instances(
    key: Hashable, build: Callable[..., QuerySet[Any]], values: Sequence[Any]
) -> list[Any]:
    """`list(build(*values))`, with `build`'s queryset built and compiled once per process for
    its shape and then only executed with `values`. The shape is `key` (naming the query and
    everything else its SQL depends on) with each value's `_shape_of`: `build` may branch on a
    user's role and activity, and must use the values themselves only as query values (the
    sentinels stand in for them). Slice inside `build` for a LIMIT: it is part of the SQL."""
    if _UNCOMPILED.get() or not all(_has_sentinel(v) for v in values):
        # A value with no sentinel (a str id, say): the plain ORM, correct if slower.
        return list(build(*values))
    shape = (key, *(_shape_of(v) for v in values))
    compiled = _SHAPES.get(shape)
    if compiled is None:
        sentinels = [sentinel(i, v) for i, v in enumerate(values)]
        compiled = _SHAPES[shape] = compile_query(build(*sentinels), sentinels)
    return instances(compiled, values, prepare=True)


def attach_prefetched(
    objects: Sequence[Model],
    name: str,
    related: Sequence[Model],
    queryset: QuerySet[Any] | None = None,
) -> None:
    """Give each of `objects` its rows of the reverse foreign key `name` from `related` (rows
    already loaded, in the order wanted), as `prefetch_related(Prefetch(name, queryset))`
    would: afterwards `obj.<name>.all()` returns them without a query, a further `.filter()`
    keeps `queryset`'s ordering and joins, and each row's foreign key to its object is cached.
    `related` rows of objects not in `objects` are ignored (internal 6)."""
    if not objects:
        return
    field = getattr(type(objects[0]), name).field  # the ForeignKey on the related model
    by_owner: dict[Any, list[Model]] = {obj.pk: [] for obj in objects}
    for row in related:
        rows = by_owner.get(getattr(row, field.attname))
        if rows is not None:
            rows.append(row)
    for obj in objects:
        rows = by_owner[obj.pk]
        for row in rows:
            field.set_cached_value(row, obj)
        manager = getattr(obj, name)
        stored = (
            manager.get_queryset() if queryset is None else manager._apply_rel_filters(queryset)
        )
        stored._result_cache = rows
        stored._prefetch_done = True
        obj.__dict__.setdefault("_prefetched_objects_cache", {})[name] = stored
