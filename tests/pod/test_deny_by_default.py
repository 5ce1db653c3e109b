"""Deny by default: no route answers an anonymous visitor except the short public list."""

from __future__ import annotations

import pytest
from django.conf import settings

from tests.pod.urlwalk import build_url, routes

pytestmark = [pytest.mark.django_db, pytest.mark.hazard("HAZ-06.C1")]

# The only pages a visitor who has not signed in may open, and why.
PUBLIC = {
    "login",
    "logout",  # POST only; signs nobody out who is not signed in
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "health",  # load balancer probe: {"status": "ok"}, no data
    "health_monitor",  # monitors' probe (pod/health.py): ids, counts and ages, no personal data
    "outcomes:survey",  # the person's own experience-survey link (a random token)
    "admin:login",  # the admin's own sign-in page
    "admin:logout",
    "fhir:metadata",  # the FHIR CapabilityStatement (no data): FHIR clients read it first
    "fhir:smart_configuration",  # where to get a token (no data)
    "fhir:token",  # the OAuth token endpoint: checks the client's own credentials
}
# 401: the FHIR API refuses in FHIR (an OperationOutcome), not with a sign-in redirect.
REFUSED = {401, 403, 404, 405}


def _value(route_name: str, param: str) -> str:
    if param in ("uidb64", "token", "table", "instrument", "app_label", "model_name"):
        return "x"
    if param == "resource_type":
        return "Patient"
    if param == "job_id":
        return "0b6a2d4e-5f0a-4c2e-9a51-3e0f4c1d2b7a"
    return "1"


def _is_login_redirect(response) -> bool:
    if response.status_code != 302:
        return False
    target = response["Location"]
    return target.startswith(
        settings.LOGIN_URL if settings.LOGIN_URL.startswith("/") else "/accounts/login/"
    ) or target.startswith("/admin/login/")


def test_it_knows_every_route():
    assert len(list(routes())) > 40
    assert {"home", "health", "login"} <= {r.name for r in routes()}


def test_it_refuses_every_route_to_an_anonymous_visitor_except_the_public_ones(client):
    open_routes = []
    for route in routes():
        if route.name in PUBLIC:
            continue
        url = build_url(route, _value)
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            if not (_is_login_redirect(response) or response.status_code in REFUSED):
                open_routes.append(f"{method.upper()} {url} ({route.name}): {response.status_code}")
    assert not open_routes, "Reachable without signing in:\n" + "\n".join(open_routes)


def test_it_really_serves_the_public_pages(client):
    assert client.get("/accounts/login/").status_code == 200
    assert client.get("/health/").status_code == 200
    assert client.get("/accounts/password-reset/").status_code == 200
