"""Consent of network members to receive information about the person's care: recorded with the
date and who took it, refused by the database when unattributed, and honoured by the care plan
page, the meeting invitation and the peer's page."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from meetings.models import CarePlanVersion, Meeting, Participant
from meetings.services.meeting_messages import owe_meeting_messages
from networks import peer_services, services
from networks.models import NetworkMember
from pod.foundation.outbox import messages_deliver_due
from tests import factories as f


def _member_form(**extra):
    return {
        "name": "Dana Rivers",
        "category": "family",
        "relationship": "older sister",
        "closeness": "1",
        "phone": "07700 900123",
        "email": "dana@example.org",
        "address": "",
        "person_wants_invited": "on",
        "not_invited_reason": "",
        **extra,
    }


@pytest.mark.hazard("HAZ-06.C5")
def test_it_stamps_information_consent_when_given_and_again_when_withdrawn(
    service_user, clinician, clinician2
):
    given_at = timezone.now()
    member = services.network_member_add(
        service_user=service_user,
        added_by=clinician,
        now=given_at,
        information_consent="agreed",
        name="Dana",
        category="family",
        relationship="sister",
    )
    assert member.information_consent == "agreed"
    assert member.information_consent_recorded_at == given_at
    assert member.information_consent_recorded_by == clinician
    # Consent to contact was not given: it stays unasked, not stamped.
    assert member.contact_consent == "not_asked" and member.consent_recorded_at is None

    # Saving other details with the same answer keeps the original stamp.
    later = given_at + timedelta(days=1)
    member = services.network_member_update(
        member=member, updated_by=clinician2, now=later, information_consent="agreed", phone="1"
    )
    assert member.information_consent_recorded_at == given_at
    assert member.information_consent_recorded_by == clinician

    withdrawn_at = given_at + timedelta(days=2)
    member = services.network_member_update(
        member=member, updated_by=clinician2, now=withdrawn_at, information_consent="refused"
    )
    member.refresh_from_db()
    assert member.information_consent == "refused"
    assert member.information_consent_recorded_at == withdrawn_at
    assert member.information_consent_recorded_by == clinician2


def test_it_records_either_consent_explicitly_with_date_and_who(service_user, clinician):
    member = f.make_member(service_user)
    now = timezone.now()
    services.network_member_record_consent(
        member=member, consent="agreed", recorded_by=clinician, now=now, kind="information"
    )
    member.refresh_from_db()
    assert member.information_consent == "agreed"
    assert member.information_consent_recorded_by == clinician
    assert member.contact_consent == "not_asked" and member.consent_recorded_at is None


@pytest.mark.hazard("HAZ-06.C5")
def test_it_refuses_unattributed_information_consent_in_the_database(service_user):
    member = f.make_member(service_user)
    with pytest.raises(IntegrityError), transaction.atomic():
        NetworkMember.objects.filter(pk=member.pk).update(information_consent="agreed")
    member.refresh_from_db()
    assert member.information_consent == "not_asked"


def test_it_records_who_and_when_from_the_member_form(client, clinician, service_user):
    client.force_login(clinician)
    form_page = client.get(reverse("networks:member_add", args=[service_user.pk]))
    label = form_page.context["form"].fields["information_consent"].label
    assert label == f"Have they agreed to receive information about {service_user}'s care?"
    before = timezone.now()
    response = client.post(
        reverse("networks:member_add", args=[service_user.pk]),
        _member_form(information_consent="agreed", contact_consent="not_asked"),
    )
    assert response.status_code == 302
    member = NetworkMember.objects.get()
    assert member.information_consent == "agreed"
    assert member.information_consent_recorded_by == clinician
    assert member.information_consent_recorded_at >= before
    assert member.contact_consent == "not_asked" and member.consent_recorded_at is None

    page = client.get(response.url).content.decode()
    stamp = member.information_consent_recorded_at.astimezone(timezone.get_current_timezone())
    assert f"agreed</span>, recorded {stamp:%-d %b %Y} by {clinician}" in page
    assert "Consent to be contacted" in page and "Information" in page


@pytest.mark.hazard("HAZ-06.C5")
def test_it_lists_only_consenting_active_members_as_may_receive_a_copy(client, clinician, episode):
    stamp = {"information_consent_recorded_at": timezone.now()}
    f.make_member(
        episode.service_user,
        name="Informed Iris",
        information_consent="agreed",
        information_consent_recorded_by=clinician,
        **stamp,
    )
    f.make_member(episode.service_user, name="Uninformed Ursula")
    f.make_member(
        episode.service_user,
        name="Departed Dora",
        information_consent="agreed",
        information_consent_recorded_by=clinician,
        status=NetworkMember.Status.ENDED,
        ended_at=timezone.now(),
        **stamp,
    )
    client.force_login(clinician)
    response = client.get(reverse("meetings:care_plan", args=[episode.pk]))
    assert [m.name for m in response.context["copy_to"]] == ["Informed Iris"]
    assert [m.name for m in response.context["no_copy_to"]] == ["Uninformed Ursula"]
    page = response.content.decode()
    may = page.split("data-may-receive>")[1].split("</dd>")[0]
    may_not = page.split("data-may-not-receive>")[1].split("</dd>")[0]
    assert "Informed Iris" in may and "Uninformed Ursula" not in may
    assert "Uninformed Ursula" in may_not and "Departed Dora" not in page


@pytest.mark.hazard("HAZ-10.C2")
def test_it_sends_an_invitation_that_carries_no_care_information(clinician, episode):
    CarePlanVersion.objects.create(
        episode=episode,
        version=1,
        what_matters="Sleeping again and seeing my daughter",
        actions="Daily visits from the crisis team",
        responsible="Care coordinator",
        person_agreed=True,
        created_by=clinician,
    )
    member = f.make_member(
        episode.service_user,
        email="sis@example.org",
        contact_consent="agreed",
        consent_recorded_at=timezone.now(),
        consent_recorded_by=clinician,
    )
    start = timezone.now() + timedelta(days=1)
    meeting = Meeting.objects.create(
        episode=episode, scheduled_start=start, scheduled_end=start + timedelta(hours=1)
    )
    Participant.objects.create(
        meeting=meeting, kind=Participant.Kind.NETWORK_MEMBER, network_member=member
    )
    assert owe_meeting_messages(meeting, kind="invitation", now=timezone.now()) == 1
    assert messages_deliver_due() == 1
    (message,) = mail.outbox
    parts = [message.subject, message.body]
    parts += [content for content, _ in message.alternatives]
    parts += [content for _, content, _ in message.attachments]
    sent = "\n".join(parts)
    assert "network meeting" in sent
    for care_detail in [
        episode.reason,
        "Hearing voices",
        "Sleeping again",
        "crisis team",
        "Care coordinator",
        episode.service_user.family_name,
        episode.service_user.nhs_number,
        episode.get_triage_category_display(),
    ]:
        assert care_detail not in sent


def test_it_shows_the_peer_whether_each_member_may_receive_information(
    client, service_user, peer_volunteer, clinician
):
    peer_services.peer_assign(
        service_user=service_user, peer=peer_volunteer, assigned_by=clinician, now=timezone.now()
    )
    f.make_member(
        service_user,
        name="Informed Iris",
        information_consent="agreed",
        information_consent_recorded_at=timezone.now(),
        information_consent_recorded_by=clinician,
    )
    f.make_member(service_user, name="Uninformed Ursula")
    client.force_login(peer_volunteer)
    page = client.get(reverse("networks:peer_person", args=[service_user.pk])).content.decode()
    iris = page.split("Informed Iris")[1].split("</li>")[0]
    ursula = page.split("Uninformed Ursula")[1].split("</li>")[0]
    assert 'data-information-consent="yes"' in iris and "May be given information" in iris
    assert 'data-information-consent="no"' in ursula and "do not pass any on" in ursula


def test_it_lets_the_peer_record_information_consent_when_a_proposal_is_accepted(
    client, service_user, peer_volunteer, clinician
):
    peer_services.peer_assign(
        service_user=service_user, peer=peer_volunteer, assigned_by=clinician, now=timezone.now()
    )
    member = peer_services.network_member_propose(
        service_user=service_user,
        proposed_by=peer_volunteer,
        name="Nina",
        category="neighbour",
        relationship="neighbour",
        now=timezone.now(),
    )
    client.force_login(peer_volunteer)
    response = client.post(
        reverse("networks:member_consent", args=[service_user.pk, member.pk]),
        {
            "person_consents": "on",
            "member_consents_to_contact": "not_asked",
            "member_consents_to_information": "agreed",
            "accept": "",
        },
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.status == NetworkMember.Status.ACTIVE
    assert member.information_consent == "agreed"
    assert member.information_consent_recorded_by == peer_volunteer
    assert member.contact_consent == "not_asked" and member.consent_recorded_at is None
