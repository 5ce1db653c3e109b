"""Reads of the foundation's own tables that pages of several apps share."""

from __future__ import annotations

from pod.foundation.models import Notification, User


def unread_notifications(user: User, limit: int = 20) -> list[Notification]:
    """The user's unread notifications, newest first, at most `limit`; each with its alert, the
    alert's episode and person loaded (the home pages link a notification to its episode).
    One query."""
    return list(
        Notification.objects.filter(user=user, read_at__isnull=True)
        .select_related("alert__episode__service_user")
        .order_by("-created_at")[:limit]
    )
