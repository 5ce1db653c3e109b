"""A database failover or restart between two requests costs no one their work.

The web process keeps its database connection between requests (CONN_MAX_AGE). When PostgreSQL
drops it (a failover, a restart, an idle timeout), the next request must reconnect rather than
fail: settings turn on Django's connection health checks. The requests here go through Django's
real WSGI handler, which (unlike the test client) checks connections at each request's start,
as gunicorn's workers do."""

from __future__ import annotations

import re
from http.cookies import SimpleCookie

import psycopg2
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.test import RequestFactory

from meetings.models import Episode
from tests import factories as f


class Browser:
    """Cookies and WSGI calls, nothing else."""

    def __init__(self, cookies: dict[str, str]) -> None:
        self.cookies = dict(cookies)
        self.handler = WSGIHandler()

    def request(self, method: str, path: str, data=None) -> tuple[str, dict, str]:
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        factory = RequestFactory()
        build = factory.post if method == "POST" else factory.get
        environ = build(path, data or {}, HTTP_COOKIE=cookie).environ
        captured: dict = {}

        def start_response(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers

        result = self.handler(environ, start_response)
        try:
            body = b"".join(result).decode()
        finally:
            result.close()  # request_finished, as a WSGI server sends it
        for name, value in captured["headers"]:
            if name.lower() == "set-cookie":
                for key, morsel in SimpleCookie(value).items():
                    self.cookies[key] = morsel.value
        return captured["status"], dict(captured["headers"]), body


def hidden_inputs(page: str) -> dict[str, str]:
    fields = {}
    for tag in re.findall(r"<input[^>]*type=\"hidden\"[^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name:
            fields[name.group(1)] = value.group(1) if value else ""
    return fields


def terminate_other_backends() -> int:
    """What a failover does to the web process's connection: PostgreSQL ends it."""
    params = connection.get_connection_params()
    other = psycopg2.connect(**{k: v for k, v in params.items() if k != "options"})
    other.autocommit = True
    try:
        with other.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            return cursor.fetchone()[0]
    finally:
        other.close()


@pytest.mark.django_db(transaction=True)
def test_a_referral_submitted_after_the_database_dropped_every_connection_is_saved(
    client, team, clinician, clinician2
):
    client.force_login(clinician)
    browser = Browser({"sessionid": client.cookies["sessionid"].value})
    status, _, page = browser.request("GET", "/episodes/new/")
    assert status.startswith("200")
    assert connection.connection is not None  # kept for the next request (CONN_MAX_AGE)

    assert terminate_other_backends() >= 1

    data = {
        **hidden_inputs(page),
        "nhs_number": f.valid_nhs_number(),
        "given_name": "Robin",
        "family_name": "Ashby",
        "date_of_birth": "1999-01-02",
        "team": team.pk,
        "referral_source": "gp",
        "triage_category": "C",
        "reason": "Not sleeping, frightened.",
        "referral_received_at": "2026-03-02T09:00",
        "core_team": [clinician.pk, clinician2.pk],
    }
    status, headers, body = browser.request("POST", "/episodes/new/", data)
    assert status.startswith("302"), body[:2000]
    episode = Episode.objects.get()
    assert headers["Location"] == f"/episodes/{episode.pk}/"
    assert episode.service_user.given_name == "Robin"
