"""Production settings pass `check --deploy`; CSP without inline script; no-store; no personal
data in URLs or logs."""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from pod.foundation.log_filters import RedactPersonalData, redact

ROOT = Path(__file__).resolve().parents[2]

_PRODUCTION_PROBE = """
import django, json
django.setup()
from django.conf import settings
from django.core.management import call_command
call_command("check", deploy=True, fail_level="WARNING")
print(json.dumps({k: getattr(settings, k) for k in [
    "DEBUG", "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_SECURE", "CSRF_COOKIE_SAMESITE", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS",
    "POD_REQUIRE_2FA", "AXES_ENABLED"]}))
"""


@pytest.mark.hazard("HAZ-06.C7")
def test_it_passes_check_deploy_with_production_settings():
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("POD_", "SECURE_", "SESSION_", "CSRF_", "AXES_"))
        # set by the browser tests' modules for Playwright; never in production
        and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="pod.example.nhs.uk",
        DJANGO_SETTINGS_MODULE="pod.settings",
    )
    result = subprocess.run(
        [sys.executable, "-c", _PRODUCTION_PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    production = json.loads(result.stdout.strip().splitlines()[-1])
    assert production == {
        "DEBUG": False,
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "CSRF_COOKIE_SECURE": True,
        "CSRF_COOKIE_SAMESITE": "Lax",
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "POD_REQUIRE_2FA": True,
        "AXES_ENABLED": True,
    }


@pytest.mark.django_db
def test_it_sends_a_policy_that_allows_only_our_own_scripts(client, clinician):
    client.force_login(clinician)
    policy = client.get(reverse("home"))["Content-Security-Policy"]
    directives = dict(
        (part.split()[0], part.split()[1:]) for part in policy.split(";") if part.strip()
    )
    assert directives["script-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in directives["style-src"]


def test_it_has_no_inline_script_in_any_template():
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text()
        for match in re.finditer(r"<script\b[^>]*>", text, re.I):
            tag = match.group(0)
            if "src=" not in tag and 'type="application/json"' not in tag:
                offenders.append(f"{path.relative_to(ROOT)}: {tag}")
        for match in re.finditer(r"\s(on[a-z]+)\s*=|javascript:|hx-on", text, re.I):
            offenders.append(f"{path.relative_to(ROOT)}: {match.group(0).strip()}")
    assert not offenders, "\n".join(offenders)


@pytest.mark.hazard("HAZ-06.C7")
@pytest.mark.django_db
def test_it_forbids_caching_pages(client, clinician):
    assert "no-store" in client.get(reverse("login"))["Cache-Control"]
    client.force_login(clinician)
    assert "no-store" in client.get(reverse("home"))["Cache-Control"]


def _walk(resolver, prefix="", namespace=""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or namespace
            yield from _walk(entry, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.pattern, namespace


# Route parameters that are not database ids, and why they carry no personal data.
NON_ID_PARAMETERS = {
    "uidb64",  # password reset: the account's primary key, base64 encoded
    "token",  # password reset / survey link: random or signed, means nothing by itself
    "table",  # outcomes dashboard CSV: the name of a dashboard table
    "section",  # outcomes dashboard page: the name of a section (first-meeting, medication ...)
    "instrument",  # outcomes: the name of a measure (PHQ-9, GAD-7, DIALOG)
    # The FHIR API (pod/fhir/urls.py):
    "resource_type",  # a FHIR resource type (Patient, Encounter ...)
    "resource_id",  # a FHIR id: a row's id, or change-<n> / access-<n> for AuditEvent
    "group_id",  # a Group to export: a team's id
    "job_id",  # an export's random UUID
    "output_file",  # an export's file: <Type>.ndjson
}


@pytest.mark.hazard("HAZ-10.C3")
def test_it_identifies_records_in_urls_by_id_only():
    offenders = []
    for route, pattern, namespace in _walk(get_resolver()):
        if namespace == "admin":
            continue  # Django admin: for administrators only; ids as well
        for name, converter in getattr(pattern, "converters", {}).items():
            is_int = type(converter).__name__ == "IntConverter"
            if not is_int and name not in NON_ID_PARAMETERS:
                offenders.append(f"{route}: <{name}>")
        if re.search(r"nhs|name|dob|birth|postcode|email|phone", route, re.I):
            offenders.append(route)
    assert not offenders, offenders


@pytest.mark.hazard("HAZ-10.C3")
def test_it_sends_no_personal_data_through_a_get_form():
    """A GET form puts what was typed into the URL; only searches with no personal data may."""
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        for tag in re.findall(r"<form\b[^>]*>", path.read_text(), re.I):
            if re.search(r'method=["\']?get', tag, re.I):
                offenders.append(f"{path.relative_to(ROOT)}: {tag}")
    assert not offenders, offenders


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            '"GET /network/people/4/?q=Jordan HTTP/1.1" 200',
            '"GET /network/people/4/?[query removed] HTTP/1.1" 200',
        ),
        ("Invalid NHS number 943 476 5919 for Jordan", "Invalid NHS number [number] for Jordan"),
        ("nhs_number=9434765919 refused", "nhs_number=[number] refused"),
        ("mail to jordan.rivers@example.com failed", "mail to [email] failed"),
        ("call 07700 900123 back", "call [number] back"),
        ("Episode 42 breached at 2026-03-02 09:00", "Episode 42 breached at 2026-03-02 09:00"),
    ],
)
@pytest.mark.hazard("HAZ-10.C1")
def test_it_redacts_personal_data_from_log_lines(line, expected):
    assert redact(line) == expected


@pytest.mark.hazard("HAZ-10.C1")
def test_it_attaches_the_redaction_filter_to_every_log_handler(caplog):
    assert all(
        "redact" in handler.get("filters", [])
        for handler in django_settings.LOGGING["handlers"].values()
    )
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "person %s", ("9434765919",), None)
    RedactPersonalData().filter(record)
    assert record.getMessage() == "person [number]"


PERSONAL_FIELDS = (
    "nhs_number",
    "given_name",
    "family_name",
    "date_of_birth",
    "phone",
    "email",
    "postcode",
    "address",
)


@pytest.mark.hazard("HAZ-10.C3")
@pytest.mark.django_db
def test_it_never_sends_personal_data_in_a_query_string_while_typing(client, clinician):
    client.force_login(clinician)
    page = client.get(reverse("meetings:episode_new")).content.decode()
    offenders = [
        tag
        for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", page)
        if "hx-get" in tag and re.search(r'name="({})"'.format("|".join(PERSONAL_FIELDS)), tag)
    ]
    assert not offenders, offenders
