"""One submission, one record: a one-time token on every form that changes the record.

A double click, a browser retry or a resubmitted tab sends the same POST twice. Each form that
changes something carries a hidden `submission_token` (a UUID issued when the form is drawn, by
`SubmissionTokenMixin`); its view is wrapped in `one_submission`, which inserts the token into
pod.foundation.models.FormSubmission in the same transaction as the view's writes:

1. The first POST inserts the token, runs the view and, when the view answers with a redirect
   (the change was made), stores where it sent the browser. Commit releases the token's row.
2. A second POST with the same token blocks on the unique index until the first commits, then
   fails to insert; it writes nothing and is sent where the first was sent, with a note that the
   form had already been saved. If the first rolled back, the second proceeds as a first.
3. A POST whose form was refused (the page is drawn again with errors) keeps no token row, so the
   corrected form can be sent with the same token.

A POST without a token (an old page, a test client) is handled as before, without this guard.
The static script static/js/one-submission.js also disables a form's buttons once it is sent,
but the guard is here, on the server, whatever the browser does.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect

from pod.foundation.access import request_user
from pod.foundation.models import FormSubmission

TOKEN_FIELD = "submission_token"
# Long enough for any retry or resubmitted tab; the rows carry no clinical data.
SUBMISSION_KEEP = timedelta(days=7)
ALREADY_SAVED = "That form had already been saved; it was not saved twice."


class SubmissionTokenMixin(forms.Form):
    """Adds the hidden one-time token to a form. Put it first among a form's bases."""

    # Read by `one_submission` from the raw POST, not validated here: a tampered or missing
    # token only means the submission goes unguarded, never a form error the person can't fix.
    submission_token = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault(TOKEN_FIELD, uuid.uuid4())

    def _post_clean(self) -> None:
        # The token is the view's business, not the record's: views that pass cleaned_data on
        # to a service whole (outcomes' measures, fidelity) must never see it.
        super()._post_clean()  # type: ignore[misc]
        self.cleaned_data.pop(TOKEN_FIELD, None)


def _token(request: HttpRequest) -> uuid.UUID | None:
    raw = request.POST.get(TOKEN_FIELD, "")
    if not raw or len(raw) > 64:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


def one_submission(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Make a POST view write at most once per submission token (see the module docstring).

    Goes below the access decorators (the user is known and allowed before a token is taken).
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        token = _token(request) if request.method == "POST" else None
        if token is None:
            return view(request, *args, **kwargs)
        match = request.resolver_match
        view_name = (match.view_name if match else view.__name__)[:120]
        with transaction.atomic():
            try:
                with transaction.atomic():
                    submission = FormSubmission.objects.create(
                        token=token, user=request_user(request), view_name=view_name
                    )
            except IntegrityError:
                earlier = FormSubmission.objects.filter(token=token).first()
                if earlier is None or earlier.user_id != request.user.pk:
                    return HttpResponseBadRequest("This form token belongs to another form.")
                messages.info(request, ALREADY_SAVED)
                return redirect(earlier.result_url or request.path)
            response = view(request, *args, **kwargs)
            if 300 <= response.status_code < 400 and response.has_header("Location"):
                submission.result_url = response["Location"][:500]
                submission.save(update_fields=["result_url"])
            else:
                submission.delete()  # refused or shown again: the token may be used once more
            return response

    # Read by tests/pod/test_one_submission_everywhere.py through the outer decorators, which
    # copy a wrapped view's attributes (functools.wraps).
    wrapped.guards_one_submission = True  # type: ignore[attr-defined]
    return wrapped


def submissions_forget(*, now: datetime) -> int:
    """Delete tokens older than SUBMISSION_KEEP; returns how many. Run daily by beat."""
    deleted, _ = FormSubmission.objects.filter(created_at__lt=now - SUBMISSION_KEEP).delete()
    return deleted
