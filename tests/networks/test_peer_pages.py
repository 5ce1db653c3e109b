"""Peer pages: a peer sees only their people and only what peer work needs; logging a contact;
the clinician's assignment page and the team list; query budgets that do not grow."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from meetings.models import Meeting
from networks import peer_services
from networks.models import NetworkMember, PeerAssignment, PeerContact
from tests import factories as f


@pytest.fixture
def assigned(service_user, peer_volunteer, clinician):
    return peer_services.peer_assign(
        service_user=service_user, peer=peer_volunteer, assigned_by=clinician, now=timezone.now()
    )


@pytest.fixture
def volunteer_client(client, peer_volunteer):
    client.force_login(peer_volunteer)
    return client


def _meeting(episode, **kw):
    start = timezone.now() + timedelta(days=1)
    return Meeting.objects.create(
        episode=episode,
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=1),
        location=kw.pop("location", "community"),
        location_detail=kw.pop("location_detail", ""),
        **kw,
    )


@pytest.mark.hazard("HAZ-06.C4")
def test_it_lists_only_the_people_assigned_to_the_peer(assigned, volunteer_client, team):
    f.make_service_user(team, given_name="Unassigned", family_name="Person")
    page = volunteer_client.get(reverse("networks:peer_caseload")).content.decode()
    assert "Jordan Rivers" in page
    assert "Unassigned Person" not in page


@pytest.mark.hazard("HAZ-06.C4")
def test_it_refuses_a_peer_a_person_not_assigned_to_them(volunteer_client, service_user):
    url = reverse("networks:peer_person", args=[service_user.pk])
    assert volunteer_client.get(url).status_code == 404


@pytest.mark.hazard("HAZ-06.C4")
def test_it_shows_contact_details_only_where_consent_was_given(
    assigned, volunteer_client, service_user, clinician
):
    f.make_member(
        service_user,
        name="Consenting Carol",
        phone="07700 900001",
        contact_consent="agreed",
        consent_recorded_at=timezone.now(),
        consent_recorded_by=clinician,
    )
    f.make_member(service_user, name="Private Pete", phone="07700 900002", email="pete@example.org")
    page = volunteer_client.get(
        reverse("networks:peer_person", args=[service_user.pk])
    ).content.decode()
    assert "Consenting Carol" in page and "07700 900001" in page
    assert "Private Pete" in page
    assert "07700 900002" not in page and "pete@example.org" not in page


@pytest.mark.hazard("HAZ-06.C4")
def test_it_shows_upcoming_meetings_by_time_and_place_only(
    assigned, volunteer_client, service_user, episode
):
    _meeting(episode, location_detail="Library meeting room")
    page = volunteer_client.get(
        reverse("networks:peer_person", args=[service_user.pk])
    ).content.decode()
    assert "Library meeting room" in page
    assert episode.reason not in page  # the referral reason belongs to the clinical record


@pytest.mark.hazard("HAZ-06.C4")
def test_it_shows_a_peer_only_their_own_contacts(
    assigned, volunteer_client, service_user, peer_worker, clinician
):
    now = timezone.now()
    peer_services.peer_assign(
        service_user=service_user, peer=peer_worker, assigned_by=clinician, now=now
    )
    for peer, note in ((peer_worker, "Worker's private note"), (assigned.peer, "My own note")):
        peer_services.peer_contact_log(
            service_user=service_user,
            peer=peer,
            members=[],
            with_service_user=True,
            contact_at=now,
            mode="phone",
            duration_minutes=10,
            purpose="support",
            note=note,
            now=now,
        )
    page = volunteer_client.get(
        reverse("networks:peer_person", args=[service_user.pk])
    ).content.decode()
    assert "My own note" in page
    assert "Worker's private note" not in page


def test_it_logs_a_contact_from_the_short_form(assigned, volunteer_client, service_user):
    sister = f.make_member(service_user, name="Dana")
    url = reverse("networks:peer_contact_add", args=[service_user.pk])
    form_page = volunteer_client.get(url).content.decode()
    assert 'type="datetime-local"' in form_page and "Dana" in form_page
    response = volunteer_client.post(
        url,
        {
            "who": ["person", str(sister.pk)],
            "mode": "visit",
            "contact_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "duration_minutes": "25",
            "purpose": "network_building",
            "note": "Met at the cafe",
        },
    )
    assert response.status_code == 302
    contact = PeerContact.objects.get()
    assert contact.with_service_user and list(contact.members.all()) == [sister]
    assert (contact.mode, contact.duration_minutes, contact.purpose) == (
        "visit",
        25,
        "network_building",
    )


@pytest.mark.parametrize(
    "bad",
    [
        {},
        {
            "who": ["person"],
            "mode": "phone",
            "contact_at": "not a date",
            "duration_minutes": "5",
            "purpose": "support",
        },
        {
            "who": ["person"],
            "mode": "phone",
            "contact_at": "2026-01-01T10:00",
            "duration_minutes": "0",
            "purpose": "support",
        },
        {
            "who": ["999999"],
            "mode": "phone",
            "contact_at": "2026-01-01T10:00",
            "duration_minutes": "5",
            "purpose": "support",
        },
        {
            "who": ["person"],
            "mode": "carrier pigeon",
            "contact_at": "2026-01-01T10:00",
            "duration_minutes": "abc",
            "purpose": "support",
        },
        {
            "who": ["person"],
            "mode": "phone",
            "contact_at": "2099-01-01T10:00",
            "duration_minutes": "5",
            "purpose": "support",
        },
    ],
)
def test_it_shows_bad_contact_input_at_the_field_and_saves_nothing(
    assigned, volunteer_client, service_user, bad
):
    response = volunteer_client.post(
        reverse("networks:peer_contact_add", args=[service_user.pk]), bad
    )
    assert response.status_code == 200
    assert (
        "text-danger" in response.content.decode()
        or "invalid-feedback" in response.content.decode()
    )
    assert not PeerContact.objects.exists()


@pytest.mark.hazard("HAZ-07.C5")
def test_it_refuses_to_change_a_contact_after_24_hours(assigned, volunteer_client, service_user):
    now = timezone.now()
    contact = peer_services.peer_contact_log(
        service_user=service_user,
        peer=assigned.peer,
        members=[],
        with_service_user=True,
        contact_at=now,
        mode="phone",
        duration_minutes=10,
        purpose="support",
        now=now,
    )
    url = reverse("networks:peer_contact_edit", args=[service_user.pk, contact.pk])
    assert volunteer_client.get(url).status_code == 200
    PeerContact.objects.filter(pk=contact.pk).update(created_at=now - timedelta(hours=24))
    assert volunteer_client.get(url).status_code == 403
    response = volunteer_client.post(
        url,
        {
            "who": ["person"],
            "mode": "visit",
            "contact_at": "2026-01-01T10:00",
            "duration_minutes": "5",
            "purpose": "support",
        },
    )
    assert response.status_code == 403
    contact.refresh_from_db()
    assert contact.mode == "phone"


def test_it_lets_a_peer_propose_a_member_and_a_clinician_record_consent(
    assigned, volunteer_client, service_user, clinician
):
    client = Client()
    response = volunteer_client.post(
        reverse("networks:member_propose", args=[service_user.pk]),
        {
            "name": "Mo",
            "relationship": "neighbour at no. 4",
            "category": "neighbour",
            "closeness": "3",
        },
    )
    assert response.status_code == 302
    member = NetworkMember.objects.get(name="Mo")
    assert member.status == "proposed"
    client.force_login(clinician)
    url = reverse("networks:member_consent", args=[service_user.pk, member.pk])
    refused = client.post(url, {"accept": "1"})
    assert refused.status_code == 200 and "consent" in refused.content.decode()
    # Each of the member's answers must be chosen (nothing preselected): a field error first.
    unanswered = client.post(url, {"accept": "1", "person_consents": "on"})
    assert unanswered.status_code == 200
    assert set(unanswered.context["form"].errors) == {
        "member_consents_to_contact",
        "member_consents_to_information",
    }
    answered = {
        "accept": "1",
        "person_consents": "on",
        "member_consents_to_contact": "refused",
        "member_consents_to_information": "not_asked",
    }
    assert client.post(url, answered).status_code == 302
    member.refresh_from_db()
    assert member.status == "active" and member.joined_at is not None
    assert member.contact_consent == "refused" and member.consent_recorded_by == clinician


def test_it_lets_a_clinician_assign_and_unassign_a_peer(
    client, clinician, service_user, peer_worker
):
    client.force_login(clinician)
    url = reverse("networks:peer_assignments", args=[service_user.pk])
    assert client.post(url, {"peer": peer_worker.pk}).status_code == 302
    assignment = PeerAssignment.objects.get(peer=peer_worker, ended_at__isnull=True)
    # Assigning again is refused at the field (the peer is no longer a choice).
    again = client.post(url, {"peer": peer_worker.pk})
    assert again.status_code == 200 and "Choose a peer of this team" in again.content.decode()
    client.post(reverse("networks:peer_unassign", args=[service_user.pk, assignment.pk]))
    assignment.refresh_from_db()
    assert assignment.ended_at is not None


def test_it_refuses_to_assign_a_clinician_as_a_peer(client, clinician, clinician2, service_user):
    client.force_login(clinician)
    response = client.post(
        reverse("networks:peer_assignments", args=[service_user.pk]), {"peer": clinician2.pk}
    )
    assert response.status_code == 200
    assert not PeerAssignment.objects.exists()


def test_it_flags_thin_networks_on_the_team_and_peer_lists(
    assigned, volunteer_client, clinician, service_user, team, settings
):
    client = Client()
    settings.POD_THIN_NETWORK_THRESHOLD = 3
    rich = f.make_service_user(team, given_name="Rich", family_name="Network")
    for _ in range(3):
        f.make_member(rich)
    f.make_member(service_user, category="professional")
    f.make_member(service_user, category="friend")
    client.force_login(clinician)
    people = {p.pk: p for p in client.get(reverse("networks:peer_work")).context["people"]}
    assert people[service_user.pk].thin_network and not people[rich.pk].thin_network
    page = volunteer_client.get(reverse("networks:peer_caseload"))
    assert page.context["people"][0].thin_network
    assert "Thin network" in page.content.decode()
    settings.POD_THIN_NETWORK_THRESHOLD = 1
    page = volunteer_client.get(reverse("networks:peer_caseload"))
    assert not page.context["people"][0].thin_network


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("name", ["peer_person", "peer_contact_add", "peer_caseload"])
def test_it_keeps_peer_page_queries_flat_with_network_size(
    assigned, volunteer_client, service_user, episode, name, django_assert_max_num_queries
):
    args = [] if name == "peer_caseload" else [service_user.pk]
    url = reverse(f"networks:{name}", args=args)
    now = timezone.now()
    member = f.make_member(
        service_user,
        contact_consent="agreed",
        consent_recorded_at=now,
        consent_recorded_by=assigned.assigned_by,
    )
    _meeting(episode)
    peer_services.peer_contact_log(
        service_user=service_user,
        peer=assigned.peer,
        members=[member],
        with_service_user=True,
        contact_at=now,
        mode="phone",
        duration_minutes=10,
        purpose="support",
        now=now,
    )
    small = _count(volunteer_client, url)
    for i in range(49):
        m = f.make_member(service_user)
        peer_services.peer_contact_log(
            service_user=service_user,
            peer=assigned.peer,
            members=[m],
            with_service_user=False,
            contact_at=now - timedelta(minutes=i + 1),
            mode="text",
            duration_minutes=5,
            purpose="support",
            now=now,
        )
        _meeting(episode)
    with django_assert_max_num_queries(small):
        volunteer_client.get(url)
    assert small <= 12


def test_it_gives_the_home_page_a_peer_section_with_their_people(
    assigned, rf, peer_volunteer, service_user
):
    from django.template.loader import render_to_string

    from networks.peer_views import peer_home_builder

    request = rf.get("/")
    request.user = peer_volunteer
    context = peer_home_builder(request, timezone.now())
    html = render_to_string(context.pop("template"), context, request=request)
    assert "My people" in html and service_user.display_name in html
    assert reverse("networks:peer_contact_add", args=[service_user.pk]) in html


def test_it_puts_peer_contacts_on_the_clinicians_episode_timeline(
    assigned, service_user, episode, clinician, referral_at
):
    from networks.selectors import peer_contacts_for_timeline

    at = referral_at + timedelta(days=1)
    sister = f.make_member(service_user, name="Dana")
    peer_services.peer_contact_log(
        service_user=service_user,
        peer=assigned.peer,
        members=[sister],
        with_service_user=False,
        contact_at=at,
        mode="visit",
        duration_minutes=40,
        purpose="network_building",
        now=timezone.now(),
    )
    found = peer_contacts_for_timeline(service_user, referral_at, at + timedelta(seconds=1))
    assert [c.contact_at for c in found] == [at]
    assert peer_contacts_for_timeline(service_user, at + timedelta(seconds=1), None) == []
    client = Client()
    client.force_login(clinician)
    page = client.get(reverse("meetings:episode_timeline", args=[episode.pk])).content.decode()
    assert "Visit by" in page and "40 min" in page


@pytest.mark.hazard("HAZ-06.C4")
def test_it_shuts_a_peer_out_once_their_assignment_ends(
    assigned, volunteer_client, service_user, clinician
):
    url = reverse("networks:peer_person", args=[service_user.pk])
    assert volunteer_client.get(url).status_code == 200
    peer_services.peer_unassign(assignment=assigned, ended_by=clinician, now=timezone.now())
    assert volunteer_client.get(url).status_code == 404
    map_url = reverse("networks:network_map", args=[service_user.pk])
    assert volunteer_client.get(map_url).status_code == 404


def test_it_keeps_the_clinicians_peer_pages_flat_with_people_and_members(
    clinician, team, service_user, peer_worker, peer_volunteer, django_assert_max_num_queries
):
    client = Client()
    client.force_login(clinician)
    now = timezone.now()
    peer_services.peer_assign(
        service_user=service_user, peer=peer_worker, assigned_by=clinician, now=now
    )
    f.make_member(service_user, status="proposed")
    urls = [
        reverse("networks:peer_work"),
        reverse("networks:peer_assignments", args=[service_user.pk]),
    ]
    small = [_count(client, url) for url in urls]
    for _ in range(20):
        person = f.make_service_user(team)
        f.make_member(person)
        peer_services.peer_assign(
            service_user=person, peer=peer_volunteer, assigned_by=clinician, now=now
        )
        f.make_member(service_user, status="proposed")
    for url, budget in zip(urls, small, strict=True):
        with django_assert_max_num_queries(budget):
            client.get(url)
