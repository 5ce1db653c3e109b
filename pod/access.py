"""Who may see what. Deny by default; querysets are scoped here, never filtered after the fact.

Views call the `get_<thing>_for_user` helpers, which return the object or raise Http404 (another
team's record does not exist, as far as the user can tell) or PermissionDenied (a role that may
never see this kind of page).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest

from pod.foundation.models import Team, User

CLINICAL_ROLES = (User.Role.CLINICIAN, User.Role.PRESCRIBER)
PEER_ROLES = (User.Role.PEER_WORKER, User.Role.PEER_VOLUNTEER)


def teams_for(user: User) -> QuerySet[Team]:
    return Team.objects.filter(memberships__user=user)


def service_users_for(user: User):
    """The people a user may open: their teams' people for staff, assigned people for peers."""
    from networks.models import ServiceUser

    if not user.is_authenticated or not user.is_active:
        return ServiceUser.objects.none()
    if user.is_peer:
        return ServiceUser.objects.filter(
            peer_assignments__peer=user, peer_assignments__ended_at__isnull=True
        )
    if user.role in CLINICAL_ROLES:
        return ServiceUser.objects.filter(team__memberships__user=user)
    return ServiceUser.objects.none()


def episodes_for(user: User):
    """Episodes whose clinical record a user may open (clinicians and prescribers of the team)."""
    from meetings.models import Episode

    if not user.is_authenticated or not user.is_active or user.role not in CLINICAL_ROLES:
        return Episode.objects.none()
    return Episode.objects.filter(team__memberships__user=user)


def get_episode_for_user(user: User, pk: int, *, for_update: bool = False):
    qs = episodes_for(user)
    if for_update:
        qs = qs.select_for_update()
    episode = qs.filter(pk=pk).select_related("service_user", "team__trust").first()
    if episode is None:
        raise Http404("No such episode")
    return episode


def get_service_user_for_user(user: User, pk: int):
    person = service_users_for(user).filter(pk=pk).select_related("team").first()
    if person is None:
        raise Http404("No such person")
    return person


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
manager_required = role_required(User.Role.SERVICE_MANAGER, User.Role.ADMINISTRATOR)
