"""The experience survey: a clinician issues a one-time link; the person answers on their own
page, without signing in."""

from __future__ import annotations

from typing import Any

import segno
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from networks.selectors import get_service_user_for_user
from outcomes import rules, services
from outcomes.forms import SurveyForm
from pod.foundation.access import clinical_required, request_user
from pod.foundation.form_errors import add_service_errors


@clinical_required
@never_cache
@require_http_methods(["GET", "POST"])
def survey_issue(request: HttpRequest, person_id: int) -> HttpResponse:
    person = get_service_user_for_user(request_user(request), person_id)
    now = timezone.now()
    context: dict[str, Any] = {
        "person": person,
        "lifetime_days": rules.SURVEY_LINK_LIFETIME.days,
        "interval_days": rules.SURVEY_INTERVAL.days,
    }
    status = 200
    if request.method == "POST" and request.POST.get("action") == "withdraw":
        services.survey_invitation_withdraw(service_user=person, now=now)
        messages.info(request, "The link is withdrawn: it no longer works.")
        return redirect("outcomes:survey_issue", person_id=person.pk)
    if request.method == "POST":
        try:
            invitation, token = services.survey_invitation_issue(
                service_user=person, issued_by=request_user(request), now=now
            )
        except ValidationError as error:
            context["refused"] = " ".join(error.messages)
        else:
            link = request.build_absolute_uri(reverse("outcomes:survey", args=[token]))
            context.update(
                invitation=invitation,
                link=link,
                qr_svg=segno.make(link, error="m").svg_inline(scale=4, title="QR code of the link"),
            )
            status = 201  # created: the link is shown this once
    if "link" not in context:
        context["open_link"] = services.survey_open_link(person, now)
    return render(request, "outcomes/survey_issue.html", context, status=status)


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    # The token is in the URL: never pass it to another site. ("no-referrer" would also make
    # the browser send "Origin: null" with the form, which CSRF protection rightly refuses.)
    response["Referrer-Policy"] = "same-origin"
    return response


def _closed(request: HttpRequest, reason: str, status: int) -> HttpResponse:
    return _no_store(
        render(request, "outcomes/survey_closed.html", {"reason": reason}, status=status)
    )


@never_cache
@require_http_methods(["GET", "POST"])
def survey(request: HttpRequest, token: str) -> HttpResponse:
    """The person's own page: no login, one use, rules.SURVEY_LINK_LIFETIME (14 days)."""
    now = timezone.now()
    invitation = services.survey_invitation_for_token(token)
    if invitation is None:
        return _closed(request, "This link is not valid.", 404)
    refusal = rules.survey_link_refusal(
        expires_at=invitation.expires_at,
        used_at=invitation.used_at,
        withdrawn_at=invitation.withdrawn_at,
        now=now,
    )
    if refusal:
        return _closed(request, refusal, 410)
    form = SurveyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.survey_response_submit(token=token, answers=form.cleaned_data, now=now)
        except ValidationError as error:
            if not hasattr(error, "error_dict"):
                return _closed(request, error.messages[0], 410)
            add_service_errors(form, error)
        else:
            return _no_store(render(request, "outcomes/survey_thanks.html"))
    return _no_store(render(request, "outcomes/survey.html", {"form": form}))
