"""Shared fixtures: one named user per role in one team, and an outsider from another team."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.cache import cache
from django.test import override_settings

from outcomes.dashboard import freshness
from tests import factories as f
from tests.audit_flush import allow_flush

allow_flush()

# Records every @pytest.mark.hazard test's outcome for the safety case (README "Clinical safety").
pytest_plugins = ["tests.hazard_plugin"]

UTC = UTC


@pytest.fixture(autouse=True, scope="session")
def _static_files_without_manifest():
    # Production names static files by their content's hash from collectstatic's manifest
    # (pod/settings.py STORAGES); the suite does not run collectstatic, so it uses the same
    # storage without the manifest. tests/pod/test_compression.py checks the manifest storage.
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
    }
    with override_settings(STORAGES=storages):
        yield


@pytest.fixture(autouse=True)
def _eager_celery(settings):
    # Tasks enqueued after commit run in-process in tests, except in the real-worker test.
    settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.fixture(autouse=True, scope="session")
def _cache_of_this_process_only():
    # Every test empties the cache (below): never a shared one that POD_CACHE_URL names.
    caches = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with override_settings(CACHES=caches):
        yield


@pytest.fixture(autouse=True)
def _cache_not_marked_down(monkeypatch):
    # outcomes/dashboard/freshness.py leaves a failed cache alone for a while, per process: a
    # test that fails it must not leave the next test without one.
    monkeypatch.setattr(freshness, "_cache_down_until", 0.0)


@pytest.fixture(autouse=True)
def _empty_cache():
    # The dashboards keep their figures in Django's cache (outcomes/dashboard/freshness.py):
    # each test starts with none kept by another.
    cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2 costs about a second per user on a busy machine; tests that check hashing can
    # override this back.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _security_defaults_for_tests(settings):
    # Tests sign in with client.force_login or a browser form; the security tests in tests/pod/
    # switch these back on to prove enforcement. Production defaults: both on.
    settings.POD_REQUIRE_2FA = False  # second factor (pod/foundation/twofactor.py)
    settings.AXES_ENABLED = False  # lockout (Django's client.login passes no request to axes)


@pytest.fixture
def trust(db):
    return f.make_trust(name="North East London NHS Foundation Trust", code="RAT")


@pytest.fixture
def team(trust):
    return f.make_team(trust, name="Crisis Resolution Team", kind="CRT")


@pytest.fixture
def other_team(db):
    return f.make_team(
        f.make_trust(name="Kent and Medway", code="RXY"), name="Kent EIP", kind="EIP"
    )


@pytest.fixture
def clinician(team):
    return f.make_user("clinician", team, username="clinician", first_name="Chris")


@pytest.fixture
def clinician2(team):
    return f.make_user("clinician", team, username="clinician2", first_name="Sam")


@pytest.fixture
def prescriber(team):
    return f.make_user("prescriber", team, username="prescriber", first_name="Priya")


@pytest.fixture
def peer_worker(team):
    return f.make_user("peer_worker", team, username="peerworker", first_name="Pat")


@pytest.fixture
def peer_volunteer(team):
    return f.make_user("peer_volunteer", team, username="volunteer", first_name="Vic")


@pytest.fixture
def manager(team):
    return f.make_user("service_manager", team, username="manager", first_name="Morgan")


@pytest.fixture
def admin_user(team):
    return f.make_user("administrator", team, username="admin", is_staff=True, is_superuser=True)


@pytest.fixture
def outsider(other_team):
    """A clinician of another team, who must be refused everything in `team`."""
    return f.make_user("clinician", other_team, username="outsider", first_name="Olly")


@pytest.fixture
def service_user(team):
    return f.make_service_user(team, given_name="Jordan", family_name="Rivers")


@pytest.fixture
def referral_at():
    return datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def episode(team, clinician, clinician2, service_user, referral_at):
    return f.make_episode(
        team=team,
        core_team=[clinician, clinician2],
        service_user=service_user,
        referral_received_at=referral_at,
    )


@pytest.fixture
def browser(monkeypatch):
    """Debian's Chromium through Playwright (see tests/browser.py)."""
    from tests.browser import launch_browser

    yield from launch_browser(monkeypatch)


# The suite runs on two processes (pytest-xdist: `-n 2 --dist loadgroup` in pyproject.toml), each
# with its own test database. Tests that share something outside that database run on one of
# them, one after another: real Celery workers and beat on the shared Redis database, a Redis of
# their own, PostgreSQL roles (the cluster's, not a database's), subprocesses of the whole app.
OUTSIDE_THE_TEST_DATABASE = {
    "tests/meetings/test_alert_delivery.py",
    "tests/meetings/test_alert_emails_killed_worker.py",
    "tests/meetings/test_broker_outage.py",
    "tests/meetings/test_meeting_messages.py",
    "tests/meetings/test_real_worker.py",
    "tests/outcomes/test_relapse_page.py",
    "tests/pod/test_beat_schedule.py",
    "tests/pod/test_broker_hang.py",
    "tests/pod/test_configuration.py",
    "tests/pod/test_database_role.py",
    "tests/pod/test_devstack.py",
    "tests/pod/test_hardening.py",
    "tests/pod/test_health_monitor.py",
    "tests/pod/test_log_privacy.py",
}


def pytest_collection_modifyitems(items):
    for item in items:
        module = item.nodeid.split("::")[0]
        if module in OUTSIDE_THE_TEST_DATABASE or item.get_closest_marker("worker"):
            item.add_marker(pytest.mark.xdist_group("outside_the_test_database"))
