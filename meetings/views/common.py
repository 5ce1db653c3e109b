"""Helpers shared by the episode pages: loading for the user, read-only closed episodes."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest
from django.shortcuts import redirect

from meetings.models import Meeting
from meetings.selectors import get_episode_for_user
from pod.foundation.access import clinical_required, request_user
from pod.foundation.middleware import record_target_known

CLOSED_MESSAGE = "This episode is closed; its record is read-only and nothing was changed."


def episode_view(view: Callable) -> Callable:
    """Clinicians and prescribers of the team only (others 403, other teams 404).

    Passes the episode to the view. A closed episode is read-only: every POST is refused with a
    clear message and nothing is written.
    """

    @clinical_required
    @wraps(view)
    def wrapped(request: HttpRequest, pk: int, *args: Any, **kwargs: Any):
        episode = get_episode_for_user(request_user(request), pk)
        # The access log records this person without looking the episode up again.
        record_target_known(request, "episode", episode.pk, episode.service_user_id)
        if request.method == "POST" and episode.is_closed:
            messages.error(request, CLOSED_MESSAGE)
            return redirect("meetings:episode_detail", pk=episode.pk)
        return view(request, episode, *args, **kwargs)

    return wrapped


def open_episode_only(view: Callable) -> Callable:
    """For pages that only write (schedule, record, prescribe, close): a closed episode sends
    even the GET back to the episode page with the read-only message, instead of a dead form."""

    @wraps(view)
    def wrapped(request: HttpRequest, episode, *args: Any, **kwargs: Any):
        if episode.is_closed:
            messages.error(request, CLOSED_MESSAGE)
            return redirect("meetings:episode_detail", pk=episode.pk)
        return view(request, episode, *args, **kwargs)

    return wrapped


def get_meeting(episode, meeting_pk: int) -> Meeting:
    meeting = Meeting.objects.filter(episode=episode, pk=meeting_pk).first()
    if meeting is None:
        raise Http404("No such meeting")
    meeting.episode = episode
    return meeting
