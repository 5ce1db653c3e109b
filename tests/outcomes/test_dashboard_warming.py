"""Celery keeps the usual dashboards computed (issue 17, point 4; outcomes/dashboard/warming.py):
after a warm-up, a manager's and an administrator's default dashboards, and the trust filter,
compute no section; the warm-up renews figures older than a quarter of the window and leaves
younger ones; and a shared cache that cannot be reached costs the page its speed, not its
figures."""

import socket
import threading
import time
from datetime import timedelta

import pytest
from django.core.cache import cache, caches
from django.urls import reverse
from django.utils import timezone

from outcomes.dashboard import sections, warming
from pod.foundation.models import Team
from tests import factories as f
from tests.outcomes import builders as b

OVERVIEW = reverse("outcomes:dashboard")


@pytest.fixture
def computed(monkeypatch):
    """The names of the sections computed (not read from the cache), in order."""
    names = []
    compute = sections.section

    def counting(name, *args, **kwargs):
        names.append(name)
        return compute(name, *args, **kwargs)

    monkeypatch.setattr(sections, "section", counting)
    return names


@pytest.fixture
def hung():
    """A port that accepts connections and never answers (a hung Redis)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(50)
    held, stop = [], threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    listener.close()


@pytest.fixture
def service(team, other_team, manager, admin_user, settings):
    settings.POD_DASHBOARD_FRESH_SECONDS = 600
    b.episode(team, referral=timezone.now() - timedelta(days=3), held_after_hours=5)
    return team


def test_after_a_warm_up_the_usual_dashboards_compute_nothing(
    client, service, manager, admin_user, computed
):
    assert warming.warm_dashboards(timezone.now()) >= 3  # the manager's, the trusts', all
    assert set(computed) == set(sections.SECTION_NAMES)
    computed.clear()
    client.force_login(manager)
    assert client.get(OVERVIEW).status_code == 200
    assert client.get(reverse("outcomes:dashboard_section", args=["medication"])).status_code == 200
    client.force_login(admin_user)
    assert client.get(OVERVIEW).status_code == 200
    assert client.get(OVERVIEW, {"trust": service.trust_id}).status_code == 200
    assert computed == []


def test_without_a_warm_up_the_first_look_computes(client, service, manager, computed):
    client.force_login(manager)
    client.get(OVERVIEW)
    assert set(computed) == set(sections.SECTION_NAMES)


def test_the_usual_team_sets(service, other_team, manager):
    sets = warming.usual_team_sets()
    every = tuple(sorted(Team.objects.values_list("pk", flat=True)))
    assert every in sets  # an administrator's default
    assert (service.pk,) in sets  # the manager's own team, and its trust's share of it
    for trust_id in Team.objects.values_list("trust_id", flat=True).distinct():
        trust_teams = tuple(
            sorted(Team.objects.filter(trust_id=trust_id).values_list("pk", flat=True))
        )
        assert trust_teams in sets
    f.make_user("service_manager", other_team, username="leaver", is_active=False)  # not warmed
    assert warming.usual_team_sets() == sets


def test_it_renews_figures_older_than_a_quarter_window_and_keeps_younger(service, computed):
    now = timezone.now()
    warming.warm_dashboards(now)
    computed.clear()
    warming.warm_dashboards(now + timedelta(seconds=149))  # younger than 600 / 4 s
    assert computed == []
    warming.warm_dashboards(now + timedelta(seconds=151))
    assert set(computed) == set(sections.SECTION_NAMES)


def test_with_figures_not_kept_it_warms_nothing(service, settings, computed):
    settings.POD_DASHBOARD_FRESH_SECONDS = 0
    assert warming.warm_dashboards(timezone.now()) == 0
    assert computed == []


def test_a_cache_that_cannot_be_reached_costs_speed_not_figures(
    client, service, manager, settings, computed
):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens: refused at once
            "OPTIONS": {"socket_timeout": 0.5, "socket_connect_timeout": 0.5},
        }
    }
    client.force_login(manager)
    page = client.get(reverse("outcomes:dashboard_section", args=["first-meeting"]))
    assert page.status_code == 200
    assert page.context["tables"]["first_meeting"].rows  # the figures, computed
    assert "first_meeting" in computed
    # The warm-up fails no task either: with nowhere to keep figures it computes nothing.
    computed.clear()
    assert warming.warm_dashboards(timezone.now()) == 0
    assert computed == []


def test_a_hung_cache_costs_the_overview_one_timeout(client, service, manager, settings, hung):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{hung}/1",
            "OPTIONS": {"socket_timeout": 0.5, "socket_connect_timeout": 0.5},
        }
    }
    client.force_login(manager)
    started = time.monotonic()
    page = client.get(OVERVIEW)
    took = time.monotonic() - started
    caches["default"].close()
    assert page.status_code == 200
    # One half-second timeout, then the cache is left alone (it was 6 of them: 3 reads, 3 writes).
    assert took < 1.5, f"the overview took {took:.1f} s with the cache hung"


def test_a_second_warm_up_while_one_runs_does_nothing(service, computed):
    now = timezone.now()
    assert cache.add(warming.LOCK_KEY, "another run", timeout=60)
    assert warming.warm_dashboards(now) == 0
    assert computed == []
    cache.delete(warming.LOCK_KEY)
    assert warming.warm_dashboards(now) >= 3
    assert cache.get(warming.LOCK_KEY) is None  # released when done
