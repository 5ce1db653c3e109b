"""Scoring, suppression and follow-up rules for outcomes, as pure functions.

Nothing here touches the database or the clock: callers pass the facts, and `now`/`today`
where time matters, so tests can pin any instant.
"""

from __future__ import annotations

import calendar
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from pod.foundation.localtime import LONDON

# --- Reference figures ----------------------------------------------------------------------------
# From the 2015 NHS talk on Peer-supported Open Dialogue that POD is built from: the 2014 national
# community mental health survey (16,400 people, 51 trusts), a 2013 audit of care plans, and
# Western Lapland's Open Dialogue outcomes against treatment as usual (TAU) at 2 years.

# The six experience statements, as (field on SurveyResponse, statement, 2014 national % agreeing).
SURVEY_STATEMENTS: tuple[tuple[str, str, int], ...] = (
    ("involved_in_care", "I was involved as much as I wanted in agreeing my care", 57),
    ("family_involved", "My family or carers were involved as much as I wanted", 55),
    ("agreed_care", "I definitely agreed with the team what care I will receive", 43),
    ("understands_what_matters", "The team understands what is important in my life", 42),
    ("helps_with_what_matters", "The team helps me with what is important in my life", 41),
    ("feel_hopeful", "The team helps me feel hopeful about the things that matter to me", 38),
)

# 2013 audit: no evidence of involvement in 27% of care plans, of the person's views in 22%.
CARE_PLAN_AUDIT_2013 = {"involvement": 73, "views": 78}

# Western Lapland, Open Dialogue vs TAU at 2 years, as published (text, not all percentages).
LAPLAND_2_YEARS: dict[str, tuple[str, str]] = {
    "mild_or_none": ("82%", "50%"),
    "relapse": ("24%", "71%"),
    "disability": ("23%", "57%"),
    "neuroleptic": ("35%", "100%"),
    "bed_days": ("fewer than 19 days", "more"),
    "work_or_study": ("74% (86% at 5 years)", "-"),
}

# The twelve key elements of dialogic practice (Olson, Seikkula & Ziedonis, 2014): names only.
FIDELITY_ELEMENTS: tuple[tuple[str, str], ...] = (
    ("two_or_more_therapists", "Two or more therapists in the meeting"),
    ("network_participation", "Participation of family and network"),
    ("open_ended_questions", "Open-ended questions"),
    ("responding_to_utterances", "Responding to the person's utterances"),
    ("present_moment", "Emphasis on the present moment"),
    ("multiple_viewpoints", "Eliciting multiple viewpoints"),
    ("relational_focus", "Relational focus"),
    ("matter_of_fact_problem_talk", "Matter-of-fact response to problem talk"),
    ("own_words_not_symptoms", "The person's own words and stories, not symptoms"),
    ("reflections", "Conversation among professionals (reflections)"),
    ("transparency", "Transparency"),
    ("tolerating_uncertainty", "Tolerating uncertainty"),
)

SMALL_CELL = 5  # a dashboard cell resting on fewer people than this is suppressed
SUPPRESSED_TEXT = f"suppressed (n<{SMALL_CELL})"
SURVEY_LINK_LIFETIME = timedelta(days=14)
# One answer per person in this long: a person may be offered the survey again only this long
# after they last answered, so one person cannot count many times in the experience figures
# (HAZ-11). Quarterly, like the service's reviews of the figures.
SURVEY_INTERVAL = timedelta(days=90)

# --- Outcome time points -------------------------------------------------------------------------

# Months from a person's first referral at which outcomes are assessed: baseline, 1, 2 and 5
# years (Lapland reported at 2 and 5 years). The model, its form, the import, the follow-up list
# and the dashboard all take them from here.
OUTCOME_TIMEPOINTS: tuple[int, ...] = (0, 12, 24, 60)
# The dashboard compares POD with TAU at 2 years unless asked otherwise: the Lapland figures'
# time point.
DASHBOARD_TIMEPOINT = 24


def timepoint_label(months: int) -> str:
    """'Baseline' for 0 months, otherwise e.g. '12 months'."""
    return "Baseline" if months == 0 else f"{months} months"


TIMEPOINT_CHOICES: tuple[tuple[int, str], ...] = tuple(
    (months, timepoint_label(months)) for months in OUTCOME_TIMEPOINTS
)


def listed(words: Sequence[str], last: str) -> str:
    """'a, b, c `last` d': a list in an English sentence ('a' alone for one word)."""
    if len(words) < 2:
        return "".join(words)
    return f"{', '.join(words[:-1])} {last} {words[-1]}"


def timepoints_in_words() -> str:
    """The time points as a sentence says them: 'baseline, 12, 24 and 60 months'."""
    words = ["baseline" if months == 0 else str(months) for months in OUTCOME_TIMEPOINTS]
    return f"{listed(words, 'and')} months"


# At most ten years in hospital between two assessments: a larger number is a typing error.
MAX_HOSPITAL_BED_DAYS = 3660

# The columns of the outcome import (outcomes.importer), in the order the template file has them.
IMPORT_COLUMNS: tuple[str, ...] = (
    "nhs_number",
    "trial_arm",
    "timepoint_months",
    "assessed_on",
    "symptom_level",
    "relapse",
    "hospital_days",
    "disability_benefit",
    "neuroleptic_use",
    "work_or_study",
)

# --- Dashboards ----------------------------------------------------------------------------------

# Rows of a breach or exception list shown on the dashboard page (its CSV download has them all).
DASHBOARD_LIST_LIMIT = 50
# "Meetings in the first 14 days": London calendar days from the referral, its own day the first.
EARLY_MEETINGS_DAYS = 14

# --- Scored measures ---------------------------------------------------------------------------

PHQ9_BANDS = (
    (4, "none-minimal"),
    (9, "mild"),
    (14, "moderate"),
    (19, "moderately severe"),
    (27, "severe"),
)
GAD7_BANDS = ((4, "minimal"), (9, "mild"), (14, "moderate"), (21, "severe"))

DIALOG_LIFE_DOMAINS = (
    "Mental health",
    "Physical health",
    "Job situation",
    "Accommodation",
    "Leisure activities",
    "Relationship with partner/family",
    "Friendships",
    "Personal safety",
)
DIALOG_TREATMENT = (
    "Medication",
    "Practical help received",
    "Meetings with mental health professionals",
)


@dataclass(frozen=True)
class Score:
    total: int | None = None
    band: str = ""
    life_domains_mean: Decimal | None = None
    treatment_mean: Decimal | None = None


def _check_items(items: Sequence[int], *, count: int, low: int, high: int, name: str) -> None:
    if len(items) != count:
        raise ValueError(f"{name} has {count} items; {len(items)} were given.")
    for i, item in enumerate(items, start=1):
        if not isinstance(item, int) or not low <= item <= high:
            raise ValueError(f"{name} item {i} must be a whole number from {low} to {high}.")


def _band(total: int, bands: tuple[tuple[int, str], ...]) -> str:
    for upper, label in bands:
        if total <= upper:
            return label
    raise ValueError(f"score {total} is out of range")


def score_phq9(items: Sequence[int]) -> Score:
    """PHQ-9: nine items 0-3, total 0-27, banded 0-4 / 5-9 / 10-14 / 15-19 / 20-27."""
    _check_items(items, count=9, low=0, high=3, name="PHQ-9")
    total = sum(items)
    return Score(total=total, band=_band(total, PHQ9_BANDS))


def score_gad7(items: Sequence[int]) -> Score:
    """GAD-7: seven items 0-3, total 0-21, banded 0-4 / 5-9 / 10-14 / 15-21."""
    _check_items(items, count=7, low=0, high=3, name="GAD-7")
    total = sum(items)
    return Score(total=total, band=_band(total, GAD7_BANDS))


def _mean2(values: Sequence[int]) -> Decimal:
    return (Decimal(sum(values)) / Decimal(len(values))).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )


def score_dialog(items: Sequence[int]) -> Score:
    """DIALOG: eleven items 1-7; the mean of the 8 life domains (items 1-8) and of the 3
    treatment items (9-11), each to two decimal places. There is no total or band."""
    _check_items(items, count=11, low=1, high=7, name="DIALOG")
    return Score(life_domains_mean=_mean2(items[:8]), treatment_mean=_mean2(items[8:]))


SCORERS = {"PHQ9": score_phq9, "GAD7": score_gad7, "DIALOG": score_dialog}
ITEM_COUNTS = {"PHQ9": 9, "GAD7": 7, "DIALOG": 11}

# Licensed measures: only the total is kept, and it must lie in the published range.
LICENSED_RANGES: dict[str, tuple[Decimal, Decimal]] = {
    "ReQoL-10": (Decimal(0), Decimal(40)),
    "ReQoL-20": (Decimal(0), Decimal(80)),
    "WEMWBS": (Decimal(14), Decimal(70)),
    "SWEMWBS": (Decimal(7), Decimal(35)),
    "HoNOS": (Decimal(0), Decimal(48)),
}


def licensed_score_error(*, name: str, score: Decimal) -> str | None:
    """A message when `score` is outside the measure's range; None when it is plausible."""
    if name not in LICENSED_RANGES:
        return f"Unknown measure {name!r}."
    low, high = LICENSED_RANGES[name]
    if not low <= score <= high:
        return f"A {name} score lies between {low} and {high}."
    return None


# --- Aggregates --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """A share reported on a dashboard. `percent` is None when suppressed or when n is 0."""

    count: int
    n: int
    percent: float | None
    suppressed: bool

    def __str__(self) -> str:
        if self.suppressed:
            return SUPPRESSED_TEXT
        if self.percent is None:
            return "no data"
        return f"{self.percent:.0f}% (n={self.n})"


def share(count: int, n: int, *, suppress_under: int = 0) -> Cell:
    """count out of n as a Cell. With `suppress_under` (e.g. 5), a cell resting on fewer than
    that many people is suppressed: neither its count nor its percentage is shown."""
    if n and n < suppress_under:
        return Cell(count=0, n=0, percent=None, suppressed=True)
    return Cell(count=count, n=n, percent=(100.0 * count / n) if n else None, suppressed=False)


def per_week(count: int, *, start: date, end: date) -> float:
    """Contacts per week over an inclusive date range."""
    days = (end - start).days + 1
    return count * 7 / days if days > 0 else 0.0


# --- Staffing targets ----------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffingTargets:
    """What each team aims for: a share of its clinical staff trained in POD, at least so many
    paid peer workers, and a range of peer volunteers. The POD model trains about half of each
    team and gives it one paid peer worker and 4-5 volunteers; a deployment sets its own in
    settings (POD_TRAINED_STAFF_TARGET_PERCENT, POD_PEER_WORKERS_TARGET,
    POD_PEER_VOLUNTEERS_MIN, POD_PEER_VOLUNTEERS_MAX; README "Configuration")."""

    trained_percent: float
    peer_workers: int
    volunteers_min: int
    volunteers_max: int

    def coverage_met(self, coverage: Cell) -> bool:
        """At least the target share trained (a team with no clinical staff: not met)."""
        return coverage.percent is not None and coverage.percent >= self.trained_percent

    def peer_workers_met(self, peer_workers: int) -> bool:
        return peer_workers >= self.peer_workers

    def volunteers_met(self, volunteers: int) -> bool:
        return self.volunteers_min <= volunteers <= self.volunteers_max

    @property
    def trained_text(self) -> str:
        """The trained share as a page says it: '50%'."""
        return f"{self.trained_percent:g}%"

    @property
    def volunteers_text(self) -> str:
        """The volunteer range as a page says it: '4-5' (or '4' when both ends are equal)."""
        if self.volunteers_min == self.volunteers_max:
            return str(self.volunteers_min)
        return f"{self.volunteers_min}-{self.volunteers_max}"


# --- Follow-up of outcome assessments ----------------------------------------------------------

FOLLOW_UP_WINDOW = timedelta(days=30)


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def assessment_due_on(*, referral_on: date, timepoint_months: int) -> date:
    return add_months(referral_on, timepoint_months)


def assessment_status(*, due_on: date, today: date, done: bool) -> str:
    """'done', 'not_yet' (more than 30 days ahead), 'due' (from 30 days before to 30 days after
    the due date) or 'overdue' (later than that and still not done)."""
    if done:
        return "done"
    if today < due_on - FOLLOW_UP_WINDOW:
        return "not_yet"
    if today <= due_on + FOLLOW_UP_WINDOW:
        return "due"
    return "overdue"


# --- Survey links ------------------------------------------------------------------------------


def survey_token_hash(token: str) -> str:
    """What is stored for a survey link: its SHA-256. A leaked table gives no working links."""
    return hashlib.sha256(token.encode()).hexdigest()


def survey_expires_at(*, issued_at: datetime) -> datetime:
    return issued_at + SURVEY_LINK_LIFETIME


def survey_link_refusal(
    *,
    expires_at: datetime,
    used_at: datetime | None,
    now: datetime,
    withdrawn_at: datetime | None = None,
) -> str | None:
    """Why a survey link can no longer be used, or None when it can."""
    if used_at is not None:
        return "This link has already been used. Thank you for your answers."
    if withdrawn_at is not None:
        return "This link has been withdrawn. Please ask your team for a new one."
    if now >= expires_at:
        return "This link has expired. Please ask your team for a new one."
    return None


def survey_issue_refusal(
    *,
    open_link_expires_at: datetime | None,
    last_answered_at: datetime | None,
    now: datetime,
) -> str | None:
    """Why a new experience-survey link may not be issued to a person now, or None when it may.

    One live link per person, and one answer per SURVEY_INTERVAL: `open_link_expires_at` is the
    expiry of the person's link that is neither used nor withdrawn (None: there is none),
    `last_answered_at` when they last answered (None: never). An expired link does not count as
    live (it is withdrawn when the next one is issued).
    """
    if open_link_expires_at is not None and now < open_link_expires_at:
        return (
            "This person already has a live link, until "
            f"{open_link_expires_at.astimezone(LONDON):%d %b %Y %H:%M}. If it was lost, withdraw "
            "it first; a person has one live link at a time."
        )
    if last_answered_at is not None and now < last_answered_at + SURVEY_INTERVAL:
        again = (last_answered_at + SURVEY_INTERVAL).astimezone(LONDON)
        return (
            f"This person answered the survey on {last_answered_at.astimezone(LONDON):%d %b %Y}; "
            f"they can be asked again from {again:%d %b %Y} (once every "
            f"{SURVEY_INTERVAL.days} days)."
        )
    return None
