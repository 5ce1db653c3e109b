"""Run the dashboards' queries compiled once per shape instead of rebuilt on every request.

Why: Django builds and compiles a queryset afresh on every call. For the dashboard queries that
is 1-3 ms of Python each (cloning, resolving a dozen filtered aggregates and subqueries), which
for one team at 1,000 people is several times what PostgreSQL takes to answer them
(benchmarks/dashboards/RESULTS.md). So each query is built and compiled once per shape, from a
scope of sentinel values, and afterwards only executed: the sentinels in its parameter list
are replaced by the real scope's values, and the converters Django would apply to each column
are applied.

How a section uses it:
- `rows(key, scope, build)` returns what `list(build(scope))` returns for a values()
  queryset: a list of dicts.
- `totals(key, scope, build)` returns what `queryset.aggregate(**aggregates)` returns for the
  `Totals(queryset, aggregates)` that `build(scope)` gives: one dict.
`key` names the query and holds everything else its SQL depends on (list limits, settings);
the number of teams is added to it, since `team_id IN (...)` has a parameter per team. `build`
may take from the scope only the values `_derived` lists; any other value derived from it
makes `_compile` refuse the query (RuntimeError), rather than cache a wrong statement.

`uncached()` runs the same calls as the plain ORM queries they replace.
tests/outcomes/test_query_cache.py runs every dashboard section both ways on hand-built data
and compares the results, so a Django upgrade that changes any of the internals below fails
there, loudly, instead of showing wrong figures.

The Django internals relied on (private API, checked against Django 5.2):
1. `QuerySet.query` (`sql.Query`) and its `selected`, `extra_select`, `values_select` and
   `annotation_select`, read to name the columns exactly as
   `django.db.models.query.ValuesIterable.__iter__` names them.
2. `Query.get_compiler(using)` and `SQLCompiler.as_sql()`, which returns the SQL and its
   parameters in placeholder order and raises `EmptyResultSet` for a query that can match
   nothing (an empty `team_id IN ()`).
3. That a value taken from the scope reaches `as_sql()`'s parameters unchanged: equal and of
   the same type (PostgreSQL's backend adapts datetimes, dates and integers only when it
   executes).
4. `SQLCompiler.select` and `SQLCompiler.col_count`, filled in by `as_sql()`, and
   `SQLCompiler.get_converters(expressions)`, which returns
   `{column position: (converters, expression)}`; each converter is called as
   `converter(value, expression, connection)`, as `SQLCompiler.apply_converters` does.
5. `empty_result_set_value` on aggregates: the value `Query.get_aggregation` gives an
   aggregate over no rows, used for the row a `totals` query returns when it finds none.
6. `QuerySet.db`: the database alias the queryset would run on.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Aggregate, QuerySet, Value

from outcomes import rules
from outcomes.dashboard.scope import Scope

Key = tuple[Hashable, ...]
Row = dict[str, Any]
# A values() queryset, as a section builds it: its rows are mappings from column names (the
# django-stubs plugin types many of them as TypedDicts).
ValuesQuery = QuerySet[Any, Mapping[str, Any]]
Converter = Callable[[Any, Any, Any], Any]

# The column a totals query groups by: a constant, so all rows fall into one group.
_ALL = "_all"


@dataclass(frozen=True)
class Totals:
    """An aggregate over a queryset: what `queryset.aggregate(**aggregates)` returns."""

    queryset: QuerySet[Any]
    aggregates: Mapping[str, Aggregate]


def rows(key: Key, scope: Scope, build: Callable[[Scope], ValuesQuery]) -> list[Row]:
    """The rows of the values() queryset `build(scope)`, as dicts named as values() names them."""
    if _UNCACHED.get():
        return [dict(row) for row in build(scope)]
    return _execute(_compiled(("rows", *key), scope, build), scope)


def totals(key: Key, scope: Scope, build: Callable[[Scope], Totals]) -> Row:
    """The aggregates of `build(scope)` over its queryset, as one dict (each aggregate's value
    over no rows when nothing matches: 0 for a count, None for a mean)."""
    if _UNCACHED.get():
        total = build(scope)
        return total.queryset.aggregate(**total.aggregates)

    def grouped(s: Scope) -> ValuesQuery:
        total = build(s)
        query: ValuesQuery = (
            total.queryset.order_by().values(**{_ALL: Value(1)}).annotate(**total.aggregates)
        )
        return query

    compiled = _compiled(("totals", *key), scope, grouped)
    found = _execute(compiled, scope)
    row = found[0] if found else dict(compiled.empty_row)
    row.pop(_ALL, None)
    return row


_UNCACHED: ContextVar[bool] = ContextVar("outcomes_dashboard_uncached", default=False)


@contextmanager
def uncached() -> Iterator[None]:
    """Inside this block, `rows` and `totals` run the plain ORM queries they stand for."""
    token = _UNCACHED.set(True)
    try:
        yield
    finally:
        _UNCACHED.reset(token)


# --- Compiling with sentinels ------------------------------------------------------------------


def _derived(scope: Scope) -> list[Any]:
    """Every value a dashboard query takes from its scope, in a fixed order."""
    return [
        scope.start_at,
        scope.end_at,
        scope.now,
        # meeting_figures.meetings_first_14_days: episodes whose first days have all passed.
        scope.now - timedelta(days=rules.EARLY_MEETINGS_DAYS),
        scope.start,
        scope.end,
        # outcome_figures.experience: survey responses are dated by month.
        scope.start.replace(day=1),
        *scope.team_ids,
    ]


_SENTINEL_YEARS = (1234, 1235)
_SENTINEL_TEAM = -1_000_000_001


def _sentinel_scope(teams: int) -> Scope:
    """A scope whose every value is one no real scope has, so each can be found in the
    compiled parameters."""
    return Scope(
        team_ids=tuple(_SENTINEL_TEAM - i for i in range(teams)),
        start=date(_SENTINEL_YEARS[0], 5, 6),
        end=date(_SENTINEL_YEARS[0], 8, 9),
        now=datetime(_SENTINEL_YEARS[1], 1, 2, 3, 4, 5, tzinfo=UTC),
    )


def _looks_like_sentinel(param: Any) -> bool:
    if isinstance(param, date):  # datetimes too
        return param.year in _SENTINEL_YEARS
    if isinstance(param, int) and not isinstance(param, bool):
        return param <= _SENTINEL_TEAM
    if isinstance(param, str):
        return any(f"{year}-" in param for year in _SENTINEL_YEARS)
    return False


@dataclass(frozen=True)
class _Compiled:
    sql: str | None  # None: the query can match nothing (no teams)
    params: tuple[Any, ...]
    slots: tuple[tuple[int, int], ...]  # (position in params, position in _derived)
    names: tuple[str, ...]
    converters: tuple[tuple[int, tuple[Converter, ...], Any], ...]
    empty_row: Row
    db: str


_COMPILED: dict[Key, _Compiled] = {}


def _compiled(key: Key, scope: Scope, build: Callable[[Scope], ValuesQuery]) -> _Compiled:
    shape = (*key, len(scope.team_ids))
    compiled = _COMPILED.get(shape)
    if compiled is None:
        sentinel = _sentinel_scope(len(scope.team_ids))
        compiled = _COMPILED[shape] = _compile(build(sentinel), _derived(sentinel))
    return compiled


def _compile(qs: ValuesQuery, sentinels: list[Any]) -> _Compiled:
    query = qs.query
    # Internal 1: as django.db.models.query.ValuesIterable names the columns.
    names = tuple(
        query.selected or (*query.extra_select, *query.values_select, *query.annotation_select)
    )
    # Internal 5.
    empty_row = {
        name: getattr(expr, "empty_result_set_value", None)
        for name, expr in query.annotation_select.items()
    }
    compiler = query.get_compiler(qs.db)  # internals 2 and 6
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return _Compiled(None, (), (), names, (), empty_row, qs.db)
    # Internal 3: find each sentinel among the parameters.
    slots = []
    for i, param in enumerate(params):
        for j, sentinel in enumerate(sentinels):
            if type(param) is type(sentinel) and param == sentinel:
                slots.append((i, j))
                break
    mapped = {i for i, _ in slots}
    for i, param in enumerate(params):
        if i not in mapped and _looks_like_sentinel(param):
            raise RuntimeError(f"A scope value reached the SQL transformed: {param!r}")
    # Internal 4.
    fields = [s[0] for s in compiler.select[0 : compiler.col_count]]
    converters = tuple(
        (pos, tuple(convs), expr) for pos, (convs, expr) in compiler.get_converters(fields).items()
    )
    return _Compiled(sql, tuple(params), tuple(slots), names, converters, empty_row, qs.db)


def _execute(compiled: _Compiled, scope: Scope) -> list[Row]:
    if compiled.sql is None:
        return []
    params = list(compiled.params)
    values = _derived(scope)
    for i, j in compiled.slots:
        params[i] = values[j]
    connection = connections[compiled.db]
    with connection.cursor() as cursor:
        cursor.execute(compiled.sql, params)
        fetched = cursor.fetchall()
    result = []
    for fetched_row in fetched:
        row = list(fetched_row)
        for pos, convs, expr in compiled.converters:
            value = row[pos]
            for convert in convs:
                value = convert(value, expr, connection)
            row[pos] = value
        result.append(dict(zip(compiled.names, row, strict=True)))
    return result
