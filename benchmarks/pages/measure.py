"""What each page costs: queries, bytes (raw and gzipped) and median time, through the test
client as its usual role; and a load run of some of them under gunicorn, against /health/.

The users are the dashboards' synthetic service's (benchmarks/dashboards/generate.py): team 1's
first clinician (user 1), its peer worker (13) and its service manager (18). Every page is asked
for with the second factor passed (a confirmed device recorded in the session, as after a real
sign-in), so the second-factor check costs what it costs in production.
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from benchmarks.dashboards.generate import STAFF_PER_TEAM
from benchmarks.pages.floor_urls import FLOOR_BASE, FLOOR_SIGNED_IN
from meetings.models import Episode, Meeting
from pod.foundation.localtime import LONDON
from pod.foundation.models import User

ROOT = Path(__file__).resolve().parents[2]
# POD's settings with two floor pages in the URLconf (floor_urls.py), for both the test client
# and gunicorn.
SETTINGS = "benchmarks.pages.floor_settings"
URLCONF = "benchmarks.pages.floor_urls"
CLINICIAN, PEER_WORKER, MANAGER = 1, 13, STAFF_PER_TEAM
HOST = "localhost"


@dataclass(frozen=True)
class Page:
    label: str
    role: str
    user_id: int | None  # None: anonymous
    url: str
    load: bool = False  # also in the load run


@dataclass(frozen=True)
class PageCost:
    queries: int
    raw_bytes: int
    gzip_bytes: int
    median_ms: float
    status: int


def _episode_in_team_1() -> Episode:
    """An open episode of team 1 with its meetings held (the episode page's usual case)."""
    episode = (
        Episode.objects.filter(team_id=1, first_meeting_held_at__isnull=False)
        .exclude(status=Episode.Status.CLOSED)
        .order_by("pk")
        .first()
    )
    assert episode is not None, "the benchmark data has no open episode in team 1"
    return episode


def pages() -> list[Page]:
    """Every page and export measured, with its usual role."""
    episode = _episode_in_team_1()
    meeting = Meeting.objects.filter(episode=episode, status="held").order_by("pk").first()
    assert meeting is not None
    person = episode.service_user_id
    today = timezone.now().astimezone(LONDON).date()
    year = f"start={today - timedelta(days=364)}&end={today}&team=1"
    c, p, m = "clinician", "peer worker", "service manager"
    return [
        Page("/health/", "anyone", None, reverse("health"), load=True),
        # What any signed-in page costs before it shows anything (floor_urls.py).
        Page("floor: signed in", c, CLINICIAN, FLOOR_SIGNED_IN, load=True),
        Page("floor: base template", c, CLINICIAN, FLOOR_BASE, load=True),
        Page("home", c, CLINICIAN, reverse("home"), load=True),
        Page("episode", c, CLINICIAN, reverse("meetings:episode_detail", args=[episode.pk]), True),
        Page(
            "episode timeline",
            c,
            CLINICIAN,
            reverse("meetings:episode_timeline", args=[episode.pk]),
        ),
        Page("care plan", c, CLINICIAN, reverse("meetings:care_plan", args=[episode.pk])),
        Page(
            "meeting",
            c,
            CLINICIAN,
            reverse("meetings:meeting_detail", args=[episode.pk, meeting.pk]),
        ),
        Page("person", c, CLINICIAN, reverse("people:person_detail", args=[person]), load=True),
        Page("network members", c, CLINICIAN, reverse("networks:member_list", args=[person])),
        Page("person search", c, CLINICIAN, reverse("people:person_search") + "?q=Person+1"),
        Page("home", p, PEER_WORKER, reverse("home"), load=True),
        Page("peer caseload", p, PEER_WORKER, reverse("networks:peer_caseload")),
        Page("home", m, MANAGER, reverse("home"), load=True),
        Page("follow-up list", m, MANAGER, reverse("outcomes:team_follow_up", args=[1])),
        Page("access log", c, CLINICIAN, reverse("security:access_log", args=[person])),
        Page("dashboard, team 1", m, MANAGER, reverse("outcomes:dashboard") + "?" + year),
        Page(
            "export: breaches CSV",
            m,
            MANAGER,
            reverse("outcomes:dashboard_csv", args=["breaches"]) + "?" + year,
        ),
        Page(
            "export: attendance CSV",
            m,
            MANAGER,
            reverse("outcomes:dashboard_csv", args=["attendance"]) + "?" + year,
        ),
    ]


def serving() -> override_settings:
    """The settings the test client measures under: the floor pages' URLconf, our host."""
    return override_settings(ALLOWED_HOSTS=[HOST], ROOT_URLCONF=URLCONF)


def signed_in_client(user_id: int | None) -> Client:
    """A test client signed in as `user_id` with the second factor passed (or anonymous)."""
    client = Client(SERVER_NAME=HOST)
    if user_id is None:
        return client
    user = User.objects.get(pk=user_id)
    client.force_login(user)
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, name="benchmark", defaults={"confirmed": True}
    )
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def _body(response: Any) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return bytes(response.content)


def page_cost(client: Client, url: str, *, runs: int) -> PageCost:
    """One page's cost: queries and raw bytes of one request, the bytes when the browser accepts
    gzip (what POD sends; for an uncompressed response, what gzip would make of it), and the
    median of `runs` timed requests (each read to its end)."""
    reset_queries()  # the log keeps at most 9,000 queries; the count must start from an empty one
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, secure=True)
        raw = _body(response)
    queries = len(ctx.captured_queries)  # now: the next request empties the log it reads
    zipped_response = client.get(url, secure=True, HTTP_ACCEPT_ENCODING="gzip")
    zipped = _body(zipped_response)
    if zipped_response.get("Content-Encoding") != "gzip":
        zipped = gzip.compress(zipped)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        _body(client.get(url, secure=True, HTTP_ACCEPT_ENCODING="gzip"))
        times.append((time.perf_counter() - t0) * 1000)
    return PageCost(
        queries=queries,
        raw_bytes=len(raw),
        gzip_bytes=len(zipped),
        median_ms=statistics.median(times),
        status=response.status_code,
    )


def measure_pages(all_pages: list[Page], *, runs: int) -> dict[Page, PageCost]:
    out: dict[Page, PageCost] = {}
    clients: dict[int | None, Client] = {}
    with serving():
        for page in all_pages:
            client = clients.get(page.user_id) or clients.setdefault(
                page.user_id, signed_in_client(page.user_id)
            )
            out[page] = page_cost(client, page.url, runs=runs)
            print(f"  {page.role:<16} {page.label:<24} {out[page]}")
    return out


# --- The load run -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadFigures:
    requests_per_second: float
    requests: int
    errors: int  # non-2xx answers, socket errors and timeouts
    median_ms: float


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer on port {port}")


def gunicorn_command(port: int, workers: int) -> list[str]:
    """README "Deploying": gunicorn with `workers` synchronous workers."""
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent))
    assert gunicorn, "gunicorn is not installed in this virtualenv (requirements.txt)"
    return [
        gunicorn,
        "pod.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        # Two servers in one run (--baseline) would share gunicorn's default control socket.
        "--no-control-socket",
    ]


_WRK_RATE = re.compile(r"Requests/sec:\s+([\d.]+)")
_WRK_TOTAL = re.compile(r"(\d+) requests in")
_WRK_NON2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_WRK_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_WRK_MEDIAN = re.compile(r"50%\s+([\d.]+)(us|ms|s)\b")


def wrk(url: str, cookie: str | None, *, clients: int, seconds: int) -> LoadFigures:
    """`wrk` (Debian's package) with `clients` connections for `seconds`, gzip accepted."""
    command = ["wrk", "-t", "2", "-c", str(clients), "-d", f"{seconds}s", "--latency"]
    command += ["--timeout", "30s", "-H", "Accept-Encoding: gzip"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rate = _WRK_RATE.search(out)
    total = _WRK_TOTAL.search(out)
    assert rate and total, out
    socket_errors = _WRK_ERRORS.search(out)
    errors = sum(int(n) for n in socket_errors.groups()) if socket_errors else 0
    non2xx = _WRK_NON2XX.search(out)
    errors += int(non2xx.group(1)) if non2xx else 0
    median = _WRK_MEDIAN.search(out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return LoadFigures(
        requests_per_second=float(rate.group(1)),
        requests=int(total.group(1)),
        errors=errors,
        median_ms=float(median.group(1)) * scale[median.group(2)] if median else float("nan"),
    )


def session_cookie(user_id: int | None) -> str | None:
    if user_id is None:
        return None
    client = signed_in_client(user_id)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def _serve(port: int, workers: int, tree: Path, settings_module: str) -> subprocess.Popen[bytes]:
    """gunicorn as production runs it (DEBUG off, hashed static files from collectstatic, which
    the caller has run in `tree`; the second factor required), from the code in `tree`."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings_module,
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",  # plain HTTP on the loopback; no proxy in front
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    return subprocess.Popen(gunicorn_command(port, workers), cwd=tree, env=env)


def load_run(
    all_pages: list[Page],
    *,
    workers: int,
    clients: int,
    seconds: int,
    rounds: int = 6,
    baseline: Path | None = None,
) -> dict[tuple[str, Page], LoadFigures]:
    """Start gunicorn on this tree's code (and, with `baseline`, a second gunicorn on the code
    checked out there, same database, same sessions: before and after in one run), check each
    load page answers 200 with its session, then run wrk against the pages in `rounds` rounds
    of `seconds / rounds` each, /health/ first in every round. Interleaving puts every page
    under the same share of whatever else the machine is doing (on a shared machine the load
    drifts over minutes; one page after another for a minute each compared pages under
    different loads). Each page's figures add up its rounds: requests over the seconds, errors
    summed, the median of the rounds' medians. Keys: ("this", page) and ("baseline", page);
    the floor pages exist only in this tree."""
    servers: dict[str, tuple[int, subprocess.Popen[bytes]]] = {}
    trees = [("this", ROOT, SETTINGS)]
    if baseline is not None:
        trees.append(("baseline", baseline.resolve(), "pod.settings"))
    each = max(seconds // max(rounds, 1), 1)
    runs: dict[tuple[str, Page], list[LoadFigures]] = {}
    try:
        for name, tree, settings_module in trees:
            port = _free_port()
            servers[name] = (port, _serve(port, workers, tree, settings_module))
        cookies = {}
        for name, (port, _server) in servers.items():
            _wait_for(port)
            for page in all_pages:
                if not page.load or (name == "baseline" and page.url.startswith("/bench-floor/")):
                    continue
                cookie = cookies.get(page.user_id) or cookies.setdefault(
                    page.user_id, session_cookie(page.user_id)
                )
                url = f"http://127.0.0.1:{port}{page.url}"
                headers = {"Cookie": cookie} if cookie else {}
                request = urllib.request.Request(url, headers=headers)
                with urllib.request.urlopen(request) as answer:  # a redirect (sign-in) is followed
                    if answer.status != 200 or answer.url != url:
                        raise RuntimeError(f"{page.label} ({page.role}) was not served ({name})")
                runs[(name, page)] = []
        for round_number in range(rounds):
            for name, page in runs:
                url = f"http://127.0.0.1:{servers[name][0]}{page.url}"
                runs[(name, page)].append(
                    wrk(url, cookies[page.user_id], clients=clients, seconds=each)
                )
            load_average = os.getloadavg()[0]
            print(f"  load round {round_number + 1}/{rounds} (load average {load_average:.1f})")
    finally:
        for _port, server in servers.values():
            server.send_signal(signal.SIGINT)  # quick shutdown: wrk's last requests not wanted
        for _port, server in servers.values():
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    out: dict[tuple[str, Page], LoadFigures] = {}
    for key, figures in runs.items():
        requests = sum(f.requests for f in figures)
        out[key] = LoadFigures(
            requests_per_second=requests / (each * len(figures)),
            requests=requests,
            errors=sum(f.errors for f in figures),
            median_ms=statistics.median(f.median_ms for f in figures),
        )
        print(f"  load {key[0]:<8} {key[1].role:<16} {key[1].label:<22} {out[key]}")
    return out
