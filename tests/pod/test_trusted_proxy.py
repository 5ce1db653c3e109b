"""X-Forwarded-Proto is believed only through the trusted proxies (POD_TRUSTED_PROXY_COUNT)."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from pod.foundation.middleware import TrustedProxySchemeMiddleware

pytestmark = pytest.mark.hazard("HAZ-06.C15")


def _scheme(**meta) -> tuple[str, str | None]:
    seen = {}

    def view(request):
        seen["scheme"] = request.scheme
        seen["header"] = request.META.get("HTTP_X_FORWARDED_PROTO")
        return HttpResponse()

    TrustedProxySchemeMiddleware(view)(RequestFactory().get("/", **meta))
    return seen["scheme"], seen["header"]


def test_a_client_supplied_header_is_ignored_without_trusted_proxies(settings):
    settings.POD_TRUSTED_PROXY_COUNT = 0
    assert _scheme(HTTP_X_FORWARDED_PROTO="https") == ("http", None)


def test_the_header_is_believed_through_the_trusted_proxy(settings):
    settings.POD_TRUSTED_PROXY_COUNT = 1
    meta = {"HTTP_X_FORWARDED_PROTO": "https", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}
    assert _scheme(**meta) == ("https", None)


def test_a_request_that_did_not_come_through_the_proxies_is_not_believed(settings):
    settings.POD_TRUSTED_PROXY_COUNT = 2
    # One hop only: the client reached the inner proxy (or the app) directly.
    meta = {"HTTP_X_FORWARDED_PROTO": "https", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}
    assert _scheme(**meta) == ("http", None)


def test_with_two_proxies_the_value_set_by_the_outer_one_counts(settings):
    settings.POD_TRUSTED_PROXY_COUNT = 2
    xff = "198.51.100.1, 203.0.113.9, 10.0.0.2"
    # The client sent "https" itself; the outer proxy appended what it saw: http.
    meta = {"HTTP_X_FORWARDED_PROTO": "https, http, http", "HTTP_X_FORWARDED_FOR": xff}
    assert _scheme(**meta)[0] == "http"
    meta["HTTP_X_FORWARDED_PROTO"] = "http, https, https"
    assert _scheme(**meta)[0] == "https"


@pytest.mark.django_db
def test_the_whole_stack_redirects_a_forged_https_claim(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.POD_TRUSTED_PROXY_COUNT = 0
    response = client.get("/health/", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 301 and response["Location"].startswith("https://")
    settings.POD_TRUSTED_PROXY_COUNT = 1
    response = client.get(
        "/health/", HTTP_X_FORWARDED_PROTO="https", HTTP_X_FORWARDED_FOR="203.0.113.9"
    )
    assert response.status_code == 200
