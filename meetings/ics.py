"""iCalendar (RFC 5545) invitations for network meetings, written by hand.

A meeting invitation is one VEVENT with METHOD:REQUEST. Only what a network member needs is put
in it: when, where and who to contact. No clinical detail ever goes in a calendar file, because
calendars are synced to places the team does not control.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.conf import settings

PRODID = "-//NHS POD//Network meetings//EN"


def _escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """Fold a content line at 75 octets (RFC 5545 3.1), never splitting a UTF-8 character."""
    out: list[str] = []
    current = ""
    limit = 75
    for ch in line:
        if len((current + ch).encode()) > limit:
            out.append(current)
            current = " " + ch
            limit = 75
        else:
            current += ch
    out.append(current)
    return "\r\n".join(out)


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def meeting_invitation_ics(
    *,
    meeting_id: int,
    start: datetime,
    end: datetime,
    location: str,
    summary: str,
    description: str,
    now: datetime,
    sequence: int = 0,
) -> str:
    host = settings.SITE_URL.split("//")[-1].split("/")[0] or "pod.local"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:REQUEST",
        "BEGIN:VEVENT",
        f"UID:pod-meeting-{meeting_id}@{host}",
        f"SEQUENCE:{sequence}",
        f"DTSTAMP:{_utc(now)}",
        f"DTSTART:{_utc(start)}",
        f"DTEND:{_utc(end)}",
        f"SUMMARY:{_escape(summary)}",
        f"LOCATION:{_escape(location)}",
        f"DESCRIPTION:{_escape(description)}",
        "STATUS:CONFIRMED",
        "TRANSP:OPAQUE",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
