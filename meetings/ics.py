"""iCalendar (RFC 5545) objects for network meetings, written with the `icalendar` library, in the
methods of iTIP (RFC 5546).

- REQUEST: an invitation, or the same meeting moved (same UID, the next SEQUENCE). It names the
  team as ORGANIZER and exactly one ATTENDEE, the recipient (RFC 5546 3.2.2).
- CANCEL: the meeting is cancelled (STATUS:CANCELLED, the next SEQUENCE; RFC 5546 3.2.5).
- PUBLISH: the clinician's own download, no ATTENDEE (RFC 5546 3.2.1).

What goes in: "Network meeting", the time (UTC), the place and the team's phone number. Never a
name, a diagnosis, a team's kind or any care detail: calendars are synced to services the team
does not control (hazard HAZ-10). Text that could break a line (CR, LF and other control
characters, e.g. in a location typed by hand) is flattened to one line before it is written, so it
can never start a property of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import urlsplit

from django.conf import settings
from icalendar import Calendar, Event, vCalAddress, vText

PRODID = "-//NHS POD//Network meetings//EN"
SUMMARY = "Network meeting"

Method = Literal["REQUEST", "CANCEL", "PUBLISH"]

_LINE_BREAKS = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")


def one_line(text: str) -> str:
    """`text` with every run of control characters (CR, LF, tab, NUL, ...) and Unicode line
    separators replaced by ", ", trimmed: what a calendar property may safely hold."""
    return ", ".join(part.strip() for part in _LINE_BREAKS.split(text) if part.strip())


def meeting_uid(meeting_id: int) -> str:
    """The meeting's calendar UID: the same for its invitation, every change and its
    cancellation, so calendar programs update one event. e.g. "pod-meeting-4@pod.example.nhs.uk"."""
    host = urlsplit(settings.SITE_URL).hostname or "pod.localhost"
    return f"pod-meeting-{meeting_id}@{host}"


@dataclass(frozen=True)
class CalendarEvent:
    """One meeting as a calendar shows it: ids, time (aware datetimes), place, team contact."""

    meeting_id: int
    sequence: int  # 0 for the invitation, one more for each later change
    start: datetime
    end: datetime
    place: str
    organizer_email: str  # the team's address
    team_phone: str = ""  # blank: not given
    cancelled: bool = False


def _description(event: CalendarEvent, method: Method) -> str:
    if method == "CANCEL" or event.cancelled:
        text = "This network meeting has been cancelled."
    else:
        text = "Network meeting."
    if event.team_phone:
        text += f" To contact the team, phone {one_line(event.team_phone)}."
    return text


def meeting_calendar(
    event: CalendarEvent, *, method: Method, now: datetime, attendee_email: str = ""
) -> str:
    """The iCalendar text (CRLF line ends, folded at 75 octets) of one meeting, for `method`.

    REQUEST and CANCEL need `attendee_email` (the one recipient); PUBLISH must not have one.
    Times are written in UTC; DTSTAMP is `now`. ValueError for a missing or unexpected attendee.
    """
    if method == "PUBLISH" and attendee_email:
        raise ValueError("A published calendar has no attendee.")
    if method != "PUBLISH" and not attendee_email:
        raise ValueError(f"A {method} names its one attendee.")
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)

    vevent = Event()
    vevent.add("uid", meeting_uid(event.meeting_id))
    vevent.add("sequence", event.sequence)
    vevent.add("dtstamp", now.astimezone(UTC))
    vevent.add("dtstart", event.start.astimezone(UTC))
    vevent.add("dtend", event.end.astimezone(UTC))
    vevent.add("summary", SUMMARY)
    if event.place:
        vevent.add("location", vText(one_line(event.place)))
    vevent.add("description", _description(event, method))
    cancelled = method == "CANCEL" or event.cancelled
    vevent.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    vevent.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
    organizer = vCalAddress(f"mailto:{one_line(event.organizer_email)}")
    vevent.add("organizer", organizer)
    if attendee_email:
        attendee = vCalAddress(f"mailto:{one_line(attendee_email)}")
        attendee.params["ROLE"] = "REQ-PARTICIPANT"
        attendee.params["PARTSTAT"] = "NEEDS-ACTION"
        attendee.params["RSVP"] = "FALSE"
        vevent.add("attendee", attendee)
    calendar.add_component(vevent)
    return calendar.to_ical().decode()
