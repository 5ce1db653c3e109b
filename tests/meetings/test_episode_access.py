"""Another team's clinician gets 404 on every episode URL; a closed episode refuses every POST."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from meetings.models import Decision, Meeting, Utterance
from meetings.services.episodes import episode_close
from meetings.urls import urlpatterns
from tests.meetings.helpers import held_meeting, recent_episode

EPISODE_ROUTES = [p for p in urlpatterns if "<int:pk>" in str(p.pattern)]


def _url(route, episode, meeting):
    kwargs = {"pk": episode.pk}
    if "meeting_pk" in str(route.pattern):
        kwargs["meeting_pk"] = meeting.pk
    return reverse(f"meetings:{route.name}", kwargs=kwargs)


@pytest.fixture
def episode_with_meeting(team, clinician, clinician2):
    episode = recent_episode(team, [clinician, clinician2])
    return episode, held_meeting(episode, [clinician, clinician2])


@pytest.mark.hazard("HAZ-06.C3")
def test_it_covers_every_episode_route():
    assert len(EPISODE_ROUTES) >= 12


@pytest.mark.hazard("HAZ-06.C3")
@pytest.mark.parametrize("route", EPISODE_ROUTES, ids=lambda r: r.name)
def test_it_answers_404_to_another_teams_clinician(client, outsider, episode_with_meeting, route):
    episode, meeting = episode_with_meeting
    client.force_login(outsider)
    url = _url(route, episode, meeting)
    assert client.get(url).status_code in (404, 405)
    assert client.post(url, {"words": "x"}).status_code == 404


@pytest.mark.hazard("HAZ-07.C5")
@pytest.mark.parametrize("route", EPISODE_ROUTES, ids=lambda r: r.name)
def test_it_refuses_every_post_to_a_closed_episode(client, clinician, episode_with_meeting, route):
    episode, meeting = episode_with_meeting
    episode_close(
        episode=episode, outcome="Recovered", closed_at=timezone.now(), now=timezone.now()
    )
    before = (Meeting.objects.count(), Utterance.objects.count(), Decision.objects.count())
    client.force_login(clinician)
    response = client.post(_url(route, episode, meeting), {"words": "x", "text": "y"}, follow=True)
    assert "This episode is closed" in response.content.decode()
    assert (Meeting.objects.count(), Utterance.objects.count(), Decision.objects.count()) == before


@pytest.mark.hazard("HAZ-06.C4")
def test_it_refuses_peers_the_clinical_record(client, peer_worker, episode):
    client.force_login(peer_worker)
    assert client.get(reverse("meetings:episode_detail", args=[episode.pk])).status_code == 403


@pytest.mark.hazard("HAZ-07.C5")
@pytest.mark.parametrize("name", ["meeting_new", "meeting_daily_run", "prescribe", "episode_close"])
def test_it_sends_write_pages_of_a_closed_episode_back_read_only(client, prescriber, episode, name):
    episode_close(episode=episode, outcome="Well", closed_at=timezone.now(), now=timezone.now())
    client.force_login(prescriber)
    response = client.get(reverse(f"meetings:{name}", args=[episode.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("meetings:episode_detail", args=[episode.pk])
    assert "read-only" in response.content.decode()
