"""SQL pieces the dashboard sections share: percentiles, hours, London days and months, counts
of related rows, and the period filter."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db.models import (
    Aggregate,
    Count,
    DateTimeField,
    FloatField,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from outcomes.dashboard.scope import Scope
from pod.foundation.localtime import SERVICE_TIME_ZONE_NAME


class PercentileCont(Aggregate):
    """PostgreSQL's percentile_cont(fraction) WITHIN GROUP (ORDER BY expression): the
    `fraction` (0-1) percentile, interpolated between the two nearest values."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Any, fraction: float, **extra: Any) -> None:
        super().__init__(expression, fraction=float(fraction), **extra)


class EpochHours(Func):
    """An interval as hours (float)."""

    template = "(EXTRACT(EPOCH FROM %(expressions)s) / 3600.0)"
    output_field = FloatField()


class LondonDayStart(Func):
    """The instant London's calendar day `days` after the day of an instant begins: day 0 is
    the day of the instant itself, so `days=14` ends the first 14 calendar days."""

    # The zone name is a constant of ours, never user input, so it may sit in the SQL text.
    template = (
        f"((((%(expressions)s) AT TIME ZONE '{SERVICE_TIME_ZONE_NAME}')::date + %(days)s)"
        f"::timestamp AT TIME ZONE '{SERVICE_TIME_ZONE_NAME}')"
    )
    output_field = DateTimeField()

    def __init__(self, expression: Any, days: int) -> None:
        super().__init__(expression, days=int(days))


def count_subquery(qs: QuerySet[Any], field: str) -> Coalesce:
    """COUNT(*) of a correlated queryset grouped by `field`, as an integer expression (0 when
    no row matches)."""
    counted = qs.order_by().values(field).annotate(c=Count("*")).values("c")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def in_period(field: str, scope: Scope) -> Q:
    """`field` (an instant) falls on a London calendar day of the scope's period."""
    return Q(**{f"{field}__gte": scope.start_at, f"{field}__lt": scope.end_at})


def limited(rows: QuerySet[Any, Any], list_limit: int | None) -> QuerySet[Any, Any]:
    """The first `list_limit` rows, or all of them when it is None (the CSV download)."""
    return rows[:list_limit] if list_limit else rows


def month_key(value: datetime | date | None) -> str:
    """A month as 'YYYY-MM' ('' for None), as the trends label their rows."""
    return value.strftime("%Y-%m") if value else ""
