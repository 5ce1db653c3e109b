"""A token bucket per client, in the database, so that every web process shares it.

Chosen over Django's cache: POD configures no shared cache (the default is per process, so N
web workers would allow N times the rate), and PostgreSQL is already there. One statement per
request takes a token: `INSERT ... ON CONFLICT DO UPDATE ... WHERE <enough tokens> RETURNING`,
atomic under concurrency (the row is locked by the update). A refused request changes nothing,
so the bucket keeps refilling from its last update.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection

_TAKE = """
INSERT INTO fhir_ratebucket (key, tokens, updated_at) VALUES (%(key)s, %(burst)s - 1, %(now)s)
ON CONFLICT (key) DO UPDATE SET
    tokens = LEAST(%(burst)s, fhir_ratebucket.tokens + %(rate)s * GREATEST(0, EXTRACT(EPOCH FROM
             (EXCLUDED.updated_at - fhir_ratebucket.updated_at)))) - 1,
    updated_at = GREATEST(EXCLUDED.updated_at, fhir_ratebucket.updated_at)
WHERE LEAST(%(burst)s, fhir_ratebucket.tokens + %(rate)s * GREATEST(0, EXTRACT(EPOCH FROM
      (EXCLUDED.updated_at - fhir_ratebucket.updated_at)))) >= 1
RETURNING tokens
"""


def take_token(key: str, *, now: datetime, per_minute: float, burst: int) -> float | None:
    """Take one token from `key`'s bucket (capacity `burst`, refilled at `per_minute`).

    None when the request may go ahead; otherwise the seconds until a token is back (for
    Retry-After). One query when allowed, two when refused."""
    rate = per_minute / 60.0
    params: dict[str, str | float | datetime] = {
        "key": key,
        "burst": float(burst),
        "now": now,
        "rate": rate,
    }
    with connection.cursor() as cursor:
        cursor.execute(_TAKE, params)
        if cursor.fetchone() is not None:
            return None
        cursor.execute("SELECT tokens, updated_at FROM fhir_ratebucket WHERE key = %s", [key])
        row = cursor.fetchone()
    tokens: float = float(row[0])
    updated_at: datetime = row[1]
    elapsed = max(0.0, (now - updated_at).total_seconds())
    have = min(float(burst), tokens + rate * elapsed)
    wait: float = max(0.0, (1 - have) / rate)
    return wait
