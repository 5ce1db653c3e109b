"""The dialogic record of a held meeting: what each voice said, and what was decided."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from meetings.models import Decision, Meeting, Participant, Utterance
from meetings.services.episodes import episode_lock_for_change
from pod.foundation.models import User


def _held_meeting(meeting: Meeting) -> None:
    if meeting.status != Meeting.Status.HELD:
        raise ValidationError("Record the meeting as held before writing what was said in it.")


@transaction.atomic
def utterance_add(
    *, meeting: Meeting, participant: Participant, kind: str, words: str, recorded_by: User
) -> Utterance:
    """Add one voice (or a reflection) to a meeting's dialogic record.

    The person's own words come first: while the person attended and nothing of theirs is
    recorded yet, the first entry must be theirs. Reflections are the professionals'.
    ValidationError (by field) for a meeting not held, a participant of another meeting or who
    did not attend, empty words, or a closed episode.
    """
    episode_lock_for_change(meeting.episode)
    meeting = Meeting.objects.get(pk=meeting.pk)
    _held_meeting(meeting)
    if participant.meeting_id != meeting.pk:
        raise ValidationError({"participant": "Choose someone who was at this meeting."})
    if not participant.attended:
        raise ValidationError({"participant": "Only people who attended can be quoted."})
    if not words.strip():
        raise ValidationError({"words": "Write what they said, in their own words."})
    if kind == Utterance.Kind.REFLECTION and participant.kind != Participant.Kind.STAFF:
        raise ValidationError({"kind": "Reflections are spoken by the professionals."})
    existing = list(meeting.utterances.values_list("participant__kind", flat=True))
    person_attended = meeting.participants.filter(
        kind=Participant.Kind.SERVICE_USER, attended=True
    ).exists()
    if person_attended and not existing and participant.kind != Participant.Kind.SERVICE_USER:
        raise ValidationError(
            {"participant": "Record the person's own words first: they were at the meeting."}
        )
    utterance = Utterance(
        meeting=meeting,
        participant=participant,
        kind=kind,
        words=words.strip(),
        position=len(existing) + 1,
        recorded_by=recorded_by,
    )
    utterance.full_clean()
    utterance.save()
    return utterance


@transaction.atomic
def decision_add(
    *, meeting: Meeting, kind: str, text: str, person_agreed: bool | None, recorded_by: User
) -> Decision:
    """Record a decision made in a held meeting, with the network present. ValidationError for a
    meeting not held, an empty decision, or a closed episode."""
    episode_lock_for_change(meeting.episode)
    _held_meeting(Meeting.objects.get(pk=meeting.pk))
    if not text.strip():
        raise ValidationError({"text": "Write the decision."})
    decision = Decision(
        meeting=meeting,
        kind=kind,
        text=text.strip(),
        person_agreed=person_agreed,
        recorded_by=recorded_by,
    )
    decision.full_clean()
    decision.save()
    return decision
