"""Pages about one person's whole record: who has looked at it and what changed, and the
subject access export (everything POD holds about them).

Project wiring, above every app (README "Architecture"): the export walks every table that
points at the person, whichever app owns it, so these pages depend on all apps at once.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from networks.models import ServiceUser
from networks.selectors import get_service_user_for_user
from pod.foundation.access import CLINICAL_ROLES, clinical_required, request_user
from pod.foundation.audit import note_shown, record_access
from pod.foundation.audit_models import AuditEvent, RecordAccess
from pod.foundation.models import User
from pod.foundation.paging import LIST_SIZE, bounded
from pod.foundation.submissions import one_submission
from pod.records.access_words import access_words
from pod.records.forms import InclusionForm
from pod.records.release import subject_access_include_item
from pod.records.subject_access import (
    as_display,
    released,
    released_display,
    subject_access_data,
    third_party_items,
)

# Entries per page of each list of the access log (newest first; older ones page).
ACCESS_LOG_LIMIT = LIST_SIZE


def _get_person_for_audit(user: User, pk: int):
    """The person whose audit `user` may read: clinicians of their team, or an administrator."""
    if user.role == User.Role.ADMINISTRATOR:
        person = ServiceUser.objects.filter(pk=pk).select_related("team").first()
        if person is None:
            raise Http404("No such person")
        return person
    if user.role not in CLINICAL_ROLES:
        raise PermissionDenied("Only the person's clinicians can see who has looked at the record.")
    return get_service_user_for_user(user, pk)


@login_required
def access_log(request: HttpRequest, pk: int) -> HttpResponse:
    person = _get_person_for_audit(request_user(request), pk)
    note_shown(request, "person", [person.pk], "access_log")
    accesses = bounded(
        request,
        RecordAccess.objects.filter(service_user_id=person.pk)
        .select_related("user")
        .order_by("-at", "-id"),
        param="looks",
        size=ACCESS_LOG_LIMIT,
    )
    for access in accesses:
        access.what_words = access_words(access.what)
    changes = bounded(
        request,
        AuditEvent.objects.filter(table_name="networks_serviceuser", row_id=str(person.pk))
        .select_related("user")
        .order_by("-at", "-id"),
        param="changes",
        size=ACCESS_LOG_LIMIT,
    )
    return render(
        request,
        "pod/security/access_log.html",
        {"person": person, "accesses": accesses, "changes": changes, "limit": ACCESS_LOG_LIMIT},
    )


@login_required
def subject_access(request: HttpRequest, pk: int, as_json: bool = False) -> HttpResponse:
    """Everything POD holds about one person (clinicians of the team, or an administrator).

    The HTML page is the review: third-party values are marked, and a clinician of the team can
    include each one, with a reason. The JSON download is the released copy: third-party values
    left out unless included (pod/records/subject_access.py). Every view is logged."""
    person = _get_person_for_audit(request_user(request), pk)
    data = subject_access_data(person)
    record_access(request, person, "export:json" if as_json else "export:review")
    if as_json:
        response = JsonResponse(
            released(data), json_dumps_params={"indent": 2, "ensure_ascii": False}
        )
        response["Content-Disposition"] = (
            f'attachment; filename="pod-subject-access-{person.pk}.json"'
        )
        return response
    user = request_user(request)
    return render(
        request,
        "pod/security/subject_access.html",
        {
            "person": person,
            "data": as_display(data),
            "items": third_party_items(data),
            "may_include": user.role in CLINICAL_ROLES,
            "form": InclusionForm(),
        },
    )


@login_required
def subject_access_release(request: HttpRequest, pk: int) -> HttpResponse:
    """The released copy as a printable page: what the person is given."""
    person = _get_person_for_audit(request_user(request), pk)
    data = subject_access_data(person)
    record_access(request, person, "export:released")
    return render(
        request,
        "pod/security/subject_access_release.html",
        {"person": person, "data": released_display(data)},
    )


@clinical_required
@one_submission
@require_POST
def subject_access_include(request: HttpRequest, pk: int) -> HttpResponse:
    """A clinician of the team includes one third-party value in the released copy, with the
    reason (pod.SubjectAccessInclusion, audited)."""
    user = request_user(request)
    person = get_service_user_for_user(user, pk)
    form = InclusionForm(request.POST)
    if form.is_valid():
        try:
            subject_access_include_item(
                person=person,
                item=form.cleaned_data["item"],
                reason=form.cleaned_data["reason"],
                included_by=user,
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "Included in the released copy; the reason is recorded.")
    else:
        messages.error(request, "Give the reason for releasing it.")
    return redirect("security:subject_access", pk=person.pk)
