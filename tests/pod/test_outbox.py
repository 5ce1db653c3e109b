"""The message outbox (pod/foundation/outbox.py): owed once, sent one at a time, at least once,
never twice outside the killed-mid-send window, in order within a thread."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from unittest import mock

import pytest
from django.db import connection, transaction

from pod.foundation import outbox
from pod.foundation.emails import RenderedEmail
from pod.foundation.outbox import Recipient, message_owe, messages_deliver_due
from pod.foundation.outbox_models import OutboxMessage
from tests.mail import SMTPServer

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
State = OutboxMessage.State


class Clock:
    """A clock a test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def owe(user, *, cause="test:1", kind="note", thread="", subject="Hello", now=T0):
    return message_owe(
        kind=kind,
        cause=cause,
        recipient=Recipient.for_user(user),
        email=RenderedEmail(subject=subject, text=f"{subject} in text", html=f"<p>{subject}</p>"),
        now=now,
        thread=thread,
    )


@pytest.fixture
def nudges(settings):
    """The after-commit nudges to the delivery task, recorded instead of sent."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with mock.patch.object(outbox, "task_send") as send:
        yield send


@pytest.mark.hazard("HAZ-02.C5")
def test_owing_the_same_message_twice_owes_it_once(clinician, nudges):
    assert owe(clinician) is True
    assert owe(clinician) is False
    assert OutboxMessage.objects.count() == 1


@pytest.mark.hazard("HAZ-02.C5")
@pytest.mark.django_db(transaction=True)
def test_two_writers_owing_the_same_message_at_once_owe_it_once(team, clinician, nudges):
    """The unique (kind, cause, recipient) constraint decides, not the look-before-insert."""
    first_inserted = threading.Event()
    results: list[bool] = []

    def second_writer() -> None:
        first_inserted.wait(5)
        try:
            results.append(owe(clinician))  # waits on the first writer's uncommitted row
        finally:
            connection.close()

    thread = threading.Thread(target=second_writer)
    thread.start()
    with transaction.atomic():
        assert owe(clinician) is True
        first_inserted.set()
        thread.join(0.5)  # the second writer is now blocked behind our row
    thread.join(10)
    assert results == [False]
    assert OutboxMessage.objects.count() == 1


@pytest.mark.hazard("HAZ-02.C5")
@pytest.mark.django_db(transaction=True)
def test_a_change_that_rolls_back_owes_nothing_and_nudges_once_when_it_commits(
    clinician, clinician2, nudges
):
    with pytest.raises(RuntimeError), transaction.atomic():
        owe(clinician)
        raise RuntimeError("the change failed")
    assert not OutboxMessage.objects.exists()
    assert nudges.call_count == 0
    with transaction.atomic():
        owe(clinician, cause="test:2")
        owe(clinician2, cause="test:2")
        assert nudges.call_count == 0  # only after commit
    assert nudges.call_args_list == [mock.call(outbox.DELIVER_MESSAGES_TASK)]


@pytest.mark.hazard("HAZ-02.C5")
def test_the_delivery_run_twice_sends_each_message_once(clinician, clinician2, nudges, mailoutbox):
    owe(clinician)
    owe(clinician2)
    clock = Clock(T0 + timedelta(seconds=5))
    assert messages_deliver_due(clock=clock) == 2
    assert messages_deliver_due(clock=clock) == 0
    assert sorted(m.to[0] for m in mailoutbox) == sorted([clinician.email, clinician2.email])
    for message in OutboxMessage.objects.all():
        assert message.state == State.SENT
        assert message.sent_at == clock.now
        assert message.attempts == 1
        assert message.provider_answer.startswith("accepted by django.core.mail.backends.locmem")
    for sent in mailoutbox:
        row = OutboxMessage.objects.get(to_address=sent.to[0])
        assert sent.extra_headers["Message-ID"] == row.message_id
        assert (sent.subject, sent.body) == ("Hello", "Hello in text")
        assert sent.alternatives == [("<p>Hello</p>", "text/html")]


@pytest.mark.hazard("HAZ-02.C5")
def test_a_worker_killed_between_sending_and_recording_resends_only_that_message_after_its_lease(
    clinician, clinician2, nudges, mailoutbox, settings
):
    """The documented window: the mail server took the message, the worker died before the
    commit that records it. Only that message goes again, once its lease has expired."""
    owe(clinician, cause="test:1")
    owe(clinician2, cause="test:2")
    clock = Clock(T0)
    real_send = outbox.EmailMultiAlternatives.send

    def send_then_die(self, *args, **kwargs):
        real_send(self, *args, **kwargs)
        raise SystemExit("worker killed")  # not an Exception: nothing catches it

    with mock.patch.object(outbox.EmailMultiAlternatives, "send", send_then_die):
        with pytest.raises(SystemExit):
            messages_deliver_due(clock=clock)
    assert len(mailoutbox) == 1
    in_flight = OutboxMessage.objects.get(state=State.SENDING)
    assert in_flight.recipient_key == f"user:{clinician.pk}"
    # Another run before the lease expires sends the other message, not the one in flight.
    clock.now = T0 + timedelta(seconds=settings.POD_OUTBOX_LEASE_SECONDS - 1)
    assert messages_deliver_due(clock=clock) == 1
    assert [m.to for m in mailoutbox] == [[clinician.email], [clinician2.email]]
    # Once the lease has expired, the message in flight is sent again: the one duplicate.
    clock.now = T0 + timedelta(seconds=settings.POD_OUTBOX_LEASE_SECONDS)
    assert messages_deliver_due(clock=clock) == 1
    assert [m.to for m in mailoutbox] == [[clinician.email], [clinician2.email], [clinician.email]]
    assert mailoutbox[0].extra_headers["Message-ID"] == mailoutbox[2].extra_headers["Message-ID"]
    assert messages_deliver_due(clock=clock) == 0
    assert set(OutboxMessage.objects.values_list("state", flat=True)) == {State.SENT}


@pytest.mark.hazard("HAZ-02.C5")
def test_a_failed_send_keeps_its_error_and_is_tried_again_after_a_back_off(
    clinician, nudges, mailoutbox
):
    owe(clinician)
    clock = Clock(T0)
    with mock.patch.object(
        outbox.EmailMultiAlternatives, "send", side_effect=ConnectionRefusedError("smtp down")
    ):
        assert messages_deliver_due(clock=clock) == 0
    message = OutboxMessage.objects.get()
    assert message.state == State.PENDING
    assert message.attempts == 1
    assert "ConnectionRefusedError: smtp down" in message.last_error
    assert message.next_attempt_at == T0 + timedelta(minutes=1)
    clock.now = T0 + timedelta(seconds=59)
    assert messages_deliver_due(clock=clock) == 0
    clock.now = T0 + timedelta(minutes=1)
    assert messages_deliver_due(clock=clock) == 1
    message.refresh_from_db()
    assert (message.state, message.attempts, message.last_error) == (State.SENT, 2, "")
    assert len(mailoutbox) == 1


@pytest.mark.hazard("HAZ-02.C5")
def test_a_message_that_keeps_failing_is_marked_failed_and_can_be_sent_again(
    clinician, nudges, mailoutbox, settings
):
    settings.POD_OUTBOX_MAX_ATTEMPTS = 2
    owe(clinician)
    clock = Clock(T0)
    with mock.patch.object(outbox.EmailMultiAlternatives, "send", side_effect=OSError("down")):
        messages_deliver_due(clock=clock)
        clock.now += timedelta(minutes=1)
        messages_deliver_due(clock=clock)
        clock.now += timedelta(hours=2)
        assert messages_deliver_due(clock=clock) == 0
    message = OutboxMessage.objects.get()
    assert (message.state, message.attempts) == (State.FAILED, 2)
    assert outbox.oldest_undelivered_queued_at() == T0  # still reported as undelivered
    assert outbox.messages_send_again([message.pk], now=clock.now) == 1
    assert messages_deliver_due(clock=clock) == 1
    assert outbox.oldest_undelivered_queued_at() is None


@pytest.mark.hazard("HAZ-02.C5")
def test_one_run_stops_after_five_failures_in_a_row(team, nudges, mailoutbox):
    from tests import factories as f

    for n in range(8):
        owe(f.make_user("clinician", team), cause=f"test:{n}")
    with mock.patch.object(outbox.EmailMultiAlternatives, "send", side_effect=OSError("down")):
        messages_deliver_due(clock=Clock(T0))
    assert OutboxMessage.objects.filter(attempts=1).count() == outbox.STOP_AFTER_FAILURES_IN_A_ROW
    assert OutboxMessage.objects.filter(attempts=0).count() == 3


@pytest.mark.hazard("HAZ-02.C5")
def test_messages_of_one_thread_leave_in_the_order_they_were_owed(
    clinician, clinician2, nudges, mailoutbox
):
    owe(clinician, cause="meeting:1:v1", thread="meeting:1", subject="Invitation")
    owe(clinician, cause="meeting:1:v2", thread="meeting:1", subject="Moved")
    owe(clinician2, cause="meeting:1:v1", thread="meeting:1", subject="Invitation")
    clock = Clock(T0)
    real_send = outbox.EmailMultiAlternatives.send

    def first_invitation_fails(self, *args, **kwargs):
        if self.subject == "Invitation" and self.to == [clinician.email]:
            raise OSError("greylisted")
        return real_send(self, *args, **kwargs)

    with mock.patch.object(outbox.EmailMultiAlternatives, "send", first_invitation_fails):
        messages_deliver_due(clock=clock)
    # The move waits for the invitation it follows; the other recipient's thread goes on.
    assert [(m.to[0], m.subject) for m in mailoutbox] == [(clinician2.email, "Invitation")]
    clock.now += timedelta(minutes=1)
    messages_deliver_due(clock=clock)
    assert [(m.to[0], m.subject) for m in mailoutbox][1:] == [
        (clinician.email, "Invitation"),
        (clinician.email, "Moved"),
    ]


@pytest.mark.hazard("HAZ-02.C5")
def test_a_withdrawn_message_is_not_sent(clinician, nudges, mailoutbox):
    owe(clinician, cause="meeting:1:v1")
    assert outbox.messages_withdraw(cause="meeting:1:v1") == 1
    assert messages_deliver_due(clock=Clock(T0)) == 0
    assert mailoutbox == []
    assert OutboxMessage.objects.get().state == State.WITHDRAWN


@pytest.mark.hazard("HAZ-02.C5")
def test_a_hook_that_fails_does_not_undo_the_record_of_the_send(clinician, nudges, mailoutbox):
    owe(clinician, kind="hooked")
    outbox.sent_hook_register("hooked", mock.Mock(side_effect=ValueError("bug")))
    try:
        assert messages_deliver_due(clock=Clock(T0)) == 1
    finally:
        outbox._SENT_HOOKS.pop("hooked")
    assert OutboxMessage.objects.get().state == State.SENT
    assert messages_deliver_due(clock=Clock(T0 + timedelta(hours=1))) == 0
    assert len(mailoutbox) == 1


@pytest.mark.hazard("HAZ-02.C5")
def test_the_mail_servers_answer_and_the_message_id_are_kept(clinician, nudges, settings):
    server = SMTPServer()
    settings.EMAIL_BACKEND = "pod.foundation.mail_backends.SMTPBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    try:
        owe(clinician, subject="St Mary's A&E")
        assert messages_deliver_due(clock=Clock(T0)) == 1
    finally:
        server.stop()
    message = OutboxMessage.objects.get()
    assert message.provider_answer == "250 2.0.0 Ok: queued as Q1"
    (raw,) = server.messages
    received = message_from_bytes(raw)
    assert received["Message-ID"] == message.message_id
    assert received["To"] == clinician.email


@pytest.mark.hazard("HAZ-02.C5")
def test_an_administrator_sends_a_failed_message_again_from_the_admin(
    client, admin_user, clinician, nudges
):
    owe(clinician)
    OutboxMessage.objects.update(state=State.FAILED, attempts=12, last_error="OSError: down")
    client.force_login(admin_user)
    message = OutboxMessage.objects.get()
    response = client.post(
        "/admin/pod/outboxmessage/",
        {"action": "send_again", "_selected_action": [message.pk]},
    )
    assert response.status_code == 302
    message.refresh_from_db()
    assert (message.state, message.attempts, message.last_error) == (State.PENDING, 0, "")
    assert client.get(f"/admin/pod/outboxmessage/{message.pk}/change/").status_code == 200


@pytest.mark.hazard("HAZ-02.C5")
def test_a_worker_whose_claim_expired_does_not_record_over_the_next_claim(
    clinician, nudges, settings
):
    """A stalled worker finishing after its lease: the row belongs to the new claim."""
    owe(clinician)
    first = outbox._claim_one(now=T0)
    later = T0 + timedelta(seconds=settings.POD_OUTBOX_LEASE_SECONDS)
    second = outbox._claim_one(now=later)
    assert second is not None and second.claim_token != first.claim_token
    outbox._record_failure(first, error="OSError: stalled", now=later)  # the stalled worker
    outbox._record_sent(first, sent_at=later, answer="late")
    message = OutboxMessage.objects.get()
    assert (message.state, message.sent_at, message.last_error) == (State.SENDING, None, "")
    outbox._record_sent(second, sent_at=later + timedelta(seconds=1), answer="250 OK")
    message.refresh_from_db()
    assert (message.state, message.provider_answer) == (State.SENT, "250 OK")
    assert message.attempts == 2
