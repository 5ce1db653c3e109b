"""One submission, one record: the one-time form token (pod/foundation/submissions.py).

The mechanism is tested here on a small view of its own; the parametrised test over every real
form that changes the record lives with those forms.
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import date, timedelta

import pytest
from django import forms
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.test import Client
from django.urls import path
from django.utils import timezone

from pod.foundation.models import FormSubmission, TrainingRecord, User
from pod.foundation.submissions import (
    ALREADY_SAVED,
    SubmissionTokenMixin,
    one_submission,
    submissions_forget,
)


class _TrainingForm(SubmissionTokenMixin, forms.Form):
    course = forms.ChoiceField(choices=TrainingRecord.Course.choices)


@one_submission
def _training_add(request: HttpRequest) -> HttpResponse:
    form = _TrainingForm(request.POST)
    if not form.is_valid():
        return HttpResponse("invalid", status=200)
    record = TrainingRecord.objects.create(
        user=request.user, course=form.cleaned_data["course"], started_on=date(2026, 1, 1)
    )
    time.sleep(float(request.POST.get("linger", "0")))  # hold the transaction open
    return redirect(f"/done/{record.pk}/")


urlpatterns = [path("training/add/", _training_add, name="training_add")]


@pytest.fixture
def signed_in(clinician):
    client = Client()
    client.force_login(clinician)
    return client


def _count(user: User) -> int:
    return TrainingRecord.objects.filter(user=user).count()


@pytest.mark.urls(__name__)
def test_the_form_draws_a_fresh_token_each_time():
    first, second = _TrainingForm(), _TrainingForm()
    assert 'name="submission_token"' in str(first)
    assert first.initial["submission_token"] != second.initial["submission_token"]


@pytest.mark.urls(__name__)
def test_a_repeated_post_writes_once_and_goes_where_the_first_went(signed_in, clinician):
    data = {"course": "POD", "submission_token": str(uuid.uuid4())}
    first = signed_in.post("/training/add/", data)
    second = signed_in.post("/training/add/", data, follow=False)
    assert _count(clinician) == 1
    assert second.status_code == 302
    assert second["Location"] == first["Location"]
    follow = signed_in.get(second["Location"])
    assert ALREADY_SAVED in [str(m) for m in follow.wsgi_request._messages]


@pytest.mark.urls(__name__)
def test_a_refused_form_keeps_its_token_for_the_corrected_post(signed_in, clinician):
    token = str(uuid.uuid4())
    refused = signed_in.post("/training/add/", {"course": "nonsense", "submission_token": token})
    assert refused.status_code == 200
    assert not FormSubmission.objects.filter(token=token).exists()
    corrected = signed_in.post("/training/add/", {"course": "POD", "submission_token": token})
    assert corrected.status_code == 302
    assert _count(clinician) == 1


@pytest.mark.urls(__name__)
def test_another_users_token_is_refused(signed_in, clinician, clinician2):
    token = str(uuid.uuid4())
    signed_in.post("/training/add/", {"course": "POD", "submission_token": token})
    other = Client()
    other.force_login(clinician2)
    response = other.post("/training/add/", {"course": "IPS", "submission_token": token})
    assert response.status_code == 400
    assert _count(clinician2) == 0


@pytest.mark.urls(__name__)
def test_garbage_tokens_are_ignored_not_500(signed_in, clinician):
    for token in ["", "not-a-uuid", "x" * 10_000]:
        response = signed_in.post("/training/add/", {"course": "POD", "submission_token": token})
        assert response.status_code == 302
    assert _count(clinician) == 3


@pytest.mark.urls(__name__)
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_posts_of_one_form_write_one_record(clinician):
    """The double click: the second request arrives while the first is still writing."""
    data = {"course": "POD", "submission_token": str(uuid.uuid4()), "linger": "0.5"}
    statuses: list[int] = []
    barrier = threading.Barrier(2)

    def post() -> None:
        client = Client()
        client.force_login(clinician)
        barrier.wait()
        try:
            statuses.append(client.post("/training/add/", data).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [302, 302]
    assert _count(clinician) == 1


def test_old_tokens_are_forgotten_after_a_week(clinician):
    now = timezone.now()
    old = FormSubmission.objects.create(token=uuid.uuid4(), user=clinician, view_name="x")
    FormSubmission.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=8))
    recent = FormSubmission.objects.create(token=uuid.uuid4(), user=clinician, view_name="x")
    assert submissions_forget(now=now) == 1
    assert list(FormSubmission.objects.values_list("pk", flat=True)) == [recent.pk]
