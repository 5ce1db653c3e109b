"""A bad configuration value stops start-up with a message naming the variable."""

import os
import subprocess
import sys

import pytest

BASE_ENV = {k: v for k, v in os.environ.items() if not k.startswith("POD_")}
REDIS = "redis://127.0.0.1:6379/9"


def start_django(**env):
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={**BASE_ENV, "DJANGO_SETTINGS_MODULE": "pod.settings", "SECRET_KEY": "k" * 50, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "variable,value",
    [
        ("POD_FIRST_MEETING_HOURS", "twenty-four"),
        ("POD_MEETINGS_BEFORE_MEDICATION", "-1"),
        ("DEBUG", "maybe"),
        ("DATABASE_URL", "mysql://localhost/pod"),
        ("CELERY_BROKER_URL", "amqp://localhost"),
        ("EMAIL_PORT", "smtp"),
        ("POD_CACHE_URL", "memcached://localhost:11211"),
    ],
)
def test_it_refuses_a_bad_value_naming_the_variable(variable, value):
    result = start_django(**{variable: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and variable in result.stderr


@pytest.mark.hazard("HAZ-06.C7")
def test_it_refuses_to_run_in_production_without_a_secret_key():
    env = {k: v for k, v in BASE_ENV.items() if k not in ("SECRET_KEY", "DEBUG")}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={**env, "DJANGO_SETTINGS_MODULE": "pod.settings", "DEBUG": "0"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


def test_it_starts_with_good_values():
    result = start_django(POD_FIRST_MEETING_HOURS="24", POD_AT_RISK_LEAD_HOURS="2")
    assert result.returncode == 0, result.stderr


def _settings_shown(expression: str, **env: str) -> str:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import django; django.setup(); from django.conf import settings as s; "
            f"print({expression})",
        ],
        env={**BASE_ENV, "DJANGO_SETTINGS_MODULE": "pod.settings", "SECRET_KEY": "k" * 50, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_a_cache_url_shares_django_s_cache_through_redis_under_the_databases_name():
    backend = "(s.CACHES['default']['BACKEND'], s.CACHES['default'].get('KEY_PREFIX'))"
    url = REDIS
    shared = _settings_shown(backend, POD_CACHE_URL=url, DATABASE_URL="postgres://h/pod_a")
    assert shared == "('django.core.cache.backends.redis.RedisCache', 'pod:pod_a')"
    assert "LocMemCache" in _settings_shown(backend)


@pytest.mark.parametrize(
    "env,entry",
    [
        ({"POD_CACHE_URL": REDIS}, "(300.0, {'expire_seconds': 300})"),
        (
            {"POD_CACHE_URL": REDIS, "POD_DASHBOARD_FRESH_SECONDS": "240"},
            "(120.0, {'expire_seconds': 120})",
        ),
        # A window under 2 minutes, figures not kept, or no shared cache: no warm-up.
        (
            {"POD_CACHE_URL": REDIS, "POD_DASHBOARD_FRESH_SECONDS": "60"},
            "None",
        ),
        ({"POD_CACHE_URL": REDIS, "POD_DASHBOARD_FRESH_SECONDS": "0"}, "None"),
        ({}, "None"),
    ],
)
def test_the_dashboards_are_warmed_every_half_window_only_with_a_shared_cache(env, entry):
    shown = _settings_shown(
        "(lambda e: e and (e['schedule'], e['options']))"
        "(s.CELERY_BEAT_SCHEDULE.get('warm-dashboards'))",
        **env,
    )
    assert shown == entry
