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

The statements are compiled and run by pod/foundation/compiled_query.py (its docstring lists
the Django internals relied on); besides those, this module relies on:
1. `QuerySet.query` (`sql.Query`) and its `selected`, `extra_select`, `values_select` and
   `annotation_select`, read to name the columns exactly as
   `django.db.models.query.ValuesIterable.__iter__` names them.
2. `empty_result_set_value` on aggregates: the value `Query.get_aggregation` gives an
   aggregate over no rows, used for the row a `totals` query returns when it finds none.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db.models import Aggregate, QuerySet, Value

from outcomes import rules
from outcomes.dashboard.scope import Scope
from pod.foundation import compiled_query

Key = tuple[Hashable, ...]
Row = dict[str, Any]
# A values() queryset, as a section builds it: its rows are mappings from column names (the
# django-stubs plugin types many of them as TypedDicts).
ValuesQuery = QuerySet[Any, Mapping[str, Any]]

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


@dataclass(frozen=True)
class _Compiled:
    statement: compiled_query.Compiled
    names: tuple[str, ...]
    empty_row: Row


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
    # Internal 2.
    empty_row = {
        name: getattr(expr, "empty_result_set_value", None)
        for name, expr in query.annotation_select.items()
    }
    return _Compiled(compiled_query.compile_query(qs, sentinels), names, empty_row)


def _execute(compiled: _Compiled, scope: Scope) -> list[Row]:
    return [
        dict(zip(compiled.names, row, strict=True))
        for row in compiled_query.rows(compiled.statement, _derived(scope))
    ]
