"""Who may open which kind of page: roles, and the teams a member of staff belongs to.

Deny by default. The decorators here check the role; which records a user may open is scoped
by each app's own selectors, never filtered after the fact: `networks.selectors.
get_service_user_for_user` and `meetings.selectors.get_episode_for_user` return the object or
raise Http404 (another team's record does not exist, as far as the user can tell). A role that
may never see a kind of page gets PermissionDenied (403) from the decorator.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest

from pod.foundation.models import Team, User

CLINICAL_ROLES = (User.Role.CLINICIAN, User.Role.PRESCRIBER)
PEER_ROLES = (User.Role.PEER_WORKER, User.Role.PEER_VOLUNTEER)


def teams_for(user: User) -> QuerySet[Team]:
    return Team.objects.filter(memberships__user=user)


def role_required(*roles: str) -> Callable:
    """Signed in, active and holding one of `roles`; otherwise 403 (after the login redirect)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any):
            if request.user.role not in roles:
                raise PermissionDenied("Your role cannot open this page.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


clinical_required = role_required(*CLINICAL_ROLES)
peer_required = role_required(*PEER_ROLES)
clinical_or_peer_required = role_required(*CLINICAL_ROLES, *PEER_ROLES)
manager_required = role_required(User.Role.SERVICE_MANAGER, User.Role.ADMINISTRATOR)
