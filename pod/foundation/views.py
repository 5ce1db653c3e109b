"""Pages of the foundation: the second factor (set-up and verification) and marking one's own
notification read. The pages about a person's record are in pod/records (they gather every app's
data)."""

from __future__ import annotations

import time
from base64 import b32encode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp import match_token, user_has_device
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from pod.foundation import twofactor
from pod.foundation.access import request_user
from pod.foundation.forms import ReauthForm, SetupTokenForm, TokenForm
from pod.foundation.models import Notification


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one of the user's own notifications read (someone else's: 404)."""
    user = request_user(request)
    updated = Notification.objects.filter(pk=pk, user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    if not updated and not Notification.objects.filter(pk=pk, user=user).exists():
        raise Http404("No such notification")
    messages.success(request, "Alert marked as read.")
    return redirect("home")


# --- Second factor ----------------------------------------------------------------------------


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return settings.LOGIN_REDIRECT_URL


@login_required
@require_http_methods(["GET", "POST"])
def twofactor_setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: scan the QR code, confirm with a code, get backup codes."""
    user = request_user(request)
    if user_has_device(user, confirmed=True):
        if not twofactor.is_verified(user):
            # Someone holding only the password must not enrol a second authenticator.
            return redirect("security:twofactor_verify")
        if not twofactor.reauth_is_fresh(request.session, time.time()):
            # Nor may a signed-in session replace it without the password and a current code
            # (a stolen session would otherwise become a permanent takeover).
            messages.info(request, "To replace your authenticator, confirm it is you first.")
            return redirect("security:twofactor_manage")
    device = twofactor.app_device_for(user)
    form = SetupTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            codes = twofactor.app_device_confirm(user, device)
            request.session.pop(twofactor.REAUTH_SESSION_KEY, None)
            otp_login(request, device)
            return render(
                request,
                "pod/security/backup_codes.html",
                {"codes": codes, "next": _safe_next(request)},
            )
        form.add_error(
            "token",
            "That code did not match. Check that your phone's clock is right and type the "
            "newest code.",
        )
    return render(
        request,
        "pod/security/twofactor_setup.html",
        {
            "form": form,
            "qr": twofactor.qr_data_uri(device.config_url),
            "secret": b32encode(device.bin_key).decode(),
            "next": _safe_next(request),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def twofactor_verify(request: HttpRequest) -> HttpResponse:
    """The second step of signing in: a code from the app, or a backup code (used once)."""
    user = request_user(request)
    if not user_has_device(user, confirmed=True):
        return redirect("security:twofactor_setup")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(user, form.cleaned_data["token"])
        if device is not None:
            otp_login(request, device)
            request.session.cycle_key()  # a new session id once fully signed in
            return redirect(_safe_next(request))
        form.add_error(
            "token",
            "That code did not match. Type the newest code from your app, or a backup code. "
            "Repeated wrong codes make you wait longer between tries.",
        )
    return render(
        request,
        "pod/security/twofactor_verify.html",
        {"form": form, "next": _safe_next(request), "demo_code": _demo_code_for(user)},
    )


def _demo_code_for(user) -> twofactor.DemoCode | None:
    """Demo mode only (DEBUG on, `make run`): the current code of the user's demo
    authenticator, so a newcomer can try the real two-step sign-in without a phone; when that
    code was already used (signing in twice within one 30-second step), the page says when the
    next one comes instead of offering a code that would be refused."""
    if not settings.DEBUG:
        return None
    try:
        return twofactor.demo_code_status(user.username, now=time.time())
    except TOTPDevice.DoesNotExist:
        return None


@login_required
@require_http_methods(["GET", "POST"])
def twofactor_manage(request: HttpRequest) -> HttpResponse:
    """The user's own second factor: what is set up (never the key or the codes), and replacing
    or removing it - each only with the password and a current code, and each emailed to them."""
    user = request_user(request)
    form = ReauthForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        action = form.cleaned_data["action"]
        # authenticate() goes through django-axes: wrong passwords here count towards lockout.
        password_ok = (
            authenticate(
                request, username=user.get_username(), password=form.cleaned_data["password"]
            )
            == user
        )
        device = match_token(user, form.cleaned_data["token"]) if password_ok else None
        if device is None:
            form.add_error(
                None,
                "The password or the code did not match. Nothing was changed.",
            )
        elif action == "replace":
            request.session[twofactor.REAUTH_SESSION_KEY] = time.time()
            return redirect("security:twofactor_setup")
        elif action == "codes":
            with transaction.atomic():
                codes = twofactor.backup_codes_replace(user)
                twofactor.second_factor_notify(user, "codes")
            return render(
                request,
                "pod/security/backup_codes.html",
                {"codes": codes, "next": reverse("security:twofactor_manage"), "renewed": True},
            )
        else:
            twofactor.second_factor_remove(user)
            messages.success(
                request, "Your second factor is removed. Set up a new one to carry on."
            )
            return redirect("security:twofactor_setup")
    return render(
        request,
        "pod/security/twofactor_manage.html",
        {
            "form": form,
            "apps": TOTPDevice.objects.filter(user=user, confirmed=True).order_by("created_at"),
            "unused_codes": StaticToken.objects.filter(device__user=user).count(),
        },
    )
