"""Security middleware: the scheme and client address behind the trusted proxies, session limits,
no-store caching, and the log of every response that shows a person's identifiable data.

Order in settings.MIDDLEWARE matters; each class says where it belongs.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import HttpRequest, HttpResponse

from pod.foundation import audit, record_targets

SESSION_LOGIN_AT = "pod_login_at"
SESSION_SEEN_AT = "pod_seen_at"
# Refresh the idle clock (and write the session) at most this often, not on every request.
SEEN_RESOLUTION_SECONDS = 60


def client_ip(request: HttpRequest) -> str | None:
    """The client's address, trusting exactly POD_TRUSTED_PROXY_COUNT proxies in front of us.

    Each proxy appends the address it was connected from to X-Forwarded-For, so with N trusted
    proxies the client is the N-th entry from the right; anything further left was supplied by
    the client and is ignored. With no trusted proxies the header is ignored altogether. Used by
    django-axes (AXES_CLIENT_IP_CALLABLE) so lockouts hit the client, not the load balancer.
    """
    remote = request.META.get("REMOTE_ADDR") or None
    count = settings.POD_TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    if len(hops) < count:
        return remote
    candidate = hops[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def _forwarded_hops(request: HttpRequest, header: str) -> list[str]:
    return [h.strip() for h in request.META.get(header, "").split(",") if h.strip()]


class TrustedProxySchemeMiddleware:
    """Believe `X-Forwarded-Proto` only from the trusted proxies (POD_TRUSTED_PROXY_COUNT).

    Django's SECURE_PROXY_SSL_HEADER believes the header from anyone who sends it, so a client
    talking plain HTTP straight to the app could claim HTTPS (and get Secure cookies and
    "https" links over plain text). Here, with N trusted proxies, the request counts as HTTPS
    only when `X-Forwarded-For` shows it came through at least N of them and the N-th value of
    `X-Forwarded-Proto` from the right (the one our outermost trusted proxy set) is "https".
    Otherwise the header is removed, so nothing later can read it. With no trusted proxies it
    is always removed. Goes first in settings.MIDDLEWARE: SecurityMiddleware's HTTPS redirect
    reads the scheme it decides.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        count = settings.POD_TRUSTED_PROXY_COUNT
        protos = _forwarded_hops(request, "HTTP_X_FORWARDED_PROTO")
        came_through = len(_forwarded_hops(request, "HTTP_X_FORWARDED_FOR")) >= count
        request.META.pop("HTTP_X_FORWARDED_PROTO", None)
        if count > 0 and came_through and protos:
            proto = (protos[-count] if len(protos) >= count else protos[0]).lower()
            if proto in ("http", "https"):
                request.META["wsgi.url_scheme"] = proto
        return self.get_response(request)


def on_user_logged_in(sender, request: HttpRequest, user, **kwargs) -> None:
    """Start both session clocks at sign-in (connected in PodConfig.ready)."""
    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session[SESSION_LOGIN_AT] = now
        request.session[SESSION_SEEN_AT] = now


class SessionLimitsMiddleware:
    """End a session after POD_SESSION_IDLE_MINUTES idle or POD_SESSION_MAX_HOURS in all.

    Goes after AuthenticationMiddleware and MessageMiddleware. The idle limit is also the session
    cookie's age (SESSION_COOKIE_AGE), so an abandoned session expires in the database too; this
    middleware makes the limit exact and adds the absolute limit, which a cookie age cannot.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            session = request.session
            login_at = session.get(SESSION_LOGIN_AT, now)
            seen_at = session.get(SESSION_SEEN_AT, now)
            idle = now - seen_at > settings.POD_SESSION_IDLE_MINUTES * 60
            too_long = now - login_at > settings.POD_SESSION_MAX_HOURS * 3600
            if idle or too_long:
                logout(request)  # flushes the server-side session
                messages.info(
                    request,
                    f"You were signed out after {settings.POD_SESSION_IDLE_MINUTES} minutes "
                    "without activity."
                    if idle
                    else "You were signed out: a session lasts at most "
                    f"{settings.POD_SESSION_MAX_HOURS} hours.",
                )
                return redirect_to_login(request.get_full_path())
            if SESSION_LOGIN_AT not in session:
                session[SESSION_LOGIN_AT] = now
            if now - seen_at >= SEEN_RESOLUTION_SECONDS or SESSION_SEEN_AT not in session:
                session[SESSION_SEEN_AT] = now  # marks the session modified: cookie and row renew
        return self.get_response(request)


class NoStoreMiddleware:
    """`Cache-Control: no-store` on every page the application renders.

    Every page behind sign-in may carry personal data, and the sign-in and survey pages cost
    nothing to re-fetch, so nothing dynamic may be kept by a browser, a shared computer's back
    button or a proxy. Static files are served by WhiteNoise before this runs and stay cacheable.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response["Cache-Control"] = "no-store, private"
        response["Pragma"] = "no-cache"
        return response


# The request attribute that carries the record a page opens from process_view to __call__.
_RECORD_TARGET = "_pod_record_target"


def record_target_known(request: HttpRequest, kind: str, object_id: int, person_id: int) -> None:
    """A view that has loaded the record its URL names (`kind` `object_id`, after its access
    check) tells the access log whose record it is, so the log need not look the person up
    again after the response (one query fewer per page). Changes nothing unless the URL's
    target is exactly that record: the row written is the same (the person, the view's name)."""
    if getattr(request, _RECORD_TARGET, None) == (kind, object_id):
        setattr(request, _RECORD_TARGET, ("person", person_id))


class RecordAccessMiddleware:
    """Log every response that shows a person's identifiable data to a signed-in user.

    Views do not each have to remember the pages of one person: a response answered 200 (GET,
    or a POST shown again with errors) whose URL names a person (`person_pk`, `person_id`) or
    something of theirs that an app registered (pod/foundation/record_targets.py: the meetings
    app registers episodes and meetings) is logged as "<view name>". Lists, lookups, exports and
    the admin name the people they show with `pod.foundation.audit.note_shown()`. After the
    response is built, on commit, everything shown is resolved to people and written as one
    RecordAccess row per person in one insert, so a page's own queries do not grow with it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        match = request.resolver_match
        if (
            match is not None
            and response.status_code == 200
            and user is not None
            and user.is_authenticated
        ):
            shown = audit.shown_on(request)
            target = getattr(request, _RECORD_TARGET, None)
            if target is not None:
                kind, object_id = target
                shown.insert(0, (kind, [object_id], match.view_name))
            if shown:
                view_name = match.view_name
                user_id = user.pk
                transaction.on_commit(
                    lambda: audit.write_accesses(user_id=user_id, view_name=view_name, shown=shown)
                )
        return response

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponse],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> None:
        match = request.resolver_match
        if match is None or match.namespace in ("security", "admin"):
            return None  # those pages log what they show themselves
        target = record_targets.target_for(match.namespace, view_kwargs)
        if target is not None:
            setattr(request, _RECORD_TARGET, target)
        return None
