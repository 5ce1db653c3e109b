"""Pure rules about people and their networks. No database access."""

from __future__ import annotations


def nhs_number_check_digit(first_nine: str) -> int | None:
    """Return the modulus-11 check digit for nine digits.

    None means no valid NHS number can start with these nine digits (the remainder gives 10).
    """
    total = sum(int(digit) * weight for digit, weight in zip(first_nine, range(10, 1, -1)))
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
