"""The experience survey: one-time links that expire after 14 days, answers never per person."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from outcomes import rules, services
from outcomes.models import SurveyInvitation, SurveyResponse

ISSUED = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
ANSWERS = {f: "definitely" for f, _s, _n in rules.SURVEY_STATEMENTS}


def _issue(service_user, clinician, now=ISSUED):
    return services.survey_invitation_issue(service_user=service_user, issued_by=clinician, now=now)


@pytest.fixture
def issued(service_user, clinician):
    return services.survey_invitation_issue(
        service_user=service_user, issued_by=clinician, now=ISSUED
    )


@pytest.mark.hazard("HAZ-10.C4")
def test_it_stores_only_a_hash_of_the_link(issued):
    invitation, token = issued
    assert invitation.token_hash == rules.survey_token_hash(token)
    assert not SurveyInvitation.objects.filter(token_hash=token).exists()
    assert invitation.expires_at == ISSUED + timedelta(days=14)


@pytest.mark.hazard("HAZ-11.C6")
def test_it_accepts_answers_until_the_last_second_of_fourteen_days(issued):
    invitation, token = issued
    response = services.survey_response_submit(
        token=token, answers=ANSWERS, now=invitation.expires_at - timedelta(seconds=1)
    )
    assert response.team_id == invitation.team_id
    assert response.submitted_month.isoformat() == "2026-04-01"


@pytest.mark.hazard("HAZ-11.C6")
def test_it_refuses_an_expired_link(issued):
    invitation, token = issued
    with pytest.raises(ValidationError, match="expired"):
        services.survey_response_submit(token=token, answers=ANSWERS, now=invitation.expires_at)
    assert SurveyResponse.objects.count() == 0


@pytest.mark.hazard("HAZ-11.C6")
def test_it_refuses_a_link_used_once_already(issued):
    _invitation, token = issued
    services.survey_response_submit(token=token, answers=ANSWERS, now=ISSUED)
    with pytest.raises(ValidationError, match="already been used"):
        services.survey_response_submit(token=token, answers=ANSWERS, now=ISSUED)
    assert SurveyResponse.objects.count() == 1


@pytest.mark.hazard("HAZ-10.C4")
def test_it_keeps_nothing_that_leads_from_the_answers_to_the_person():
    names = {f.name for f in SurveyResponse._meta.get_fields()}
    assert not names & {"service_user", "invitation", "created_at", "submitted_at"}


@pytest.mark.hazard("HAZ-11.C6")
def test_the_person_answers_without_logging_in_and_only_once(client, service_user, clinician):
    client.force_login(clinician)
    page = client.post(reverse("outcomes:survey_issue", args=[service_user.pk]))
    assert page.status_code == 201 and b"<svg" in page.content  # created; the QR code
    link = page.context["link"]
    client.logout()
    path = link.split("testserver", 1)[1]
    form = client.get(path)
    assert form.status_code == 200 and form["Referrer-Policy"] == "same-origin"
    done = client.post(path, ANSWERS)
    assert b"Thank you" in done.content
    again = client.post(path, ANSWERS)
    assert again.status_code == 410 and b"already been used" in again.content
    assert SurveyResponse.objects.count() == 1


def test_it_answers_a_made_up_link_with_not_found(client, db):
    assert client.get(reverse("outcomes:survey", args=["made-up"])).status_code == 404


def test_it_shows_a_missing_answer_at_the_field(client, service_user, clinician):
    _invitation, token = services.survey_invitation_issue(
        service_user=service_user, issued_by=clinician, now=timezone.now()
    )
    answers = dict(ANSWERS)
    del answers["feel_hopeful"]
    page = client.post(reverse("outcomes:survey", args=[token]), answers)
    assert page.status_code == 200
    assert page.context["form"].errors["feel_hopeful"]
    assert SurveyResponse.objects.count() == 0


# --- One live link per person and time window ---------------------------------------------------


@pytest.mark.hazard("HAZ-11.C11")
def test_a_second_live_link_for_the_same_person_is_refused(service_user, clinician):
    _issue(service_user, clinician)
    with pytest.raises(ValidationError, match="already has a live link"):
        services.survey_invitation_issue(
            service_user=service_user, issued_by=clinician, now=ISSUED + timedelta(days=1)
        )
    assert SurveyInvitation.objects.count() == 1


@pytest.mark.hazard("HAZ-11.C11")
def test_the_database_refuses_a_second_open_link_whatever_the_code_does(service_user, clinician):
    first, _ = _issue(service_user, clinician)
    second = SurveyInvitation(
        service_user=service_user,
        team=first.team,
        token_hash="0" * 64,
        issued_by=clinician,
        issued_at=ISSUED,
        expires_at=ISSUED + timedelta(days=14),
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        second.save()


@pytest.mark.hazard("HAZ-11.C11")
def test_after_answering_the_person_is_asked_again_only_after_the_interval(service_user, clinician):
    _invitation, token = _issue(service_user, clinician)
    answered = ISSUED + timedelta(days=1)
    services.survey_response_submit(token=token, answers=ANSWERS, now=answered)
    with pytest.raises(ValidationError, match="can be asked again from"):
        services.survey_invitation_issue(
            service_user=service_user,
            issued_by=clinician,
            now=answered + rules.SURVEY_INTERVAL - timedelta(seconds=1),
        )
    services.survey_invitation_issue(
        service_user=service_user, issued_by=clinician, now=answered + rules.SURVEY_INTERVAL
    )


@pytest.mark.hazard("HAZ-11.C11")
def test_an_expired_or_withdrawn_link_makes_way_for_a_new_one(service_user, clinician):
    first, first_token = _issue(service_user, clinician)
    second, _ = services.survey_invitation_issue(
        service_user=service_user, issued_by=clinician, now=first.expires_at
    )
    first.refresh_from_db()
    assert first.withdrawn_at == first.expires_at
    assert services.survey_invitation_withdraw(service_user=service_user, now=ISSUED) == 1
    with pytest.raises(ValidationError, match="withdrawn"):
        services.survey_response_submit(
            token=first_token, answers=ANSWERS, now=first.expires_at - timedelta(days=1)
        )
    services.survey_invitation_issue(
        service_user=service_user, issued_by=clinician, now=first.expires_at
    )


@pytest.mark.hazard("HAZ-11.C11")
def test_the_page_shows_the_refusal_and_offers_to_withdraw(client, service_user, clinician):
    client.force_login(clinician)
    url = reverse("outcomes:survey_issue", args=[service_user.pk])
    assert client.post(url).status_code == 201
    again = client.post(url)
    assert again.status_code == 200 and "already has a live link" in again.content.decode()
    assert "Withdraw the live link" in client.get(url).content.decode()
    assert client.post(url, {"action": "withdraw"}).status_code == 302
    assert client.post(url).status_code == 201
    assert SurveyInvitation.objects.filter(withdrawn_at__isnull=True).count() == 1
