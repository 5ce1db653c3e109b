"""Reads of the foundation's own tables that pages of several apps share."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpRequest

from pod.foundation.access import request_user
from pod.foundation.models import Notification, User
from pod.foundation.paging import Bounded, bounded_compiled

# Unread alerts per page of the home pages' alerts list (pod/foundation/paging.py).
ALERTS_PAGE_SIZE = 20


def unread_notifications_query(user: User) -> QuerySet[Notification]:
    """The user's unread notifications, newest first, each with its alert, the alert's episode
    and person loaded. Lazy: the home pages read one page of it (pod/foundation/paging.py)."""
    return (
        Notification.objects.filter(user=user, read_at__isnull=True)
        .select_related("alert__episode__service_user")
        .order_by("-created_at", "-pk")
    )


def unread_notifications(user: User, limit: int = 20) -> list[Notification]:
    """The user's unread notifications, newest first, at most `limit`; each with its alert, the
    alert's episode and person loaded (the home pages link a notification to its episode).
    One query."""
    return list(unread_notifications_query(user)[:limit])


def unread_alerts_page(request: HttpRequest) -> Bounded:
    """The page of the signed-in user's unread alerts that `request` asks for (`?alerts=`),
    newest first, at most ALERTS_PAGE_SIZE (pod/foundation/paging.py; the first page's query
    compiled once per process)."""
    return bounded_compiled(
        request,
        "home.alerts",
        unread_notifications_query,
        [request_user(request)],
        param="alerts",
        size=ALERTS_PAGE_SIZE,
    )
