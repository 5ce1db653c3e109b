"""The episode's current-medication list: what the person already takes, with its source.
A prescription is "continuing" only for a medicine on this list (issue 10, point 2)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from meetings import selectors
from meetings.forms import CurrentMedicationForm
from meetings.services import prescriptions
from meetings.views.common import episode_view
from pod.foundation.access import request_user
from pod.foundation.form_errors import add_service_errors
from pod.foundation.submissions import one_submission


@episode_view
@require_http_methods(["GET", "POST"])
@one_submission
def current_medication(request: HttpRequest, episode) -> HttpResponse:
    """The list (read-only once the episode is closed) and, while it is open, the form that
    adds to it: any clinician or prescriber of the team, at referral or any time later."""
    form = None
    if not episode.is_closed:
        form = CurrentMedicationForm(
            request.POST or None,
            initial={"source_date": timezone.localdate()},
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                entry = prescriptions.current_medication_add(
                    episode=episode,
                    medicine=data["medicine"],
                    dose=data["dose"],
                    source=data["source"],
                    source_detail=data["source_detail"],
                    source_date=data["source_date"],
                    recorded_by=request_user(request),
                    now=timezone.now(),
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"{entry.medicine} added to the current medication.")
                return redirect("meetings:current_medication", pk=episode.pk)
    return render(
        request,
        "meetings/current_medication.html",
        {"episode": episode, "form": form, "entries": selectors.current_medications(episode)},
    )
