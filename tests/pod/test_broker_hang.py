"""A broker outage of any length never holds up or fails a clinical page, even a Redis that
accepts connections and never answers; and the page does not claim anything was sent."""

from __future__ import annotations

import socket
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from meetings.models import Meeting
from pod.foundation.task_queue import task_send
from tests.meetings.helpers import recent_episode
from tests.pod.test_database_failover import hidden_inputs
from tests.workers import broker_at, free_port


class BlackHole:
    """A TCP port that accepts connections (the kernel completes them) and never answers."""

    def __enter__(self) -> str:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        return f"redis://127.0.0.1:{self.sock.getsockname()[1]}/0"

    def __exit__(self, *exc) -> None:
        self.sock.close()


@pytest.fixture(params=["hung", "stopped"])
def broken_broker(request, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    if request.param == "hung":
        with BlackHole() as url, broker_at(url):
            yield request.param
    else:
        with broker_at(f"redis://127.0.0.1:{free_port()}/0"):
            yield request.param


def test_a_nudge_to_a_broken_broker_gives_up_within_seconds(broken_broker):
    started = time.monotonic()
    assert task_send("pod.tasks.deliver_messages") is False
    assert time.monotonic() - started < 6


@pytest.mark.django_db(transaction=True)
def test_scheduling_a_meeting_answers_and_says_invitations_will_be_emailed(
    broken_broker, client, team, clinician, clinician2
):
    episode = recent_episode(team, [clinician, clinician2], hours_ago=2)
    client.force_login(clinician)
    url = reverse("meetings:meeting_new", args=[episode.pk])
    page = client.get(url).content.decode()
    start = timezone.localtime(timezone.now() + timedelta(hours=3))
    data = {
        **hidden_inputs(page),
        "scheduled_start": start.strftime("%Y-%m-%dT%H:%M"),
        "duration_minutes": 60,
        "location": "home",
        "location_detail": "",
        "staff": [clinician.pk, clinician2.pk],
        "network_members": [],
        "days": 3,
    }
    started = time.monotonic()
    response = client.post(url, data, follow=True)
    assert time.monotonic() - started < 10
    assert response.status_code == 200
    assert Meeting.objects.filter(episode=episode).count() == 1
    said = [str(m) for m in response.context["messages"]]
    assert any("No invitation will be emailed" in m for m in said), said
    assert not any(word in " ".join(said) for word in ("sent", "on their way"))
