from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from pod.foundation.models import Notification


def health(request: HttpRequest) -> JsonResponse:
    """Load-balancer health check: the app answers and the database is reachable."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


# --- Home: one small builder per role, so each role's page can grow on its own ------------------


def _home_clinical(request: HttpRequest, now) -> dict:
    from meetings import selectors

    today = selectors.day_bounds(now, 0)
    tomorrow = selectors.day_bounds(now, 1)
    return {
        "template": "pod/home.html",
        "clocks": selectors.home_open_clocks(request.user, now=now),
        "today": selectors.home_meetings(request.user, start=today[0], end=today[1]),
        "tomorrow": selectors.home_meetings(request.user, start=tomorrow[0], end=tomorrow[1]),
        "notifications": selectors.home_unread_notifications(request.user),
        "caseload": selectors.home_caseload(request.user),
    }


def _home_simple(request: HttpRequest, now) -> dict:
    """Peers, managers and administrators: unread alerts for now; their pages extend this."""
    from meetings import selectors

    return {
        "template": "pod/home_simple.html",
        "notifications": selectors.home_unread_notifications(request.user),
    }


def _home_peer(request: HttpRequest, now) -> dict:
    from networks.peer_views import peer_home_builder

    return peer_home_builder(request, now)


# Role -> builder. Other work adds its own (manager dashboard) here.
HOME_BUILDERS = {
    "clinician": _home_clinical,
    "prescriber": _home_clinical,
    "peer_worker": _home_peer,
    "peer_volunteer": _home_peer,
}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    builder = HOME_BUILDERS.get(request.user.role, _home_simple)
    context = builder(request, timezone.now())
    return render(request, context.pop("template"), context)


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one of the user's own notifications read (someone else's: 404)."""
    updated = Notification.objects.filter(pk=pk, user=request.user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    if not updated and not Notification.objects.filter(pk=pk, user=request.user).exists():
        raise Http404("No such notification")
    messages.success(request, "Alert marked as read.")
    return redirect("home")
