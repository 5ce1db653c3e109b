"""Security pages: who has looked at a record; two-factor set-up and verification."""

from __future__ import annotations

from base64 import b32encode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import match_token, user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from networks.selectors import get_service_user_for_user
from pod.foundation import twofactor
from pod.foundation.access import CLINICAL_ROLES
from pod.foundation.audit_models import AuditEvent, RecordAccess
from pod.foundation.forms import SetupTokenForm, TokenForm
from pod.foundation.models import User

ACCESS_LOG_LIMIT = 200


def _get_person_for_audit(user: User, pk: int):
    """The person whose audit `user` may read: clinicians of their team, or an administrator."""
    from networks.models import ServiceUser

    if user.role == User.Role.ADMINISTRATOR:
        person = ServiceUser.objects.filter(pk=pk).select_related("team").first()
        if person is None:
            raise Http404("No such person")
        return person
    if user.role not in CLINICAL_ROLES:
        raise PermissionDenied("Only the person's clinicians can see who has looked at the record.")
    return get_service_user_for_user(user, pk)


@login_required
def access_log(request: HttpRequest, pk: int) -> HttpResponse:
    person = _get_person_for_audit(request.user, pk)
    accesses = list(
        RecordAccess.objects.filter(service_user_id=person.pk)
        .select_related("user")
        .order_by("-at", "-id")[:ACCESS_LOG_LIMIT]
    )
    changes = list(
        AuditEvent.objects.filter(table_name="networks_serviceuser", row_id=str(person.pk))
        .select_related("user")
        .order_by("-at", "-id")[:ACCESS_LOG_LIMIT]
    )
    return render(
        request,
        "pod/security/access_log.html",
        {"person": person, "accesses": accesses, "changes": changes, "limit": ACCESS_LOG_LIMIT},
    )


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
    user = request.user
    if user_has_device(user, confirmed=True) and not twofactor.is_verified(user):
        # Someone holding only the password must not enrol a second authenticator.
        return redirect("security:twofactor_verify")
    device = twofactor.app_device_for(user)
    form = SetupTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            with transaction.atomic():
                TOTPDevice.objects.filter(user=user, confirmed=True).delete()
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                codes = twofactor.backup_codes_replace(user)
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
    user = request.user
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


def _demo_code_for(user) -> str | None:
    """Demo mode only (DEBUG on, `make run`): the current code of the user's demo
    authenticator, so a newcomer can try the real two-step sign-in without a phone."""
    if not settings.DEBUG:
        return None
    from pod.foundation.twofactor import demo_code

    try:
        return demo_code(user.username)
    except TOTPDevice.DoesNotExist:
        return None


@login_required
def subject_access(request: HttpRequest, pk: int, as_json: bool = False) -> HttpResponse:
    """Everything POD holds about one person (clinicians of the team, or an administrator)."""
    from pod.foundation.audit import record_access
    from pod.subject_access import as_display, subject_access_data

    person = _get_person_for_audit(request.user, pk)
    data = subject_access_data(person)
    record_access(request, person, "export:json" if as_json else "export:html")
    if as_json:
        response = JsonResponse(data, json_dumps_params={"indent": 2, "ensure_ascii": False})
        response["Content-Disposition"] = (
            f'attachment; filename="pod-subject-access-{person.pk}.json"'
        )
        return response
    return render(
        request, "pod/security/subject_access.html", {"person": person, "data": as_display(data)}
    )
