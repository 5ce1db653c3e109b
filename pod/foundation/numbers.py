"""Whether text is a number POD may read: ASCII digits only.

`str.isdigit()` alone is not enough: it is also true of other scripts' digits and of
superscripts ("²"), which `int()` refuses (ValueError: a 500 where a field error or a 404 was
owed) or turns into a number the person did not type. Every check of typed or URL-borne digits
goes through `is_ascii_digits` (tests/pod/test_every_input.py sends "²" to every field and
query parameter).
"""

from __future__ import annotations


def is_ascii_digits(value: str) -> bool:
    """True when `value` is one or more of the characters 0-9 and nothing else."""
    return value.isascii() and value.isdigit()
