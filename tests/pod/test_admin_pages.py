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


@pytest.mark.django_db
@pytest.mark.hazard("HAZ-06.C90")
def test_a_members_consent_is_read_only_in_the_admin(admin_client_verified, service_user):
    """Issue 13 review: the admin could set a refusal back to "not yet asked", or record
    "agreed" under anyone's name and any date."""
    from tests import factories as f

    member = f.make_member(service_user)
    page = admin_client_verified.get(
        reverse("admin:networks_networkmember_change", args=[member.pk])
    )
    assert page.status_code == 200
    consent = {
        "contact_consent",
        "consent_recorded_at",
        "consent_recorded_by",
        "information_consent",
        "information_consent_recorded_at",
        "information_consent_recorded_by",
    }
    assert not consent & set(page.context["adminform"].form.fields)


@pytest.mark.django_db
@pytest.mark.hazard("HAZ-07.C89")
def test_a_meeting_cannot_be_added_in_the_admin_nor_a_held_one_deleted(
    admin_client_verified, team, clinician, clinician2
):
    """Issue 10 review: an admin-added held meeting skipped every rule of the pages, and a held
    meeting the medication rule had counted could be deleted."""
    from meetings.models import Meeting
    from tests.meetings.helpers import held_meeting, recent_episode

    assert admin_client_verified.get(reverse("admin:meetings_meeting_add")).status_code == 403
    episode = recent_episode(team, [clinician, clinician2], hours_ago=30)
    meeting = held_meeting(episode, [clinician, clinician2], hours_after_referral=2)
    delete = reverse("admin:meetings_meeting_delete", args=[meeting.pk])
    assert admin_client_verified.get(delete).status_code == 403
    admin_client_verified.post(delete, {"post": "yes"})
    admin_client_verified.post(
        reverse("admin:meetings_meeting_changelist"),
        {"action": "delete_selected", "_selected_action": [meeting.pk], "post": "yes"},
    )
    assert Meeting.objects.filter(pk=meeting.pk).exists()
