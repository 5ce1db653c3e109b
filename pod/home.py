"""The home page and the health check: the project's own pages, which belong to no one app.

The home page composes the apps: one small builder per role, so each role's page can grow on
its own (the clinician's clocks, meetings and caseload come from meetings, the peer's caseload
from networks). Project wiring, free to import every app (README "Architecture").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from meetings import review_selectors
from meetings import selectors as meeting_selectors
from meetings.models import Meeting
from networks.peer_views import peer_home_builder
from pod.foundation.access import request_user
from pod.foundation.audit import note_shown
from pod.foundation.models import Notification, User
from pod.foundation.paging import bounded_compiled
from pod.foundation.selectors import unread_alerts_page


def health(request: HttpRequest) -> JsonResponse:
    """Load-balancer health check: the app answers and the database is reachable."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def _note_alerts(request: HttpRequest, notifications: Iterable[Notification]) -> None:
    """The alerts list names each alert's person: the access log records that it was shown."""
    note_shown(
        request, "person", [n.alert.episode.service_user_id for n in notifications], "list:alerts"
    )


def _meetings_between(user: User, start: datetime, end: datetime) -> QuerySet[Meeting]:
    return meeting_selectors.home_meetings(user, start=start, end=end)


def _home_clinical(request: HttpRequest, now: datetime) -> dict:
    """Each list is bounded (pod/foundation/paging.py): one page of at most SECTION_SIZE rows,
    its total and a pager, so the page's queries and bytes do not grow with the team."""
    user = request_user(request)
    today = meeting_selectors.day_bounds(now, 0)
    tomorrow = meeting_selectors.day_bounds(now, 1)
    # Each list's first page is built and compiled once per process, then only executed with
    # this request's values (pod/foundation/compiled_query.py; issue 17, point 3).
    clocks = bounded_compiled(
        request,
        "home.clocks",
        meeting_selectors.home_open_clock_episodes,
        [user],
        param="clocks",
        wrap=lambda episodes: meeting_selectors.open_clocks(episodes, now=now),
    )
    meetings_today = bounded_compiled(
        request, "home.meetings", _meetings_between, [user, *today], param="today"
    )
    meetings_tomorrow = bounded_compiled(
        request, "home.meetings", _meetings_between, [user, *tomorrow], param="tomorrow"
    )
    notifications = unread_alerts_page(request)
    caseload = bounded_compiled(
        request, "home.caseload", meeting_selectors.home_caseload, [user], param="caseload"
    )
    # Every list on the page names people (loaded with them: no extra query).
    note_shown(
        request,
        "person",
        [c.episode.service_user_id for c in clocks]
        + [m.episode.service_user_id for m in [*meetings_today, *meetings_tomorrow]]
        + [e.service_user_id for e in caseload],
        "list:home",
    )
    _note_alerts(request, notifications)
    return {
        "template": "pod/home.html",
        "clocks": clocks,
        "today": meetings_today,
        "tomorrow": meetings_tomorrow,
        "notifications": notifications,
        "caseload": caseload,
    }


def _home_simple(request: HttpRequest, now: datetime) -> dict:
    """Peers, managers and administrators: unread alerts for now; their pages extend this."""
    notifications = unread_alerts_page(request)
    _note_alerts(request, notifications)
    return {"template": "pod/home_simple.html", "notifications": notifications}


def _home_manager(request: HttpRequest, now: datetime) -> dict:
    """A service manager's work queue: open reviews of their teams, oldest first (capped; the
    reviews page has the rest), then unread alerts, each linked to its review."""
    user = request_user(request)
    queue, open_count = review_selectors.open_reviews_queue(user)
    notifications = unread_alerts_page(request)
    review_of = review_selectors.review_ids_for_alerts([n.alert_id for n in notifications])
    for notification in notifications:
        notification.review_pk = review_of.get(notification.alert_id)
    note_shown(request, "person", [r.episode.service_user_id for r in queue], "list:reviews")
    _note_alerts(request, notifications)
    return {
        "template": "pod/home_manager.html",
        "queue": queue,
        "open_count": open_count,
        "notifications": notifications,
    }


# Role -> builder: (request, now) -> the template's context, with the template under "template".
# A role without a builder gets the simple home.
HOME_BUILDERS: dict[str, Callable[[HttpRequest, datetime], dict]] = {
    User.Role.CLINICIAN: _home_clinical,
    User.Role.PRESCRIBER: _home_clinical,
    User.Role.PEER_WORKER: peer_home_builder,
    User.Role.PEER_VOLUNTEER: peer_home_builder,
    User.Role.SERVICE_MANAGER: _home_manager,
}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    builder = HOME_BUILDERS.get(request_user(request).role, _home_simple)
    context = builder(request, timezone.now())
    return render(request, context.pop("template"), context)
