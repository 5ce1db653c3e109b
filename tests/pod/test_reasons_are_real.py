"""Every written reason is a real one (issue 10 review: an override "lorem ipsum dolor sit amet",
a review note "ok" with action taken and a correction reason "ok" were all accepted). One
judgement, pod.foundation.justification, behind every "why"; each service refuses filler with
a field error and saves nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from meetings import rules
from meetings.models import Meeting, MeetingChange, Review
from pod.foundation.justification import OVERRIDE, reason_refusal

FILLER = [
    "",
    "ok",
    "OK.",
    "n/a",
    "aaaaaaaaaaaa",
    "test test test",
    "lorem ipsum dolor sit amet",
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit",
    "asdf qwer zxcv",
    "sdfgh jklmn",
    "see above see above",
    "ok ok ok ok ok ok",
    # A second review's examples (keyboard columns, greetings, "as discussed").
    "hello world",
    "abcde fghij",
    "qazwsx edcrfv",
    "xyzzy plugh foo",
    "as discussed",
    "As per discussed, agreed.",
    "not applicable",
    "To be confirmed.",
    "because I said so",
    "nothing to add here at all",
]
REASONS = [
    "Wrong time",
    "The family cannot come.",
    "Sam was called away before it began.",
    "Date of birth confirmed against the GP record",
    "Referred to the CMHT duty worker for follow-up",
    "Spoke to the prescriber; the override was justified.",
]


@pytest.mark.hazard("HAZ-03.C87")
@pytest.mark.parametrize("text", FILLER)
def test_filler_is_not_a_reason(text):
    assert reason_refusal(text) is not None
    assert reason_refusal(text, policy=OVERRIDE) is not None


@pytest.mark.parametrize("text", REASONS)
def test_a_short_plain_reason_is_one(text):
    assert reason_refusal(text) is None


@pytest.mark.hazard("HAZ-03.C87")
@pytest.mark.parametrize(
    "text",
    ["lorem ipsum dolor sit amet", "test test test test test", "asdf asdf qwerty qwerty"],
)
def test_the_override_refuses_placeholder_text(text):
    assert rules.override_explanation_refusal(text) is not None
    decision = rules.medication_decision(
        is_new=True,
        meetings_held_before=0,
        meetings_required=3,
        override_reason="rapid_response",
        override_explanation=text,
    )
    assert not decision.allowed


# --- Through the services: a field error, nothing saved ----------------------------------------


@pytest.mark.django_db
@pytest.mark.hazard("HAZ-03.C87")
def test_a_correction_reason_of_ok_is_refused_and_nothing_changes(team, clinician, clinician2):
    from meetings.services.lifecycle import meeting_correct
    from tests.meetings.helpers import held_meeting, recent_episode

    episode = recent_episode(team, [clinician, clinician2], hours_ago=30)
    meeting = held_meeting(episode, [clinician, clinician2], hours_after_referral=2)
    meeting.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        meeting_correct(
            meeting=meeting,
            actual_start=meeting.actual_start,
            actual_end=meeting.actual_end - timedelta(minutes=30),
            location=meeting.location,
            location_detail=meeting.location_detail,
            attended={p.pk: True for p in meeting.participants.all()},
            reason="ok",
            changed_by=clinician,
            now=timezone.now(),
        )
    assert "reason" in refused.value.message_dict
    assert not MeetingChange.objects.filter(meeting=meeting).exists()
    assert Meeting.objects.get(pk=meeting.pk).actual_end == meeting.actual_end


@pytest.mark.django_db
@pytest.mark.hazard("HAZ-03.C87")
@pytest.mark.parametrize("decision", ["action_taken", "escalated"])
def test_a_review_note_of_ok_with_action_taken_is_refused(
    team, manager, clinician, clinician2, decision
):
    from meetings.reviews import review_open
    from meetings.services.reviews import review_decide
    from tests.meetings.helpers import recent_episode

    episode = recent_episode(team, [clinician, clinician2], hours_ago=30)
    review = review_open(
        kind=Review.Kind.BREACH, subject_id=1, episode=episode, raised_at=timezone.now()
    )
    with pytest.raises(ValidationError) as refused:
        review_decide(
            review=review, decision=decision, note="ok", decided_by=manager, now=timezone.now()
        )
    assert "note" in refused.value.message_dict
    assert Review.objects.get(pk=review.pk).is_open
    decided = review_decide(
        review=review,
        decision=decision,
        note="Spoke to the team lead; the rota now has a duty clinician at weekends.",
        decided_by=manager,
        now=timezone.now(),
    )
    assert decided.decision == decision


@pytest.mark.django_db
def test_no_action_needs_no_note(team, manager, clinician, clinician2):
    from meetings.reviews import review_open
    from meetings.services.reviews import review_decide
    from tests.meetings.helpers import recent_episode

    episode = recent_episode(team, [clinician, clinician2], hours_ago=30)
    review = review_open(
        kind=Review.Kind.BREACH, subject_id=1, episode=episode, raised_at=timezone.now()
    )
    decided = review_decide(
        review=review, decision="no_action", note="", decided_by=manager, now=timezone.now()
    )
    assert decided.decision == "no_action"
