"""Pure rules about people and their networks. No database access."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime, timedelta

from pod.foundation.numbers import is_ascii_digits


def nhs_number_check_digit(first_nine: str) -> int | None:
    """Return the modulus-11 check digit for nine digits.

    None means no valid NHS number can start with these nine digits (the remainder gives 10).
    """
    total = sum(int(d) * w for d, w in zip(first_nine, range(10, 1, -1), strict=True))
    check = 11 - (total % 11)
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def normalise_nhs_number(value: str) -> str:
    """Strip the spaces and hyphens people type ("943 476 5919") and return the digits."""
    return "".join(ch for ch in str(value) if ch not in " -")


def nhs_number_checksum_ok(value: str) -> bool:
    """True when value is ten ASCII digits whose last is the modulus-11 check of the first nine.

    The check alone is not enough to accept a number: see `nhs_number_refusal`.
    """
    digits = normalise_nhs_number(value)
    if len(digits) != 10 or not is_ascii_digits(digits):
        return False
    return nhs_number_check_digit(digits[:9]) == int(digits[9])


# The NHS numbers that pass the modulus-11 check but are never a person's number. Sources:
# - the format and check digit: NHS Data Dictionary, "NHS Number" (data element), "Modulus 11
#   algorithm" - https://www.datadictionary.nhs.uk/attributes/nhs_number.html
# - the test range: numbers from 999 000 0000 to 999 999 9999 are valid by the check digit but
#   reserved for test data and never issued to a patient (Wikipedia, "NHS number", section
#   "Format, number ranges, and check characters", citing NHS Digital; NHS England Digital's
#   test-data guidance uses the same 999 range).
# - placeholders: with ten equal digits the check digit always equals the others (10d = -d mod
#   11), so 000 000 0000 ... 999 999 9999 all "pass"; they are what a form gets when someone
#   types a filler to get past a mandatory field, and no person has one.
NHS_NUMBER_TEST_RANGE = ("9990000000", "9999999999")
NHS_NUMBER_INVALID_MESSAGE = "Enter a valid 10-digit NHS number (the last digit is a check digit)."
NHS_NUMBER_PLACEHOLDER_MESSAGE = (
    "An NHS number with all ten digits the same is a placeholder, not a person's number. "
    "Enter the person's own NHS number."
)
NHS_NUMBER_TEST_RANGE_MESSAGE = (
    "NHS numbers from 999 000 0000 to 999 999 9999 are reserved for test data and never "
    "issued to a person. Enter the person's own NHS number."
)


def nhs_number_refusal(value: str) -> str | None:
    """Why POD refuses `value` as a person's NHS number, or None when it is acceptable.

    `value` may carry the spaces and hyphens people type ("943 476 5919", "943-476-5919").
    The reasons, in the order checked (the message is shown to the user as it is):
    1. not ten digits, or the modulus-11 check digit does not match (NHS Data Dictionary);
    2. a placeholder: all ten digits the same (0000000000 ... 9999999999);
    3. NHS Digital's test range, 999 000 0000 to 999 999 9999 (never issued to a person).
    The one rule for every door a number comes in by: the referral form, the person's details,
    the admin, the outcome import and the database (a check constraint mirrors 2 and 3).
    """
    digits = normalise_nhs_number(value)
    if not nhs_number_checksum_ok(digits):
        return NHS_NUMBER_INVALID_MESSAGE
    if len(set(digits)) == 1:
        return NHS_NUMBER_PLACEHOLDER_MESSAGE
    if NHS_NUMBER_TEST_RANGE[0] <= digits <= NHS_NUMBER_TEST_RANGE[1]:
        return NHS_NUMBER_TEST_RANGE_MESSAGE
    return None


def nhs_number_is_valid(value: str) -> bool:
    """True when POD accepts value as a person's NHS number (`nhs_number_refusal` gives None)."""
    return nhs_number_refusal(value) is None


def format_nhs_number(value: str) -> str:
    """The 3-3-4 form people read ("943 476 5919"); anything not ten digits is returned as is."""
    digits = normalise_nhs_number(value)
    if len(digits) != 10 or not is_ascii_digits(digits):
        return str(value)
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}"


# --- Identity ----------------------------------------------------------------------------------

_APOSTROPHES = re.compile(r"['`´‘’ʼʻ]")
_DASHES_AND_SPACES = re.compile(r"[-‐‑–—\s]+")


def fold_name(value: str) -> str:
    """A name as the identity checks compare it: lower case, accents removed, apostrophes of any
    style dropped, hyphens and runs of spaces made one space ("Siobhán O’Brien-Quill" ->
    "siobhan obrien quill"). The same folding as PostgreSQL's `pod_fold` (networks migration
    0008), which the person search uses in the database."""
    decomposed = unicodedata.normalize("NFKD", value)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    plain = _APOSTROPHES.sub("", plain.casefold())
    return _DASHES_AND_SPACES.sub(" ", plain).strip()


IDENTITY_FIELDS = ("given_name", "family_name", "date_of_birth")


def identity_differences(
    *, recorded: Mapping[str, object], entered: Mapping[str, object]
) -> list[str]:
    """The identity fields (IDENTITY_FIELDS) on which what was entered for an NHS number differs
    from the person on record under it. Names compare folded (`fold_name`: case, accents and
    apostrophe style do not count); a field left blank on entry is not a difference (the
    referral may give only the number). [] means the same person as far as these fields tell.
    """
    differences = []
    for name in IDENTITY_FIELDS:
        given = entered.get(name)
        if given in (None, ""):
            continue
        held = recorded.get(name)
        if isinstance(given, str):
            if fold_name(given) != fold_name(str(held or "")):
                differences.append(name)
        elif given != held:
            differences.append(name)
    return differences


def age_on(date_of_birth: date, today: date) -> int:
    """Age in whole years on `today` (a birthday on 29 February counts from 1 March in other
    years, as UK law treats it)."""
    had_birthday = (today.month, today.day) >= (date_of_birth.month, date_of_birth.day)
    return today.year - date_of_birth.year - (0 if had_birthday else 1)


# --- Peer work --------------------------------------------------------------------------------

PEER_CONTACT_EDIT_WINDOW = timedelta(hours=24)

# The network categories as drawn on the map and counted in the measures: the model's eight
# categories fold into the five sectors the team talks about. Order = order round the circle.
SECTORS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("family", "Family", ("family", "carer")),
    ("friends", "Friends and partners", ("friend", "partner")),
    ("community", "Neighbours and community", ("neighbour", "other")),
    ("peers", "Peers", ("peer",)),
    ("professionals", "Professionals", ("professional",)),
)
SECTOR_OF_CATEGORY: dict[str, str] = {
    category: key for key, _label, categories in SECTORS for category in categories
}


def peer_contact_is_editable(
    *, author_id: int, user_id: int, created_at: datetime, now: datetime
) -> bool:
    """A peer contact may be changed by its author for 24 hours after it was logged, then it is
    fixed. Nobody else may change it, ever (the log is the author's account of their work)."""
    return author_id == user_id and now - created_at < PEER_CONTACT_EDIT_WINDOW


def member_in_network_at(
    *,
    status: str,
    added_at: datetime,
    joined_at: datetime | None,
    ended_at: datetime | None,
    at: datetime,
) -> bool:
    """Was a network member part of the network at the instant `at`?

    A member joins when they are added, or - for a member proposed by a peer - when the person's
    consent is recorded (`joined_at`; None means "joined when added" for members added directly,
    and "not joined" while still proposed). They leave at `ended_at` (None: still there).
    """
    if joined_at is None:
        if status == "proposed":
            return False
        joined_at = added_at
    if joined_at > at:
        return False
    return ended_at is None or ended_at > at


def network_is_thin(*, active_non_professional: int, threshold: int) -> bool:
    """A network is thin when fewer than `threshold` active members are not professionals."""
    return active_non_professional < threshold
