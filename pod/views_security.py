"""Security pages: who has looked at a record; two-factor set-up and verification."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from pod import access
from pod.audit_models import AuditEvent, RecordAccess
from pod.models import User

ACCESS_LOG_LIMIT = 200


def _get_person_for_audit(user: User, pk: int):
    """The person whose audit `user` may read: clinicians of their team, or an administrator."""
    from networks.models import ServiceUser

    if user.role == User.Role.ADMINISTRATOR:
        person = ServiceUser.objects.filter(pk=pk).select_related("team").first()
        if person is None:
            raise Http404("No such person")
        return person
    if user.role not in access.CLINICAL_ROLES:
        raise PermissionDenied("Only the person's clinicians can see who has looked at the record.")
    return access.get_service_user_for_user(user, pk)


@login_required
def access_log(request: HttpRequest, pk: int) -> HttpResponse:
    person = _get_person_for_audit(request.user, pk)
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
