"""Email backends: SMTP that keeps the server's answer, and a one-line console for demo mode.

`SMTPBackend` is Django's SMTP backend plus `last_answer`: the mail server's reply to the last
message's DATA ("250 2.0.0 Ok: queued as 4F9C1"), which the outbox stores with each sent
message as the provider's answer. `ConsoleSummaryBackend` (the default with DEBUG on) writes one
short log line per message instead of the whole message: the message itself is in the admin
(Outbox messages).
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Sequence
from typing import Any

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as DjangoSMTPBackend
from django.core.mail.message import EmailMessage

logger = logging.getLogger("pod.email")


class _AnswerMixin:
    """Keeps the reply to DATA, which smtplib's sendmail() checks and throws away."""

    last_data_reply = ""

    def data(self, msg: Any) -> tuple[int, bytes]:
        code, reply = super().data(msg)  # type: ignore[misc]
        self.last_data_reply = f"{code} {reply.decode('utf-8', 'replace')}"
        return code, reply


class _SMTP(_AnswerMixin, smtplib.SMTP):
    pass


class _SMTP_SSL(_AnswerMixin, smtplib.SMTP_SSL):
    pass


class SMTPBackend(DjangoSMTPBackend):
    """Django's SMTP backend; `last_answer` is the server's reply to the last message sent."""

    @property
    def connection_class(self) -> type[smtplib.SMTP]:
        return _SMTP_SSL if self.use_ssl else _SMTP

    @property
    def last_answer(self) -> str:
        return str(getattr(self.connection, "last_data_reply", ""))


class ConsoleSummaryBackend(BaseEmailBackend):
    """Demo mode: "email not sent (demo mode): <subject> to 1 recipient" on the `pod.email` log,
    instead of printing whole messages over the development server's start-up banner."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        for message in email_messages:
            count = len(message.recipients())
            logger.info(
                "email not sent (demo mode): %r to %d recipient%s; read it in the admin under "
                "Outbox messages",
                message.subject,
                count,
                "" if count == 1 else "s",
            )
        return len(email_messages)

    @property
    def last_answer(self) -> str:
        return "demo mode: written to the log, not sent"
