"""What outcomes' views share."""

from __future__ import annotations

from django.http import HttpRequest

from pod.foundation.models import User


class AuthenticatedHttpRequest(HttpRequest):
    """The request a view behind `login_required` or a role decorator of
    pod.foundation.access receives: its user is signed in (django-stubs' documented pattern
    for typing that)."""

    user: User
