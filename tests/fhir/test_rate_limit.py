"""The rate limit: a token bucket per client in the database (pod.fhir.rate_limit)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pod.fhir.rate_limit import take_token

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_a_bucket_allows_its_burst_then_refills_at_its_rate():
    for _ in range(3):
        assert take_token("client:1", now=T0, per_minute=60, burst=3) is None
    wait = take_token("client:1", now=T0, per_minute=60, burst=3)
    assert wait == pytest.approx(1.0)
    assert take_token("client:1", now=T0 + timedelta(milliseconds=500), per_minute=60, burst=3)
    assert take_token("client:1", now=T0 + timedelta(seconds=1), per_minute=60, burst=3) is None
    # It never holds more than its burst, however long it rests.
    later = T0 + timedelta(hours=1)
    assert [
        take_token("client:1", now=later, per_minute=60, burst=3) is None for _ in range(4)
    ] == [
        True,
        True,
        True,
        False,
    ]


def test_buckets_are_per_client():
    assert take_token("client:1", now=T0, per_minute=60, burst=1) is None
    assert take_token("client:1", now=T0, per_minute=60, burst=1) is not None
    assert take_token("client:2", now=T0, per_minute=60, burst=1) is None


def test_the_api_answers_429_with_retry_after_once_the_bucket_is_empty(
    client, settings, machine, team
):
    settings.POD_FHIR_RATE_BURST = 3
    settings.POD_FHIR_RATE_PER_MINUTE = 1
    first = machine("clinician", [team])
    statuses = [client.get("/fhir/Organization", **first).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = client.get("/fhir/Organization", **first)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert refused.json()["issue"][0]["code"] == "throttled"
    # Another client has its own bucket.
    assert client.get("/fhir/Organization", **machine("clinician", [team])).status_code == 200
