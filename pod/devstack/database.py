"""The database DATABASE_URL names: created when missing and the server lets us, or one line
saying how to fix it."""

from __future__ import annotations

import getpass
from contextlib import closing
from typing import Any

import dj_database_url
import psycopg2
from psycopg2 import errors as pg_errors
from psycopg2 import sql
from psycopg2.extensions import connection

from pod.devstack.common import fail, say


def first_line(error: Exception) -> str:
    """libpq's message on one line: 'connection to server at ... failed: FATAL: ...'."""
    lines = str(error).strip().splitlines()
    return " ".join(lines[0].split()) if lines else type(error).__name__


def _connect(params: dj_database_url.DBConfig, dbname: str) -> connection:
    """A psycopg2 connection with DATABASE_URL's credentials and libpq options, to `dbname`."""
    given = {
        "user": params["USER"], "password": params["PASSWORD"], "host": params["HOST"],
        "port": params["PORT"], "dbname": dbname,
    }  # fmt: skip
    libpq: dict[str, Any] = {"connect_timeout": 5, **params.get("OPTIONS", {})}
    libpq.update({key: value for key, value in given.items() if value})
    return psycopg2.connect(**libpq)


def ensure_database(url: str, *, for_tests: bool = False) -> None:
    """Make sure the database that `url` names exists, creating it when the server lets us.

    `url` is DATABASE_URL (postgres:// or postgresql://, dj-database-url syntax; query
    parameters such as sslmode go to libpq). When the named database accepts our connection,
    nothing more happens. Otherwise we connect with the same credentials to the server's
    maintenance database (`postgres`, else `template1`, as `createdb` does) and, if the named
    database is missing, run CREATE DATABASE. With `for_tests`, the user must also be allowed to
    create databases, because pytest-django creates test_<name>.

    Raises SystemExit (through fail(): one line saying what is wrong and how to fix it, no
    traceback) when the URL is not PostgreSQL or names no database, the server cannot be
    reached or refuses the credentials, or the user may not create a database it needs.
    """
    if url.split("://", 1)[0] not in ("postgres", "postgresql"):
        raise fail("DATABASE_URL must start with postgres:// (POD runs on PostgreSQL only)")
    params = dj_database_url.parse(url)
    name, user = params["NAME"], params["USER"] or getpass.getuser()
    if not name:
        raise fail("DATABASE_URL names no database: end it with /<name>, e.g. /pod")
    host, port = params["HOST"], params["PORT"] or 5432
    server = f"{host}:{port}" if host else f"the local socket (port {port})"
    createdb = " ".join(["createdb", *(["-h", host] if host else []), "-p", str(port)])
    try:
        with closing(_connect(params, name)) as conn, conn.cursor() as cursor:
            if for_tests:
                cursor.execute(
                    "SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user"
                )
                row = cursor.fetchone()
                if row is None or not row[0]:
                    raise fail(
                        f"user {user} may not create databases, which `make test` needs "
                        f"(pytest-django creates test_{name}): as a superuser run "
                        f"`ALTER ROLE {user} CREATEDB`, or set DATABASE_URL to a user who may"
                    )
            return
    except psycopg2.Error as error:  # the database is missing, or the server or login is wrong
        cannot_connect = fail(
            f"cannot connect to database {name} on {server} as user {user}: {first_line(error)} "
            "(check DATABASE_URL, or unset it to use the embedded PostgreSQL)"
        )
    maintenance = None
    for candidate in ("postgres", "template1"):
        try:
            maintenance = _connect(params, candidate)
            break
        except psycopg2.Error:
            continue
    if maintenance is None:
        raise cannot_connect
    with closing(maintenance):
        maintenance.autocommit = True  # CREATE DATABASE cannot run in a transaction
        with maintenance.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is not None:  # it exists but refused us (CONNECT privilege?)
                raise cannot_connect
            say(f"database {name} does not exist on {server}: creating it")
            try:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            except pg_errors.DuplicateDatabase:
                pass  # another run created it meanwhile
            except pg_errors.InsufficientPrivilege:
                raise fail(
                    f"database {name} does not exist on {server} and user {user} may not create"
                    f" it: run `{createdb} -O {user} {name}` as a user who may (or `ALTER ROLE "
                    f"{user} CREATEDB`), or set DATABASE_URL to a database that exists"
                ) from None
            except psycopg2.Error as error:
                raise fail(
                    f"cannot create database {name} on {server}: {first_line(error)}"
                ) from None
