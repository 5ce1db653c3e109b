"""The network map: SVG nodes per active member, the accessible table, dated snapshots since
referral, network measures, and a query budget that does not grow with the network."""

import math
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from meetings.models import Meeting, Participant
from networks import network_map, peer_services
from networks.models import NetworkMember
from tests import factories as f


def _nodes(html: str) -> list[str]:
    return re.findall(r'class="member-node" data-member-id="(\d+)"', html)


@pytest.fixture
def clinician_client(client, clinician):
    client.force_login(clinician)
    return client


def _url(person, at=None):
    url = reverse("networks:network_map", args=[person.pk])
    return f"{url}?at={at}" if at else url


def test_it_draws_one_node_per_active_member_and_the_same_members_in_a_table(
    clinician_client, service_user, clinician
):
    active = [
        f.make_member(service_user, name=f"Active {i}", category=c)
        for i, c in enumerate(["family", "friend", "neighbour", "peer", "professional"])
    ]
    f.make_member(service_user, name="Gone Gary", status="ended", ended_at=timezone.now())
    f.make_member(service_user, name="Proposed Pam", status="proposed")
    html = clinician_client.get(_url(service_user)).content.decode()
    assert sorted(_nodes(html)) == sorted(str(m.pk) for m in active)
    table = html.split('id="map-table"')[1].split("</table>")[0]
    for m in active:
        assert m.name in table
    assert "Gone Gary" not in table and "Proposed Pam" not in table
    assert 'role="img"' in html and "<title" in html


def test_it_places_members_in_rings_by_closeness_and_sectors_by_category(service_user):
    members = [
        f.make_member(service_user, category="family", closeness=1),
        f.make_member(service_user, category="professional", closeness=3),
        f.make_member(service_user, category="friend", closeness=2),
    ]
    drawing = network_map.layout(members)
    sector_of = {n.member.pk: n.sector for n in drawing["nodes"]}
    assert sector_of[members[0].pk] == "family"
    assert sector_of[members[1].pk] == "professionals"
    assert sector_of[members[2].pk] == "friends"
    for node in drawing["nodes"]:
        distance = math.dist((node.x, node.y), (network_map.CENTRE_X, network_map.CENTRE_Y))
        assert abs(distance - network_map.RING_RADIUS[node.member.closeness]) < 1
        assert 0 <= node.x <= network_map.WIDTH and 0 <= node.y <= network_map.HEIGHT


def test_it_shows_the_network_as_it_was_at_referral_and_what_changed(
    clinician_client, service_user, episode, referral_at, clinician
):
    at_referral = f.make_member(service_user, name="Early Ed")
    left = f.make_member(service_user, name="Left Lou")
    later = f.make_member(service_user, name="Later Liz")
    NetworkMember.objects.filter(pk__in=[at_referral.pk, left.pk]).update(
        added_at=referral_at + timedelta(hours=2)
    )
    NetworkMember.objects.filter(pk=left.pk).update(
        status="ended", ended_at=referral_at + timedelta(days=10)
    )
    NetworkMember.objects.filter(pk=later.pk).update(added_at=referral_at + timedelta(days=20))

    then = clinician_client.get(_url(service_user, "referral"))
    assert sorted(_nodes(then.content.decode())) == sorted([str(at_referral.pk), str(left.pk)])
    now = clinician_client.get(_url(service_user)).content.decode()
    assert sorted(_nodes(now)) == sorted([str(at_referral.pk), str(later.pk)])
    assert "joined: Later Liz" in now and "left: Left Lou" in now
    # One snapshot per day the network changed, between "At referral" and "Now".
    keys = [s["key"] for s in clinician_client.get(_url(service_user)).context["snapshots"]]
    day10 = (referral_at + timedelta(days=10)).date().isoformat()
    day20 = (referral_at + timedelta(days=20)).date().isoformat()
    assert keys == ["referral", day10, day20, "now"]
    on_day_15 = clinician_client.get(_url(service_user, (referral_at + timedelta(days=15)).date()))
    assert _nodes(on_day_15.content.decode()) == [str(at_referral.pk)]


def test_it_keeps_a_proposed_member_off_the_map_until_consent(
    client, service_user, peer_volunteer, clinician
):
    now = timezone.now()
    peer_services.peer_assign(
        service_user=service_user, peer=peer_volunteer, assigned_by=clinician, now=now
    )
    member = peer_services.network_member_propose(
        service_user=service_user,
        proposed_by=peer_volunteer,
        name="Mo",
        category="neighbour",
        relationship="neighbour",
        now=now,
    )
    client.force_login(peer_volunteer)
    assert _nodes(client.get(_url(service_user)).content.decode()) == []
    peer_services.network_member_accept_with_consent(
        member=member,
        recorded_by=peer_volunteer,
        person_consents=True,
        member_consents_to_contact="not_asked",
        now=timezone.now(),
    )
    assert _nodes(client.get(_url(service_user)).content.decode()) == [str(member.pk)]


def test_it_answers_a_bad_date_with_the_network_now(clinician_client, service_user):
    f.make_member(service_user)
    response = clinician_client.get(_url(service_user, "31-02-yesterday"))
    assert response.status_code == 200
    assert len(_nodes(response.content.decode())) == 1
    assert "was not understood" in response.content.decode()


def test_it_measures_size_growth_attendance_and_contacts_per_member(
    clinician_client, service_user, episode, referral_at, clinician, peer_volunteer
):
    sister = f.make_member(service_user, name="Sis", category="family")
    NetworkMember.objects.filter(pk=sister.pk).update(added_at=referral_at + timedelta(hours=1))
    friend = f.make_member(service_user, name="Pal", category="friend")
    for day in (1, 2):
        start = referral_at + timedelta(days=day)
        meeting = Meeting.objects.create(
            episode=episode,
            scheduled_start=start,
            scheduled_end=start + timedelta(hours=1),
            location="home",
            status="held",
            actual_start=start,
            actual_end=start + timedelta(hours=1),
        )
        Participant.objects.create(
            meeting=meeting, kind="network_member", network_member=sister, attended=True
        )
        Participant.objects.create(
            meeting=meeting, kind="network_member", network_member=friend, attended=False
        )
    now = timezone.now()
    peer_services.peer_assign(
        service_user=service_user, peer=peer_volunteer, assigned_by=clinician, now=now
    )
    for _ in range(3):
        peer_services.peer_contact_log(
            service_user=service_user,
            peer=peer_volunteer,
            members=[friend],
            with_service_user=True,
            contact_at=now,
            mode="phone",
            duration_minutes=5,
            purpose="support",
            now=now,
        )
    measures = clinician_client.get(_url(service_user)).context["measures"]
    rows = {r["key"]: r for r in measures.rows}
    assert (rows["family"]["at_referral"], rows["family"]["now"]) == (1, 1)
    assert (rows["friends"]["at_referral"], rows["friends"]["now"], rows["friends"]["growth"]) == (
        0,
        1,
        1,
    )
    assert (measures.total_at_referral, measures.total_now, measures.growth) == (1, 2, 1)
    assert measures.members_attended == 1 and measures.attended_by_member == {sister.pk: 2}
    assert measures.contacts_by_member == {friend.pk: 3}
    assert measures.contacts_with_person == 3


@pytest.mark.hazard("HAZ-06.C4")
def test_it_hides_the_measures_from_peers(client, service_user, peer_volunteer, clinician):
    peer_services.peer_assign(
        service_user=service_user, peer=peer_volunteer, assigned_by=clinician, now=timezone.now()
    )
    client.force_login(peer_volunteer)
    response = client.get(_url(service_user))
    assert response.status_code == 200
    assert (
        "measures" not in response.context and "Meetings attended" not in response.content.decode()
    )


@pytest.mark.parametrize("role", ["clinician", "peer_volunteer"])
def test_it_keeps_map_queries_flat_with_network_size(
    client,
    request,
    role,
    service_user,
    episode,
    clinician,
    peer_volunteer,
    django_assert_max_num_queries,
):
    now = timezone.now()
    peer_services.peer_assign(
        service_user=service_user, peer=peer_volunteer, assigned_by=clinician, now=now
    )
    client.force_login(request.getfixturevalue(role))
    f.make_member(service_user)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(_url(service_user)).status_code == 200
    small = len(ctx.captured_queries)
    categories = [c for c, _ in NetworkMember.Category.choices]
    for i in range(49):
        m = f.make_member(
            service_user, category=categories[i % len(categories)], closeness=1 + i % 3
        )
        peer_services.peer_contact_log(
            service_user=service_user,
            peer=peer_volunteer,
            members=[m],
            with_service_user=False,
            contact_at=now,
            mode="text",
            duration_minutes=5,
            purpose="support",
            now=now,
        )
    with django_assert_max_num_queries(small):
        html = client.get(_url(service_user)).content.decode()
    assert len(_nodes(html)) == 50
    assert small <= 14


def test_it_never_shows_a_declined_proposal_in_any_snapshot(
    service_user, peer_volunteer, clinician, referral_at
):
    now = timezone.now()
    peer_services.peer_assign(
        service_user=service_user, peer=peer_volunteer, assigned_by=clinician, now=now
    )
    member = peer_services.network_member_propose(
        service_user=service_user,
        proposed_by=peer_volunteer,
        name="No Thanks",
        category="friend",
        relationship="friend",
        now=now,
    )
    peer_services.network_member_decline(member=member, recorded_by=clinician, now=now)
    members = list(NetworkMember.objects.filter(service_user=service_user))
    items = network_map.snapshots(members, baseline_at=referral_at, now=now + timedelta(days=1))
    assert [i["key"] for i in items] == ["referral", "now"]
    for instant in (referral_at, now, now + timedelta(days=1)):
        from networks.selectors import members_as_of

        assert members_as_of(members, instant) == []
