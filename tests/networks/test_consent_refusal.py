"""Issue 13: a network member's consent can be refused, not only "not yet asked".

Each consent is an answer (not yet asked / agreed / refused); agreed and refused carry who and
when (the database refuses either without); the booleans it replaced map across; and a member
who refused is never invited, emailed, offered the care plan or picked on a contact form.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone

from meetings.models import Meeting, Participant
from meetings.services.meetings import meeting_schedule
from networks import peer_services, services
from networks.models import NetworkMember
from tests import factories as f
from tests.meetings.helpers import recent_episode

pytestmark = pytest.mark.hazard("HAZ-06.C90")


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


def _refused(person, clinician, **kw):
    stamp = timezone.now() - timedelta(days=1)
    return f.make_member(
        person,
        contact_consent="refused",
        consent_recorded_at=stamp,
        consent_recorded_by=clinician,
        information_consent="refused",
        information_consent_recorded_at=stamp,
        information_consent_recorded_by=clinician,
        email="refused@example.org",
        **kw,
    )


def test_the_add_form_preselects_no_answer_and_needs_each_chosen(client, clinician, service_user):
    client.force_login(clinician)
    url = reverse("networks:member_add", args=[service_user.pk])
    drawn = client.get(url)
    page = drawn.content.decode()
    for name in ("contact_consent", "information_consent"):
        radios = re.findall(rf'<input[^>]*name="{name}"[^>]*>', page)
        assert sorted(re.search(r'value="(\w+)"', r).group(1) for r in radios) == [
            "agreed",
            "not_asked",
            "refused",
        ]
        assert not any(re.search(r"\schecked", r) for r in radios), radios
        assert drawn.context["form"][name].value() in (None, "")
    response = client.post(url, _member_form())
    assert response.status_code == 200
    assert {"contact_consent", "information_consent"} <= set(response.context["form"].errors)
    assert NetworkMember.objects.count() == 0


def test_a_refusal_is_recorded_with_who_and_when_and_shown_as_refused(
    client, clinician, service_user
):
    client.force_login(clinician)
    before = timezone.now()
    response = client.post(
        reverse("networks:member_add", args=[service_user.pk]),
        _member_form(contact_consent="refused", information_consent="not_asked"),
    )
    assert response.status_code == 302
    member = NetworkMember.objects.get()
    assert member.contact_consent == NetworkMember.Consent.REFUSED
    assert member.consent_recorded_by == clinician and member.consent_recorded_at >= before
    assert not member.may_be_contacted
    assert member.information_consent == "not_asked"
    assert member.information_consent_recorded_at is None

    page = client.get(response.url).content.decode()
    contact = page.split('data-consent="contact"')[1].split("</dd>")[0]
    information = page.split('data-consent="information"')[1].split("</dd>")[0]
    assert "<strong>refused</strong>" in contact and str(clinician) in contact
    assert "not yet asked" in information and "refused" not in information


def test_an_answer_is_changed_by_another_answer_never_erased(
    client, clinician, clinician2, service_user
):
    member = _refused(service_user, clinician)
    client.force_login(clinician2)
    url = reverse("networks:member_edit", args=[service_user.pk, member.pk])
    form = client.get(url).context["form"]
    assert [c[0] for c in form.fields["contact_consent"].choices] == ["agreed", "refused"]
    response = client.post(
        url, _member_form(contact_consent="not_asked", information_consent="refused")
    )
    assert "contact_consent" in response.context["form"].errors
    with pytest.raises(ValidationError):
        services.network_member_update(
            member=member, updated_by=clinician2, now=timezone.now(), contact_consent="not_asked"
        )
    member.refresh_from_db()
    assert member.contact_consent == "refused" and member.consent_recorded_by == clinician


def test_the_database_refuses_a_refusal_without_who_and_when(service_user):
    member = f.make_member(service_user)
    for update in (
        {"contact_consent": "refused"},
        {"contact_consent": "agreed"},
        {"information_consent": "refused"},
        {"contact_consent": "maybe"},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            NetworkMember.objects.filter(pk=member.pk).update(**update)
    member.refresh_from_db()
    assert (member.contact_consent, member.information_consent) == ("not_asked", "not_asked")


def test_a_refused_member_cannot_be_ticked_on_the_invitation_form(
    client, team, clinician, clinician2
):
    episode = recent_episode(team, [clinician, clinician2], hours_ago=2)
    refused = _refused(episode.service_user, clinician, name="Robin")
    client.force_login(clinician)
    url = reverse("meetings:meeting_new", args=[episode.pk])
    form = client.get(url).context["form"]
    assert refused.pk not in form.initial["network_members"]
    label = dict((str(v), str(lbl)) for v, lbl in form.fields["network_members"].choices)[
        str(refused.pk)
    ]
    assert "refused to be contacted" in label
    start = timezone.localtime(timezone.now() + timedelta(hours=3))
    response = client.post(
        url,
        {
            "scheduled_start": start.strftime("%Y-%m-%dT%H:%M"),
            "duration_minutes": 60,
            "location": "home",
            "location_detail": "",
            "staff": [clinician.pk, clinician2.pk],
            "network_members": [refused.pk],
        },
    )
    assert response.status_code == 200
    assert "Robin refused to be contacted" in str(response.context["form"].errors)
    assert Meeting.objects.count() == 0 and mail.outbox == []


def test_a_refused_member_is_never_invited_by_the_service(team, clinician, clinician2):
    episode = recent_episode(team, [clinician, clinician2], hours_ago=2)
    refused = _refused(episode.service_user, clinician)
    start = timezone.now() + timedelta(hours=3)
    arrange = {
        "episode": episode,
        "scheduled_start": start,
        "scheduled_end": start + timedelta(hours=1),
        "location": "home",
        "staff": [clinician, clinician2],
        "created_by": clinician,
        "now": timezone.now(),
    }
    with pytest.raises(ValidationError) as err:
        meeting_schedule(**arrange, network_members=[refused])
    assert "network_members" in err.value.message_dict
    # By default (no choice made) they are recorded as not invited, with the reason.
    meeting = meeting_schedule(**arrange, network_members=None)
    row = meeting.participants.get(kind=Participant.Kind.NETWORK_MEMBER)
    assert row.network_member == refused and not row.invited
    assert "Refused to be contacted" in row.not_invited_reason


def test_a_refused_member_is_not_offered_the_care_plan(client, team, clinician, clinician2):
    episode = recent_episode(team, [clinician, clinician2], hours_ago=2)
    _refused(episode.service_user, clinician, name="Robin")
    f.make_member(episode.service_user, name="Ula")
    client.force_login(clinician)
    response = client.get(reverse("meetings:care_plan", args=[episode.pk]))
    assert [m.name for m in response.context["copy_to"]] == []
    page = response.content.decode()
    may_not = page.split("data-may-not-receive>")[1].split("</dd>")[0]
    assert 'data-information-answer="refused">(refused)' in may_not
    assert 'data-information-answer="not_asked">(not yet asked)' in may_not


def test_a_refused_member_cannot_be_picked_on_the_peer_contact_form(
    client, service_user, peer_volunteer, clinician
):
    peer_services.peer_assign(
        service_user=service_user, peer=peer_volunteer, assigned_by=clinician, now=timezone.now()
    )
    refused = _refused(service_user, clinician, name="Robin")
    client.force_login(peer_volunteer)
    url = reverse("networks:peer_contact_add", args=[service_user.pk])
    assert "Robin (sister) - refused to be contacted" in client.get(url).content.decode()
    response = client.post(
        url,
        {
            "who": [str(refused.pk)],
            "mode": "phone",
            "contact_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "duration_quick": "15",
            "duration_minutes": "",
            "purpose": "support",
            "note": "",
        },
    )
    assert response.status_code == 200
    assert "refused to be contacted" in response.context["form"].errors["who"][0]
    assert not refused.peer_contacts.exists()


@pytest.mark.django_db(transaction=True)
def test_the_migration_maps_the_booleans_to_answers(django_user_model, team):
    """True → agreed (keeping who and when); False with who and when → refused (an answer of
    no: consent withdrawn); False without → not yet asked. Then forward to the latest again."""
    before = [("networks", "0008_person_search_and_identity")]
    after = [("networks", "0009_consent_choice")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    person_model = old.get_model("networks", "ServiceUser")
    member_model = old.get_model("networks", "NetworkMember")
    user = old.get_model("pod", "User").objects.get(
        pk=django_user_model.objects.create(username="taker", role="clinician").pk
    )
    person = person_model.objects.create(
        nhs_number=f.valid_nhs_number(), given_name="A", family_name="B", team_id=team.pk
    )
    stamp = timezone.now()
    agreed = member_model.objects.create(
        service_user=person,
        name="Agreed",
        category="family",
        relationship="x",
        consent_to_contact=True,
        consent_recorded_at=stamp,
        consent_recorded_by=user,
    )
    withdrawn = member_model.objects.create(
        service_user=person,
        name="Withdrawn",
        category="family",
        relationship="x",
        consent_to_contact=False,
        consent_recorded_at=stamp,
        consent_recorded_by=user,
        consent_to_information=True,
        information_consent_recorded_at=stamp,
        information_consent_recorded_by=user,
    )
    unasked = member_model.objects.create(
        service_user=person, name="Unasked", category="family", relationship="x"
    )
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    executor.loader.build_graph()
    rows = {
        m.name: m
        for m in NetworkMember.objects.filter(pk__in=[agreed.pk, withdrawn.pk, unasked.pk])
    }
    assert (rows["Agreed"].contact_consent, rows["Agreed"].information_consent) == (
        "agreed",
        "not_asked",
    )
    assert rows["Agreed"].consent_recorded_by_id == user.pk
    assert rows["Agreed"].consent_recorded_at == stamp
    assert (rows["Withdrawn"].contact_consent, rows["Withdrawn"].information_consent) == (
        "refused",
        "agreed",
    )
    assert (rows["Unasked"].contact_consent, rows["Unasked"].information_consent) == (
        "not_asked",
        "not_asked",
    )
    MigrationExecutor(connection).migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_the_peer_page_and_the_network_map_show_a_refusal_apart_from_not_yet_asked(
    client, service_user, peer_volunteer, clinician
):
    peer_services.peer_assign(
        service_user=service_user, peer=peer_volunteer, assigned_by=clinician, now=timezone.now()
    )
    _refused(service_user, clinician, name="Robin")
    f.make_member(service_user, name="Ula")
    client.force_login(peer_volunteer)
    person = client.get(reverse("networks:peer_person", args=[service_user.pk])).content.decode()
    assert person.count('data-no-consent="refused"') == 1
    assert person.count('data-no-consent="not_asked"') == 1
    assert person.count('data-information-consent="refused"') == 1
    assert "refused@example.org" not in person  # no contact details for a refusal
    drawn = client.get(reverse("networks:network_map", args=[service_user.pk])).content.decode()
    assert 'data-contact-consent="refused"><strong>Refused</strong>' in drawn
    assert 'data-contact-consent="not_asked">Not yet asked' in drawn


def test_a_stale_form_never_reverses_an_answer_recorded_since_it_was_opened(
    client, clinician, clinician2, service_user
):
    """Issue 13 review: B opened the edit form while the member had agreed; A recorded a
    refusal; B saved a new phone number and the refusal became "agreed", credited to B."""
    stamp = timezone.now() - timedelta(days=2)
    member = f.make_member(
        service_user,
        contact_consent="agreed",
        consent_recorded_at=stamp,
        consent_recorded_by=clinician,
    )
    url = reverse("networks:member_edit", args=[service_user.pk, member.pk])
    client.force_login(clinician2)
    drawn = client.get(url).context["form"]
    assert drawn["contact_consent_was"].value() == "agreed"
    services.network_member_record_consent(
        member=member, consent="refused", recorded_by=clinician, now=timezone.now()
    )
    # B saves the form as drawn, with only the phone changed: the refusal stands.
    stale = _member_form(
        contact_consent="agreed",
        information_consent="not_asked",
        contact_consent_was="agreed",
        information_consent_was="not_asked",
        phone="07700 900999",
    )
    assert client.post(url, stale).status_code == 302
    member.refresh_from_db()
    assert (member.contact_consent, member.consent_recorded_by) == ("refused", clinician)
    assert member.phone == "07700 900999"
    # B's form drawn before any answer, A answered "refused", B picks "agreed": refused, said.
    other = f.make_member(service_user, name="Kit")
    other_url = reverse("networks:member_edit", args=[service_user.pk, other.pk])
    services.network_member_record_consent(
        member=other, consent="refused", recorded_by=clinician, now=timezone.now()
    )
    response = client.post(
        other_url,
        _member_form(
            name="Kit",
            contact_consent="agreed",
            information_consent="not_asked",
            contact_consent_was="not_asked",
            information_consent_was="not_asked",
        ),
    )
    assert "Someone recorded another answer" in " ".join(
        response.context["form"].errors["contact_consent"]
    )
    other.refresh_from_db()
    assert other.contact_consent == "refused"
