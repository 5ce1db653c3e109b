"""The benchmarks' synthetic service still loads, and every page the page-cost benchmark measures
still answers its usual role with 200, on the schema as it is now.

benchmarks/dashboards/generate.py writes its rows in bulk SQL with every column named, so a new
NOT NULL column (meetings 0012's `arranged_in_advance`, say) breaks it without any other test
noticing: the benchmark then fails for whoever reruns it. This test fills a small service
(inside the test's transaction, which is rolled back) and walks benchmarks/pages' page list.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection, transaction

from benchmarks.dashboards import generate, run
from benchmarks.pages import measure


@pytest.fixture
def _sequences_kept() -> Iterator[None]:
    """The generator sets each table's id sequence past its own rows, and sequences are not
    rolled back with the transaction: put them back where they were, so later tests in this
    process never get an id a migration's row already has."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'"
        )
        before = cursor.fetchall()
    yield
    with connection.cursor() as cursor:
        for name, last_value in before:
            if last_value is None:  # never used: the next value is the sequence's start
                cursor.execute("SELECT setval(%s, 1, false)", [name])
            else:
                cursor.execute("SELECT setval(%s, %s, true)", [name, last_value])


@pytest.mark.django_db
def test_the_synthetic_service_loads_and_every_measured_page_answers(_sequences_kept, settings):
    settings.POD_REQUIRE_2FA = True  # as measured: the second factor passed, not switched off
    with (
        transaction.atomic()
    ):  # a savepoint: a failed fill leaves the fixture's teardown able to run
        counts = generate.fill(
            connection, people=1_000, now=run.utc_now_minute(), log=lambda _: None
        )
    assert counts["networks_serviceuser"] == 1_000
    assert counts["meetings_meeting"] == 1_000 * generate.MEETINGS_PER_EPISODE

    pages = measure.pages()
    assert {p.role for p in pages} >= {"clinician", "peer worker", "service manager"}
    with measure.serving():
        clients = {}
        for page in pages:
            client = clients.get(page.user_id) or clients.setdefault(
                page.user_id, measure.signed_in_client(page.user_id)
            )
            cost = measure.page_cost(client, page.url, runs=1)
            assert cost.status == 200, f"{page.label} as {page.role}: {cost.status}"
            assert cost.queries > 0 or page.user_id is None, page.label
