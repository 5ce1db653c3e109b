"""Keep personal data out of the logs, in every process (web, worker, beat).

URLs carry ids only (tests/pod/test_hardening.py checks the URLconf), but a log line can still
quote a query string, a form value, an exception message or a traceback. Two pieces, both on
every handler that writes:

- `RedactPersonalData`, a filter: rewrites the record's message through `redact` and replaces
  the text of the record's exception, where the message quotes it (Celery's "Task ... raised
  unexpected: ValueError('...')"), with the exception's class.
- `RedactingFormatter`: formats as the handler's own formatter would, but writes tracebacks
  without any exception's text (frames say where, never what), and passes the whole output,
  stack included, through `redact`.

settings.LOGGING puts both on its handlers, including the development server's request log
(`django.server`, which Django's defaults give a handler of its own). Celery replaces or adds
handlers when a worker or beat starts; pod/celery.py calls `redact_every_handler` from Celery's
logging signals, so the handlers that actually run are covered (tests/pod/test_log_privacy.py
starts a real worker and a real web server to prove it).
"""

from __future__ import annotations

import copy
import logging
import re
import traceback
from types import TracebackType
from typing import Any

from django.utils.log import ServerFormatter

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]

# A person's name: two or more capitalised words in a row ("Jordan Rivers", "Mary O'Neil",
# "Anne-Marie McDonald"). Names cannot be recognised for certain; over-redacting a log line costs
# a little readability, under-redacting it a person's confidentiality. Phrases that frameworks
# log and that are not names are kept.
_NAME_WORD = r"(?:Mc|Mac|O['’])?[A-Z][a-z]+(?:-[A-Z][a-z]+)?"
_NAME = re.compile(rf"(?<![\w.@/]){_NAME_WORD}(?:[ \t]+{_NAME_WORD})+(?![\w])")
_NOT_NAMES = {
    "Internal Server Error",
    "Not Found",
    "Bad Request",
    "Method Not Allowed",
    "Service Unavailable",
    "Gateway Timeout",
    "Bad Gateway",
    "Permission Denied",
    "Too Many Requests",
}

_REDACTIONS = [
    # A query string can carry anything a user typed: keep the path, drop the rest.
    # (Redacting twice changes nothing: an already removed query is left alone.)
    (re.compile(r"(/[^\s?\"']*)\?(?!\[query removed\])[^\s\"']*"), r"\1?[query removed]"),
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[email]"),
    # NHS numbers (10 digits, often spaced 3-3-4) and UK phone numbers.
    (re.compile(r"(?<!\w)\d{3}[ -]?\d{3}[ -]?\d{4}(?!\w)"), "[number]"),
    (re.compile(r"(?<!\w)(?:\+44\s?|0)\d{2,4}[ -]?\d{3,4}[ -]?\d{3,4}(?!\w)"), "[number]"),
]

EXCEPTION_TEXT_REMOVED = "[exception text removed]"


def _name_or_kept(match: re.Match[str]) -> str:
    return match.group(0) if match.group(0) in _NOT_NAMES else "[name]"


def redact(text: str) -> str:
    """`text` without query strings, email addresses, NHS and phone numbers or name-shaped
    runs of capitalised words."""
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return _NAME.sub(_name_or_kept, text)


def _exception_chain(exc: BaseException) -> list[BaseException]:
    """`exc` and the exceptions it was raised from or during, outermost last."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    return chain[::-1]


def exception_summary(exc_info: ExcInfo) -> str:
    """The traceback of `exc_info` (and of the exceptions it came from), each exception's text
    replaced by EXCEPTION_TEXT_REMOVED: an exception's message may quote a record, an address or
    a query (a database error's DETAIL line quotes the row)."""
    parts: list[str] = []
    for number, exc in enumerate(_exception_chain(exc_info[1])):
        if number:
            parts.append("\nWhile handling it, or because of it, another exception followed:\n\n")
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_tb(exc.__traceback__))
        kind = type(exc)
        parts.append(f"{kind.__module__}.{kind.__qualname__}: {EXCEPTION_TEXT_REMOVED}\n")
    return "".join(parts).rstrip("\n")


def _without_exception_text(message: str, exc: BaseException) -> str:
    for link in _exception_chain(exc):
        # The longer first: repr() contains str().
        for shown in sorted({repr(link), str(link)}, key=len, reverse=True):
            if len(shown) >= 4:  # "1" or "" would match anywhere
                message = message.replace(shown, type(link).__name__)
    return message


class RedactPersonalData(logging.Filter):
    """Rewrites each record's message (see module docstring). Never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is still logged, as its template
            message = str(record.msg)
        if record.exc_info and record.exc_info[1] is not None:
            message = _without_exception_text(message, record.exc_info[1])
        record.msg = redact(message)
        record.args = ()
        return True


class RedactingFormatter(logging.Formatter):
    """Formats a record as `inner` would (or as a Formatter built from the other arguments),
    with tracebacks through `exception_summary` and everything through `redact`."""

    def __init__(
        self,
        fmt: str | None = None,
        datefmt: str | None = None,
        style: Any = "%",
        validate: bool = True,
        *,
        inner: logging.Formatter | None = None,
    ) -> None:
        super().__init__(fmt, datefmt, style, validate)
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        # A copy: other handlers format the same record.
        clean = copy.copy(record)
        clean.exc_info, clean.exc_text, clean.stack_info = None, None, None
        text = self.inner.format(clean) if self.inner is not None else super().format(clean)
        extra: list[str] = []
        if record.exc_info and record.exc_info[1] is not None:
            extra.append(exception_summary(record.exc_info))
        elif record.exc_text:
            extra.append(record.exc_text)
        if record.stack_info:
            extra.append(record.stack_info)
        return redact("\n".join([text, *extra]))


def server_formatter(**kwargs: Any) -> RedactingFormatter:
    """The development server's request-log formatter (Django's ServerFormatter, which colours
    by status), redacting. For settings.LOGGING's `django.server` handler."""
    return RedactingFormatter(inner=ServerFormatter(**kwargs))


def redact_handler(handler: logging.Handler) -> None:
    """Put the filter and the redacting formatter on `handler`, keeping its own format. Safe to
    call again."""
    if not any(isinstance(f, RedactPersonalData) for f in handler.filters):
        handler.addFilter(RedactPersonalData())
    if not isinstance(handler.formatter, RedactingFormatter):
        handler.setFormatter(RedactingFormatter(inner=handler.formatter))


def redact_every_handler() -> int:
    """Redact every handler of every logger that exists now, and logging's last-resort handler
    (used when a record finds no handler); returns how many handlers were looked at. Called when
    Celery has set up a worker's or beat's logging (pod/celery.py)."""
    loggers: list[logging.Logger] = [logging.getLogger()]
    loggers += [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    handlers = {id(h): h for logger in loggers for h in logger.handlers}
    if logging.lastResort is not None:
        handlers[id(logging.lastResort)] = logging.lastResort
    for handler in handlers.values():
        redact_handler(handler)
    return len(handlers)
