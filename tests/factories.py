"""Small builders for test data. Each returns a saved object; keyword arguments override."""

from __future__ import annotations

import itertools
from datetime import date, datetime

from networks.models import NetworkMember, ServiceUser
from networks.rules import nhs_number_check_digit
from pod.foundation.models import Team, TeamMembership, Trust, User

_serial = itertools.count(1)


def valid_nhs_number(seed: int | None = None) -> str:
    """The next valid NHS number (modulus-11) after a seed, for unique test people."""
    n = seed if seed is not None else 400_000_000 + next(_serial) * 7
    while True:
        first_nine = f"{n % 1_000_000_000:09d}"
        check = nhs_number_check_digit(first_nine)
        if check is not None:
            return first_nine + str(check)
        n += 1


def make_trust(**kw) -> Trust:
    i = next(_serial)
    return Trust.objects.create(**{"name": f"Trust {i}", "code": f"T{i}", **kw})


def make_team(trust: Trust | None = None, **kw) -> Team:
    return Team.objects.create(
        **{"trust": trust or make_trust(), "name": f"Team {next(_serial)}", "kind": "CRT", **kw}
    )


def make_user(role: str, team: Team | None = None, **kw) -> User:
    i = next(_serial)
    user = User.objects.create_user(
        username=kw.pop("username", f"{role}{i}"),
        password=kw.pop("password", "pw-for-tests-1234"),
        first_name=kw.pop("first_name", role.replace("_", " ").title()),
        last_name=kw.pop("last_name", f"Staff{i}"),
        email=kw.pop("email", f"{role}{i}@example.nhs.uk"),
        role=role,
        **kw,
    )
    if team is not None:
        TeamMembership.objects.create(user=user, team=team)
    return user


def make_service_user(team: Team, **kw) -> ServiceUser:
    return ServiceUser.objects.create(
        **{
            "nhs_number": valid_nhs_number(),
            "given_name": "Alex",
            "family_name": f"Person{next(_serial)}",
            "date_of_birth": date(1990, 5, 17),
            "team": team,
            **kw,
        }
    )


def make_member(service_user: ServiceUser, **kw) -> NetworkMember:
    return NetworkMember.objects.create(
        **{
            "service_user": service_user,
            "name": f"Member {next(_serial)}",
            "category": "family",
            "relationship": "sister",
            **kw,
        }
    )


def make_episode(
    *,
    team: Team,
    core_team,
    referral_received_at: datetime,
    now: datetime | None = None,
    service_user: ServiceUser | None = None,
    **kw,
):
    from meetings.services.episodes import episode_open

    return episode_open(
        service_user=service_user or make_service_user(team),
        team=team,
        referral_received_at=referral_received_at,
        referral_source=kw.pop("referral_source", "gp"),
        triage_category=kw.pop("triage_category", "C"),
        reason=kw.pop("reason", "Hearing voices; family worried."),
        core_team=core_team,
        created_by=kw.pop("created_by", None),
        now=now or referral_received_at,
    )
