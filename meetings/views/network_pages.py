"""The two network pages that show meetings data: the peer's page for one person (upcoming
meetings, as time and place only) and the network map (the network at referral, attendance).

They live in meetings, not networks, because networks sits below meetings and may not import
it (README "Architecture"). Their URLs keep the networks namespace and paths
(`networks:peer_person`, `networks:network_map`): pod/urls.py adds `networks_urlpatterns`
(meetings/urls.py) to the networks URLconf.

Peers reach a person only through networks.selectors.get_service_user_for_user, which for a
peer returns only the people they are assigned to (else 404). Nothing here renders a dialogic
record, care plan, prescription, risk or outcome.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from meetings import network_selectors
from meetings.rules import NETWORK_BASELINE_AFTER, hours_label
from networks import network_map, rules, selectors
from networks.models import NetworkMember
from networks.selectors import get_service_user_for_user
from pod.foundation import paging
from pod.foundation.access import clinical_or_peer_required, peer_required, request_user
from pod.foundation.localtime import LONDON
from pod.foundation.plausibility import query_date

# Upcoming meetings per page of the peer's page for a person: two weeks of daily meetings.
UPCOMING_PAGE = 14


@peer_required
def peer_person(request: HttpRequest, person_pk: int) -> HttpResponse:
    user = request_user(request)
    person = get_service_user_for_user(user, person_pk)
    now = timezone.now()
    members = [
        m
        for m in NetworkMember.objects.filter(
            service_user=person,
            status__in=[NetworkMember.Status.ACTIVE, NetworkMember.Status.PROPOSED],
        )
    ]
    active = [m for m in members if m.status == NetworkMember.Status.ACTIVE]
    # Both lists one page at a time (pod/foundation/paging.py): they grow with the episode.
    contacts = paging.bounded(request, selectors.peer_contacts_by(user, person), param="contacts")
    meetings = paging.bounded(
        request,
        network_selectors.upcoming_meetings_for_peer(person, now),
        param="meetings",
        size=UPCOMING_PAGE,
        wrap=network_selectors.as_upcoming,
    )
    editable_ids = {
        contact.pk
        for contact in contacts
        if rules.peer_contact_is_editable(
            author_id=contact.peer_id, user_id=user.pk, created_at=contact.created_at, now=now
        )
    }
    threshold = selectors.thin_network_threshold()
    non_professional = sum(1 for m in active if m.category != NetworkMember.Category.PROFESSIONAL)
    return render(
        request,
        "networks/peer/person.html",
        {
            "person": person,
            "members": active,
            "proposed": [m for m in members if m.status == NetworkMember.Status.PROPOSED],
            "meetings": meetings,
            "contacts": contacts,
            "editable_ids": editable_ids,
            "thin_network": rules.network_is_thin(
                active_non_professional=non_professional, threshold=threshold
            ),
            "threshold": threshold,
        },
    )


def _snapshot_instant(
    key: str | None, items: list[network_map.Snapshot], now: datetime
) -> datetime | None:
    """The instant a `?at=` value asks for; None when the value is not understood."""
    if not key or key == "now":
        return now
    for item in items:
        if item["key"] == key:
            return item["at"]
    try:
        # pod.foundation.plausibility: a real date from 1900 to a year ahead (9999-12-31 would
        # overflow the end of its day).
        day = query_date(key, today=now.astimezone(LONDON).date())
    except ValueError:
        return None
    return None if day is None else network_map.end_of_day(day, now)


@clinical_or_peer_required
def network_map_view(request: HttpRequest, person_pk: int) -> HttpResponse:
    user = request_user(request)
    person = get_service_user_for_user(user, person_pk)
    now = timezone.now()
    members = selectors.all_members(person)
    episode = network_selectors.latest_episode(person)
    baseline_at = network_selectors.baseline_instant(episode)
    items = network_map.snapshots(members, baseline_at=baseline_at, now=now)
    at = _snapshot_instant(request.GET.get("at"), items, now)
    if at is None:
        messages.error(request, "That date was not understood; showing the network now.")
        at = now
    shown = selectors.members_as_of(members, at)
    drawing = network_map.layout(shown)
    context = {
        "person": person,
        "map": drawing,
        "rows": network_map.table_rows(drawing["nodes"]),
        "snapshots": items,
        "selected": request.GET.get("at") or "now",
        "at": at,
        "is_now": at == now,
        "changes": network_map.changes_between(members, start=baseline_at, end=at)
        if baseline_at and baseline_at < at
        else None,
        "proposed": [m for m in members if m.status == NetworkMember.Status.PROPOSED],
        "baseline_hours": hours_label(NETWORK_BASELINE_AFTER),
    }
    if user.is_clinical:
        measures = network_selectors.network_measures(person, now, members=members)
        context["measures"] = measures
        context["member_rows"] = [
            {
                "member": m,
                "attended": measures.attended_by_member.get(m.pk, 0),
                "contacts": measures.contacts_by_member.get(m.pk, 0),
            }
            for m in members
            if m.status != NetworkMember.Status.PROPOSED
            and not (m.joined_at is not None and m.joined_at == m.ended_at)
        ]
    if not any(i["key"] == context["selected"] for i in items):
        context["selected"] = None
    return render(request, "networks/map/map.html", context)
