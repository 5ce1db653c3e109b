"""Template context every page gets from meetings (settings.TEMPLATES)."""

from __future__ import annotations

from django.http import HttpRequest

from meetings.rules import hours_label
from meetings.selectors import clock_policy


def first_meeting_window(request: HttpRequest) -> dict[str, str]:
    """`first_meeting_hours`: the configured first-meeting window in hours ("24" by default,
    POD_FIRST_MEETING_HOURS), so a page never says "24 hours" when the service runs another."""
    return {"first_meeting_hours": hours_label(clock_policy().window)}
