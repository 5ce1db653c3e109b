"""One identity: a referral whose NHS number is on record under another name or date of birth
shows both side by side and needs an explicit "same person"; nothing lands on another person's
record in silence."""

from __future__ import annotations

import pytest

from meetings.models import Episode
from networks.models import IdentityConfirmation, ServiceUser
from pod.foundation.audit_models import AuditEvent, RecordAccess
from tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.hazard("HAZ-05.C6")]
URL = "/episodes/new/"


def _post(client, team, staff, **overrides):
    data = {
        "nhs_number": "943 476 5005",
        "given_name": "Pat",
        "family_name": "Quinlan",
        "date_of_birth": "1988-07-01",
        "team": team.pk,
        "referral_source": "gp",
        "triage_category": "C",
        "reason": "Not sleeping.",
        "referral_received_at": "2026-03-02T09:00",
        "core_team": [u.pk for u in staff],
    }
    data.update(overrides)
    return client.post(URL, data)


@pytest.fixture
def known(team):
    return f.make_service_user(
        team, nhs_number="9434765005", given_name="Siobhán", family_name="O’Brien"
    )


def test_a_number_on_record_under_another_name_is_shown_side_by_side_and_nothing_saved(
    client, team, clinician, clinician2, known, django_capture_on_commit_callbacks
):
    client.force_login(clinician)
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, team, [clinician, clinician2])
    assert response.status_code == 200
    assert "on record under another name" in response.context["form"].errors["nhs_number"][0]
    page = response.content.decode()
    assert "Is this the same person?" in page
    assert "Siobhán" in page and "O’Brien" in page  # on record
    assert "Pat" in page and "Quinlan" in page  # entered, kept on the page
    assert 'name="same_person"' in page
    assert not Episode.objects.exists() and ServiceUser.objects.count() == 1
    assert not IdentityConfirmation.objects.exists()
    # The comparison showed the person on record: that look is logged.
    assert RecordAccess.objects.filter(user=clinician, service_user=known).exists()


def test_same_person_uses_the_record_and_keeps_what_was_entered(
    client, team, clinician, clinician2, known
):
    client.force_login(clinician)
    response = _post(client, team, [clinician, clinician2], same_person="on")
    assert response.status_code == 302
    episode = Episode.objects.get()
    assert episode.service_user == known
    known.refresh_from_db()
    assert (known.given_name, known.family_name) == ("Siobhán", "O’Brien")  # record unchanged
    confirmation = IdentityConfirmation.objects.get()
    assert (confirmation.entered_given_name, confirmation.entered_family_name) == (
        "Pat",
        "Quinlan",
    )
    assert str(confirmation.entered_date_of_birth) == "1988-07-01"
    assert confirmation.recorded_family_name == "O’Brien"
    assert confirmation.confirmed_by == clinician
    assert AuditEvent.objects.filter(table_name="networks_identityconfirmation").exists()


def test_a_corrected_number_registers_the_new_person(client, team, clinician, clinician2, known):
    client.force_login(clinician)
    assert _post(client, team, [clinician, clinician2]).status_code == 200
    response = _post(client, team, [clinician, clinician2], nhs_number="4010232137")
    assert response.status_code == 302
    new = ServiceUser.objects.get(nhs_number="4010232137")
    assert (new.given_name, new.family_name) == ("Pat", "Quinlan")
    assert Episode.objects.get().service_user == new


@pytest.mark.parametrize(
    "entered",
    [
        {"given_name": "SIOBHAN", "family_name": "o'brien"},  # case, accent, apostrophe style
        {"given_name": "", "family_name": "", "date_of_birth": ""},  # only the number
    ],
)
def test_the_same_details_written_differently_need_no_confirmation(
    client, team, clinician, clinician2, known, entered
):
    client.force_login(clinician)
    response = _post(
        client, team, [clinician, clinician2], **{"date_of_birth": "1990-05-17", **entered}
    )
    assert response.status_code == 302
    assert Episode.objects.get().service_user == known


def test_a_different_date_of_birth_alone_needs_confirmation(
    client, team, clinician, clinician2, known
):
    client.force_login(clinician)
    response = _post(
        client,
        team,
        [clinician, clinician2],
        given_name="Siobhan",
        family_name="O'Brien",
        date_of_birth="1991-05-17",
    )
    assert response.status_code == 200
    rows = {r["label"]: r["differs"] for r in response.context["mismatch"]}
    assert rows == {
        "Given name": False,
        "Family name": False,
        "Date of birth": True,
        "Team": False,
    }


@pytest.mark.hazard("HAZ-05.C1")
@pytest.mark.parametrize("number", ["999 999 9999", "0000000000", "999 000 0018"])
def test_placeholder_and_test_range_numbers_are_refused_with_the_reason(
    client, team, clinician, clinician2, number
):
    client.force_login(clinician)
    response = _post(client, team, [clinician, clinician2], nhs_number=number)
    assert response.status_code == 200
    error = response.context["form"].errors["nhs_number"][0]
    assert "placeholder" in error or "reserved for test data" in error
    assert not ServiceUser.objects.exists()


@pytest.mark.hazard("HAZ-05.C1")
def test_the_lookup_says_why_a_placeholder_is_refused(client, clinician):
    client.force_login(clinician)
    response = client.post("/episodes/new/person/", {"nhs_number": "1111111111"})
    assert "placeholder" in response.content.decode()


def test_the_lookup_logs_the_person_it_shows(
    client, clinician, known, django_capture_on_commit_callbacks
):
    client.force_login(clinician)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/episodes/new/person/", {"nhs_number": "943-476-5005"})
    assert "Known to your team" in response.content.decode()
    assert list(RecordAccess.objects.values_list("user", "service_user", "what")) == [
        (clinician.pk, known.pk, "lookup:nhs_number")
    ]
