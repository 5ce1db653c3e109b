"""The message outbox: one row per email POD owes someone, written in the transaction that owes it.

Loaded by pod/models.py, like the organisation's models, so the table belongs to the `pod` app.
The services that write and deliver it are in pod/foundation/outbox.py; README "Deploying" says
what delivery guarantees.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class OutboxMessage(models.Model):
    """One email to one recipient, rendered when it was owed, delivered by the outbox sweep.

    `kind` says what it is ("alert", "meeting_invitation", ...), `cause` which change owed it
    ("alert:17", "meeting:4:v2"), `recipient_key` whom it is for ("user:5", "member:9"). The three
    together are unique: a repeated write of the same change owes nothing new.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENDING = "sending", "Being sent (claimed by a worker)"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed (gave up after repeated errors)"
        WITHDRAWN = "withdrawn", "Withdrawn (no longer to be sent)"

    kind = models.CharField(max_length=40)
    cause = models.CharField(max_length=120)
    recipient_key = models.CharField(max_length=40)
    # Who it is for: a member of staff, or a network member (by id: the foundation does not know
    # the networks app's models). The address is kept as it was when the message was owed.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    network_member_id = models.BigIntegerField(null=True, blank=True)
    to_address = models.EmailField(max_length=254)
    reply_to = models.EmailField(max_length=254, blank=True)
    # Messages of one thread (e.g. "meeting:4") to one recipient are sent in the order they were
    # owed, each only once the one before it has left; blank = no order to keep.
    thread = models.CharField(max_length=120, blank=True)

    subject = models.TextField()
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    # Further alternative parts, [{"mimetype": "text/calendar; method=REQUEST", "content": "..."}],
    # and attachments, [{"filename": "...", "mimetype": "...", "content": "..."}] (text only).
    alternatives = models.JSONField(default=list, blank=True)
    attachments = models.JSONField(default=list, blank=True)
    # The RFC 5322 Message-ID, fixed when the message is owed: a copy re-sent after a killed
    # worker carries the same id, which lets mail programs recognise it as the same message.
    message_id = models.CharField(max_length=255, unique=True)

    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    queued_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField()
    # While SENDING: the claim's expiry; after it another worker may claim the row again.
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.UUIDField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    provider_answer = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-queued_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "cause", "recipient_key"], name="outbox_once_per_cause_recipient"
            ),
            models.CheckConstraint(
                condition=~Q(state="sent") | Q(sent_at__isnull=False),
                name="outbox_sent_has_sent_at",
            ),
            models.CheckConstraint(
                condition=~Q(state="sending") | Q(lease_expires_at__isnull=False),
                name="outbox_sending_has_lease",
            ),
        ]
        indexes = [
            # Used by pod.foundation.outbox.messages_deliver_due (the claim, oldest first) and by
            # the monitoring endpoint (the oldest undelivered message, failed ones included).
            models.Index(
                fields=["queued_at", "id"],
                condition=Q(state__in=["pending", "sending", "failed"]),
                name="outbox_undelivered",
            ),
            # The claim's ordering check: an earlier undelivered message of the same thread.
            models.Index(
                fields=["recipient_key", "thread", "id"],
                condition=Q(state__in=["pending", "sending"]) & ~Q(thread=""),
                name="outbox_thread_undelivered",
            ),
            models.Index(fields=["cause"], name="outbox_cause"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.cause} -> {self.recipient_key} ({self.state})"
