"""A scheduled meeting's invitations: one email with a .ics file to each consenting member."""

from __future__ import annotations

import logging
from datetime import datetime

from meetings.ics import meeting_invitation_ics
from meetings.models import Meeting
from meetings.selectors import meeting_email_recipients
from pod.foundation.emails import email_build
from pod.foundation.task_queue import task_send_on_commit

logger = logging.getLogger(__name__)

# The Celery task that sends them, named rather than imported: meetings.tasks imports this module
# (README "Architecture").
SEND_INVITATIONS_TASK = "meetings.tasks.send_meeting_invitations"


def meeting_invitations_send(meeting_id: int, *, now: datetime) -> int:
    """Email each consenting member with an address an invitation with a .ics attachment.

    Returns how many were sent. One failed address is logged (meeting and member ids and the
    exception class only) and does not stop the others. Run by the Celery task
    meetings.tasks.send_meeting_invitations.
    """
    meeting = Meeting.objects.select_related("episode__team").get(pk=meeting_id)
    place = meeting.get_location_display()
    if meeting.location_detail:
        place = f"{place}: {meeting.location_detail}"
    ics = meeting_invitation_ics(
        meeting_id=meeting.pk,
        start=meeting.scheduled_start,
        end=meeting.scheduled_end,
        location=place,
        summary=f"Network meeting with the {meeting.episode.team.name}",
        description="You are invited to a network meeting. Reply to the team if you cannot come.",
        now=now,
    )
    sent = 0
    for member in meeting_email_recipients(meeting):
        message = email_build(
            "meeting_invitation",
            to=[member.email],
            context={"member": member, "meeting": meeting, "place": place},
            attachments=[("invitation.ics", ics, "text/calendar; method=REQUEST")],
        )
        try:
            message.send(fail_silently=False)
            sent += 1
        except Exception as exc:  # one failed address must not stop the others
            # Ids and the exception's class only: an SMTP error quotes the member's address.
            logger.error(
                "invitation for meeting %s to member %s failed (%s)",
                meeting.pk,
                member.pk,
                type(exc).__name__,
            )
    return sent


def meeting_invitations_enqueue_on_commit(meeting_id: int) -> None:
    """Hand the invitations to a Celery worker once the meeting is committed. A broker outage is
    logged, never turned into an error for the clinician who saved (pod.foundation.task_queue);
    the invitations are then not sent, as before (they are not an outbox yet)."""
    task_send_on_commit(SEND_INVITATIONS_TASK, meeting_id)
