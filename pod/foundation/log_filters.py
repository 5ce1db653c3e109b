"""Keep personal data out of the logs.

URLs carry ids only (tests/pod/test_hardening.py checks the URLconf), but a log line can still
quote a query string, a form value or an exception message. This filter, attached to every
handler in settings.LOGGING, rewrites each record before it is written.
"""

from __future__ import annotations

import logging
import re

_REDACTIONS = [
    # A query string can carry anything a user typed: keep the path, drop the rest.
    (re.compile(r"(/[^\s?\"']*)\?[^\s\"']*"), r"\1?[query removed]"),
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[email]"),
    # NHS numbers (10 digits, often spaced 3-3-4) and UK phone numbers.
    (re.compile(r"(?<!\w)\d{3}[ -]?\d{3}[ -]?\d{4}(?!\w)"), "[number]"),
    (re.compile(r"(?<!\w)(?:\+44\s?|0)\d{2,4}[ -]?\d{3,4}[ -]?\d{3,4}(?!\w)"), "[number]"),
]


def redact(text: str) -> str:
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class RedactPersonalData(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is still logged, as its template
            message = str(record.msg)
        record.msg = redact(message)
        record.args = ()
        return True
