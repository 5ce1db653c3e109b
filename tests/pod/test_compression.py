"""Issue 17, point 2: pages are gzipped (with Django's BREACH mitigations), and static files get
content-hashed names that WhiteNoise serves with a long cache lifetime."""

from __future__ import annotations

import gzip
import importlib
import re

import pytest
from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.management import call_command
from django.http import HttpResponse
from django.templatetags.static import static
from django.test import RequestFactory, override_settings
from django.urls import reverse
from whitenoise.middleware import WhiteNoiseMiddleware

CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.mark.django_db
def test_pages_are_gzipped_for_a_browser_that_accepts_it(client, clinician):
    client.force_login(clinician)
    plain = client.get(reverse("home"))
    zipped = client.get(reverse("home"), HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert "Content-Encoding" not in plain
    assert zipped["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped["Vary"]
    unmasked = [CSRF.sub(b"", body) for body in (gzip.decompress(zipped.content), plain.content)]
    assert unmasked[0] == unmasked[1]
    assert len(zipped.content) < len(plain.content) / 2
    # Still never stored by a browser or proxy (pod.foundation.middleware.NoStoreMiddleware).
    assert "no-store" in zipped["Cache-Control"]


@pytest.mark.django_db
def test_breach_mitigations_csrf_token_masked_afresh_and_length_padded(client, clinician):
    """The only long-lived secret in a page's body, the CSRF token, is masked differently in
    every response, and Django pads each gzipped response with random bytes, so the length of
    a compressed page does not tell an attacker whether a guess matched."""
    client.force_login(clinician)
    url = reverse("security:twofactor_manage")
    bodies = [client.get(url).content for _ in range(2)]
    tokens = [CSRF.search(body).group(1) for body in bodies]
    assert tokens[0] != tokens[1]
    lengths = {len(client.get(url, HTTP_ACCEPT_ENCODING="gzip").content) for _ in range(8)}
    assert len(lengths) > 1


def test_production_static_storage_is_hashed_manifest():
    # The suite swaps in the storage without a manifest (tests/conftest.py); production's:
    production = importlib.import_module("pod.settings")
    assert production.STORAGES["staticfiles"]["BACKEND"] == "pod.static_storage.HashedStaticStorage"


def test_collectstatic_hashes_names_and_whitenoise_caches_them_for_a_year(tmp_path):
    """`collectstatic` with production's storage works on the vendored files (their source-map
    comments point at maps that are not shipped), pages link the hashed names, and WhiteNoise
    serves those as immutable for a year (and anything unhashed for a minute)."""
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "pod.static_storage.HashedStaticStorage"},
    }
    with override_settings(STORAGES=storages, STATIC_ROOT=tmp_path, DEBUG=False):
        call_command("collectstatic", interactive=False, verbosity=0)
        url = static("css/pod.css")
        assert re.fullmatch(r"/static/css/pod\.[0-9a-f]{12}\.css", url), url
        assert (tmp_path / url.removeprefix("/static/")).exists()
        assert staticfiles_storage.url("vendor/bootstrap/bootstrap.min.css") != (
            "/static/vendor/bootstrap/bootstrap.min.css"
        )
        whitenoise = WhiteNoiseMiddleware(lambda request: HttpResponse("page"))
        hashed = whitenoise(RequestFactory().get(url, HTTP_ACCEPT_ENCODING="gzip"))
        assert hashed.status_code == 200
        assert "immutable" in hashed["Cache-Control"]
        assert "max-age=315360000" in hashed["Cache-Control"]
        assert hashed["Content-Encoding"] == "gzip"  # precompressed by collectstatic
        unhashed = whitenoise(RequestFactory().get("/static/css/pod.css"))
        assert "immutable" not in unhashed.get("Cache-Control", "")
