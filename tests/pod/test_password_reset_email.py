"""The password-reset email is owed to the outbox like every other: the page never waits for
the mail server, and a mail server that is down loses no link."""

from __future__ import annotations

import re
from unittest import mock

import pytest

from pod.foundation import outbox
from pod.foundation.outbox import messages_deliver_due
from pod.foundation.outbox_models import OutboxMessage


@pytest.mark.hazard("HAZ-02.C5")
def test_a_reset_link_asked_for_while_the_mail_server_is_down_is_sent_later(
    client, clinician, mailoutbox
):
    with mock.patch.object(outbox.EmailMultiAlternatives, "send", side_effect=OSError("down")):
        response = client.post("/accounts/password-reset/", {"email": clinician.email})
        assert response.status_code == 302
        messages_deliver_due()
    message = OutboxMessage.objects.get(kind="password_reset")
    assert (message.recipient_key, message.state) == (f"user:{clinician.pk}", "pending")
    assert mailoutbox == []
    OutboxMessage.objects.update(next_attempt_at=message.queued_at)  # its retry time has come
    assert messages_deliver_due() == 1
    (email,) = mailoutbox
    assert email.subject == "Reset your POD password"
    link = re.search(r"http://testserver(/accounts/reset/\S+)", email.body).group(1)
    assert client.get(link).status_code == 302  # to the set-password form
    done = client.get("/accounts/password-reset/sent/").content.decode()
    assert "will be emailed" in done and "on its way" not in done


def test_an_unknown_address_owes_nothing(client, clinician):
    assert (
        client.post("/accounts/password-reset/", {"email": "nobody@example.org"}).status_code == 302
    )
    assert not OutboxMessage.objects.exists()
