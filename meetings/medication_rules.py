"""Which held meetings count towards the 3-meetings-before-medication rule: pure functions.

Source: /work/shared/DOMAIN.md "At least 3 network meetings before any new medication" and
"What counts as a network meeting for the medication rule"; issue 10, point 2 ("The 3-meetings
rule cannot be emptied"). The README's "The two clinical rules" section says the same in words.

A held meeting counts only if it is a plausible, distinct network meeting (`meeting_refusals`
lists why one does not):

1. It ended after it started and lasted at least `policy.minimum_length`
   (POD_MIN_COUNTED_MEETING_MINUTES, default 20 minutes) and at most `policy.maximum_length`
   (8 hours).
2. At least `policy.minimum_staff` (2) staff attended, and the person or at least one member of
   their network attended (the Open Dialogue meaning of a network meeting: the network is there).
3. It was not recorded as held before it started, nor with an end in the future: it was
   recorded held (`recorded_at`) no earlier than `FUTURE_TOLERANCE` (5 minutes) before its end,
   and its end is not after `now` + that tolerance. A meeting recorded before this rule kept the
   recording time (`recorded_at` None) is judged on the rest.
4. It is distinct: it neither overlaps another counted meeting of the episode nor lies within
   `policy.same_sitting` (SAME_SITTING, 30 minutes) of one: meetings closer than that are one
   sitting split in parts, not separate network meetings (issue 10 review: three touching
   20-minute meetings recorded in a minute made "3 of 3"). The episode's meetings that pass 1-3
   are walked in order of start (then id); one counts unless it is that close to a meeting
   already counted. So of such meetings, the one that started first counts (the lowest id when
   two start together), and whether a meeting counts depends only on meetings that started
   before it: recording a later meeting never changes what an earlier one counted as.

"Recorded after the event" (`recorded_after_event`): recorded held more than
`policy.late_record_after` (POD_RECORDED_AFTER_EVENT_HOURS, default 24 hours) after the meeting
ended, or recorded as a meeting that took place without being arranged in POD before it began
(`arranged_in_advance` False: the "Record a meeting that took place" page). Such a meeting still
counts when it passes 1-4; it is marked, and the service manager sees the mark (the dashboard's
list of meetings recorded after the event).

For a prescription decided at `now`, only meetings that started at or before the prescription
(`before`) and were recorded held at or before `now` count: a meeting recorded after the
decision cannot have justified it (the prescription audit replays the rule with `now` = the
prescription's creation).

`RULE_VERSION` names this definition; each prescription stores it with the meeting ids counted
and the threshold, so an auditor can replay the decision. Change the version when the
definition changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

RULE_VERSION = "2026-12-i10b"  # i10b: the same-sitting gap; unarranged meetings marked
FUTURE_TOLERANCE = timedelta(minutes=5)  # as pod.foundation.plausibility.FUTURE_TOLERANCE
MAXIMUM_LENGTH = timedelta(hours=8)
MINIMUM_STAFF = 2
SAME_SITTING = timedelta(minutes=30)

# Why a meeting does not count (codes stored nowhere; the texts are shown to staff).
TOO_SHORT = "too_short"
TOO_LONG = "too_long"
ENDS_BEFORE_START = "ends_before_start"
FEWER_THAN_TWO_STAFF = "fewer_than_two_staff"
NO_NETWORK = "no_network"
RECORDED_BEFORE_IT_ENDED = "recorded_before_it_ended"
IN_THE_FUTURE = "in_the_future"
OVERLAPS = "overlaps"


@dataclass(frozen=True)
class CountingPolicy:
    """The definition's thresholds (meetings.selectors.counting_policy reads the settings)."""

    minimum_length: timedelta  # POD_MIN_COUNTED_MEETING_MINUTES, default 20 minutes
    late_record_after: timedelta  # POD_RECORDED_AFTER_EVENT_HOURS, default 24 hours
    maximum_length: timedelta = MAXIMUM_LENGTH
    minimum_staff: int = MINIMUM_STAFF
    same_sitting: timedelta = SAME_SITTING


@dataclass(frozen=True)
class HeldMeeting:
    """The facts about one held meeting that the rule reads (all instants aware)."""

    id: int
    actual_start: datetime
    actual_end: datetime
    recorded_at: datetime | None  # when it was recorded held; None: before this was kept
    staff_present: int
    person_present: bool
    network_members_present: int
    arranged_in_advance: bool = True  # False: recorded as a meeting that took place


@dataclass(frozen=True)
class Judgement:
    meeting_id: int
    actual_start: datetime
    counts: bool
    refusals: tuple[str, ...]  # codes of why it does not count; empty when it counts
    overlaps_meeting_id: int | None  # the counted meeting it overlaps (code OVERLAPS)
    recorded_after_event: bool


def recorded_after_event(
    *,
    actual_end: datetime,
    recorded_at: datetime | None,
    policy: CountingPolicy,
    arranged_in_advance: bool = True,
) -> bool:
    """True when a meeting was not arranged in POD before it began, or was recorded held more
    than `policy.late_record_after` after it ended; False when arranged and recorded on time,
    or when arranged and the recording time is unknown (None)."""
    if not arranged_in_advance:
        return True
    if recorded_at is None:
        return False
    return recorded_at - actual_end > policy.late_record_after


def meeting_refusals(
    meeting: HeldMeeting, *, policy: CountingPolicy, now: datetime
) -> tuple[str, ...]:
    """Why one held meeting, judged alone (points 1-3 of the module docstring), does not count:
    a tuple of the codes above, empty when it may count. Overlap (point 4) is judged by
    `meetings_judged` across the episode."""
    refusals: list[str] = []
    length = meeting.actual_end - meeting.actual_start
    if length <= timedelta(0):
        refusals.append(ENDS_BEFORE_START)
    elif length < policy.minimum_length:
        refusals.append(TOO_SHORT)
    elif length > policy.maximum_length:
        refusals.append(TOO_LONG)
    if meeting.staff_present < policy.minimum_staff:
        refusals.append(FEWER_THAN_TWO_STAFF)
    if not meeting.person_present and meeting.network_members_present < 1:
        refusals.append(NO_NETWORK)
    if meeting.actual_end > now + FUTURE_TOLERANCE:
        refusals.append(IN_THE_FUTURE)
    elif (
        meeting.recorded_at is not None
        and meeting.recorded_at < meeting.actual_end - FUTURE_TOLERANCE
    ):
        refusals.append(RECORDED_BEFORE_IT_ENDED)
    return tuple(refusals)


def _same_sitting(a: HeldMeeting, b: HeldMeeting, gap: timedelta) -> bool:
    """The two overlap, or the gap between them is shorter than `gap`."""
    return a.actual_start < b.actual_end + gap and b.actual_start < a.actual_end + gap


def meetings_judged(
    meetings: Iterable[HeldMeeting], *, policy: CountingPolicy, now: datetime
) -> list[Judgement]:
    """Judge every held meeting of one episode; one Judgement per meeting, in order of start
    (then id). A meeting recorded after `now` is left out (it did not exist yet)."""
    known = sorted(
        (m for m in meetings if m.recorded_at is None or m.recorded_at <= now),
        key=lambda m: (m.actual_start, m.id),
    )
    counted: list[HeldMeeting] = []
    judgements: list[Judgement] = []
    for meeting in known:
        refusals = meeting_refusals(meeting, policy=policy, now=now)
        overlapped: int | None = None
        if not refusals:
            clash = next(
                (c for c in counted if _same_sitting(c, meeting, policy.same_sitting)), None
            )
            if clash is not None:
                overlapped = clash.id
                refusals = (OVERLAPS,)
            else:
                counted.append(meeting)
        judgements.append(
            Judgement(
                meeting_id=meeting.id,
                actual_start=meeting.actual_start,
                counts=not refusals,
                refusals=refusals,
                overlaps_meeting_id=overlapped,
                recorded_after_event=recorded_after_event(
                    actual_end=meeting.actual_end,
                    recorded_at=meeting.recorded_at,
                    policy=policy,
                    arranged_in_advance=meeting.arranged_in_advance,
                ),
            )
        )
    return judgements


def counted_meeting_ids(
    meetings: Iterable[HeldMeeting], *, before: datetime, policy: CountingPolicy, now: datetime
) -> list[int]:
    """The ids of the network meetings that count towards a prescription made at `before` and
    decided at `now` (usually the same instant): counted meetings (module docstring) that
    started at or before `before`, in order of start. An empty list when none."""
    return [
        j.meeting_id
        for j in meetings_judged(meetings, policy=policy, now=now)
        if j.counts and j.actual_start <= before
    ]


REFUSAL_WORDS = {
    ENDS_BEFORE_START: "it ends before it starts",
    TOO_SHORT: "it is shorter than the minimum length",
    TOO_LONG: "it is longer than 8 hours",
    FEWER_THAN_TWO_STAFF: "fewer than two staff attended",
    NO_NETWORK: "neither the person nor anyone of their network attended",
    RECORDED_BEFORE_IT_ENDED: "it was recorded as held before it ended",
    IN_THE_FUTURE: "its end is in the future",
    OVERLAPS: "it overlaps, or is less than 30 minutes from, another counted meeting of the "
    "episode (the same sitting)",
}


def refusal_words(judgement: Judgement) -> str:
    """Why a meeting does not count, in words for the meeting and prescribing pages ("" when
    it counts)."""
    words = [REFUSAL_WORDS[code] for code in judgement.refusals]
    return "; ".join(words)
