"""The wrapper every API view goes through, in this order:

1. the method is one the view takes (405);
2. the client accepts FHIR JSON (406);
3. the caller authenticates: a bearer token or a staff session past the second factor (401);
4. a staff session's unsafe request carries its CSRF token (403) — a bearer token is not an
   ambient credential, so token requests need none;
5. the caller's rate-limit bucket has a token (429, with Retry-After);
6. the view runs with the caller in the audit context;
and every refusal or error on the way is an OperationOutcome. The second factor is checked here
(not by the web pages' redirecting middleware, which lets views marked `pod_checks_second_factor`
through) so that an API client gets a 401 in FHIR, not an HTML redirect.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

import pghistory
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.middleware.csrf import CsrfViewMiddleware
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from pod.fhir.auth import Caller, authenticate
from pod.fhir.rate_limit import take_token
from pod.fhir.registry import SearchError
from pod.fhir.responses import ApiError, accepts_json, error_response

Handler = Callable[..., HttpResponseBase]
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def _csrf_refused(request: HttpRequest) -> bool:
    check = CsrfViewMiddleware(lambda r: HttpResponse())
    check.process_request(request)
    return check.process_view(request, _no_view, (), {}) is not None


def _no_view(request: HttpRequest) -> HttpResponse:  # CsrfViewMiddleware reads csrf_exempt off it
    return HttpResponse()


def rate_limited(caller: Caller) -> float | None:
    """Seconds to wait when the caller's bucket is empty (pod.fhir.rate_limit), else None."""
    return take_token(
        caller.rate_key,
        now=timezone.now(),
        per_minute=settings.POD_FHIR_RATE_PER_MINUTE,
        burst=settings.POD_FHIR_RATE_BURST,
    )


def api_endpoint(
    *methods: str, public: bool = False, also_accept: frozenset[str] = frozenset()
) -> Callable[[Handler], Handler]:
    """Wrap a view `handler(request, caller, **kwargs)` (caller None when `public`);
    `also_accept`: media types the view serves besides FHIR JSON (NDJSON files)."""

    def decorator(handler: Handler) -> Handler:
        @csrf_exempt
        @wraps(handler)
        def view(request: HttpRequest, **kwargs: Any) -> HttpResponseBase:
            try:
                if request.method not in methods:
                    raise ApiError(
                        405,
                        "not-supported",
                        f"{request.method} is not allowed here.",
                        {"Allow": ", ".join(methods)},
                    )
                if not accepts_json(
                    request.META.get("HTTP_ACCEPT", ""), request.GET.get("_format"), also_accept
                ):
                    raise ApiError(
                        406, "not-supported", "POD answers in FHIR JSON (application/fhir+json)."
                    )
                if public:
                    return handler(request, None, **kwargs)
                caller = authenticate(request)
                if request.method in UNSAFE and caller.via_session and _csrf_refused(request):
                    raise ApiError(403, "forbidden", "CSRF check failed: reload the page.")
                wait = rate_limited(caller)
                if wait is not None:
                    raise ApiError(
                        429,
                        "throttled",
                        "Too many requests: slow down and try again.",
                        {"Retry-After": str(max(1, round(wait + 0.5)))},
                    )
                with pghistory.context(user=caller.user.pk):
                    return handler(request, caller, **kwargs)
            except ApiError as error:
                return error_response(error)
            except SearchError as error:
                return error_response(ApiError(400, "invalid", str(error)))
            except Http404 as error:
                return error_response(ApiError(404, "not-found", str(error) or "Not found."))
            except PermissionDenied as error:
                return error_response(ApiError(403, "forbidden", str(error) or "Forbidden."))

        view.pod_checks_second_factor = True  # type: ignore[attr-defined]
        return view

    return decorator
