"""Second factor for every member of staff: an authenticator app (TOTP) or a one-time backup code.

1. The password sign-in is unchanged (LoginView, guarded by django-axes).
2. `TwoFactorMiddleware` then holds every page back until the session is verified: staff with
   no confirmed authenticator go to set-up (QR code drawn here with segno, no outside service),
   the others to the verify page. Only the pages that must work before that are exempt.
3. The admin is behind the same middleware, and `PodAdminSite` refuses an unverified session
   by itself too (django_otp's OTPAdminSite, but following POD_REQUIRE_2FA).

Demo mode (`make run`): `demo_devices_create()` gives each demo user an authenticator whose key
is derived from their username, so one phone enrolment survives a data reset, and
`manage.py demo_otp <username>` prints the current code. Both refuse unless DEBUG is on.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable

import segno
from django.conf import settings
from django.contrib.admin import AdminSite
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils.http import urlencode
from django_otp import user_has_device
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from pod.foundation.models import User

# Pages a signed-in but unverified session may still open.
EXEMPT_VIEW_NAMES = {
    "login",
    "logout",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "health",
    "security:twofactor_setup",
    "security:twofactor_verify",
    "outcomes:survey",
}
BACKUP_CODE_COUNT = 10
APP_DEVICE_NAME = "Authenticator app"
BACKUP_DEVICE_NAME = "Backup codes"


def is_verified(user) -> bool:
    return bool(getattr(user, "is_verified", None) and user.is_verified())


def needs_second_factor(user) -> bool:
    return bool(settings.POD_REQUIRE_2FA and user.is_authenticated and not is_verified(user))


class TwoFactorMiddleware:
    """Goes after django_otp.middleware.OTPMiddleware and the session limits."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and needs_second_factor(user) and not _is_exempt(request):
            target = (
                "security:twofactor_verify"
                if user_has_device(user, confirmed=True)
                else "security:twofactor_setup"
            )
            url = reverse(target)
            if request.method == "GET":
                url += "?" + urlencode({"next": request.get_full_path()})
            return redirect(url)
        return self.get_response(request)


def _is_exempt(request: HttpRequest) -> bool:
    if request.path_info.startswith("/" + settings.STATIC_URL.lstrip("/")):
        return True
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return True  # a 404 reveals nothing
    # A view that checks the second factor itself and refuses in its own format (the FHIR
    # API answers 401 with an OperationOutcome, not a redirect to an HTML page).
    if getattr(match.func, "pod_checks_second_factor", False):
        return True
    return match.view_name in EXEMPT_VIEW_NAMES


class PodAdminSite(AdminSite):
    """The admin refuses a session that has not passed the second factor."""

    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and not needs_second_factor(request.user)


# --- Devices ---------------------------------------------------------------------------------
def app_device_for(user) -> TOTPDevice:
    """The user's unconfirmed authenticator waiting for set-up (one, reused across reloads)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)
    return device


def qr_data_uri(text: str) -> str:
    return segno.make(text, error="m").svg_data_uri(scale=5, border=2)


def backup_codes_replace(user) -> list[str]:
    """Issue a fresh set of one-time backup codes (the old ones stop working)."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name=BACKUP_DEVICE_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


def demo_key(username: str) -> str:
    """A stable 20-byte TOTP key for a demo user (hex), derived from the username."""
    return hashlib.sha256(f"pod-demo-totp:{username}".encode()).hexdigest()[:40]


def _refuse_outside_debug() -> None:
    if not settings.DEBUG:
        raise ImproperlyConfigured("Demo authenticators exist only with DEBUG on.")


def demo_devices_create(users: Iterable | None = None) -> int:
    """Give each demo user a confirmed authenticator with a username-derived key. Idempotent."""
    _refuse_outside_debug()
    made = 0
    for user in users if users is not None else User.objects.all():
        key = demo_key(user.username)
        device = TOTPDevice.objects.filter(user=user, name="Demo authenticator").first()
        if device is None:
            TOTPDevice.objects.create(user=user, name="Demo authenticator", key=key, confirmed=True)
            made += 1
        elif device.key != key:
            device.key = key
            device.save(update_fields=["key"])
    return made


def demo_code(username: str) -> str:
    """The current code of a demo user's authenticator (for `manage.py demo_otp`)."""
    _refuse_outside_debug()
    device = TOTPDevice.objects.get(user__username=username, name="Demo authenticator")
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():0{device.digits}d}"
