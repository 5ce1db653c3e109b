"""Pages name the first-meeting window the service configured, and colour an open clock by the
configured at-risk lead, rather than saying "24 hours" and "8 h / 4 h" whatever the settings."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from tests.meetings.helpers import recent_episode


@pytest.fixture
def window_48_hours(settings):
    settings.POD_FIRST_MEETING_HOURS = 48.0
    settings.POD_FIRST_MEETING_WINDOW = timedelta(hours=48)
    settings.POD_AT_RISK_LEAD_HOURS = 12.0


def test_the_episode_page_and_home_name_the_configured_window(
    client, team, clinician, clinician2, window_48_hours
):
    # Referred 30 h ago: 18 h left of 48, under twice the 12-hour lead, so "Soon" (with the
    # default 4-hour lead it would read "On track").
    episode = recent_episode(team, [clinician, clinician2], hours_ago=30)
    assert episode.first_meeting_due_at - episode.referral_received_at == timedelta(hours=48)
    client.force_login(clinician)
    page = client.get(reverse("meetings:episode_detail", args=[episode.pk])).content.decode()
    assert "48-hour first meeting" in page
    assert "Schedule the first within 48 hours of the referral." in page
    assert "24-hour" not in page and "24 hours" not in page
    assert "Soon:" in page
    home = client.get(reverse("home")).content.decode()
    assert "Open 48-hour clocks (1)" in home
    assert "Soon:" in home
    timeline = client.get(reverse("meetings:episode_timeline", args=[episode.pk])).content
    assert b"48-hour clock started" in timeline
