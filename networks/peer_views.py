"""Peer pages (phone first) and the clinician's peer-assignment pages.

Peers reach a person only through networks.selectors.get_service_user_for_user, which for a
peer returns only the people they are assigned to (else 404). Nothing here renders a dialogic
record, care plan, prescription, risk or outcome. The peer's page for one person and the network
map show meetings data, so they live in meetings/views/network_pages.py (same URL names).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from networks import peer_forms, peer_services, rules, selectors
from networks.models import NetworkMember, PeerAssignment, PeerContact
from networks.selectors import get_service_user_for_user
from pod.foundation import paging
from pod.foundation.access import (
    clinical_or_peer_required,
    clinical_required,
    peer_required,
    request_user,
)
from pod.foundation.audit import note_shown
from pod.foundation.form_errors import add_service_errors
from pod.foundation.models import User
from pod.foundation.paging import Bounded
from pod.foundation.selectors import unread_alerts_page
from pod.foundation.submissions import one_submission


def _data(request: HttpRequest):
    """The POST data for a bound form - even an empty POST, which must show errors, not a
    fresh form."""
    return request.POST if request.method == "POST" else None


def _caseload_page(request: HttpRequest, user: User) -> Bounded:
    """One page of the peer's caseload, what needs them first (networks.selectors
    .peer_caseload), under `?people=`."""
    return paging.bounded(
        request,
        selectors.peer_caseload(user),
        param="people",
        size=paging.SECTION_SIZE,
        wrap=selectors.caseload_summaries,
    )


def peer_home_context(request: HttpRequest, user: User) -> dict:
    """For the home page (pod/home.py): one page of a peer's caseload with thin-network flags
    (one query)."""
    if not user.is_authenticated or not user.is_peer:
        return {}
    return {"peer_caseload": _caseload_page(request, user)}


def peer_home_builder(request: HttpRequest, now) -> dict:
    """A builder for pod.home.HOME_BUILDERS (roles peer_worker and peer_volunteer): the simple
    home (unread alerts) with the peer's caseload and thin-network flags above it."""
    user = request_user(request)
    context = {
        "template": "networks/peer/home.html",
        "notifications": unread_alerts_page(request),
        "threshold": selectors.thin_network_threshold(),
        **peer_home_context(request, user),
    }
    note_shown(
        request,
        "person",
        [p.pk for p in context.get("peer_caseload", [])]
        + [n.alert.episode.service_user_id for n in context["notifications"]],
        "list:peer_home",
    )
    return context


# --- Peer pages -------------------------------------------------------------------------------


@peer_required
def peer_caseload(request: HttpRequest) -> HttpResponse:
    people = _caseload_page(request, request_user(request))
    note_shown(request, "person", [p.pk for p in people], "list:peer_caseload")
    return render(
        request,
        "networks/peer/caseload.html",
        {"people": people, "threshold": selectors.thin_network_threshold()},
    )


def _active_members(person) -> list[NetworkMember]:
    return list(
        NetworkMember.objects.filter(service_user=person, status=NetworkMember.Status.ACTIVE)
    )


@peer_required
@one_submission
def peer_contact_add(request: HttpRequest, person_pk: int) -> HttpResponse:
    user = request_user(request)
    person = get_service_user_for_user(user, person_pk)
    members = _active_members(person)
    form = peer_forms.PeerContactForm(
        _data(request),
        service_user=person,
        members=members,
        last_mode=selectors.peer_last_contact_mode(user),
    )
    if request.method == "POST" and form.is_valid():
        try:
            peer_services.peer_contact_log(
                service_user=person,
                peer=user,
                now=timezone.now(),
                **form.service_kwargs(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Contact logged.")
            return redirect("networks:peer_person", person_pk=person.pk)
    return render(
        request,
        "networks/peer/contact_form.html",
        {
            "person": person,
            "form": form,
            "title": "Log a contact",
        },
    )


@peer_required
@one_submission
def peer_contact_edit(request: HttpRequest, person_pk: int, pk: int) -> HttpResponse:
    user = request_user(request)
    person = get_service_user_for_user(user, person_pk)
    # Only the author's own contacts exist, as far as a peer can tell.
    contact = get_object_or_404(PeerContact, pk=pk, service_user=person, peer=user)
    if not rules.peer_contact_is_editable(
        author_id=contact.peer_id,
        user_id=user.pk,
        created_at=contact.created_at,
        now=timezone.now(),
    ):
        raise PermissionDenied("This contact is fixed: it can be changed for 24 hours only.")
    members = _active_members(person)
    # A member who has since left the network stays ticked on an old contact.
    extra = [m for m in contact.members.all() if m.status != NetworkMember.Status.ACTIVE]
    form = peer_forms.PeerContactForm(
        _data(request),
        service_user=person,
        members=members + extra,
        initial=peer_forms.PeerContactForm.initial_for(contact),
    )
    if request.method == "POST" and form.is_valid():
        try:
            peer_services.peer_contact_update(
                contact=contact,
                user=user,
                now=timezone.now(),
                **form.service_kwargs(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Contact updated.")
            return redirect("networks:peer_person", person_pk=person.pk)
    return render(
        request,
        "networks/peer/contact_form.html",
        {
            "person": person,
            "form": form,
            "title": "Change a contact",
            "contact": contact,
        },
    )


@peer_required
@one_submission
def member_propose(request: HttpRequest, person_pk: int) -> HttpResponse:
    user = request_user(request)
    person = get_service_user_for_user(user, person_pk)
    form = peer_forms.MemberProposeForm(_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            member = peer_services.network_member_propose(
                service_user=person,
                proposed_by=user,
                now=timezone.now(),
                **{k: form.cleaned_data[k] for k in form.Meta.fields},
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"{member.name} is proposed. They join the network once the person's "
                "consent is recorded.",
            )
            return redirect("networks:peer_person", person_pk=person.pk)
    return render(request, "networks/peer/member_propose.html", {"person": person, "form": form})


@clinical_or_peer_required
@one_submission
def member_consent(request: HttpRequest, person_pk: int, pk: int) -> HttpResponse:
    """Record the person's decision on a proposed member (clinician or the assigned peer)."""
    user = request_user(request)
    person = get_service_user_for_user(user, person_pk)
    member = get_object_or_404(
        NetworkMember, pk=pk, service_user=person, status=NetworkMember.Status.PROPOSED
    )
    form = peer_forms.MemberConsentForm(_data(request), accepting="decline" not in request.POST)
    if request.method == "POST" and form.is_valid():
        try:
            if "decline" in request.POST:
                peer_services.network_member_decline(
                    member=member, recorded_by=user, now=timezone.now()
                )
                messages.info(request, f"{member.name} will not join the network.")
            else:
                peer_services.network_member_accept_with_consent(
                    member=member,
                    recorded_by=user,
                    now=timezone.now(),
                    **form.cleaned_data,
                )
                messages.success(request, f"{member.name} has joined the network.")
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if user.is_peer:
                return redirect("networks:peer_person", person_pk=person.pk)
            return redirect("networks:peer_assignments", person_pk=person.pk)
    return render(
        request,
        "networks/peer/member_consent.html",
        {
            "person": person,
            "member": member,
            "form": form,
        },
    )


# --- Clinician pages: assignment and the team's list ------------------------------------------


@clinical_required
def peer_work(request: HttpRequest) -> HttpResponse:
    """The team's people with their peers and thin-network flags."""
    people = paging.bounded(
        request,
        selectors.team_peer_work(request_user(request)),
        param="page",
        size=paging.LIST_SIZE,
        wrap=selectors.team_peer_work_summaries,
    )
    note_shown(request, "person", [p.pk for p in people], "list:peer_work")
    return render(
        request,
        "networks/peer/team_list.html",
        {"people": people, "threshold": selectors.thin_network_threshold()},
    )


@clinical_required
@one_submission
def peer_assignments(request: HttpRequest, person_pk: int) -> HttpResponse:
    user = request_user(request)
    person = get_service_user_for_user(user, person_pk)
    form = peer_forms.PeerAssignForm(_data(request), peers=selectors.assignable_peers(person))
    if request.method == "POST" and form.is_valid():
        try:
            peer_services.peer_assign(
                service_user=person,
                peer=form.cleaned_data["peer"],
                assigned_by=user,
                now=timezone.now(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{form.cleaned_data['peer']} is assigned to {person}.")
            return redirect("networks:peer_assignments", person_pk=person.pk)
    return render(
        request,
        "networks/peer/assignments.html",
        {
            "person": person,
            "form": form,
            "assignments": PeerAssignment.objects.filter(service_user=person, ended_at__isnull=True)
            .select_related("peer", "assigned_by")
            .order_by("assigned_at"),
            "proposed": NetworkMember.objects.filter(
                service_user=person, status=NetworkMember.Status.PROPOSED
            ).select_related("added_by"),
        },
    )


@require_POST
@clinical_required
@one_submission
def peer_unassign(request: HttpRequest, person_pk: int, pk: int) -> HttpResponse:
    user = request_user(request)
    person = get_service_user_for_user(user, person_pk)
    assignment = get_object_or_404(
        PeerAssignment, pk=pk, service_user=person, ended_at__isnull=True
    )
    try:
        peer_services.peer_unassign(assignment=assignment, ended_by=user, now=timezone.now())
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{assignment.peer} is no longer assigned to {person}.")
    return redirect("networks:peer_assignments", person_pk=person.pk)
