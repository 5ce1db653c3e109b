"""The clinician's network-member pages: add, edit, end; consent with date and who; not invited."""

from __future__ import annotations

import pytest
from django.urls import reverse

from networks.models import NetworkMember
from tests import factories as f


def _data(**kw):
    return {
        "name": "Dana Rivers",
        "category": "family",
        "relationship": "older sister",
        "closeness": 1,
        "phone": "07700 900123",
        "email": "dana@example.org",
        "address": "",
        "person_wants_invited": "on",
        "not_invited_reason": "",
        "contact_consent": "not_asked",
        "information_consent": "not_asked",
        **kw,
    }


def test_it_adds_a_member_with_consent_recorded_with_date_and_who(client, clinician, service_user):
    client.force_login(clinician)
    response = client.post(
        reverse("networks:member_add", args=[service_user.pk]), _data(contact_consent="agreed")
    )
    assert response.status_code == 302
    member = NetworkMember.objects.get()
    assert member.contact_consent == "agreed" and member.consent_recorded_by == clinician
    assert member.consent_recorded_at is not None and member.added_by == clinician
    page = client.get(response.url).content.decode()
    assert "Dana Rivers" in page and "agreed</span>, recorded" in page and str(clinician) in page


def test_it_records_whom_the_person_does_not_want_invited_and_why(client, clinician, service_user):
    client.force_login(clinician)
    url = reverse("networks:member_add", args=[service_user.pk])
    data = _data()
    del data["person_wants_invited"]
    response = client.post(url, data)
    assert "Say why" in response.context["form"].errors["not_invited_reason"][0]
    assert NetworkMember.objects.count() == 0
    client.post(url, {**data, "not_invited_reason": "He shouts at me"})
    member = NetworkMember.objects.get()
    assert not member.person_wants_invited and member.not_invited_reason == "He shouts at me"
    assert (
        "He shouts at me"
        in client.get(reverse("networks:member_list", args=[service_user.pk])).content.decode()
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", ""), ("email", "not-an-email"), ("category", "alien"), ("closeness", "9")],
)
@pytest.mark.hazard("HAZ-07.C4")
def test_it_shows_bad_input_at_the_field_and_saves_nothing(
    client, clinician, service_user, field, value
):
    client.force_login(clinician)
    response = client.post(
        reverse("networks:member_add", args=[service_user.pk]), _data(**{field: value})
    )
    assert response.status_code == 200 and field in response.context["form"].errors
    assert NetworkMember.objects.count() == 0


def test_it_edits_and_restamps_consent_when_it_changes(client, clinician, clinician2, service_user):
    member = f.make_member(service_user, name="Dana")
    client.force_login(clinician2)
    url = reverse("networks:member_edit", args=[service_user.pk, member.pk])
    assert client.post(url, _data(name="Dana R", contact_consent="agreed")).status_code == 302
    member.refresh_from_db()
    assert member.name == "Dana R" and member.consent_recorded_by == clinician2
    client.post(url, _data(name="Dana R", contact_consent="refused"))
    member.refresh_from_db()
    assert member.contact_consent == "refused" and member.consent_recorded_at is not None


def test_it_ends_a_member_and_keeps_the_row(client, clinician, service_user):
    member = f.make_member(service_user)
    client.force_login(clinician)
    url = reverse("networks:member_end", args=[service_user.pk, member.pk])
    assert client.get(url).status_code == 200
    client.post(url)
    member.refresh_from_db()
    assert member.status == NetworkMember.Status.ENDED and member.ended_at is not None
    response = client.post(
        reverse("networks:member_edit", args=[service_user.pk, member.pk]), _data(), follow=True
    )
    assert "read-only" in response.content.decode()


@pytest.mark.hazard("HAZ-06.C3")
def test_it_answers_404_to_another_team_and_403_to_peers(
    client, outsider, peer_worker, service_user
):
    member = f.make_member(service_user)
    urls = [
        reverse("networks:member_list", args=[service_user.pk]),
        reverse("networks:member_add", args=[service_user.pk]),
        reverse("networks:member_edit", args=[service_user.pk, member.pk]),
        reverse("networks:member_end", args=[service_user.pk, member.pk]),
    ]
    client.force_login(outsider)
    for url in urls:
        assert client.get(url).status_code == 404
        assert client.post(url, _data()).status_code == 404
    client.force_login(peer_worker)
    for url in urls:
        assert client.get(url).status_code == 403
    member.refresh_from_db()
    assert member.status == NetworkMember.Status.ACTIVE
