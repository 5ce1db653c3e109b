"""What a meeting's network is told: invitations, changes, cancellations, owed through the outbox.

Every message is an outbox row (pod/foundation/outbox.py) written in the transaction of the change
that owes it, one per recipient, so a broker outage or a dead worker delays a message and loses
none, and a rolled-back change owes nothing. The outbox's sweep sends them at least once, in order
per recipient (README "Deploying").

Recipients: the meeting's invited network members who consented to be contacted and gave an
email address (meetings.selectors.meeting_email_recipients). Each email carries the meeting's
calendar (meetings/ics.py) as a `text/calendar; method=...` alternative part and as an attached
.ics file: REQUEST for an invitation or a move, CANCEL for a cancellation, with the meeting's
stable UID and its `calendar_sequence`.

Keys in the outbox: kind "meeting_invitation" / "meeting_update" / "meeting_cancellation" /
"meeting_run_invitation"; cause "meeting:<id>:v<sequence>" (a daily run: "meeting-run:<first
id>-<last id>", which meetings.selectors.meeting_message_status reads); thread
"episode:<id>:meetings", so everything about one episode's meetings reaches one member in the
order it was owed (a change never overtakes the invitation it changes).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.utils import parseaddr
from typing import Any, Literal

from django.conf import settings
from django.db import transaction

from meetings.ics import CalendarEvent, meeting_calendar
from meetings.models import Meeting
from meetings.selectors import meeting_email_recipients, meeting_messages_latest
from networks.models import NetworkMember
from pod.foundation.emails import email_render
from pod.foundation.localtime import LONDON
from pod.foundation.outbox import Alternative, Attachment, Recipient, message_owe
from pod.foundation.outbox_models import OutboxMessage

MessageKind = Literal["invitation", "update", "cancellation"]

OUTBOX_KIND: dict[str, str] = {
    "invitation": "meeting_invitation",
    "update": "meeting_update",
    "cancellation": "meeting_cancellation",
}
RUN_INVITATION = "meeting_run_invitation"
# A CANCEL to a member taken off a meeting's list by a change (they were told of it before).
UNINVITED = "meeting_uninvited"
_METHOD: dict[str, Literal["REQUEST", "CANCEL"]] = {
    "invitation": "REQUEST",
    "update": "REQUEST",
    "cancellation": "CANCEL",
}


def meeting_thread(episode_id: int) -> str:
    """The outbox thread of every message about an episode's meetings: kept in order per member."""
    return f"episode:{episode_id}:meetings"


def team_address(meeting: Meeting) -> str:
    """The team's email address (ORGANIZER and Reply-To): the team's contact address, or else the
    address in DEFAULT_FROM_EMAIL."""
    team = meeting.episode.team
    return team.contact_email or parseaddr(settings.DEFAULT_FROM_EMAIL)[1]


def meeting_place(meeting: Meeting) -> str:
    """Where: the kind of place and its detail ("The person's home: 2 Mill Lane")."""
    place = meeting.get_location_display()
    if meeting.location_detail:
        place = f"{place}: {meeting.location_detail}"
    return place


def calendar_event(meeting: Meeting) -> CalendarEvent:
    """The meeting as its calendar event shows it (no name, no care detail)."""
    return CalendarEvent(
        meeting_id=meeting.pk,
        sequence=meeting.calendar_sequence,
        start=meeting.scheduled_start,
        end=meeting.scheduled_end,
        place=meeting_place(meeting),
        organizer_email=team_address(meeting),
        team_phone=meeting.episode.team.contact_phone,
        cancelled=meeting.status == Meeting.Status.CANCELLED,
    )


def _calendar_parts(
    meeting: Meeting, method: Literal["REQUEST", "CANCEL"], attendee: str, now: datetime
) -> tuple[Alternative, Attachment]:
    ics = meeting_calendar(calendar_event(meeting), method=method, now=now, attendee_email=attendee)
    mimetype = f"text/calendar; method={method}; charset=utf-8"
    name = "cancellation.ics" if method == "CANCEL" else "invitation.ics"
    return (
        Alternative(mimetype=mimetype, content=ics),
        Attachment(filename=name, mimetype=mimetype, content=ics),
    )


def _context(meeting: Meeting, member: NetworkMember, **more: Any) -> dict[str, Any]:
    team = meeting.episode.team
    return {
        "member": member,
        "meeting": meeting,
        "place": meeting_place(meeting),
        "team_phone": team.contact_phone,
        **more,
    }


@transaction.atomic
def owe_meeting_messages(
    meeting: Meeting, *, kind: Literal["invitation", "update", "cancellation"], now: datetime
) -> int:
    """Owe each recipient of `meeting` one message of `kind`, in the caller's transaction; returns
    how many rows were newly owed.

    - "invitation": after scheduling; REQUEST at the meeting's current sequence. Owing it again
      owes nothing new (the outbox's key).
    - "update": after the meeting's time, place or invitations changed (and were saved); raises
      the meeting's `calendar_sequence` by one and owes a REQUEST at the new sequence to each
      recipient, and a CANCEL ("you are no longer invited") to each member who was owed a
      message about this meeting before, is no longer a recipient, and still consents to contact
      (counted in the result too).
    - "cancellation": after the meeting was saved as cancelled; raises the sequence and owes a
      CANCEL. A second call for the same meeting owes nothing and leaves the sequence alone.

    The meeting row is locked (SELECT ... FOR UPDATE) and re-read, so call it after saving the
    change; `meeting.calendar_sequence` is updated in place. `now` is when the messages are owed
    and the calendars' DTSTAMP. ValueError for a cancellation of a meeting that is not cancelled,
    an invitation or update of one that is, or an unknown kind.
    """
    if kind not in OUTBOX_KIND:
        raise ValueError(f"Unknown meeting message kind {kind!r}.")
    locked = (
        Meeting.objects.select_for_update(of=("self",))
        .select_related("episode__team")
        .get(pk=meeting.pk)
    )
    cancelled = locked.status == Meeting.Status.CANCELLED
    if kind == "cancellation" and not cancelled:
        raise ValueError("Only a cancelled meeting's network is told it is cancelled.")
    if kind != "cancellation" and cancelled:
        raise ValueError(f"A cancelled meeting owes no {kind}.")
    if (
        kind == "cancellation"
        and OutboxMessage.objects.filter(
            kind=OUTBOX_KIND["cancellation"], cause__startswith=f"meeting:{locked.pk}:v"
        ).exists()
    ):
        return 0
    if kind != "invitation":
        locked.calendar_sequence += 1
        Meeting.objects.filter(pk=locked.pk).update(calendar_sequence=locked.calendar_sequence)
    meeting.calendar_sequence = locked.calendar_sequence
    cause = f"meeting:{locked.pk}:v{locked.calendar_sequence}"
    owed = 0
    for member in meeting_email_recipients(locked):
        alternative, attachment = _calendar_parts(locked, _METHOD[kind], member.email, now)
        owed += message_owe(
            kind=OUTBOX_KIND[kind],
            cause=cause,
            recipient=Recipient(address=member.email, network_member_id=member.pk),
            email=email_render(f"meeting_{kind}", _context(locked, member)),
            now=now,
            thread=meeting_thread(locked.episode_id),
            alternatives=[alternative],
            attachments=[attachment],
            reply_to=team_address(locked),
        )
    if kind == "update":
        owed += _owe_uninvited(locked, cause=cause, now=now)
    return owed


def _owe_uninvited(meeting: Meeting, *, cause: str, now: datetime) -> int:
    """After a change: a CANCEL to each member told of `meeting` before who is no longer among its
    recipients (and was not already told so since)."""
    current = {f"member:{m.pk}" for m in meeting_email_recipients(meeting)}
    before = {
        key
        for key, row in meeting_messages_latest(meeting).items()
        if key.startswith("member:") and key not in current and row.kind != UNINVITED
    }
    if not before:
        return 0
    ids = [int(key.removeprefix("member:")) for key in before]
    owed = 0
    removed = NetworkMember.objects.filter(
        pk__in=ids, contact_consent=NetworkMember.Consent.AGREED
    ).exclude(email="")
    for member in removed.order_by("pk"):
        alternative, attachment = _calendar_parts(meeting, "CANCEL", member.email, now)
        owed += message_owe(
            kind=UNINVITED,
            cause=cause,
            recipient=Recipient(address=member.email, network_member_id=member.pk),
            email=email_render("meeting_uninvited", _context(meeting, member)),
            now=now,
            thread=meeting_thread(meeting.episode_id),
            alternatives=[alternative],
            attachments=[attachment],
            reply_to=team_address(meeting),
        )
    return owed


@transaction.atomic
def owe_daily_run_messages(meetings: Sequence[Meeting], *, now: datetime) -> int:
    """Owe each recipient ONE message for a daily run of `meetings` (one episode, just scheduled),
    listing its dates, with one REQUEST calendar file per meeting attached (an iTIP message holds
    one UID, so the days cannot share one calendar part). Later changes to a day are owed one by
    one with `owe_meeting_messages`. A recipient invited to only some of the days is told of
    those. Returns how many rows were newly owed; none for an empty run."""
    if not meetings:
        return 0
    first = meetings[0]
    days: dict[int, list[Meeting]] = {}
    members: dict[int, NetworkMember] = {}
    for meeting in meetings:
        for member in meeting_email_recipients(meeting):
            members[member.pk] = member
            days.setdefault(member.pk, []).append(meeting)
    owed = 0
    for member_pk, invited_to in days.items():
        member = members[member_pk]
        attachments = []
        for meeting in invited_to:
            _, attachment = _calendar_parts(meeting, "REQUEST", member.email, now)
            day = meeting.scheduled_start.astimezone(LONDON)
            attachment["filename"] = f"meeting-{meeting.pk}-{day:%Y%m%d}.ics"
            attachments.append(attachment)
        owed += message_owe(
            kind=RUN_INVITATION,
            cause=f"meeting-run:{first.pk}-{meetings[-1].pk}",
            recipient=Recipient(address=member.email, network_member_id=member.pk),
            email=email_render(
                "meeting_run_invitation",
                _context(invited_to[0], member, meetings=invited_to),
            ),
            now=now,
            thread=meeting_thread(first.episode_id),
            attachments=attachments,
            reply_to=team_address(first),
        )
    return owed
