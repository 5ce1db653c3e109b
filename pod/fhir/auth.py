"""Who is calling the API, and what they may read.

Two kinds of caller (README "Interoperability"):
- a machine client with an OAuth 2.0 bearer token from the client-credentials grant
  (django-oauth-toolkit). The token's application belongs to an ApiClient whose account has a
  role and teams; the token's SMART scopes (`system/Patient.read`, `system/*.read`) narrow what
  that role may read, never widen it;
- a member of staff with the web pages' session, after the same second factor
  (pod.foundation.twofactor); their role and teams decide, as on the pages.

Either way a caller reads a type only if the role may (each mapper's `roles`, the same rule
as the pages: clinicians and prescribers the clinical record of their teams' people, service
managers their teams' flags, administrators the audit; peers nothing through the API), and
sees only the rows that the owning app's selectors give that account.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from oauth2_provider.oauth2_backends import get_oauthlib_core

from pod.fhir.models import ApiClient
from pod.fhir.registry import all_mappers, mapper_for
from pod.fhir.responses import ApiError
from pod.foundation.models import User
from pod.foundation.twofactor import needs_second_factor

WILDCARD = "system/*.read"


@dataclass(frozen=True)
class Caller:
    user: User  # the member of staff, or the machine client's account
    # The token's scopes; None for a staff session (the role alone decides).
    scopes: frozenset[str] | None
    client: ApiClient | None
    rate_key: str  # the rate limit's bucket

    @property
    def via_session(self) -> bool:
        return self.client is None


def scope_for(type_name: str) -> str:
    return f"system/{type_name}.read"


def types_for_role(role: str) -> list[str]:
    """The resource types a role may read (whatever the scopes)."""
    return [m.type_name for m in all_mappers() if role in m.roles]


def authenticate(request: HttpRequest) -> Caller:
    """The caller behind `request`; ApiError 401 when there is none, the token is not valid
    (unknown, expired, revoked, or its client's account is switched off), or a staff session
    has not passed the second factor."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header[:7].lower() == "bearer ":
        valid, oauth_request = get_oauthlib_core().verify_request(request, scopes=[])
        token = getattr(oauth_request, "access_token", None) if valid else None
        client = (
            ApiClient.objects.select_related("account")
            .filter(application_id=token.application_id)
            .first()
            if token is not None
            else None
        )
        if token is None or client is None or not client.account.is_active:
            raise ApiError(
                401,
                "login",
                "The access token is not valid (unknown, expired or revoked).",
                {"WWW-Authenticate": 'Bearer realm="POD FHIR", error="invalid_token"'},
            )
        return Caller(
            client.account,
            frozenset(token.scope.split()),
            client,
            f"client:{token.application_id}",
        )
    user = getattr(request, "user", None)
    if isinstance(user, User) and user.is_authenticated:
        if needs_second_factor(user):
            raise ApiError(401, "login", "Complete the second factor at sign-in first.")
        return Caller(user, None, None, f"user:{user.pk}")
    raise ApiError(
        401,
        "login",
        "Send an OAuth 2.0 bearer token (client credentials), or sign in.",
        {"WWW-Authenticate": 'Bearer realm="POD FHIR"'},
    )


def may_read(caller: Caller, type_name: str) -> bool:
    """Whether the caller may read `type_name` at all: the role allows it, and for a machine
    client a scope grants it."""
    mapper = mapper_for(type_name)
    if mapper is None or caller.user.role not in mapper.roles:
        return False
    if caller.scopes is None:
        return True
    return WILDCARD in caller.scopes or scope_for(type_name) in caller.scopes


def require_read(caller: Caller, type_name: str) -> None:
    """ApiError 403 unless `may_read`; says whether the role or the scope is missing."""
    mapper = mapper_for(type_name)
    if mapper is None:
        raise ApiError(404, "not-supported", f"POD does not serve {type_name[:40]} resources.")
    if caller.user.role not in mapper.roles:
        raise ApiError(403, "forbidden", f"Your role cannot read {type_name} resources.")
    if not may_read(caller, type_name):
        raise ApiError(
            403,
            "forbidden",
            f"The token's scopes do not include {scope_for(type_name)}.",
            {"WWW-Authenticate": 'Bearer realm="POD FHIR", error="insufficient_scope"'},
        )
