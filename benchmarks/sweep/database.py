"""The benchmark's databases: created, migrated, pointed at and dropped on DATABASE_URL's server."""

from __future__ import annotations

import time
from collections.abc import Callable

import psycopg2
from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections

Log = Callable[[str], None]


def _server_connection():
    """A psycopg2 connection to the maintenance database of the server in DATABASE_URL."""
    db = settings.DATABASES["default"]
    conn = psycopg2.connect(
        dbname="postgres",
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
    )
    conn.autocommit = True
    return conn


def use_database(name: str) -> None:
    """Point Django's default connection at `name` before it queries anything.

    This is what Django's own test runner does for the test database (creation.py sets both
    `settings.DATABASES[alias]["NAME"]` and `connection.settings_dict["NAME"]`, which are the
    same dict): close the connection, rename, and the next query connects to the new database.
    """
    connections.close_all()
    settings.DATABASES["default"]["NAME"] = name
    connection.settings_dict["NAME"] = name


def recreate_database(name: str, log: Log) -> None:
    configured = settings.DATABASES["default"]["NAME"]
    if name == configured or "bench" not in name:
        raise ValueError(
            f"refusing to drop {name!r}: the benchmark database must differ from the configured "
            f"one ({configured!r}) and contain 'bench' in its name"
        )
    connections.close_all()
    conn = _server_connection()
    try:
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cur.execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()
    log(f"created database {name}")
    use_database(name)
    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    log(f"migrated in {time.perf_counter() - started:.1f} s")


def drop_database(name: str, log: Log) -> None:
    connections.close_all()
    conn = _server_connection()
    try:
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        conn.close()
    log(f"dropped database {name}")
