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
from typing import Any, Concatenate, ParamSpec

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from pod.foundation.models import Team, TeamMembership, User

CLINICAL_ROLES = (User.Role.CLINICIAN, User.Role.PRESCRIBER)
PEER_ROLES = (User.Role.PEER_WORKER, User.Role.PEER_VOLUNTEER)

P = ParamSpec("P")
View = Callable[Concatenate[HttpRequest, P], HttpResponse]


def request_user(request: HttpRequest) -> User:
    """The signed-in member of staff behind `request`, typed as our User.

    For views behind `login_required` or the role decorators below, which never let an anonymous
    request through; PermissionDenied (403) if one reaches here all the same, so a missing
    decorator fails closed rather than treating AnonymousUser as staff.
    """
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise PermissionDenied("Sign in to open this page.")
    return user


def teams_for(user: User) -> QuerySet[Team]:
    """The teams `user` is a member of."""
    return Team.objects.filter(memberships__user=user)


def team_ids_of(user: User) -> QuerySet[TeamMembership, Any]:
    """The ids of the teams `user` is a member of, as a subquery for `team_id__in=...`.

    Read fresh by the database on every query (never cached, so removing a membership takes
    effect on the next request). Scoping rows by `team_id IN (SELECT team_id FROM memberships
    WHERE user_id = ...)` instead of `team__memberships__user=user` gives the same rows (a user
    is in a team at most once: membership_unique_user_team) without joining the team table,
    which makes each page's queries cheaper to build and to plan (issue 17, point 3).
    """
    return TeamMembership.objects.filter(user_id=user.pk).values("team_id")


def role_required(*roles: str) -> Callable[[View[P]], View[P]]:
    """Signed in, active and holding one of `roles`; otherwise 403 (after the login redirect)."""

    def decorator(view: View[P]) -> View[P]:
        @wraps(view)
        @login_required
        def wrapped(request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
            if request_user(request).role not in roles:
                raise PermissionDenied("Your role cannot open this page.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


clinical_required = role_required(*CLINICAL_ROLES)
peer_required = role_required(*PEER_ROLES)
clinical_or_peer_required = role_required(*CLINICAL_ROLES, *PEER_ROLES)
manager_required = role_required(User.Role.SERVICE_MANAGER, User.Role.ADMINISTRATOR)
