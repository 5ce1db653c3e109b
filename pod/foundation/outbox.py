"""The outbox: every email POD sends is a row owed in the transaction of the change that causes it,
and a sweep sends the rows one at a time.

Owing. `message_owe` inserts one OutboxMessage (pod/foundation/outbox_models.py) inside the
caller's transaction, unique per (kind, cause, recipient): a repeated write of the same change
owes nothing new, and a rolled-back change owes nothing at all. After commit it nudges the
delivery task through the broker (pod/foundation/task_queue.py); the nudge is only a shortcut —
beat runs the same task every minute, so a broker outage delays messages and loses none.

Delivering. `messages_deliver_due` (the Celery task pod.tasks.deliver_messages):

1. Claims ONE due row in its own short transaction: the oldest PENDING row whose next attempt
   has come, or a SENDING row whose lease has expired (its worker died), skipping rows another
   worker holds (FOR UPDATE SKIP LOCKED) and rows behind an earlier undelivered message of the
   same thread to the same recipient. Marks it SENDING with a lease of POD_OUTBOX_LEASE_SECONDS
   and a fresh claim token, and commits.
2. Sends it, holding no transaction and no lock.
3. Records the result in a second short transaction, only while the claim token is still the
   row's: SENT with `sent_at` (the time the mail server accepted it) and the provider's answer;
   or the error, and PENDING again after a back-off (1, 2, 4 ... minutes, at most an hour), or
   FAILED once it has been tried POD_OUTBOX_MAX_ATTEMPTS times. A hook registered for the kind
   (`sent_hook_register`) runs in that transaction (alerts stamp their `delivered_at` so).
4. Repeats until nothing is due (or after five failures in a row: the mail server is down, and
   the next run tries again).

What that guarantees (README "Deploying"):
- At least once: a row leaves the outbox only as SENT (or FAILED, which the monitoring endpoint
  reports, or WITHDRAWN by its owner). A killed worker's row is claimed again when its lease
  expires.
- At most once, except in one window: a worker killed, or cut off from the database, after the
  mail server accepted a message and before step 3 committed, leaves that row SENDING; once its
  lease expires it is sent again. So a kill re-sends at most the one message in flight. The
  window is the time between the server's acceptance and the commit (milliseconds); the re-send
  follows up to POD_OUTBOX_LEASE_SECONDS after the claim, with the same Message-ID. A send that
  outlived its lease could be doubled the same way, so settings keep EMAIL_TIMEOUT far below it.
- Order: messages of one thread to one recipient leave in the order they were owed, each after
  the one before it was sent (or failed or was withdrawn). Nothing else is ordered.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypedDict
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import IntegrityError, transaction
from django.db.models import Exists, Min, OuterRef, Q
from django.utils import timezone

from pod.foundation.emails import RenderedEmail
from pod.foundation.models import User
from pod.foundation.outbox_models import OutboxMessage
from pod.foundation.task_queue import task_send

logger = logging.getLogger(__name__)

# The Celery task that delivers the outbox, named rather than imported: pod.tasks imports this
# module (README "Architecture").
DELIVER_MESSAGES_TASK = "pod.tasks.deliver_messages"

State = OutboxMessage.State
UNDELIVERED = (State.PENDING, State.SENDING)
# After this many failures in a row, one run stops: the mail server is down, not one message.
STOP_AFTER_FAILURES_IN_A_ROW = 5


class Alternative(TypedDict):
    """A further alternative part of the message, e.g. a calendar request."""

    mimetype: str  # e.g. "text/calendar; method=REQUEST"
    content: str


class Attachment(TypedDict):
    """A text attachment."""

    filename: str
    mimetype: str
    content: str


@dataclass(frozen=True)
class Recipient:
    """Whom a message is for: a member of staff (`user_id`) or a network member
    (`network_member_id`), and the address to use. Its `key` ("user:5", "member:9") is part of
    the outbox's uniqueness, so a changed address does not owe a second copy."""

    address: str
    user_id: int | None = None
    network_member_id: int | None = None

    @property
    def key(self) -> str:
        if self.user_id is not None:
            return f"user:{self.user_id}"
        if self.network_member_id is not None:
            return f"member:{self.network_member_id}"
        raise ValueError("A recipient is a member of staff or a network member.")

    @classmethod
    def for_user(cls, user: User) -> Recipient:
        return cls(address=user.email, user_id=user.pk)


SentHook = Callable[[OutboxMessage], None]
_SENT_HOOKS: dict[str, SentHook] = {}


def sent_hook_register(kind: str, hook: SentHook) -> None:
    """Have `hook(message)` called, inside the transaction that records it, whenever a message
    of `kind` has been sent. For a higher layer that owes messages (meetings' alerts) and wants
    to know; registered from its AppConfig.ready. A hook that raises is logged (message id and
    exception class) and does not undo the record of the send."""
    _SENT_HOOKS[kind] = hook


def _message_id(kind: str) -> str:
    domain = urlsplit(settings.SITE_URL).hostname or "pod.localhost"
    return f"<{uuid.uuid4().hex}.{kind}@{domain}>"


@transaction.atomic
def message_owe(
    *,
    kind: str,
    cause: str,
    recipient: Recipient,
    email: RenderedEmail,
    now: datetime,
    thread: str = "",
    alternatives: Sequence[Alternative] = (),
    attachments: Sequence[Attachment] = (),
    reply_to: str = "",
) -> bool:
    """Owe `recipient` the rendered `email` because of `cause`; True if it was not owed already.

    Call inside the transaction of the change that causes it: the row commits or rolls back with
    that change. `kind` says what the message is ("alert", "meeting_invitation"), `cause` which
    change owes it ("alert:17"; a change that owes a new message each time, such as a meeting
    moved twice, puts its version in the cause: "meeting:4:v3"), `thread` which messages to the
    same recipient must leave in order ("meeting:4"; blank: none). (kind, cause, recipient.key)
    is unique: owing it again returns False and changes nothing. `now` is when it was owed.
    Raises ValidationError for a malformed address or an over-long field.
    """
    already = OutboxMessage.objects.filter(kind=kind, cause=cause, recipient_key=recipient.key)
    if already.exists():
        return False
    message = OutboxMessage(
        kind=kind,
        cause=cause,
        recipient_key=recipient.key,
        user_id=recipient.user_id,
        network_member_id=recipient.network_member_id,
        to_address=recipient.address,
        reply_to=reply_to,
        thread=thread,
        subject=email.subject,
        body_text=email.text,
        body_html=email.html,
        alternatives=list(alternatives),
        attachments=list(attachments),
        message_id=_message_id(kind),
        state=State.PENDING,
        queued_at=now,
        next_attempt_at=now,
    )
    message.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():  # a concurrent writer of the same key commits first
            message.save(force_insert=True)
    except IntegrityError:
        if already.exists():
            return False
        raise
    deliver_on_commit()
    return True


def deliver_on_commit() -> None:
    """Nudge delivery once the current transaction commits (once per transaction, however many
    messages it owed). A broker outage is logged by task_send, never raised: beat's minute-by-
    minute run of the same task delivers the messages."""
    connection = transaction.get_connection()
    if any(entry[1] is _nudge for entry in connection.run_on_commit):
        return
    transaction.on_commit(_nudge)


def _nudge() -> None:
    task_send(DELIVER_MESSAGES_TASK)


def messages_withdraw(*, cause: str, kind: str | None = None) -> int:
    """Withdraw the messages of `cause` (of `kind` only, if given) that are still waiting to be
    sent; returns how many. One a worker is sending at this moment cannot be withdrawn."""
    waiting = OutboxMessage.objects.filter(cause=cause, state=State.PENDING)
    if kind is not None:
        waiting = waiting.filter(kind=kind)
    return waiting.update(state=State.WITHDRAWN, lease_expires_at=None, claim_token=None)


def messages_send_again(ids: Sequence[int], *, now: datetime) -> int:
    """Put FAILED messages back in the queue with their attempts reset (the admin's action once
    the cause is fixed); returns how many."""
    return OutboxMessage.objects.filter(pk__in=ids, state=State.FAILED).update(
        state=State.PENDING, attempts=0, next_attempt_at=now, last_error=""
    )


def oldest_undelivered_queued_at() -> datetime | None:
    """When the oldest message not yet sent (waiting, being sent or failed) was owed; None when
    every message has left. Through the partial index `outbox_undelivered`."""
    oldest: datetime | None = OutboxMessage.objects.filter(
        state__in=(State.PENDING, State.SENDING, State.FAILED)
    ).aggregate(oldest=Min("queued_at"))["oldest"]
    return oldest


# --- Delivery -----------------------------------------------------------------------------------
def messages_deliver_due(
    *, limit: int | None = None, clock: Callable[[], datetime] = timezone.now
) -> int:
    """Send every message that is due, one at a time (module docstring); returns how many were
    sent. `limit` stops after that many claims; `clock` gives the current time at each step
    (tests pin it). Safe to run twice and concurrently."""
    sent = 0
    claims = 0
    failures_in_a_row = 0
    connection: BaseEmailBackend | None = None
    try:
        while limit is None or claims < limit:
            message = _claim_one(now=clock())
            if message is None:
                break
            claims += 1
            if connection is None:
                connection = get_connection(fail_silently=False)
            if _send_and_record(message, connection, clock):
                sent += 1
                failures_in_a_row = 0
            else:
                failures_in_a_row += 1
                if failures_in_a_row >= STOP_AFTER_FAILURES_IN_A_ROW:
                    break
    finally:
        if connection is not None:
            _close_quietly(connection)
    return sent


def _claim_one(*, now: datetime) -> OutboxMessage | None:
    """Step 1: claim the oldest due message for this worker, in its own transaction."""
    earlier_undelivered = OutboxMessage.objects.filter(
        thread=OuterRef("thread"),
        recipient_key=OuterRef("recipient_key"),
        pk__lt=OuterRef("pk"),
        state__in=UNDELIVERED,
    )
    with transaction.atomic():
        message = (
            OutboxMessage.objects.filter(state__in=UNDELIVERED)
            .filter(
                Q(state=State.PENDING, next_attempt_at__lte=now)
                | Q(state=State.SENDING, lease_expires_at__lte=now)
            )
            .filter(Q(thread="") | ~Exists(earlier_undelivered))
            .order_by("queued_at", "pk")
            .select_for_update(skip_locked=True)
            .first()
        )
        if message is None:
            return None
        if message.state == State.SENDING:
            # Its worker died (or stalled) after claiming it: it may have been sent already.
            logger.warning("message %s: claim expired, sending again", message.pk)
        message.state = State.SENDING
        message.lease_expires_at = now + timedelta(seconds=settings.POD_OUTBOX_LEASE_SECONDS)
        message.claim_token = uuid.uuid4()
        message.attempts += 1
        message.save(update_fields=["state", "lease_expires_at", "claim_token", "attempts"])
    return message


def _email_for(message: OutboxMessage, connection: BaseEmailBackend) -> EmailMultiAlternatives:
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to_address],
        reply_to=[message.reply_to] if message.reply_to else None,
        headers={"Message-ID": message.message_id},
        connection=connection,
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    for alternative in message.alternatives:
        email.attach_alternative(alternative["content"], alternative["mimetype"])
    for attachment in message.attachments:
        email.attach(attachment["filename"], attachment["content"], attachment["mimetype"])
    return email


def _send_and_record(
    message: OutboxMessage, connection: BaseEmailBackend, clock: Callable[[], datetime]
) -> bool:
    """Steps 2 and 3 for one claimed message; True when it was sent."""
    try:
        connection.open()  # kept open across the run; a no-op when it already is
        accepted = _email_for(message, connection).send(fail_silently=False)
        if accepted != 1:
            raise RuntimeError("the email backend accepted nothing")
    except Exception as exc:  # any failure: recorded on the row, tried again later
        # The id and the exception's class only: an SMTP error quotes the address.
        logger.error("message %s not sent (%s)", message.pk, type(exc).__name__)
        _close_quietly(connection)  # the next send opens a fresh connection
        _record_failure(message, error=f"{type(exc).__name__}: {exc}", now=clock())
        return False
    answer = getattr(connection, "last_answer", "") or (
        f"accepted by {type(connection).__module__}.{type(connection).__qualname__}"
    )
    _record_sent(message, sent_at=clock(), answer=answer)
    return True


def _record_sent(message: OutboxMessage, *, sent_at: datetime, answer: str) -> None:
    with transaction.atomic():
        recorded = OutboxMessage.objects.filter(
            pk=message.pk, claim_token=message.claim_token, state=State.SENDING
        ).update(
            state=State.SENT,
            sent_at=sent_at,
            provider_answer=answer[:1000],
            lease_expires_at=None,
            last_error="",
        )
        if not recorded:
            logger.warning(
                "message %s was sent after its claim expired: it may have gone out twice",
                message.pk,
            )
            return
        hook = _SENT_HOOKS.get(message.kind)
        if hook is None:
            return
        message.state, message.sent_at, message.provider_answer = State.SENT, sent_at, answer
        try:
            with transaction.atomic():
                hook(message)
        except Exception as exc:  # the send is recorded whatever the hook does
            logger.error("hook after message %s failed (%s)", message.pk, type(exc).__name__)


def _record_failure(message: OutboxMessage, *, error: str, now: datetime) -> None:
    give_up = message.attempts >= settings.POD_OUTBOX_MAX_ATTEMPTS
    delay = min(timedelta(minutes=2 ** min(message.attempts - 1, 10)), timedelta(hours=1))
    OutboxMessage.objects.filter(
        pk=message.pk, claim_token=message.claim_token, state=State.SENDING
    ).update(
        state=State.FAILED if give_up else State.PENDING,
        next_attempt_at=now + delay,
        lease_expires_at=None,
        last_error=error[:1000],
    )


def _close_quietly(connection: BaseEmailBackend) -> None:
    try:
        connection.close()
    except Exception as exc:  # a connection that is already broken
        logger.info("closing the mail connection failed (%s)", type(exc).__name__)
