"""POD's URLconf with two floor pages, served only by the page-cost benchmark
(benchmarks/pages/floor_settings.py): what any signed-in page costs before it shows anything.

- `signed-in/`: a signed-in user with the second factor passed, answered "ok": every
  middleware, the session, the user and the second-factor device, and nothing else.
- `base/`: the same, rendering POD's base template (navigation, breadcrumbs, the person banner
  slot) with an empty page: what every page's frame costs.

Neither names a person, so neither writes the access log; a page that shows people adds that
write (one INSERT in its own transaction).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import path

from pod.urls import urlpatterns as pod_urlpatterns

FLOOR_SIGNED_IN = "/bench-floor/signed-in/"
FLOOR_BASE = "/bench-floor/base/"

_EMPTY_PAGE = engines["django"].from_string(
    '{% extends "base.html" %}{% block title %}Floor{% endblock %}{% block content %}{% endblock %}'
)


@login_required
def signed_in(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


@login_required
def base(request: HttpRequest) -> HttpResponse:
    return HttpResponse(_EMPTY_PAGE.render({}, request))


urlpatterns = [
    path(FLOOR_SIGNED_IN.strip("/") + "/", signed_in),
    path(FLOOR_BASE.strip("/") + "/", base),
    *pod_urlpatterns,
]
