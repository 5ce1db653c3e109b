"""The 3-meetings-before-medication rule as a pure function."""

import pytest

from meetings import rules

pytestmark = pytest.mark.hazard("HAZ-03.C1")


def decide(held, *, is_new=True, reason="", explanation=""):
    return rules.medication_decision(
        is_new=is_new,
        meetings_held_before=held,
        meetings_required=3,
        override_reason=reason,
        override_explanation=explanation,
    )


@pytest.mark.parametrize("held,allowed", [(0, False), (2, False), (3, True), (7, True)])
def test_it_allows_a_new_medicine_only_after_three_meetings(held, allowed):
    assert decide(held).allowed is allowed


def test_it_always_allows_a_continuing_medicine():
    assert decide(0, is_new=False).allowed


def test_it_says_how_many_meetings_were_held_when_refusing():
    decision = decide(2)
    assert "2 of 3 network meetings" in decision.message
    assert "rapid-response" in decision.message


def test_it_allows_the_rapid_response_override_only_with_an_explanation():
    assert not decide(1, reason="rapid_response", explanation="   ").allowed
    overridden = decide(1, reason="rapid_response", explanation="Not eaten or drunk for 3 days")
    assert overridden.allowed and overridden.needs_override


@pytest.mark.hazard("HAZ-03.C4")
def test_the_audit_flags_only_unexplained_shortfalls():
    assert rules.prescription_violates_rule(
        is_new=True,
        meetings_held_before=2,
        meetings_required=3,
        override_reason="",
        override_explanation="",
    )
    assert not rules.prescription_violates_rule(
        is_new=True,
        meetings_held_before=2,
        meetings_required=3,
        override_reason="rapid_response",
        override_explanation="Physical safety threatened: not drinking",
    )
    # An explanation too thin to review is a violation too, however the row got there.
    assert rules.prescription_violates_rule(
        is_new=True,
        meetings_held_before=2,
        meetings_required=3,
        override_reason="rapid_response",
        override_explanation="Physical safety",
    )


@pytest.mark.hazard("HAZ-03.C40")
@pytest.mark.parametrize(
    ("text", "real"),
    [
        ("", False),
        ("ok", False),
        ("xxxxxxxxxxxxxxxxxxxxxxxxx", False),
        ("ok ok ok ok ok ok ok ok ok", False),
        ("no no no no no no no no no no", False),
        ("abc abc abc abc abc abc abc", False),
        ("Not eaten for 4 days", True),  # exactly 20 characters
        ("Not eaten for 4 day", False),  # 19
        ("  Not   eaten   for  4 days ", True),  # spaces collapse before counting
        ("Threatening to jump from a bridge; police present", True),
    ],
)
def test_an_override_explanation_is_twenty_characters_of_real_text(text, real):
    assert (rules.override_explanation_refusal(text) is None) is real
