"""The person pages: find a person, their details (with the corrections and identity
confirmations on record), and correcting those details with a reason.

Project wiring (README "Architecture"): the details page lists the person's episodes, so it sits
above meetings. Every page here names one person in its URL (`person_pk`), so the access log
records it by itself (RecordAccessMiddleware); the search notes the people it lists.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from meetings.models import Episode
from networks import rules as network_rules
from networks import services as network_services
from networks.selectors import get_service_user_for_user, people_search, service_users_for
from pod.foundation.access import clinical_required, request_user
from pod.foundation.audit import note_shown
from pod.foundation.form_errors import add_service_errors
from pod.foundation.localtime import LONDON
from pod.foundation.submissions import one_submission
from pod.records.forms import DetailsCorrectionForm, PersonSearchForm


@clinical_required
@require_http_methods(["GET", "POST"])
def person_search(request: HttpRequest) -> HttpResponse:
    """Find a person of the user's teams by NHS number or name (networks.selectors.
    people_search). POST only for the query: nothing personal in the URL."""
    form = PersonSearchForm(request.POST or None)
    results: list[dict[str, Any]] | None = None
    if request.method == "POST" and form.is_valid():
        people = people_search(service_users_for(request_user(request)), form.cleaned_data["q"])
        results = [
            {
                "person": p,
                "nhs_number": network_rules.format_nhs_number(p.nhs_number),
            }
            for p in people
        ]
        note_shown(request, "person", [p.pk for p in people], "search:people")
    return render(request, "pod/people/search.html", {"form": form, "results": results})


@clinical_required
def person_detail(request: HttpRequest, person_pk: int) -> HttpResponse:
    person = get_service_user_for_user(request_user(request), person_pk)
    return render(
        request,
        "pod/people/detail.html",
        {
            "person": person,
            "nhs_number": network_rules.format_nhs_number(person.nhs_number),
            "episodes": list(
                Episode.objects.filter(service_user=person).order_by("-referral_received_at")
            ),
            "corrections": list(person.details_corrections.select_related("corrected_by")),
            "confirmations": list(person.identity_confirmations.select_related("confirmed_by")),
        },
    )


@clinical_required
@one_submission
@require_http_methods(["GET", "POST"])
def person_correct(request: HttpRequest, person_pk: int) -> HttpResponse:
    user = request_user(request)
    person = get_service_user_for_user(user, person_pk)
    initial = {name: getattr(person, name) for name in DetailsCorrectionForm.FIELDS}
    form = DetailsCorrectionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            network_services.service_user_correct(
                person=person,
                changes=form.changes(),
                reason=form.cleaned_data["reason"],
                corrected_by=user,
                today=timezone.now().astimezone(LONDON).date(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "The details are corrected; the reason is kept with them.")
            return redirect("people:person_detail", person_pk=person.pk)
    return render(request, "pod/people/correct.html", {"person": person, "form": form})
