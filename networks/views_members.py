"""The clinician's pages for a person's network: list, add, edit and end members."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from networks import services
from networks.forms_members import NetworkMemberForm
from networks.models import NetworkMember
from networks.selectors import get_service_user_for_user
from pod.foundation.access import clinical_required, request_user
from pod.foundation.form_errors import add_service_errors
from pod.foundation.submissions import one_submission


def _get_member_for_user(user, person_pk: int, pk: int):
    person = get_service_user_for_user(user, person_pk)
    member = (
        NetworkMember.objects.filter(service_user=person, pk=pk)
        .select_related("consent_recorded_by", "information_consent_recorded_by")
        .first()
    )
    if member is None:
        raise Http404("No such network member")
    return person, member


def _member_fields(form: NetworkMemberForm) -> dict[str, object]:
    return {name: form.cleaned_data[name] for name in services.MEMBER_FIELDS}


def _open_episode(person):
    return person.episodes.exclude(status="closed").only("pk").first()


@clinical_required
def member_list(request: HttpRequest, person_pk: int) -> HttpResponse:
    person = get_service_user_for_user(request_user(request), person_pk)
    members = list(
        NetworkMember.objects.filter(service_user=person).select_related(
            "consent_recorded_by", "information_consent_recorded_by"
        )
    )
    return render(
        request,
        "networks/members/list.html",
        {
            "person": person,
            "active": [m for m in members if m.status != NetworkMember.Status.ENDED],
            "ended": [m for m in members if m.status == NetworkMember.Status.ENDED],
            "episode": _open_episode(person),
        },
    )


@clinical_required
@require_http_methods(["GET", "POST"])
@one_submission
def member_add(request: HttpRequest, person_pk: int) -> HttpResponse:
    user = request_user(request)
    person = get_service_user_for_user(user, person_pk)
    form = NetworkMemberForm(request.POST or None, submit_label="Add to the network", person=person)
    if request.method == "POST" and form.is_valid():
        try:
            member = services.network_member_add(
                service_user=person,
                added_by=user,
                now=timezone.now(),
                contact_consent=form.cleaned_data["contact_consent"],
                information_consent=form.cleaned_data["information_consent"],
                **_member_fields(form),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{member.name} was added to the network.")
            return redirect("networks:member_list", person_pk=person.pk)
    return render(
        request, "networks/members/form.html", {"person": person, "form": form, "member": None}
    )


@clinical_required
@require_http_methods(["GET", "POST"])
@one_submission
def member_edit(request: HttpRequest, person_pk: int, pk: int) -> HttpResponse:
    user = request_user(request)
    person, member = _get_member_for_user(user, person_pk, pk)
    if member.status == NetworkMember.Status.ENDED:
        messages.error(request, f"{member.name} has left the network; the record is read-only.")
        return redirect("networks:member_list", person_pk=person.pk)
    form = NetworkMemberForm(
        request.POST or None, instance=member, submit_label="Save changes", person=person
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.network_member_update(
                member=member,
                updated_by=user,
                now=timezone.now(),
                contact_consent=form.cleaned_data["contact_consent"],
                information_consent=form.cleaned_data["information_consent"],
                consent_as_drawn={
                    "contact_consent": form.cleaned_data["contact_consent_was"] or None,
                    "information_consent": form.cleaned_data["information_consent_was"] or None,
                },
                **_member_fields(form),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{form.cleaned_data['name']}'s details were saved.")
            return redirect("networks:member_list", person_pk=person.pk)
    return render(
        request, "networks/members/form.html", {"person": person, "form": form, "member": member}
    )


@clinical_required
@require_http_methods(["GET", "POST"])
@one_submission
def member_end(request: HttpRequest, person_pk: int, pk: int) -> HttpResponse:
    person, member = _get_member_for_user(request_user(request), person_pk, pk)
    if request.method == "POST":
        try:
            services.network_member_end(member=member, now=timezone.now())
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"{member.name} has left the network.")
        return redirect("networks:member_list", person_pk=person.pk)
    return render(request, "networks/members/end.html", {"person": person, "member": member})
