"""Pages about one person's whole record: who has looked at it and what changed, and the
subject access export (everything POD holds about them).

Project wiring, above every app (README "Architecture"): the export walks every table that
points at the person, whichever app owns it, so these pages depend on all apps at once.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from networks.models import ServiceUser
from networks.selectors import get_service_user_for_user
from pod.foundation.access import CLINICAL_ROLES, request_user
from pod.foundation.audit import note_shown, record_access
from pod.foundation.audit_models import AuditEvent, RecordAccess
from pod.foundation.models import User
from pod.records.subject_access import as_display, subject_access_data

ACCESS_LOG_LIMIT = 200


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
    accesses = list(
        RecordAccess.objects.filter(service_user_id=person.pk)
        .select_related("user")
        .order_by("-at", "-id")[:ACCESS_LOG_LIMIT]
    )
    changes = list(
        AuditEvent.objects.filter(table_name="networks_serviceuser", row_id=str(person.pk))
        .select_related("user")
        .order_by("-at", "-id")[:ACCESS_LOG_LIMIT]
    )
    return render(
        request,
        "pod/security/access_log.html",
        {"person": person, "accesses": accesses, "changes": changes, "limit": ACCESS_LOG_LIMIT},
    )


@login_required
def subject_access(request: HttpRequest, pk: int, as_json: bool = False) -> HttpResponse:
    """Everything POD holds about one person (clinicians of the team, or an administrator)."""
    person = _get_person_for_audit(request_user(request), pk)
    data = subject_access_data(person)
    record_access(request, person, "export:json" if as_json else "export:html")
    if as_json:
        response = JsonResponse(data, json_dumps_params={"indent": 2, "ensure_ascii": False})
        response["Content-Disposition"] = (
            f'attachment; filename="pod-subject-access-{person.pk}.json"'
        )
        return response
    return render(
        request, "pod/security/subject_access.html", {"person": person, "data": as_display(data)}
    )
