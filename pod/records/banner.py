"""The identity banner on every page about a person: who this is, so nothing is recorded on the
wrong record (HAZ-05).

A context processor (settings.TEMPLATES) gives every template `person_banner`, a lazy value:
nothing is read unless base.html draws it, and then one query. Which person a page is about
comes from its URL, the same way the access log finds it (pod/foundation/record_targets.py):
`person_pk`/`person_id`, an episode (`meetings` `pk`) or a meeting (`meeting_id`), and the
person pages of the `security` namespace (`pk`). The person is looked up within what the user
may open (networks.selectors.service_users_for; administrators on the security pages), so the
banner never shows more than the page's own access check allows.

Clinicians and administrators see the name, the NHS number as 3 3 4, the date of birth and
age, the team, the open episode and the flags. Peers see the name, the team and the flags: the
number and date of birth are not needed for their work (HAZ-06.C4).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from meetings.models import Alert, Episode
from networks import rules as network_rules
from networks.models import NetworkMember, ServiceUser
from networks.selectors import service_users_for, thin_network_threshold
from pod.foundation import compiled_query, record_targets
from pod.foundation.localtime import LONDON
from pod.foundation.models import User


@dataclass(frozen=True)
class PersonBanner:
    person_id: int
    name: str
    team: str
    full: bool  # number, date of birth and open episode shown (not for peers)
    nhs_number: str  # "943 476 5919"
    date_of_birth: date | None
    age: int | None
    open_episode_id: int | None
    open_episode_status: str
    flags: tuple[str, ...]


def _subject(request: HttpRequest) -> tuple[str, int] | None:
    match = getattr(request, "resolver_match", None)
    if match is None or match.namespace == "admin":
        return None
    if match.namespace == "security" and "pk" in match.kwargs:
        return ("person", match.kwargs["pk"])
    return record_targets.target_for(match.namespace, match.kwargs)


def _people_for(user: User, kind: str, object_id: int) -> QuerySet[ServiceUser]:
    if user.role == User.Role.ADMINISTRATOR:
        people = ServiceUser.objects.all()
    else:
        people = service_users_for(user)
    if kind == "person":
        return people.filter(pk=object_id)
    if kind == "episode":
        return people.filter(episodes__pk=object_id)
    if kind == "meeting":
        return people.filter(episodes__meetings__pk=object_id)
    return people.none()


def _banner_query(user: User, kind: str, object_id: int) -> QuerySet[ServiceUser]:
    open_episodes = Episode.objects.filter(service_user=OuterRef("pk")).exclude(
        status=Episode.Status.CLOSED
    )
    members = NetworkMember.objects.filter(
        service_user=OuterRef("pk"), status=NetworkMember.Status.ACTIVE
    ).exclude(category=NetworkMember.Category.PROFESSIONAL)
    return (
        _people_for(user, kind, object_id)
        .select_related("team")
        .annotate(
            open_episode_id=Subquery(
                open_episodes.order_by("-referral_received_at").values("pk")[:1]
            ),
            open_episode_status=Subquery(
                open_episodes.order_by("-referral_received_at").values("status")[:1]
            ),
            network_size=Subquery(
                members.order_by().values("service_user").annotate(n=Count("pk")).values("n")[:1],
                output_field=IntegerField(),
            ),
            open_breach=Exists(
                Alert.objects.filter(
                    Q(episode__service_user=OuterRef("pk")),
                    kind=Alert.Kind.BREACHED,
                ).exclude(episode__status=Episode.Status.CLOSED)
            ),
        )
        .order_by("family_name", "given_name", "pk")
    )


def person_banner_for(user: User, kind: str, object_id: int, *, today: date) -> PersonBanner | None:
    """The banner of the person that a page about `kind` `object_id` shows, if `user` may open
    them; None otherwise. One query."""
    # Built and compiled once per process for each kind and role (pod/foundation/
    # compiled_query.py): every page about a person draws it.
    found = compiled_query.shape_instances(
        ("banner", kind), lambda u, pk: _banner_query(u, kind, pk)[:1], [user, object_id]
    )
    person = found[0] if found else None
    if person is None:
        return None
    flags = []
    if person.open_breach:
        flags.append("24-hour first meeting breached")
    if network_rules.network_is_thin(
        active_non_professional=person.network_size or 0, threshold=thin_network_threshold()
    ):
        flags.append("Thin network")
    if person.date_of_birth is None:
        flags.append("Date of birth not recorded")
    full = not user.is_peer
    status = dict(Episode.Status.choices).get(person.open_episode_status or "", "")
    return PersonBanner(
        person_id=person.pk,
        name=person.display_name,
        team=person.team.name,
        full=full,
        nhs_number=network_rules.format_nhs_number(person.nhs_number) if full else "",
        date_of_birth=person.date_of_birth if full else None,
        age=(
            network_rules.age_on(person.date_of_birth, today)
            if full and person.date_of_birth
            else None
        ),
        open_episode_id=person.open_episode_id if full else None,
        open_episode_status=status if full else "",
        flags=tuple(flags),
    )


def person_banner(request: HttpRequest) -> dict[str, object]:
    """Context processor: `person_banner`, lazily (see the module docstring)."""

    def build() -> PersonBanner | None:
        user = getattr(request, "user", None)
        if not isinstance(user, User) or not user.is_authenticated:
            return None
        subject = _subject(request)
        if subject is None:
            return None
        return person_banner_for(
            user, subject[0], subject[1], today=timezone.now().astimezone(LONDON).date()
        )

    return {"person_banner": SimpleLazyObject(build)}
