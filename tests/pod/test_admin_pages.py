"""Every model page of the admin opens, searches and filters for an administrator."""

import pytest
from django.contrib import admin
from django.urls import reverse


@pytest.fixture
def admin_client_verified(client, admin_user):
    client.force_login(admin_user)
    return client


def test_every_registered_model_lists_and_searches_without_error(admin_client_verified, episode):
    for model, model_admin in admin.site._registry.items():
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert admin_client_verified.get(url).status_code == 200, url
        if model_admin.search_fields:
            assert admin_client_verified.get(url, {"q": "Rivers"}).status_code == 200, url


@pytest.mark.django_db
@pytest.mark.hazard("HAZ-07.C89")
def test_a_held_meetings_record_cannot_be_edited_in_the_admin(
    admin_client_verified, team, clinician, clinician2
):
    """Issue 10 review: setting a counted meeting's end in the admin left no history and
    reopened no prescription audit. A held meeting is corrected from its own page only."""
    from meetings.models import Meeting
    from tests.meetings.helpers import held_meeting, recent_episode

    episode = recent_episode(team, [clinician, clinician2], hours_ago=30)
    meeting = held_meeting(episode, [clinician, clinician2], hours_after_referral=2)
    url = reverse("admin:meetings_meeting_change", args=[meeting.pk])
    page = admin_client_verified.get(url)
    assert page.status_code == 200
    # Django ignores posted values for read-only fields: nothing of the record is a form field,
    # and the attendance rows cannot be added, changed or deleted inline.
    form = page.context["adminform"].form
    assert not {"actual_start", "actual_end", "status", "location"} & set(form.fields)
    participants = page.context["inline_admin_formsets"][0]
    assert not participants.has_change_permission and not participants.has_delete_permission
    assert Meeting.objects.get(pk=meeting.pk).status == Meeting.Status.HELD
