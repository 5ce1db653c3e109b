"""Dashboard sections about peer work and staffing: peer contacts, network sizes, thin networks,
and each team's training and peer staff against the targets."""

from __future__ import annotations

import math
from typing import Any, TypedDict, cast

from django.conf import settings
from django.db.models import Avg, Count, F, OuterRef, Q, QuerySet, StdDev, Window
from django.db.models.functions import TruncWeek

from meetings.models import Episode
from networks.models import NetworkMember, PeerContact, ServiceUser
from outcomes import rules
from outcomes.dashboard.expressions import count_subquery, in_period, limited
from outcomes.dashboard.query_cache import Row, Totals, ValuesQuery, rows, totals
from outcomes.dashboard.scope import Scope
from outcomes.rules import Cell, Mean, StaffingTargets
from pod.foundation.access import CLINICAL_ROLES
from pod.foundation.localtime import LONDON
from pod.foundation.models import Team, User

# --- Peer work ---------------------------------------------------------------------------------


class ContactWeek(TypedDict):
    week: str  # the Monday (London) the week begins, YYYY-MM-DD
    contacts: int


class ThinNetworkRow(TypedDict):
    """An open episode whose person has a thin network."""

    episode_id: int
    team_name: str
    non_professional: int  # active non-professional members of the network
    total: int  # how many such episodes there are in all (the list may be cut short)


class PeerWork(TypedDict):
    contacts: int  # peer contacts in the period
    per_week: float  # over the period up to today
    weekly: list[ContactWeek]  # weeks with contacts, in order
    episodes: int  # referred in the period
    mean_at_referral: Mean  # network size at referral, with its t interval
    mean_now: Mean  # active members now
    thin_threshold: int  # settings.POD_THIN_NETWORK_THRESHOLD
    thin_count: int
    thin_list: list[ThinNetworkRow]  # by episode


def _members_in_network_at(person_ref: OuterRef, at: Any) -> QuerySet[NetworkMember]:
    """Members in a person's network at an instant: networks.rules.member_in_network_at in SQL."""
    return NetworkMember.objects.filter(service_user=person_ref).filter(
        Q(joined_at__isnull=False, joined_at__lte=at)
        | Q(joined_at__isnull=True, added_at__lte=at) & ~Q(status=NetworkMember.Status.PROPOSED),
        Q(ended_at__isnull=True) | Q(ended_at__gt=at),
    )


def _weekly_contacts(scope: Scope) -> ValuesQuery:
    return (
        PeerContact.objects.filter(
            in_period("contact_at", scope), service_user__team_id__in=scope.team_ids
        )
        .annotate(week=TruncWeek("contact_at", tzinfo=LONDON))
        .values("week")
        .annotate(contacts=Count("id"))
        .order_by("week")
    )


def _network_sizes(scope: Scope) -> Totals:
    active = NetworkMember.objects.filter(
        service_user=OuterRef("service_user"), status=NetworkMember.Status.ACTIVE
    )
    at_referral = _members_in_network_at(OuterRef("service_user"), OuterRef("referral_received_at"))
    return Totals(
        Episode.objects.filter(
            in_period("referral_received_at", scope), team_id__in=scope.team_ids
        ).annotate(
            at_referral=count_subquery(at_referral, "service_user"),
            now=count_subquery(active, "service_user"),
        ),
        {
            "episodes": Count("id"),
            "mean_at_referral": Avg("at_referral"),
            "sd_at_referral": StdDev("at_referral", sample=True),
            "mean_now": Avg("now"),
            "sd_now": StdDev("now", sample=True),
        },
    )


def _thin_networks(scope: Scope, threshold: int, list_limit: int | None) -> ValuesQuery:
    """People with an open episode whose network has fewer than `threshold` active
    non-professional members, with the number of them in every row (COUNT(*) OVER () is taken
    before the LIMIT, so the list and its length come in one query)."""
    open_people = ServiceUser.objects.filter(
        team_id__in=scope.team_ids,
        episodes__status__in=[Episode.Status.REFERRED, Episode.Status.ACTIVE],
    ).annotate(
        non_professional=count_subquery(
            NetworkMember.objects.filter(
                service_user=OuterRef("pk"), status=NetworkMember.Status.ACTIVE
            ).exclude(category=NetworkMember.Category.PROFESSIONAL),
            "service_user",
        ),
        episode_id=F("episodes__id"),
        team_name=F("team__name"),
    )
    return limited(
        open_people.filter(non_professional__lt=threshold)
        .annotate(total=Window(Count("id")))
        .values(*ThinNetworkRow.__annotations__)
        .order_by("episode_id"),
        list_limit,
    )


def _network_mean(sizes: Row, when: str) -> Mean:
    return rules.mean_estimate(
        n=sizes["episodes"],
        mean=sizes[f"mean_{when}"],
        sd=sizes[f"sd_{when}"],
        bounds=(0, math.inf),
    )


def peer_work(scope: Scope, *, list_limit: int | None = rules.DASHBOARD_LIST_LIMIT) -> PeerWork:
    """Peer contacts in the period and per week; mean network size at referral and now for
    episodes referred in the period; people with an open episode whose network is thin (fewer
    than settings.POD_THIN_NETWORK_THRESHOLD active non-professional members; the first
    `list_limit`, all when None). Three queries."""
    threshold: int = settings.POD_THIN_NETWORK_THRESHOLD
    weekly = [
        ContactWeek(
            week=row["week"].date().isoformat() if row["week"] else "", contacts=row["contacts"]
        )
        for row in rows(("peer.weekly",), scope, _weekly_contacts)
    ]
    contacts = sum(w["contacts"] for w in weekly)
    sizes = totals(("peer.sizes",), scope, _network_sizes)
    thin = cast(
        # The query selects exactly ThinNetworkRow's keys.
        list[ThinNetworkRow],
        rows(
            ("peer.thin", threshold, list_limit),
            scope,
            lambda s: _thin_networks(s, threshold, list_limit),
        ),
    )
    return PeerWork(
        contacts=contacts,
        per_week=rules.per_week(
            contacts,
            start=scope.start,
            end=min(scope.end, scope.now.astimezone(LONDON).date()),
        ),
        weekly=weekly,
        episodes=sizes["episodes"],
        mean_at_referral=_network_mean(sizes, "at_referral"),
        mean_now=_network_mean(sizes, "now"),
        thin_threshold=threshold,
        thin_count=thin[0]["total"] if thin else 0,
        thin_list=thin,
    )


# --- Staffing ----------------------------------------------------------------------------------


class StaffingRow(TypedDict):
    """One team's staff against the staffing targets."""

    id: int
    name: str
    trust_name: str
    clinical: int  # active clinicians and prescribers
    trained: int  # of them, with POD training completed by the end of the period
    peer_workers: int
    volunteers: int
    coverage: Cell  # trained of clinical
    coverage_met: bool
    peer_worker_met: bool
    volunteers_met: bool


def staffing_targets() -> StaffingTargets:
    """The deployment's staffing targets (settings; README "Configuration")."""
    return StaffingTargets(
        trained_percent=settings.POD_TRAINED_STAFF_TARGET_PERCENT,
        peer_workers=settings.POD_PEER_WORKERS_TARGET,
        volunteers_min=settings.POD_PEER_VOLUNTEERS_MIN,
        volunteers_max=settings.POD_PEER_VOLUNTEERS_MAX,
    )


def _staff_counts(scope: Scope) -> ValuesQuery:
    member = "memberships__user"
    active = Q(**{f"{member}__is_active": True})
    clinical = active & Q(**{f"{member}__role__in": CLINICAL_ROLES})
    trained = clinical & Q(
        **{
            f"{member}__training__course": "POD",
            f"{member}__training__completed_on__isnull": False,
            f"{member}__training__completed_on__lte": scope.end,
        }
    )
    return (
        Team.objects.filter(id__in=scope.team_ids)
        .annotate(
            trust_name=F("trust__name"),
            clinical=Count(member, filter=clinical, distinct=True),
            trained=Count(member, filter=trained, distinct=True),
            peer_workers=Count(
                member,
                filter=active & Q(**{f"{member}__role": User.Role.PEER_WORKER}),
                distinct=True,
            ),
            volunteers=Count(
                member,
                filter=active & Q(**{f"{member}__role": User.Role.PEER_VOLUNTEER}),
                distinct=True,
            ),
        )
        .values("id", "name", "trust_name", "clinical", "trained", "peer_workers", "volunteers")
        .order_by("trust_name", "name")
    )


def staffing(scope: Scope) -> list[StaffingRow]:
    """Per team, by trust and name: clinical staff, how many completed POD training, paid peer
    workers and peer volunteers, each against staffing_targets(). One query."""
    targets = staffing_targets()
    result = []
    for row in rows(("staffing",), scope, _staff_counts):
        # A headcount of the team's own staff against a target, not an estimate from a sample:
        # no interval (README "Outcomes").
        coverage = rules.share(row["trained"], row["clinical"], interval=False)
        result.append(
            StaffingRow(
                id=row["id"],
                name=row["name"],
                trust_name=row["trust_name"],
                clinical=row["clinical"],
                trained=row["trained"],
                peer_workers=row["peer_workers"],
                volunteers=row["volunteers"],
                coverage=coverage,
                coverage_met=targets.coverage_met(coverage),
                peer_worker_met=targets.peer_workers_met(row["peer_workers"]),
                volunteers_met=targets.volunteers_met(row["volunteers"]),
            )
        )
    return result
