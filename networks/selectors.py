"""Reads across relations: whom a user may open, peer work, the network and its members over time.

Reads that also need episodes or meetings (the peer's upcoming meetings, the network map's
baseline and measures) live in meetings/network_selectors.py: networks sits below meetings.

Every function here runs a fixed number of queries whatever the size of the network, so the pages
that use them keep their query budgets (tests/networks/test_peer_pages.py, test_network_map.py).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypedDict

from django.conf import settings
from django.contrib.postgres.lookups import TrigramWordSimilar
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    FloatField,
    Func,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.http import Http404

from networks import rules
from networks.models import Fold, NetworkMember, PeerAssignment, PeerContact, ServiceUser
from pod.foundation import compiled_query
from pod.foundation.access import CLINICAL_ROLES, team_ids_of
from pod.foundation.models import User
from pod.foundation.numbers import is_ascii_digits

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class NetworkCounts(TypedDict):
    """What `with_network_counts` annotates on each person."""

    active_non_professional: int
    proposed_members: int


@dataclass(frozen=True)
class PersonNetworkSummary:
    """One person of a peer's caseload or a team's peer-work list, and their network."""

    person: ServiceUser
    active_non_professional: int  # active members who are not professionals
    proposed_members: int  # members proposed, waiting for consent
    thin_network: bool  # rules.network_is_thin at POD_THIN_NETWORK_THRESHOLD
    last_contact_at: datetime | None = None  # peer_caseload: the peer's own last contact
    open_assignments: tuple[PeerAssignment, ...] = ()  # team_peer_work: the open assignments

    @property
    def pk(self) -> int:
        """The person's id."""
        return self.person.pk


ACTIVE_NON_PROFESSIONAL = Q(network_members__status=NetworkMember.Status.ACTIVE) & ~Q(
    network_members__category=NetworkMember.Category.PROFESSIONAL
)


# --- Whom a user may open (deny by default; pod.foundation.access checks the role) -------------


def service_users_for(user: User) -> QuerySet[ServiceUser]:
    """The people a user may open: their teams' people for staff, assigned people for peers."""
    if not user.is_authenticated or not user.is_active:
        return ServiceUser.objects.none()
    if user.is_peer:
        return ServiceUser.objects.filter(
            peer_assignments__peer=user, peer_assignments__ended_at__isnull=True
        )
    if user.role in CLINICAL_ROLES:
        return ServiceUser.objects.filter(team_id__in=team_ids_of(user))
    return ServiceUser.objects.none()


def get_service_user_for_user(user: User, pk: int) -> ServiceUser:
    """The person `pk` with their team, if `user` may open them; otherwise Http404 (another
    team's person does not exist, as far as the user can tell)."""
    # Every page about a person asks: built and compiled once per process for each role
    # (pod/foundation/compiled_query.py).
    found = compiled_query.shape_instances("person_for_user", _person_for_user, [user, pk])
    person: ServiceUser | None = found[0] if found else None
    if person is None:
        raise Http404("No such person")
    return person


def _person_for_user(user: User, pk: int) -> QuerySet[ServiceUser]:
    return service_users_for(user).filter(pk=pk).select_related("team").order_by("pk")[:1]


# --- Finding a person -----------------------------------------------------------------------------

PEOPLE_SEARCH_LIMIT = 20


def people_search(
    people: QuerySet[ServiceUser], query: str, *, limit: int = PEOPLE_SEARCH_LIMIT
) -> QuerySet[ServiceUser]:
    """The people among `people` (already scoped to the user: `service_users_for`, or everyone
    for the admin) that `query` finds, best match first, at most `limit`. One query.

    - Ten digits, with any spaces or hyphens ("943-476-5919"): that NHS number, exactly.
    - Anything else of two characters or more: names, compared folded (networks.models.Fold:
      case, accents, apostrophe style and hyphens do not count, so "O’Brien" finds "O'Brien"
      and "Siobhan" finds "Siobhán"), by pg_trgm word similarity against the given, preferred
      and family names (the GIN index service_user_name_trgm), most similar first.
    - Shorter or empty: nobody.
    """
    text = query.strip()[:100]
    digits = rules.normalise_nhs_number(text)
    if len(digits) == 10 and is_ascii_digits(digits):
        return people.filter(nhs_number=digits).select_related("team")[:limit]
    if len(rules.fold_name(text)) < 2:
        return people.none()
    folded = Fold(Value(text))
    return (
        people.filter(TrigramWordSimilar(F("search_name"), folded))
        .annotate(
            similarity=Func(
                folded, F("search_name"), function="WORD_SIMILARITY", output_field=FloatField()
            )
        )
        .select_related("team")
        .order_by("-similarity", "family_name", "given_name", "pk")[:limit]
    )


# --- Peer work and networks ---------------------------------------------------------------------


def thin_network_threshold() -> int:
    """Fewer active non-professional members than this is a thin network
    (POD_THIN_NETWORK_THRESHOLD)."""
    threshold: int = settings.POD_THIN_NETWORK_THRESHOLD
    return threshold


def with_network_counts(
    people: QuerySet[ServiceUser],
) -> QuerySet[WithAnnotations[ServiceUser, NetworkCounts]]:
    """Annotate `active_non_professional` and `proposed_members` (one query for the list)."""
    return people.annotate(
        active_non_professional=Count(
            "network_members", filter=ACTIVE_NON_PROFESSIONAL, distinct=True
        ),
        proposed_members=Count(
            "network_members",
            filter=Q(network_members__status=NetworkMember.Status.PROPOSED),
            distinct=True,
        ),
    )


def _summary(
    person: WithAnnotations[ServiceUser, NetworkCounts],
    threshold: int,
    *,
    last_contact_at: datetime | None = None,
    open_assignments: tuple[PeerAssignment, ...] = (),
) -> PersonNetworkSummary:
    return PersonNetworkSummary(
        person=person,
        active_non_professional=person.active_non_professional,
        proposed_members=person.proposed_members,
        thin_network=rules.network_is_thin(
            active_non_professional=person.active_non_professional, threshold=threshold
        ),
        last_contact_at=last_contact_at,
        open_assignments=open_assignments,
    )


def _thin_first(threshold: int) -> Case:
    """0 for a thin network (rules.network_is_thin), 1 otherwise: thin networks sort first.
    Needs `active_non_professional` (with_network_counts)."""
    return Case(
        When(active_non_professional__lt=threshold, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )


def peer_caseload(peer: User) -> QuerySet[ServiceUser]:
    """The people a peer is assigned to, with their network counts and the time of the peer's
    own last contact (`last_contact_at`), what needs the peer first: thin networks, then the
    longest since the peer's last contact (never contacted first), then by name and id. One
    query per page; `caseload_summaries` turns a page of them into PersonNetworkSummary."""
    threshold = thin_network_threshold()
    return (
        with_network_counts(
            ServiceUser.objects.filter(
                peer_assignments__peer=peer, peer_assignments__ended_at__isnull=True
            )
        )
        .annotate(
            last_contact_at=Max("peer_contacts__contact_at", filter=Q(peer_contacts__peer=peer))
        )
        .order_by(
            _thin_first(threshold),
            F("last_contact_at").asc(nulls_first=True),
            "family_name",
            "given_name",
            "pk",
        )
    )


def caseload_summaries(people: list[Any]) -> list[PersonNetworkSummary]:
    """A page of `peer_caseload` as PersonNetworkSummary rows."""
    threshold = thin_network_threshold()
    return [_summary(p, threshold, last_contact_at=p.last_contact_at) for p in people]


# An assignment whose peer still covers the person: open, and the peer still active (a peer
# who left is no one's peer, as assignable_peers sees it; the team is checked where it is used).
_COVERING = Q(ended_at__isnull=True, peer__is_active=True)


def team_peer_work(user: User) -> QuerySet[ServiceUser]:
    """The people of a clinician's teams with their network counts and the open assignments of
    peers still active in the person's team (peer loaded), what needs a clinician first: thin
    networks, then people with no such peer, then by name and id. Two queries per page;
    `team_peer_work_summaries` turns a page of them into PersonNetworkSummary."""
    threshold = thin_network_threshold()
    has_peer = Exists(
        PeerAssignment.objects.filter(
            _COVERING, service_user=OuterRef("pk"), peer__memberships__team_id=OuterRef("team_id")
        )
    )
    return (
        with_network_counts(ServiceUser.objects.filter(team__memberships__user=user))
        .prefetch_related(
            Prefetch(
                "peer_assignments",
                queryset=PeerAssignment.objects.filter(
                    _COVERING, peer__memberships__team_id=F("service_user__team_id")
                ).select_related("peer"),
            )
        )
        .order_by(_thin_first(threshold), has_peer.asc(), "family_name", "given_name", "pk")
    )


def team_peer_work_summaries(people: list[Any]) -> list[PersonNetworkSummary]:
    """A page of `team_peer_work` as PersonNetworkSummary rows."""
    threshold = thin_network_threshold()
    return [
        _summary(p, threshold, open_assignments=tuple(p.peer_assignments.all())) for p in people
    ]


def assignable_peers(service_user: ServiceUser) -> QuerySet[User]:
    """Active peers of the person's team who are not already assigned to them."""
    return (
        User.objects.filter(
            role__in=(User.Role.PEER_WORKER, User.Role.PEER_VOLUNTEER),
            is_active=True,
            memberships__team_id=service_user.team_id,
        )
        # One condition on one assignment row (Exists), not two conditions across the
        # multi-valued relation: `.exclude(a__x=..., a__y=...)` would also drop a peer whose
        # ended assignment is to this person and whose open one is to someone else.
        .exclude(
            Exists(
                PeerAssignment.objects.filter(
                    peer=OuterRef("pk"), service_user=service_user, ended_at__isnull=True
                )
            )
        )
        .order_by("last_name", "first_name")
    )


def peer_contacts_by(peer: User, service_user: ServiceUser) -> QuerySet[PeerContact]:
    """A peer's own contact log for one person, newest first (the primary key breaking ties),
    members prefetched."""
    return (
        PeerContact.objects.filter(peer=peer, service_user=service_user)
        .prefetch_related(Prefetch("members", queryset=NetworkMember.objects.only("id", "name")))
        .order_by("-contact_at", "-pk")
    )


def peer_contacts_for_timeline(
    service_user: ServiceUser, start: datetime | None = None, end: datetime | None = None
) -> list[PeerContact]:
    """Peer contacts with a person between `start` (inclusive) and `end` (exclusive), oldest
    first, for the clinician's episode timeline (meetings app). None leaves that side open.

    Each item is a PeerContact with `peer` loaded and `members` prefetched; use
    `contact.contact_at`, `get_mode_display()`, `get_purpose_display()`, `duration_minutes`,
    `with_service_user`, `members.all()` and `note`. Two queries, whatever the number of contacts.
    """
    qs = PeerContact.objects.filter(service_user=service_user)
    if start is not None:
        qs = qs.filter(contact_at__gte=start)
    if end is not None:
        qs = qs.filter(contact_at__lt=end)
    return list(
        qs.select_related("peer")
        .prefetch_related(Prefetch("members", queryset=NetworkMember.objects.only("id", "name")))
        .order_by("contact_at")
    )


def all_members(service_user: ServiceUser) -> list[NetworkMember]:
    """Every member ever recorded (proposed, active, ended) - input for dated snapshots."""
    return list(NetworkMember.objects.filter(service_user=service_user))


def members_as_of(members: list[NetworkMember], at: datetime) -> list[NetworkMember]:
    """The network as it was at the instant `at` (see rules.member_in_network_at)."""
    return [
        m
        for m in members
        if rules.member_in_network_at(
            status=m.status,
            added_at=m.added_at,
            joined_at=m.joined_at,
            ended_at=m.ended_at,
            at=at,
        )
    ]


def sector_counts(members: list[NetworkMember]) -> dict[str, int]:
    """How many of `members` fall in each sector of rules.SECTORS (sector key -> count, every
    sector present)."""
    counts = Counter(rules.SECTOR_OF_CATEGORY.get(m.category, "community") for m in members)
    return {key: counts.get(key, 0) for key, _label, _cats in rules.SECTORS}


def peer_last_contact_mode(peer: User) -> str | None:
    """How `peer` was last in contact with anyone (a PeerContact.Mode value), or None.

    The contact form starts with it chosen (issue 13, point 4: a contact in five taps).
    One indexed query on the peer's contacts, newest first.
    """
    return (
        PeerContact.objects.filter(peer=peer)
        .order_by("-created_at", "-pk")
        .values_list("mode", flat=True)
        .first()
    )
