"""Whether a written reason is a real one: the one judgement every "why" in POD goes through.

A reason is what makes a change to a record, a decision or an exception to a clinical rule
accountable: why a meeting was called off, moved or its record corrected, why a person's details
were corrected, why a held-back item is released, what a manager found or did on a review, why
the rapid-response override was used. "ok", "x", "aaaaaaaaaa", "lorem ipsum dolor sit amet",
"test test test" or "asdf qwer" satisfy "not empty" and say nothing; an auditor reading them
later learns nothing. Source: issue 10 (a review before release found all of these accepted),
DCB0129 (every change to patient data attributable, with its reason), DOMAIN.md (the override
needs a written reason, reviewed by the service manager).

The judgement is deliberately modest: it cannot tell a true reason from a false one, only text
from filler. A reason is refused when, with runs of white space made one space:
- it is shorter than `minimum_chars` characters;
- it has fewer than `minimum_words` different words, or fewer than `minimum_letters` different
  letters (whatever the alphabet);
- one character makes up half of it or more;
- half its words or more are filler: placeholder text ("lorem ipsum", "test", "asdf", "tbc",
  "n/a", "ok"...) or letter runs with no vowel (keyboard mashing: "sdfgh", "qwrt").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Words that carry no reason on their own: placeholder text, keyboard runs, "nothing to say".
FILLER_WORDS = frozenset(
    """
    lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt
    test tests testing tested asdf asdfg asdfgh asdfghjkl qwerty qwer qwert qwertyuiop zxcv
    zxcvb jkl hjkl blah bla foo bar baz qux xyz abc abcd xxx yyy zzz tbc tbd na n a nil none
    nothing null ok okay k yes no fine done see above same reason whatever dummy placeholder
    text etc hello hi world as per discussed agreed noted abcde fghij xyzzy plugh qwertz azerty
    qazwsx wsxedc edcrfv rfvtgb tgbyhn yhnujm qaz wsx edc rfv tgb yhn ujm
    """.split()
)
# Whole reasons that say nothing, however they are spelt out (compared without punctuation).
FILLER_PHRASES = frozenset(
    {
        "not applicable",
        "to be confirmed",
        "to be decided",
        "to be determined",
        "no reason",
        "no reason given",
        "because i said so",
        "nothing to add",
        "nothing to add here",
        "nothing to add here at all",
        "as above",
        "see notes",
        "see notes above",
        "see the notes",
        "for no reason",
    }
)
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)
_VOWELS = set("aeiouyàáâäãåæèéêëìíîïòóôöõøùúûüýÿœw")


@dataclass(frozen=True)
class ReasonPolicy:
    """How much text a reason needs. `what` names it in the refusal ("The reason")."""

    minimum_chars: int = 10
    minimum_words: int = 2
    minimum_letters: int = 5


# A reason for a change to a record or an arrangement (cancel, move, correct, release, review).
REASON = ReasonPolicy()
# The rapid-response override of the medication rule: a longer explanation (issue 10, point 2:
# at least 20 characters of real text).
OVERRIDE = ReasonPolicy(minimum_chars=20, minimum_words=3, minimum_letters=6)


def _is_filler(word: str) -> bool:
    if word in FILLER_WORDS:
        return True
    # A run of four or more letters with no vowel is keyboard mashing in English and Welsh
    # (Welsh "w" and "y" are vowels, counted above).
    return len(word) >= 4 and not (set(word) & _VOWELS)


def reason_refusal(
    text: str, *, policy: ReasonPolicy = REASON, what: str = "The reason"
) -> str | None:
    """Why `text` is not a real reason, in words for the field's error, or None when it is one.

    `text`: what the user typed (any length; white space is collapsed before judging).
    `policy`: the thresholds (REASON for changes, OVERRIDE for the medication override).
    `what`: the field's name as the message starts it ("The reason", "Your note").
    Pure; no database access.
    """
    collapsed = " ".join(text.split())
    if not collapsed:
        return f"{what} is needed: say why."
    too_thin = (
        f"{what} must say why in words (at least {policy.minimum_chars} characters and "
        f"{policy.minimum_words} different words): placeholder text, repeated characters or "
        f'"ok" are not a reason.'
    )
    if len(collapsed) < policy.minimum_chars:
        return too_thin
    compact = collapsed.replace(" ", "").casefold()
    words = [w.casefold() for w in _WORD.findall(collapsed)]
    distinct = set(words)
    letters = {ch for ch in compact if ch.isalpha()}
    most = max(compact.count(ch) for ch in set(compact))
    if len(distinct) < policy.minimum_words or len(letters) < policy.minimum_letters:
        return too_thin
    if most * 2 >= len(compact):
        return too_thin
    if sum(1 for w in words if _is_filler(w)) * 2 >= len(words):
        return too_thin
    if " ".join(words) in FILLER_PHRASES:
        return too_thin
    return None
