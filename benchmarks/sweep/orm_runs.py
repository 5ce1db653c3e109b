"""The sweep as POD runs it, through the ORM: its selection, its SQL and its plan, with the
broker publish it makes on commit counted rather than sent."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from unittest import mock

from django.db import connection, transaction

from meetings.sweeps import due_clocks

BATCH_SIZE = 500


@contextmanager
def counted_enqueues() -> Iterator[dict[str, int]]:
    """Replace the on-commit broker publish of `alert_raise` with a counter."""
    calls = {"n": 0}

    def fake() -> None:
        calls["n"] += 1

    with mock.patch("meetings.alerts._enqueue_delivery", fake):
        yield calls


def orm_selection(now: datetime) -> list:
    """The sweep's selection, exactly as meetings.sweeps.first_meeting_sweep writes it."""
    with transaction.atomic():
        return list(due_clocks(now=now, batch_size=BATCH_SIZE))


def explain_orm_selection(now: datetime) -> list[str]:
    with transaction.atomic():
        qs = due_clocks(now=now, batch_size=BATCH_SIZE)
        plan = qs.explain(analyze=True, costs=False, timing=False, summary=False)
        transaction.set_rollback(True)
    return plan.splitlines()


def orm_sql(now: datetime) -> tuple[str, tuple]:
    """The SQL text and parameters of the sweep's ORM selection."""
    with transaction.atomic():
        qs = due_clocks(now=now, batch_size=BATCH_SIZE)
        return qs.query.sql_with_params()


def orm_sql_raw(sql: str, params: tuple) -> list[tuple]:
    """The SQL the sweep's ORM selection sends (compiled beforehand), on a bare cursor."""
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()
