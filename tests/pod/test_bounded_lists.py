"""Issue 17, point 1, beyond the home pages (tests/pod/test_page_budgets.py): every list that
grows with the service or with time is one page at a time, in the order of what needs
attention first, with every row on exactly one page; a page's queries do not grow with the
list. Each of these lists had been unbounded or cut with no way to the rest: the clinicians'
peer-work list, a peer's caseload (home page and "My people"), a peer's contact log and
upcoming meetings for a person, the outcome import history, and an episode's meetings and
timeline (these two grew with one episode, not the service; their rows are still all read, for
the medication rule's count of held meetings, but a page draws one page of them). (The reviews
page: in tests/meetings/test_reviews.py.)"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from meetings.models import Meeting
from networks import peer_services
from networks.models import PeerContact, ServiceUser
from outcomes.models import OutcomeImport
from pod.foundation import paging
from tests import factories as f

pytestmark = pytest.mark.django_db

SIZE = 2


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(paging, "SECTION_SIZE", SIZE)
    monkeypatch.setattr(paging, "LIST_SIZE", SIZE)
    monkeypatch.setattr("meetings.views.network_pages.UPCOMING_PAGE", SIZE)


def _get(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return response, len(queries.captured_queries)


def assert_pager_links_land(html: str) -> None:
    """Every pager link opens its list's heading: its #fragment names an element of the page
    (a pager link without one opened the top of the page, screens away on a phone)."""
    pagers = re.findall(r'<nav[^>]*class="pager[^"]*".*?</nav>', html, flags=re.S)
    links = [href for pager in pagers for href in re.findall(r'href="([^"]*)"', pager)]
    for href in links:
        fragment = href.partition("#")[2]
        assert fragment and f'id="{fragment}"' in html, href


def _every_page(client, url, name, param):
    """The rows of every page of the list `name` in the context, first page to last; on each,
    the pager's links land on the list."""
    response = client.get(url)
    assert_pager_links_land(response.content.decode())
    first = response.context[name]
    assert len(first) == min(SIZE, first.total)  # one page, not the whole list
    rows = list(first)
    for number in range(2, first.pages + 1):
        response = client.get(f"{url}?{param}={number}")
        assert_pager_links_land(response.content.decode())
        rows += list(response.context[name])
    # A page number too long to be one shows the last page, not the first.
    last = client.get(f"{url}?{param}={'9' * 12}").context[name]
    assert last.number == first.pages and list(last) == rows[(first.pages - 1) * SIZE :]
    return first, rows


def _contact(peer, person, at):
    """A ten-minute phone call of `peer` with `person` at `at`."""
    return PeerContact.objects.create(
        peer=peer,
        service_user=person,
        contact_at=at,
        mode="phone",
        purpose="support",
        duration_minutes=10,
        with_service_user=True,
    )


def _people(team, n, *, members):
    """`n` people of `team`, each with `members` active family members."""
    people = [f.make_service_user(team) for _ in range(n)]
    for person in people:
        for _ in range(members):
            f.make_member(person, status="active")
    return people


def test_the_peer_work_list_pages_thin_networks_and_people_without_a_peer_first(
    client, team, clinician, peer_worker, small_pages
):
    client.force_login(clinician)
    url = reverse("networks:peer_work")
    _people(team, 2, members=3)
    _, small = _get(client, url)
    well = _people(team, 2, members=3)  # not thin, no peer
    thin = _people(team, 2, members=0)  # thin
    for person in well[:1]:
        peer_services.peer_assign(
            service_user=person, peer=peer_worker, assigned_by=clinician, now=timezone.now()
        )
    response, large = _get(client, url)
    assert large == small
    assert "1–2 of 6" in response.content.decode()
    first, rows = _every_page(client, url, "people", "page")
    assert first.total == 6 and len(rows) == 6 and len({r.pk for r in rows}) == 6
    assert {r.pk for r in rows[:2]} == {p.pk for p in thin}
    assert rows[-1].pk == well[0].pk  # the one person with a peer, and a network, comes last
    assert [r.thin_network for r in rows] == [True, True, False, False, False, False]


def test_a_peer_who_left_covers_no_one_on_the_peer_work_list(
    client, team, other_team, clinician, peer_worker, peer_volunteer
):
    """A peer deactivated, or no longer of the person's team, is no one's peer there: the person
    sorts with those who have none, and no peer is named (as assignable_peers sees it)."""
    from pod.foundation.models import TeamMembership

    client.force_login(clinician)
    first, second, third = _people(team, 3, members=3)
    for person, peer in ((first, peer_worker), (second, peer_volunteer)):
        peer_services.peer_assign(
            service_user=person, peer=peer, assigned_by=clinician, now=timezone.now()
        )
    rows = list(client.get(reverse("networks:peer_work")).context["people"])
    assert rows[0].pk == third.pk  # the only one without a peer
    peer_worker.is_active = False
    peer_worker.save()
    TeamMembership.objects.filter(user=peer_volunteer, team=team).delete()
    rows = list(client.get(reverse("networks:peer_work")).context["people"])
    assert {r.pk for r in rows} == {first.pk, second.pk, third.pk}
    assert [r.open_assignments for r in rows] == [(), (), ()]
    assert [r.pk for r in rows] == sorted(
        [first.pk, second.pk, third.pk],
        key=lambda pk: (ServiceUser.objects.get(pk=pk).family_name, pk),
    )


def test_a_peers_caseload_pages_thin_networks_then_longest_since_contact_first(
    client, team, clinician, peer_worker, small_pages
):
    client.force_login(peer_worker)
    now = timezone.now()
    people = _people(team, 5, members=3)
    thin = _people(team, 1, members=0)
    for person in [*people, *thin]:
        peer_services.peer_assign(
            service_user=person, peer=peer_worker, assigned_by=clinician, now=now
        )
    # Contacts: people[0] yesterday, people[1] a week ago; the others never.
    for person, days in ((people[0], 1), (people[1], 7)):
        _contact(peer_worker, person, now - timedelta(days=days))
    for url, name, param in (
        (reverse("networks:peer_caseload"), "people", "people"),
        (reverse("home"), "peer_caseload", "people"),
    ):
        _, small = _get(client, url)
        first, rows = _every_page(client, url, name, param)
        assert first.total == 6 and len({r.pk for r in rows}) == 6
        order = [r.pk for r in rows]
        assert order[0] == thin[0].pk
        assert order[-2:] == [people[1].pk, people[0].pk]  # contacted longest ago, then recent
        assert set(order[1:4]) == {p.pk for p in people[2:]}  # never contacted
        more = _people(team, 3, members=3)
        for person in more:
            peer_services.peer_assign(
                service_user=person, peer=peer_worker, assigned_by=clinician, now=now
            )
        _, large = _get(client, url)
        assert large == small
        for person in more:  # back to the six for the next page's checks
            peer_services.peer_unassign(
                assignment=person.peer_assignments.get(), ended_by=clinician, now=now
            )


def test_a_peers_contact_log_and_upcoming_meetings_for_a_person_page(
    client, team, clinician, clinician2, peer_worker, small_pages
):
    client.force_login(peer_worker)
    now = timezone.now()
    episode = f.make_episode(team=team, core_team=[clinician, clinician2], referral_received_at=now)
    person = episode.service_user
    peer_services.peer_assign(service_user=person, peer=peer_worker, assigned_by=clinician, now=now)
    url = reverse("networks:peer_person", args=[person.pk])

    def contact(hours):
        return _contact(peer_worker, person, now - timedelta(hours=hours))

    def meeting(days):
        return Meeting.objects.create(
            episode=episode,
            scheduled_start=now + timedelta(days=days),
            scheduled_end=now + timedelta(days=days, hours=1),
            location="home",
            status="scheduled",
        )

    contacts, meetings = [contact(5)], [meeting(3)]
    _, small = _get(client, url)
    contacts += [contact(hours) for hours in (1, 3, 2, 4)]
    meetings += [meeting(days) for days in (1, 2)]
    response, large = _get(client, url)
    assert large == small
    text = response.content.decode()
    assert "My contact log (5)" in text and "1–2 of 5" in text and "1–2 of 3" in text

    first, seen = _every_page(client, url, "contacts", "contacts")
    assert [c.pk for c in seen] == [
        c.pk for c in sorted(contacts, key=lambda c: -c.contact_at.timestamp())
    ]
    first, upcoming = _every_page(client, url, "meetings", "meetings")
    assert [m["scheduled_start"] for m in upcoming] == sorted(m.scheduled_start for m in meetings)
    # Time and place only: the template is given values, never a meeting.
    assert not any(isinstance(m, Meeting) for m in upcoming)


def test_the_import_history_pages_newest_first(client, team, manager, small_pages):
    client.force_login(manager)
    url = reverse("outcomes:import")
    now = timezone.now()

    def add(n, start):
        for i in range(start, start + n):
            digest = hashlib.sha256(str(i).encode()).hexdigest()
            OutcomeImport.objects.create(
                team=team,
                uploaded_by=manager,
                created_at=now - timedelta(hours=i),
                updated_at=now,
                file_name=f"file{i}.csv",
                file_sha256=digest,
                file_size=1,
                mode="add",
                date_format="iso",
                status="imported",
            )

    add(2, 0)
    _, small = _get(client, url)
    add(3, 2)
    response, large = _get(client, url)
    assert large == small
    assert "Import history (5)" in response.content.decode()
    first, rows = _every_page(client, url, "history", "page")
    assert [job.file_name for job, _ in rows] == [f"file{i}.csv" for i in range(5)]


def test_an_episodes_meetings_and_timeline_are_paged(
    client, team, clinician, clinician2, small_pages
):
    """They had grown with the episode: every meeting, and every event with every word said."""
    client.force_login(clinician)
    now = timezone.now()
    episode = f.make_episode(
        team=team, core_team=[clinician, clinician2], referral_received_at=now - timedelta(days=9)
    )

    def meeting(days, status):
        start = now + timedelta(days=days)
        return Meeting.objects.create(
            episode=episode,
            scheduled_start=start,
            scheduled_end=start + timedelta(hours=1),
            location="home",
            status=status,
        )

    url = reverse("meetings:episode_detail", args=[episode.pk])
    meetings = [meeting(-5, "cancelled"), meeting(2, "scheduled")]
    _, small = _get(client, url)
    meetings += [meeting(-2, "cancelled"), meeting(1, "scheduled"), meeting(-1, "cancelled")]
    response, large = _get(client, url)
    assert large == small
    assert "Meetings (5)" in response.content.decode()
    first, rows = _every_page(client, url, "meetings", "meetings")
    by_day = {m.pk: d for m, d in zip(meetings, (-5, 2, -2, 1, -1), strict=True)}
    # Arranged ones to come first, soonest first; then the rest, latest first.
    assert [by_day[m.pk] for m in rows] == [1, 2, -1, -2, -5]

    timeline = reverse("meetings:episode_timeline", args=[episode.pk])
    first, events = _every_page(client, timeline, "events", "events")
    assert first.total == len(events) > SIZE
    assert [e.at for e in events] == sorted(e.at for e in events)  # in order, every one once
