"""Every page about a person shows who they are: name, NHS number as 3 3 4, date of birth and
age, team, open episode and flags (peers: name, team and flags)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from meetings.models import Alert
from networks import rules as network_rules
from pod.foundation import record_targets
from pod.records.banner import person_banner_for
from tests.pod.urlwalk import routes, url_for_world

pytestmark = [pytest.mark.django_db, pytest.mark.hazard("HAZ-05.C8")]


def _person_routes():
    """Every route whose URL names a person, an episode or a meeting (the banner's pages)."""
    for route in routes():
        namespace = route.name.rpartition(":")[0]
        if namespace == "admin" or not route.params:
            continue
        kwargs = {p: 1 for p in route.params}
        if record_targets.target_for(namespace, kwargs) or (
            namespace == "security" and "pk" in route.params
        ):
            yield route


def test_the_clinician_sees_the_whole_banner_on_every_page_about_the_person(
    client, world, clinician, service_user
):
    users, ids = world
    client.force_login(clinician)
    today = timezone.localdate()
    age = network_rules.age_on(service_user.date_of_birth, today)
    n = service_user.nhs_number
    shown = 0
    for route in _person_routes():
        response = client.get(url_for_world(route, ids))
        if response.status_code != 200 or "text/html" not in response["Content-Type"]:
            continue
        page = response.content.decode()
        assert 'aria-label="The person this page is about"' in page, route.name
        banner = page.split('aria-label="The person this page is about"')[1].split("</section>")[0]
        for expected in (
            service_user.display_name,
            f"{n[:3]} {n[3:6]} {n[6:]}",
            service_user.date_of_birth.strftime("%-d %b %Y"),
            f"({age})",
            service_user.team.name,
            "Open episode",
            "Thin network",  # the world's person has one active member
        ):
            assert expected in banner, (route.name, expected)
        shown += 1
    assert shown >= 20


def test_a_peer_sees_the_name_team_and_flags_but_not_the_number(
    client, world, peer_worker, service_user
):
    client.force_login(peer_worker)
    page = client.get(f"/network/peer/people/{service_user.pk}/").content.decode()
    banner = page.split('aria-label="The person this page is about"')[1].split("</section>")[0]
    assert service_user.display_name in banner and service_user.team.name in banner
    assert service_user.nhs_number[:3] + " " not in banner and "Born" not in banner


def test_it_flags_an_open_breach_and_never_shows_someone_the_user_may_not_open(
    episode, clinician, outsider, referral_at
):
    Alert.objects.create(
        episode=episode, kind=Alert.Kind.BREACHED, message="x", raised_at=referral_at
    )
    today = timezone.localdate()
    banner = person_banner_for(clinician, "episode", episode.pk, today=today)
    assert "24-hour first meeting breached" in banner.flags
    assert banner.open_episode_id == episode.pk
    assert person_banner_for(outsider, "episode", episode.pk, today=today) is None


def test_it_costs_one_query(episode, clinician, django_assert_num_queries):
    with django_assert_num_queries(1):
        person_banner_for(clinician, "episode", episode.pk, today=timezone.localdate())


def test_the_age_is_whole_years_on_the_day():
    born = timezone.localdate().replace(year=2000, month=1, day=1)
    assert network_rules.age_on(born, born + timedelta(days=366)) == 1
    assert network_rules.age_on(born, born + timedelta(days=364)) == 0
