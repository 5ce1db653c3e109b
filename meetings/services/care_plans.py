"""Versions of the care plan, each written in a held meeting of the episode."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from meetings.models import CarePlanVersion, Episode, Meeting, Participant
from meetings.services.episodes import episode_lock_for_change
from networks.models import NetworkMember
from pod.foundation.models import User


@transaction.atomic
def care_plan_version_create(
    *,
    episode: Episode,
    meeting: Meeting,
    what_matters: str,
    actions: str,
    responsible: str,
    person_views: str,
    person_agreed: bool,
    involved_members: Iterable[NetworkMember],
    created_by: User,
) -> CarePlanVersion:
    """Write a new version of the care plan, in a held meeting of this episode.

    The version number is the next one of the episode; whether the person was involved comes
    from their attendance at the meeting. ValidationError (by field) for a meeting that is not a
    held meeting of this episode, an empty what-matters, actions or responsible, a network member
    of someone else, or a closed episode.
    """
    episode = episode_lock_for_change(episode)
    errors: dict[str, str] = {}
    if meeting.episode_id != episode.pk or meeting.status != Meeting.Status.HELD:
        errors["meeting"] = "Choose a held meeting of this episode: the plan is written in one."
    for name, value in (
        ("what_matters", what_matters),
        ("actions", actions),
        ("responsible", responsible),
    ):
        if not value.strip():
            errors[name] = "This cannot be empty."
    members = list(involved_members)
    if any(m.service_user_id != episode.service_user_id for m in members):
        errors["involved_members"] = "Only the person's own network can be involved."
    if errors:
        raise ValidationError(errors)
    last = episode.care_plans.aggregate(v=Max("version"))["v"] or 0
    person_attended = meeting.participants.filter(
        kind=Participant.Kind.SERVICE_USER, attended=True
    ).exists()
    plan = CarePlanVersion(
        episode=episode,
        version=last + 1,
        meeting=meeting,
        what_matters=what_matters.strip(),
        actions=actions.strip(),
        responsible=responsible.strip(),
        person_views=person_views.strip(),
        person_involved=person_attended,
        person_agreed=person_agreed,
        created_by=created_by,
    )
    plan.full_clean()
    plan.save()
    plan.involved_members.set(members)
    return plan
