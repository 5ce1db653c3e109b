"""What a meeting's network is told (meetings/services/meeting_messages.py): one outbox row per
recipient in the change's transaction; calendars by RFC 5545/5546, parsed back with icalendar;
plain text that is plain; a daily run's one message; nothing sent twice."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, timedelta
from email import message_from_bytes
from unittest import mock

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from meetings.models import Meeting
from meetings.services.meeting_messages import owe_meeting_messages
from meetings.services.meetings import (
    meeting_schedule_with_invitations,
    meetings_schedule_daily_run,
)
from pod.foundation import outbox
from pod.foundation.outbox import messages_deliver_due
from pod.foundation.outbox_models import OutboxMessage
from tests import factories as f
from tests.meetings.helpers import recent_episode

State = OutboxMessage.State


@pytest.fixture
def nudges(settings):
    """The after-commit nudges to the delivery task, recorded instead of sent."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with mock.patch.object(outbox, "task_send") as send:
        yield send


@pytest.fixture
def team_contact(team):
    team.contact_email = "eip.team@nhs.example"
    team.contact_phone = "01632 960000"
    team.save()
    return team


def member(episode, clinician, name, email):
    return f.make_member(
        episode.service_user,
        name=name,
        email=email,
        contact_consent="agreed",
        consent_recorded_at=timezone.now(),
        consent_recorded_by=clinician,
    )


@pytest.fixture
def members(episode, clinician):
    return [
        member(episode, clinician, "Sam Sister", "sam@example.org"),
        member(episode, clinician, "Fran Friend", "fran@example.org"),
    ]


def schedule(episode, clinician, *, hours=2, detail="", now=None):
    start = episode.referral_received_at + timedelta(hours=hours)
    return meeting_schedule_with_invitations(
        episode=episode,
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=1),
        location="home",
        location_detail=detail,
        staff=[clinician],
        network_members=None,
        created_by=clinician,
        now=now or episode.referral_received_at + timedelta(hours=1),
    )


def move(meeting, *, by=timedelta(hours=1)):
    meeting.scheduled_start += by
    meeting.scheduled_end += by
    meeting.save()
    return owe_meeting_messages(meeting, kind="update", now=timezone.now())


def cancel(meeting):
    meeting.status = Meeting.Status.CANCELLED
    meeting.save()
    return owe_meeting_messages(meeting, kind="cancellation", now=timezone.now())


def calendar_of(message) -> Calendar:
    """The calendar in a sent email's text/calendar alternative part, parsed."""
    (part,) = [c for c, mimetype in message.alternatives if mimetype.startswith("text/calendar")]
    return Calendar.from_ical(part)


def event_of(calendar: Calendar):
    (event,) = calendar.walk("VEVENT")
    return event


@pytest.mark.hazard("HAZ-09.C30")
def test_scheduling_owes_one_invitation_per_recipient_in_the_same_transaction(
    episode, clinician, members, nudges
):
    f.make_member(episode.service_user, email="nocons@example.org")  # no consent: not owed
    meeting = schedule(episode, clinician)
    rows = OutboxMessage.objects.order_by("pk")
    assert [(r.kind, r.to_address, r.state) for r in rows] == [
        ("meeting_invitation", "sam@example.org", State.PENDING),
        ("meeting_invitation", "fran@example.org", State.PENDING),
    ]
    assert {r.recipient_key for r in rows} == {f"member:{m.pk}" for m in members}
    assert {r.cause for r in rows} == {f"meeting:{meeting.pk}:v0"}
    # Owing it again (a repeated call, the old task redelivered) owes nothing new.
    assert owe_meeting_messages(meeting, kind="invitation", now=timezone.now()) == 0
    # A scheduling that rolls back owes nothing.
    with pytest.raises(RuntimeError), transaction.atomic():
        schedule(episode, clinician, hours=5)
        raise RuntimeError("the page failed after scheduling")
    assert OutboxMessage.objects.count() == 2


@pytest.mark.hazard("HAZ-09.C31")
def test_the_invitation_is_a_request_to_one_attendee_from_the_team(
    episode, clinician, members, team_contact, nudges, mailoutbox
):
    meeting = schedule(episode, clinician)
    assert messages_deliver_due() == 2
    sam = next(m for m in mailoutbox if m.to == ["sam@example.org"])
    (mimetype,) = [t for _, t in sam.alternatives if t.startswith("text/calendar")]
    assert mimetype.startswith("text/calendar; method=REQUEST")
    calendar = calendar_of(sam)
    assert calendar["METHOD"] == "REQUEST"
    event = event_of(calendar)
    assert str(event["ORGANIZER"]) == "mailto:eip.team@nhs.example"
    assert str(event["ATTENDEE"]) == "mailto:sam@example.org"  # exactly one attendee
    assert event["UID"] == f"pod-meeting-{meeting.pk}@127.0.0.1"
    assert event["SEQUENCE"] == 0
    assert event["DTSTART"].dt == meeting.scheduled_start
    raw = [c for c, t in sam.alternatives if t.startswith("text/calendar")][0]
    utc = meeting.scheduled_start.astimezone(UTC)
    assert f"DTSTART:{utc:%Y%m%dT%H%M%S}Z" in raw.split("\r\n")  # UTC, no floating time
    assert event["DTEND"].dt.utcoffset() == timedelta(0)
    assert event.decoded("DTSTAMP").utcoffset() == timedelta(0)
    assert event["SUMMARY"] == "Network meeting"
    assert "01632 960000" in event["DESCRIPTION"]
    assert sam.reply_to == ["eip.team@nhs.example"]
    # The raw MIME: the calendar is an alternative of the text, with its method.
    raw = message_from_bytes(sam.message().as_bytes())
    types = [part.get_content_type() for part in raw.walk()]
    assert "text/calendar" in types and "text/plain" in types
    calendars = [p for p in raw.walk() if p.get_content_type() == "text/calendar"]
    assert {p.get_param("method") for p in calendars} == {"REQUEST"}


@pytest.mark.hazard("HAZ-09.C31")
def test_a_move_is_a_request_with_the_next_sequence_and_a_cancellation_a_cancel(
    episode, clinician, members, nudges, mailoutbox
):
    meeting = schedule(episode, clinician)
    assert move(meeting) == 2
    assert meeting.calendar_sequence == 1
    assert move(meeting) == 2
    assert cancel(meeting) == 2
    assert cancel(meeting) == 0  # told once
    meeting.refresh_from_db()
    assert meeting.calendar_sequence == 3
    assert messages_deliver_due() == 8
    to_sam = [m for m in mailoutbox if m.to == ["sam@example.org"]]
    seen = [
        (calendar_of(m)["METHOD"], event_of(calendar_of(m))["SEQUENCE"], m.subject.split(":")[0])
        for m in to_sam
    ]
    assert seen == [
        ("REQUEST", 0, "Invitation"),
        ("REQUEST", 1, "Changed"),
        ("REQUEST", 2, "Changed"),
        ("CANCEL", 3, "Cancelled"),
    ]
    uids = {event_of(calendar_of(m))["UID"] for m in to_sam}
    assert len(uids) == 1
    moved = event_of(calendar_of(to_sam[2]))
    assert moved["DTSTART"].dt == meeting.scheduled_start
    cancelled = event_of(calendar_of(to_sam[3]))
    assert cancelled["STATUS"] == "CANCELLED"
    assert str(cancelled["ATTENDEE"]) == "mailto:sam@example.org"
    assert "Cancelled: network meeting on" in to_sam[3].subject


def test_the_wrong_kind_for_the_meeting_status_is_refused(episode, clinician, members, nudges):
    meeting = schedule(episode, clinician)
    with pytest.raises(ValueError, match="cancelled"):
        owe_meeting_messages(meeting, kind="cancellation", now=timezone.now())
    cancel(meeting)
    for kind in ("invitation", "update"):
        with pytest.raises(ValueError):
            owe_meeting_messages(meeting, kind=kind, now=timezone.now())  # type: ignore[arg-type]


@pytest.mark.hazard("HAZ-10.C30")
def test_no_line_break_in_a_location_can_start_a_property(
    episode, clinician, members, nudges, mailoutbox
):
    evil = "Flat 2\rATTENDEE:mailto:stranger@example.org\nDESCRIPTION:x\r\nSUMMARY:Named"
    schedule(episode, clinician, detail=evil)
    messages_deliver_due()
    for message in mailoutbox:
        event = event_of(calendar_of(message))
        assert not isinstance(event["ATTENDEE"], list)  # still one attendee
        assert event["SUMMARY"] == "Network meeting"
        assert "Flat 2, ATTENDEE:mailto:stranger@example.org, DESCRIPTION:x" in event["LOCATION"]
        raw = [c for c, t in message.alternatives if t.startswith("text/calendar")][0]
        assert not any(line.startswith("ATTENDEE:mailto:stranger") for line in raw.split("\r\n"))
        assert "\r" not in raw.replace("\r\n", "")


@pytest.mark.hazard("HAZ-10.C30")
def test_no_name_or_care_detail_in_any_calendar_nor_in_the_clinicians_download(
    client, episode, clinician, members, nudges, mailoutbox
):
    meeting = schedule(episode, clinician)
    move(meeting)
    messages_deliver_due()
    client.force_login(clinician)
    response = client.get(reverse("meetings:meeting_ics", args=[episode.pk, meeting.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar; method=PUBLISH")
    download = Calendar.from_ical(response.content)
    assert download["METHOD"] == "PUBLISH"
    event = event_of(download)
    assert "ATTENDEE" not in event and "ORGANIZER" in event
    assert event["SEQUENCE"] == 1
    person = episode.service_user
    calendars = [download] + [calendar_of(m) for m in mailoutbox]
    for calendar in calendars:
        for component in calendar.walk():
            for name, value in component.property_items():
                text = str(value)
                for secret in (
                    person.family_name,
                    person.given_name,
                    person.nhs_number,
                    episode.reason,
                    episode.team.name,
                    "Sam Sister",
                ):
                    assert not secret or secret not in text, (name, text)


def test_plain_text_is_plain_and_the_subject_says_what_and_when(
    episode, clinician, members, nudges, mailoutbox
):
    meeting = schedule(episode, clinician, detail="A&E's quiet room")
    messages_deliver_due()
    message = mailoutbox[0]
    assert "The person's home: A&E's quiet room" in message.body
    assert "&amp;" not in message.body and "&#x27;" not in message.body
    local = timezone.localtime(meeting.scheduled_start)
    assert message.subject == (
        f"Invitation: network meeting on {local:%A} {local.day} {local:%B} at {local:%H:%M}"
    )
    assert "http" not in message.body  # a network member has no page to open


@pytest.mark.hazard("HAZ-09.C32")
def test_a_daily_run_sends_one_message_listing_its_dates_then_one_per_change(
    episode, clinician, members, nudges, mailoutbox
):
    first = timezone.localtime(episode.referral_received_at + timedelta(hours=3))
    meetings = meetings_schedule_daily_run(
        episode=episode,
        first_start=first,
        duration=timedelta(hours=1),
        days=7,
        location="team_base",
        staff=[clinician],
        network_members=None,
        created_by=clinician,
        now=episode.referral_received_at + timedelta(hours=1),
    )
    assert len(meetings) == 7
    assert messages_deliver_due() == 2  # one per member, not 7
    sam = next(m for m in mailoutbox if m.to == ["sam@example.org"])
    assert sam.subject.startswith("Invitation: 7 daily network meetings, ")
    for meeting in meetings:
        local = timezone.localtime(meeting.scheduled_start)
        assert f"{local:%A} {local.day} {local:%B} {local:%Y}, {local:%H:%M}" in sam.body
    calendars = [Calendar.from_ical(content) for _, content, _ in sam.attachments]
    assert [event_of(c)["UID"] for c in calendars] == [
        f"pod-meeting-{m.pk}@127.0.0.1" for m in meetings
    ]
    assert {c["METHOD"] for c in calendars} == {"REQUEST"}
    # A later change to one day: one more message per member, about that day.
    assert move(meetings[3], by=timedelta(minutes=30)) == 2
    assert messages_deliver_due() == 2
    assert len([m for m in mailoutbox if m.to == ["sam@example.org"]]) == 2


@pytest.mark.hazard("HAZ-09.C33")
def test_the_delivery_run_twice_sends_each_message_once(
    episode, clinician, members, nudges, mailoutbox
):
    meeting = schedule(episode, clinician)
    move(meeting)
    cancel(meeting)
    assert messages_deliver_due() == 6
    assert messages_deliver_due() == 0
    later = timezone.now() + timedelta(hours=2)
    assert messages_deliver_due(clock=lambda: later) == 0
    assert len(mailoutbox) == 6
    assert len({(tuple(m.to), m.subject) for m in mailoutbox}) == 6


@pytest.mark.hazard("HAZ-09.C33")
def test_a_worker_killed_between_sending_and_recording_resends_only_that_message(
    episode, clinician, members, nudges, mailoutbox, settings
):
    meeting = schedule(episode, clinician)
    move(meeting)
    real_record = outbox._record_sent
    calls = {"n": 0}

    def die_on_the_third(message, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise SystemExit("worker killed")  # after the mail server took it, before the record
        real_record(message, **kwargs)

    with mock.patch.object(outbox, "_record_sent", die_on_the_third), pytest.raises(SystemExit):
        messages_deliver_due()
    assert len(mailoutbox) == 3
    in_flight = OutboxMessage.objects.get(state=State.SENDING)
    # Another run before the claim's lease expires leaves the message in flight alone (and the
    # move to the same member waits behind it: order).
    messages_deliver_due()
    assert OutboxMessage.objects.get(pk=in_flight.pk).state == State.SENDING
    after_lease = timezone.now() + timedelta(seconds=settings.POD_OUTBOX_LEASE_SECONDS + 1)
    messages_deliver_due(clock=lambda: after_lease)
    assert not OutboxMessage.objects.exclude(state=State.SENT).exists()
    copies: dict[tuple[str, str], int] = {}
    for m in mailoutbox:
        copies[(m.to[0], m.subject)] = copies.get((m.to[0], m.subject), 0) + 1
    assert len(copies) == 4
    assert [k for k, n in copies.items() if n > 1] == [(in_flight.to_address, in_flight.subject)]
    assert sum(copies.values()) == 5
    # And the copies to that member still arrived in order: invitation before change.
    to_member = [m.subject.split(":")[0] for m in mailoutbox if m.to == [in_flight.to_address]]
    assert to_member.index("Changed") > max(i for i, s in enumerate(to_member) if s == "Invitation")


def test_site_url_follows_pod_port_when_not_given():
    code = "from django.conf import settings; print(settings.SITE_URL)"
    env = {k: v for k, v in os.environ.items() if k != "SITE_URL"}
    env.update(POD_PORT="8102", DJANGO_SETTINGS_MODULE="pod.settings", DEBUG="1")
    out = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "http://127.0.0.1:8102"


@pytest.mark.hazard("HAZ-09.C35")
def test_pages_say_queued_until_the_email_has_gone_and_phone_them_when_email_cannot_reach(
    client, team, clinician, clinician2, nudges, mailoutbox, settings
):
    episode = recent_episode(team, [clinician, clinician2], hours_ago=2)
    sam = member(episode, clinician, "Sam Sister", "sam@example.org")
    kit = member(episode, clinician, "Kit Cousin", "")  # consented, no address
    client.force_login(clinician)
    response = client.post(
        reverse("meetings:meeting_new", args=[episode.pk]),
        {
            "scheduled_start": timezone.localtime(timezone.now() + timedelta(hours=3)).strftime(
                "%Y-%m-%dT%H:%M"
            ),
            "duration_minutes": 60,
            "location": "home",
            "location_detail": "",
            "staff": [clinician.pk, clinician2.pk],
            "network_members": [sam.pk, kit.pk],
        },
        follow=True,
    )
    said = " ".join(str(m) for m in response.context["messages"])
    assert "Invitations will be emailed to 1 network member (queued" in said
    assert "1 invited member has no email address: phone them." in said
    assert "sent" not in said and "on their way" not in said
    meeting = Meeting.objects.get()
    url = reverse("meetings:meeting_detail", args=[episode.pk, meeting.pk])

    def status_of(name):
        page = client.get(url).content.decode()
        line = next(li for li in page.split("<li>") if name in li)
        return line.split("data-message-status>")[1].split("</span>")[0]

    assert status_of("Sam Sister") == "· Invitation waiting to be emailed (not sent yet)"
    assert status_of("Kit Cousin") == "· not emailed: no email address, phone them"
    settings.POD_OUTBOX_MAX_ATTEMPTS = 1
    with mock.patch.object(outbox.EmailMultiAlternatives, "send", side_effect=OSError("down")):
        messages_deliver_due()
    assert status_of("Sam Sister") == "· Invitation could not be emailed: phone them"
    outbox.messages_send_again(
        list(OutboxMessage.objects.values_list("pk", flat=True)), now=timezone.now()
    )
    messages_deliver_due()
    assert status_of("Sam Sister").startswith("· Invitation emailed ")
    assert move(meeting) == 1
    assert status_of("Sam Sister") == "· Change waiting to be emailed (not sent yet)"


@pytest.mark.hazard("HAZ-09.C31")
def test_a_member_taken_off_the_list_by_a_change_is_sent_a_cancel_once(
    episode, clinician, members, nudges, mailoutbox
):
    sam, fran = members
    meeting = schedule(episode, clinician)
    meeting.participants.filter(network_member=fran).update(
        invited=False, not_invited_reason="The person asked for a smaller meeting"
    )
    assert move(meeting) == 2  # sam: the change; fran: no longer invited
    assert move(meeting) == 1  # fran is not told twice
    messages_deliver_due()
    to_fran = [m for m in mailoutbox if m.to == [fran.email]]
    assert [m.subject.split(":")[0] for m in to_fran] == ["Invitation", "No longer invited"]
    cancel_for_fran = calendar_of(to_fran[1])
    assert cancel_for_fran["METHOD"] == "CANCEL"
    assert event_of(cancel_for_fran)["SEQUENCE"] == 1
    assert str(event_of(cancel_for_fran)["ATTENDEE"]) == f"mailto:{fran.email}"
    to_sam = [m.subject.split(":")[0] for m in mailoutbox if m.to == [sam.email]]
    assert to_sam == ["Invitation", "Changed", "Changed"]
