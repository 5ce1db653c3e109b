"""`make run` / `make test` (pod/devstack/): where the embedded PostgreSQL goes when run as
root, and what happens when DATABASE_URL names a database that does not exist yet.

PostgreSQL runs as the system user pod-postgres, which must walk down to the binaries and the
data; a checkout in a folder closed to others moves both to /var/lib/pod-devstack instead.
A missing database is created when the server lets us; otherwise, and when the server cannot be
reached, devstack stops with one line saying how to fix it."""

import os
import secrets
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg2
import pytest
from django.conf import settings
from psycopg2 import sql

from pod.devstack.common import ROOT, pick_port
from pod.devstack.database import ensure_database
from pod.devstack.postgres import outside_home, reachable_by_others


def test_a_folder_closed_to_others_is_not_reachable(tmp_path):
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o700)
    closed.chmod(0o700)
    assert not reachable_by_others(closed / "var" / "postgres")


def test_system_folders_open_to_all_are_reachable():
    # /, /usr and /usr/lib are o+x on every Debian machine; the path itself need not exist.
    assert reachable_by_others(Path("/usr/lib/pod-not-here/postgres"))


def test_each_checkout_gets_its_own_folder_under_var_lib():
    one, other = outside_home(Path("/root/pod")), outside_home(Path("/root/pod-2"))
    assert one.parent == Path("/var/lib/pod-devstack")
    assert one != other
    assert outside_home(Path("/root/pod")) == one


# --- DATABASE_URL naming a database that does not exist yet (ensure_database) -----------------
# These talk to the test server directly with psycopg2, outside Django's test database, and undo
# what they create (databases, roles) in their fixtures.


def _url_for(dbname, user=None, password=None):
    """settings.DATABASE_URL (the server under test) pointing at `dbname`, maybe as `user`."""
    url = urlsplit(settings.DATABASE_URL)
    netloc = url.netloc.rsplit("@", 1)[-1]
    if user:
        netloc = f"{quote(user)}:{quote(password)}@{netloc}"
    elif "@" in url.netloc:
        netloc = url.netloc
    return urlunsplit(url._replace(netloc=netloc, path=f"/{dbname}"))


@pytest.fixture
def server():
    """An autocommit connection to the server's maintenance database, as the test user."""
    conn = psycopg2.connect(_url_for("postgres"))
    conn.autocommit = True
    yield conn
    conn.close()


def _database_exists(server, dbname):
    with server.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname])
        return cursor.fetchone() is not None


@pytest.fixture
def fresh_name(server):
    """A database name nobody uses; the database is dropped afterwards if it was created."""
    dbname = f"pod_devstack_{secrets.token_hex(4)}"
    assert not _database_exists(server, dbname)
    yield dbname
    with server.cursor() as cursor:
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(dbname)))


@pytest.fixture
def role_without_createdb(server):
    """(name, password) of a temporary LOGIN role without CREATEDB, dropped afterwards."""
    name, password = f"pod_nocreate_{secrets.token_hex(4)}", secrets.token_hex(12)
    with server.cursor() as cursor:
        cursor.execute(
            sql.SQL("CREATE ROLE {} LOGIN NOCREATEDB PASSWORD {}").format(
                sql.Identifier(name), sql.Literal(password)
            )
        )
    yield name, password
    with server.cursor() as cursor:
        cursor.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


def _devstack_test_command(database_url):
    """`python -m pod.devstack test --version`: pytest would only print its version, so the
    run stops right after devstack has prepared (or refused) the database."""
    env = {**os.environ, "DATABASE_URL": database_url, "CELERY_BROKER_URL": "redis://127.0.0.1:1/0"}
    return subprocess.run(
        [sys.executable, "-m", "pod.devstack", "test", "--version"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_it_creates_the_database_that_database_url_names(server, fresh_name):
    result = _devstack_test_command(_url_for(fresh_name))

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"database {fresh_name} does not exist" in result.stdout
    assert _database_exists(server, fresh_name)


def test_it_leaves_an_existing_database_alone(server, fresh_name):
    ensure_database(_url_for(fresh_name))
    with closing(psycopg2.connect(_url_for(fresh_name))) as conn, conn.cursor() as cursor:
        cursor.execute("CREATE TABLE kept (id int)")
        conn.commit()

    ensure_database(_url_for(fresh_name))

    with closing(psycopg2.connect(_url_for(fresh_name))) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_class WHERE relname = 'kept'")
        assert cursor.fetchone() == (1,)


def test_an_unreachable_server_stops_with_one_line_and_no_traceback(fresh_name):
    closed_port = pick_port(0)  # free now, so nothing listens on it
    url = f"postgres://postgres@127.0.0.1:{closed_port}/{fresh_name}"

    result = _devstack_test_command(url)

    assert result.returncode != 0
    assert "Traceback" not in result.stdout + result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("devstack | cannot connect to database")
    assert f"127.0.0.1:{closed_port}" in line
    assert "check DATABASE_URL" in line


def test_an_unknown_user_stops_with_one_line(fresh_name):
    with pytest.raises(SystemExit) as stopped:
        ensure_database(
            _url_for(fresh_name, user="pod_nobody_" + secrets.token_hex(4), password="x")
        )

    message = str(stopped.value)
    assert "\n" not in message
    assert message.startswith("devstack | cannot connect to database")
    assert "does not exist" in message  # libpq: role "pod_nobody_..." does not exist


def test_a_user_who_may_not_create_it_is_told_how_to_fix_that(
    server, fresh_name, role_without_createdb
):
    role, password = role_without_createdb

    with pytest.raises(SystemExit) as stopped:
        ensure_database(_url_for(fresh_name, user=role, password=password))

    message = str(stopped.value)
    assert "\n" not in message
    host = urlsplit(settings.DATABASE_URL).hostname
    assert message.startswith(f"devstack | database {fresh_name} does not exist on {host}")
    assert f"user {role} may not create it" in message
    assert f"-O {role} {fresh_name}`" in message  # the createdb command to run
    assert not _database_exists(server, fresh_name)


def test_make_test_needs_a_user_who_may_create_the_test_database(role_without_createdb):
    role, password = role_without_createdb
    url = _url_for("postgres", user=role, password=password)  # exists; the role may connect

    ensure_database(url)  # enough for `make run`
    with pytest.raises(SystemExit) as stopped:
        ensure_database(url, for_tests=True)

    message = str(stopped.value)
    assert "\n" not in message
    assert f"user {role} may not create databases" in message
    assert f"ALTER ROLE {role} CREATEDB" in message


@pytest.mark.parametrize("url", ["sqlite:///pod.db", "postgres://127.0.0.1:5432"])
def test_a_url_that_is_not_a_postgres_database_stops_with_one_line(url):
    with pytest.raises(SystemExit) as stopped:
        ensure_database(url)

    assert str(stopped.value).startswith("devstack | DATABASE_URL ")
    assert "\n" not in str(stopped.value)


def test_a_database_that_refuses_the_user_is_not_called_missing(
    server, fresh_name, role_without_createdb
):
    role, password = role_without_createdb
    with server.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(fresh_name)))
        cursor.execute(
            sql.SQL("REVOKE CONNECT ON DATABASE {} FROM PUBLIC").format(sql.Identifier(fresh_name))
        )

    with pytest.raises(SystemExit) as stopped:
        ensure_database(_url_for(fresh_name, user=role, password=password))

    message = str(stopped.value)
    assert "\n" not in message
    assert message.startswith(f"devstack | cannot connect to database {fresh_name}")
    assert "permission denied" in message
