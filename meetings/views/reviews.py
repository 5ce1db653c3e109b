"""The service manager's review pages (issue 13): one review, and the list of them.

Only the service managers of the review's team may open them (meetings/review_selectors.py);
the facts shown are those the rule used, never the dialogic record.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from meetings import review_selectors
from meetings.models import Review
from meetings.review_forms import ReviewDecisionForm
from meetings.services.reviews import review_decide
from pod.foundation import paging
from pod.foundation.access import request_user, role_required
from pod.foundation.audit import note_shown
from pod.foundation.form_errors import add_service_errors
from pod.foundation.models import User
from pod.foundation.submissions import one_submission
from pod.foundation.time_words import span_words

manager_only = role_required(User.Role.SERVICE_MANAGER)


@manager_only
@require_http_methods(["GET", "POST"])
@one_submission
def review_detail(request: HttpRequest, review_pk: int) -> HttpResponse:
    user = request_user(request)
    review = review_selectors.get_review_for_user(user, review_pk)
    now = timezone.now()
    form = None
    if review.is_open:
        form = ReviewDecisionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                review_decide(
                    review=review,
                    decision=form.cleaned_data["decision"],
                    note=form.cleaned_data["note"],
                    decided_by=user,
                    now=now,
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Your decision is recorded.")
                return redirect("meetings:review_detail", review_pk=review.pk)
    elif request.method == "POST":
        messages.info(request, "This review was already decided; nothing was changed.")
        return redirect("meetings:review_detail", review_pk=review.pk)
    return render(
        request,
        "meetings/reviews/detail.html",
        {
            "review": review,
            "title": f"Review: {review.get_kind_display()}",  # the kind only, never a name
            "facts": review_selectors.review_facts(review, now=now),
            "form": form,
            "time_to_review": (
                span_words(review.decided_at - review.raised_at) if review.decided_at else ""
            ),
        },
    )


@manager_only
def review_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    # Each list one page at a time, paged apart (pod/foundation/paging.py): the open ones
    # oldest first, the decided ones latest first.
    size = paging.LIST_SIZE
    queue = paging.bounded(request, review_selectors.open_reviews(user), param="open", size=size)
    closed = paging.bounded(
        request, review_selectors.closed_reviews(user), param="closed", size=size
    )
    note_shown(
        request, "person", [r.episode.service_user_id for r in [*queue, *closed]], "list:reviews"
    )
    return render(
        request,
        "meetings/reviews/list.html",
        {"queue": queue, "open_count": queue.total, "closed": closed, "kinds": Review.Kind},
    )
