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
import math
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import segno
from django.conf import settings
from django.contrib.admin import AdminSite
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django_otp import user_has_device
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from pod.foundation.emails import email_render
from pod.foundation.models import User
from pod.foundation.outbox import Recipient, message_owe

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
    """Issue a fresh set of one-time backup codes (the old ones stop working). They are shown
    once, by the caller; afterwards only their number is (never the codes, not in the admin)."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name=BACKUP_DEVICE_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


# --- Replacing or removing a second factor --------------------------------------------------
# After the password and a current code (pod.foundation.views.twofactor_manage), the session may
# enrol a new authenticator for this long.
REAUTH_SESSION_KEY = "pod_2fa_reauth_at"
REAUTH_SECONDS = 10 * 60

CHANGES = {
    "replaced": "Your POD authenticator app was replaced",
    "codes": "New POD backup codes were issued",
    "removed": "Your POD second factor was removed",
    "removed_by_admin": "An administrator removed your POD second factor",
}


def reauth_is_fresh(session, now: float) -> bool:
    """True when this session proved the password and a current code in the last
    REAUTH_SECONDS (see `REAUTH_SESSION_KEY`)."""
    at = session.get(REAUTH_SESSION_KEY)
    return isinstance(at, (int, float)) and 0 <= now - at <= REAUTH_SECONDS


def second_factor_notify(user: User, change: str) -> None:
    """Owe the account holder an email that their second factor changed (`change`, a key of
    CHANGES), in the transaction of the change (pod/foundation/outbox.py delivers it after
    commit). A user without an email address is not written to (the audit records the change
    anyway)."""
    if not user.email:
        return
    message_owe(
        kind="second_factor_changed",
        cause=f"second_factor:{user.pk}:{uuid.uuid4().hex}",
        recipient=Recipient.for_user(user),
        email=email_render("second_factor_changed", {"user": user, "change": CHANGES[change]}),
        now=timezone.now(),
    )


@transaction.atomic
def app_device_confirm(user: User, device: TOTPDevice) -> list[str]:
    """Confirm a newly scanned authenticator: the user's earlier ones stop working, and a fresh
    set of backup codes is issued (returned, to be shown once). Emails the user when an earlier
    authenticator was replaced."""
    replaced = TOTPDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = backup_codes_replace(user)
    if replaced[0]:
        second_factor_notify(user, "replaced")
    return codes


@transaction.atomic
def second_factor_remove(user: User, *, by_admin: bool = False) -> None:
    """Delete every authenticator and backup code of `user` (they enrol again at their next
    sign-in) and email them."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    second_factor_notify(user, "removed_by_admin" if by_admin else "removed")


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


@dataclass(frozen=True)
class DemoCode:
    """A demo authenticator's code as the sign-in page shows it: the code, whether it was
    already used to sign in (django-otp refuses a code of a time step already used), and in
    how many whole seconds the next code comes."""

    code: str
    used: bool
    next_in_seconds: int


def demo_code_status(username: str, *, now: float) -> DemoCode:
    """The demo code at `now` (a Unix time), and whether it is spent; DEBUG only, like
    `demo_code`. TOTPDevice.DoesNotExist for a user without a demo authenticator."""
    _refuse_outside_debug()
    device = TOTPDevice.objects.get(user__username=username, name="Demo authenticator")
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = now
    step_elapsed = (now - device.t0) % device.step
    return DemoCode(
        code=f"{totp.token():0{device.digits}d}",
        used=device.last_t >= totp.t(),
        next_in_seconds=max(1, math.ceil(device.step - step_elapsed)),
    )
