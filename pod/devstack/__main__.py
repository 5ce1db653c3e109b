"""`python -m pod.devstack run | test [pytest args]`: the two commands (package docstring)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack

from pod.demo import DEMO_LOGINS, DEMO_PASSWORD
from pod.devstack.backing import start_backing_services
from pod.devstack.common import PYTHON, ROOT, port_answers, say
from pod.devstack.supervisor import Supervisor

# django-celery-beat's DatabaseScheduler, synchronised with settings.CELERY_BEAT_SCHEDULE.
BEAT_SCHEDULER = "pod.beat_schedule:SynchronisedScheduler"


class Stop(Exception):
    """Raised from the SIGINT/SIGTERM handler so that every clean-up step still runs."""


def _raise_stop(signum: int, _frame: object) -> None:
    raise Stop(signal.Signals(signum).name)


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


def run_environment(env: dict[str, str]) -> int:
    """Fill in `make run`'s defaults in `env` (development mode, a throwaway SECRET_KEY, links
    in emails pointing at this server's port) and return the web server's port (POD_PORT)."""
    port = int(env.get("POD_PORT", "8000"))
    env.setdefault("DEBUG", "1")
    env.setdefault("SECRET_KEY", "insecure-development-key-devstack")
    env.setdefault("SITE_URL", f"http://127.0.0.1:{port}")
    return port


def command_run(stack: ExitStack, env: dict[str, str]) -> int:
    port = run_environment(env)
    services = start_backing_services(stack, env, mode="run")
    manage(env, "migrate", "--noinput")
    # As in production (README "Deploying"): hashed names and a manifest in var/staticfiles. In
    # DEBUG the pages still link the unhashed names, served straight from static/.
    manage(env, "collectstatic", "--noinput", "--verbosity", "0")
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
