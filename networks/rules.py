"""Pure rules about people and their networks. No database access."""

from __future__ import annotations

from datetime import datetime, timedelta


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


def nhs_number_is_valid(value: str) -> bool:
    """True when value is ten digits whose last is the modulus-11 check of the first nine."""
    digits = normalise_nhs_number(value)
    if len(digits) != 10 or not digits.isascii() or not digits.isdigit():
        return False
    return nhs_number_check_digit(digits[:9]) == int(digits[9])


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
