"""The two clinical rules, as pure functions.

Nothing here reads the database or the clock: the caller passes the facts and the current
instant as `now`, so tests can pin any instant (including both sides of a clock change).
All instants are timezone-aware; "24 hours" is elapsed time, so adding a timedelta to an aware
UTC instant is exactly right across a daylight-saving change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pod.foundation import justification
from pod.foundation.justification import reason_refusal
from pod.foundation.localtime import LONDON
from pod.foundation.time_words import span_words

UNSCHEDULED = "unscheduled"
AT_RISK = "at_risk"
BREACHED = "breached"


# "At referral" in the network measures: the network as recorded by this long after the first
# meeting (or the referral while none is held), since the network is mapped at that meeting.
NETWORK_BASELINE_AFTER = timedelta(hours=24)


def hours_label(span: timedelta) -> str:
    """A span as a number of hours the way people write it: 24 h -> "24", 36.5 h -> "36.5".
    For texts that name a configured window ("the 24-hour clock")."""
    return f"{span / timedelta(hours=1):g}"


@dataclass(frozen=True)
class ClockPolicy:
    """The 24-hour rule as configured (meetings.selectors.clock_policy reads the settings)."""

    window: timedelta  # referral -> first meeting due (POD_FIRST_MEETING_HOURS, default 24 h)
    unscheduled_after: timedelta  # referral -> "no meeting arranged" alert (default 4 h)
    at_risk_lead: timedelta  # due - lead -> "at risk" alert (POD_AT_RISK_LEAD_HOURS, default 4 h)


@dataclass(frozen=True)
class ClockFacts:
    referral_received_at: datetime
    first_meeting_due_at: datetime
    # Actual start of the first held meeting; None while no meeting has been held.
    first_meeting_held_at: datetime | None
    # Earliest scheduled (not held, not cancelled) meeting start; None when nothing is arranged.
    earliest_scheduled_start: datetime | None
    closed: bool
    # Kinds already raised for this episode (the alert rows that exist).
    raised: frozenset[str]


def first_meeting_due_at(*, referral_received_at: datetime, window: timedelta) -> datetime:
    """The instant the first network meeting is due: referral + window of elapsed time."""
    if referral_received_at.tzinfo is None:
        raise ValueError("referral_received_at must be timezone-aware")
    # Python adds a timedelta to an aware datetime in wall-clock time of its zone; in UTC that
    # is elapsed time, which is what "24 hours" means across a daylight-saving change.
    return referral_received_at.astimezone(UTC) + window


def first_meeting_in_time(*, facts: ClockFacts) -> bool | None:
    """Whether the first meeting was held within the window; None while none has been held."""
    if facts.first_meeting_held_at is None:
        return None
    return facts.first_meeting_held_at <= facts.first_meeting_due_at


def _thresholds(facts: ClockFacts, policy: ClockPolicy) -> dict[str, datetime]:
    referral = facts.referral_received_at.astimezone(UTC)  # elapsed-time arithmetic
    due = facts.first_meeting_due_at.astimezone(UTC)
    return {
        UNSCHEDULED: referral + policy.unscheduled_after,
        AT_RISK: due - policy.at_risk_lead,
        BREACHED: due,
    }


def _condition_holds(kind: str, facts: ClockFacts) -> bool:
    """Whether the situation an alert kind describes is true, regardless of time."""
    held = facts.first_meeting_held_at
    if kind == BREACHED:
        # Not held at all, or held only after the due time.
        return held is None or held > facts.first_meeting_due_at
    if held is not None or facts.closed:
        return False
    if kind == UNSCHEDULED:
        return facts.earliest_scheduled_start is None
    if kind == AT_RISK:
        start = facts.earliest_scheduled_start
        return start is None or start > facts.first_meeting_due_at
    raise ValueError(f"unknown clock alert kind {kind!r}")


def clock_alerts_due(*, facts: ClockFacts, policy: ClockPolicy, now: datetime) -> list[str]:
    """The clock alert kinds to raise at `now`, in order; an empty list when none.

    1. A kind already raised is never raised again (one alert per episode and kind).
    2. `unscheduled` and `at_risk` are warnings: they are raised only before the due time.
    3. `breached` is raised at the due time when no meeting has been held by then, and also
       later for a first meeting that was held after the due time (a late record still counts).
    A closed episode raises nothing new.
    """
    if facts.closed:
        return []
    due: list[str] = []
    for kind, at in _thresholds(facts, policy).items():
        if kind in facts.raised or now < at:
            continue
        if kind != BREACHED and now >= facts.first_meeting_due_at:
            continue
        if _condition_holds(kind, facts):
            due.append(kind)
    return due


def clock_next_check_at(
    *, facts: ClockFacts, policy: ClockPolicy, now: datetime
) -> datetime | None:
    """When the sweep must next look at this episode; None when nothing can fall due any more.

    None means: the episode is closed, the first meeting was held in time, or every alert that
    could still apply has been raised. A time at or before `now` means "due now". Whoever changes
    a fact (a meeting scheduled, cancelled or held) must recompute this.
    """
    if facts.closed:
        return None
    if first_meeting_in_time(facts=facts):
        return None
    pending: list[datetime] = []
    for kind, at in _thresholds(facts, policy).items():
        if kind in facts.raised:
            continue
        if kind != BREACHED and (now >= facts.first_meeting_due_at or facts.first_meeting_held_at):
            continue  # a warning that can no longer apply
        if at > now:
            pending.append(at)
        elif _condition_holds(kind, facts):
            pending.append(at)  # already due: the sweep picks it up next minute
    return min(pending) if pending else None


@dataclass(frozen=True)
class MedicationDecision:
    allowed: bool
    needs_override: bool
    meetings_held: int
    meetings_required: int
    message: str


# The rapid-response override's written reason: at least this many characters of real text
# (issue 10, point 2: "ok" or a few repeated characters is refused).
OVERRIDE_EXPLANATION_MIN_CHARS = justification.OVERRIDE.minimum_chars  # 20


def override_explanation_refusal(text: str) -> str | None:
    """Why a rapid-response override's explanation is not a real explanation, or None when it
    is. Real means pod.foundation.justification's judgement with its OVERRIDE policy: at least
    OVERRIDE_EXPLANATION_MIN_CHARS characters once runs of spaces are one space, at least three
    different words, at least six different letters, no single character making up half the
    text or more, and not mostly placeholder text ("lorem ipsum dolor sit amet") or keyboard
    runs. Source: DOMAIN.md (the override needs a written reason, reviewed by the service
    manager) and issue 10, point 2."""
    if not " ".join(text.split()):
        return "A rapid-response override needs a written explanation."
    if reason_refusal(text, policy=justification.OVERRIDE) is None:
        return None
    return (
        "A rapid-response override needs a written explanation of at least "
        f"{OVERRIDE_EXPLANATION_MIN_CHARS} characters of real text: say what threatens "
        "physical safety."
    )


def medication_decision(
    *,
    is_new: bool,
    meetings_held_before: int,
    meetings_required: int,
    override_reason: str,
    override_explanation: str,
) -> MedicationDecision:
    """Whether a prescription may be made under the 3-meetings-before-medication rule
    (DOMAIN.md "At least 3 network meetings before any new medication"; issue 10, point 2).

    `is_new`: False only for a medicine on the person's current-medication list for the
    episode (the caller checks the list; anything else is new). `meetings_held_before`: the
    network meetings that count (meetings.medication_rules.counted_meeting_ids). A continuing
    medicine is always allowed. A new one needs `meetings_required` counted meetings, or the
    rapid-response override (physical safety threatened) with a real written explanation
    (`override_explanation_refusal`); an overridden prescription is allowed but flagged.
    """
    enough = meetings_held_before >= meetings_required
    if not is_new or enough:
        return MedicationDecision(True, False, meetings_held_before, meetings_required, "")
    shortfall = (
        f"{meetings_held_before} of {meetings_required} network meetings have been held in "
        f"this episode. A new medicine needs {meetings_required} before it"
    )
    if override_reason == "rapid_response":
        refusal = override_explanation_refusal(override_explanation)
        if refusal is None:
            return MedicationDecision(
                True, True, meetings_held_before, meetings_required, shortfall + " (overridden)."
            )
        return MedicationDecision(
            False,
            True,
            meetings_held_before,
            meetings_required,
            shortfall + "; " + refusal[0].lower() + refusal[1:],
        )
    return MedicationDecision(
        False,
        False,
        meetings_held_before,
        meetings_required,
        shortfall + ", unless physical safety is threatened (rapid-response override).",
    )


def prescription_violates_rule(
    *,
    is_new: bool,
    meetings_held_before: int,
    meetings_required: int,
    override_reason: str,
    override_explanation: str,
) -> bool:
    """True when a stored prescription breaks the rule (used by the audit of every row)."""
    return not medication_decision(
        is_new=is_new,
        meetings_held_before=meetings_held_before,
        meetings_required=meetings_required,
        override_reason=override_reason,
        override_explanation=override_explanation,
    ).allowed


# --- Scheduling warnings and the daily run (first 14 days) ---------------------------------------


def meeting_warnings(
    *,
    staff_ids: frozenset[int] | set[int],
    core_team_ids: frozenset[int] | set[int],
    double_booked: list[str],
    scheduled_start: datetime,
    first_meeting_due_at: datetime,
    first_meeting_held: bool,
    first_meeting_window: timedelta,
    minimum_staff: int = 2,
) -> list[str]:
    """Warnings (never refusals) about a meeting being arranged; an empty list when none.

    `double_booked` names the staff who already have another meeting at that time. The warning
    about the first-meeting due time (`first_meeting_window` after the referral, the policy's
    window) applies only while no first meeting has been held.
    """
    warnings: list[str] = []
    if len(staff_ids) < minimum_staff:
        warnings.append(
            f"Fewer than {minimum_staff} staff are attending: Open Dialogue meetings need at "
            "least two."
        )
    if not set(staff_ids) & set(core_team_ids):
        warnings.append("No member of the core team is attending.")
    for name in double_booked:
        warnings.append(f"{name} already has another meeting at this time.")
    if not first_meeting_held and scheduled_start > first_meeting_due_at:
        warnings.append(
            f"This meeting starts after the {hours_label(first_meeting_window)}-hour "
            "first-meeting due time "
            f"({first_meeting_due_at.astimezone(LONDON):%d %b %Y %H:%M})."
        )
    return warnings


def daily_run_starts(
    *,
    referral_received_at: datetime,
    first_start: datetime,
    days: int,
    run_days: int = 14,
) -> list[datetime]:
    """The starts of a run of daily meetings, one per Europe/London calendar day.

    Day 1 is the London calendar day of the referral; the run never goes past day `run_days`.
    Each meeting keeps the London wall-clock time of `first_start`, so a run across a clock change
    stays at "10:00" local time (the elapsed gap that day is 23 or 25 hours). Returns an empty
    list when `first_start` is already past the run.
    """
    day_one = referral_received_at.astimezone(LONDON).date()
    last_day = day_one + timedelta(days=run_days - 1)
    local = first_start.astimezone(LONDON)
    starts: list[datetime] = []
    for offset in range(days):
        day = local.date() + timedelta(days=offset)
        if day > last_day:
            break
        wall = datetime.combine(day, local.time().replace(tzinfo=None))
        starts.append(wall.replace(tzinfo=LONDON).astimezone(UTC))
    return starts


def clock_time_left(
    *, first_meeting_due_at: datetime, policy: ClockPolicy, now: datetime
) -> tuple[str, str]:
    """How an open first-meeting clock reads at `now`: (level, words), e.g. ("warning",
    "5 h 30 min left") or ("danger", "Overdue by 1 h 05 min"; "Overdue by 2 days 3 h" past a day).

    The levels follow the at-risk lead (POD_AT_RISK_LEAD_HOURS, default 4 h), so the badge turns
    urgent when the at-risk alert is raised: "danger" once at most the lead is left (and when
    overdue), "warning" once at most twice the lead is left, "ok" before that. With the default
    lead: warning from 8 h left, danger from 4 h. A lead of 0 goes from ok to overdue.
    """
    left = first_meeting_due_at - now
    if left <= timedelta(0):
        # In days and hours once a day or more ("Overdue by 2 days 3 h"), not "51 h 00 min".
        return "danger", f"Overdue by {span_words(-left)}"
    hours, minutes = divmod(int(left.total_seconds()) // 60, 60)
    if left > 2 * policy.at_risk_lead:
        level = "ok"
    elif left > policy.at_risk_lead:
        level = "warning"
    else:
        level = "danger"
    return level, f"{hours} h {minutes:02d} min left"
