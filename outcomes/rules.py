"""Scoring, suppression and follow-up rules for outcomes, as pure functions.

Nothing here touches the database or the clock: callers pass the facts, and `now`/`today`
where time matters, so tests can pin any instant.
"""

from __future__ import annotations

import calendar
import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

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

# --- The outcome import (outcomes/importing/) -----------------------------------------------------

# The symptom levels, as OutcomeAssessment.SymptomLevel stores them (a test keeps the two equal).
SYMPTOM_LEVELS: tuple[str, ...] = ("none", "mild", "moderate", "severe")
TRIAL_ARMS: tuple[str, ...] = ("POD", "TAU")
YES_WORDS: tuple[str, ...] = ("yes", "y", "true", "1")
NO_WORDS: tuple[str, ...] = ("no", "n", "false", "0")
IMPORT_MAX_ROWS = 100_000
IMPORT_MAX_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class ImportColumn:
    """One column of the outcome import: the template's header, the data dictionary's row and
    what the importer checks all come from this one definition (`IMPORT_COLUMNS`).

    `kind` is one of "nhs_number", "choice", "whole_number", "date", "yes_no", "text";
    `aliases` are other headers accepted for it (matched like the name: case, spaces and
    underscores ignored)."""

    name: str
    kind: str
    allowed: str
    required: bool
    meaning: str
    aliases: tuple[str, ...] = ()


_YES_NO = "yes or no (also y/n, true/false, 1/0)"
_DATE = "a date: YYYY-MM-DD, or DD/MM/YYYY when the upload says day/month/year"
IMPORT_COLUMNS: tuple[ImportColumn, ...] = (
    ImportColumn(
        "nhs_number",
        "nhs_number",
        "10 digits (spaces or hyphens allowed) with a valid check digit; not a placeholder",
        True,
        "The person. They must be on record in the chosen team; people new to POD are "
        "registered by a referral, or by an administrator's import that asks for it.",
    ),
    ImportColumn("trial_arm", "choice", "POD or TAU", True, "The person's trial arm."),
    ImportColumn(
        "timepoint_months",
        "whole_number",
        "0 (baseline), 12, 24 or 60",
        True,
        "Months after baseline this assessment stands for.",
    ),
    ImportColumn(
        "assessed_on",
        "date",
        f"{_DATE}; not in the future, not before 1900; a follow-up within its window of the "
        "baseline (12 and 24 months: 3 months either side; 60 months: 6)",
        True,
        "The day of the assessment.",
    ),
    ImportColumn(
        "symptom_level", "choice", "none, mild, moderate or severe", True, "Symptom level."
    ),
    ImportColumn("relapse", "yes_no", _YES_NO, True, "Relapsed since the previous time point."),
    ImportColumn(
        "relapse_on",
        "date",
        f"{_DATE}; only with relapse = yes; on or before assessed_on, not before the baseline",
        False,
        "Date the first relapse began, when known (time to relapse). Blank when unknown; "
        "without this column, update mode leaves the date on record as it is.",
    ),
    ImportColumn(
        "hospital_days",
        "whole_number",
        "a whole number from 0 to 3660 ('14.0' is read as 14)",
        True,
        "Hospital bed-days since the previous time point.",
        aliases=("hospital_bed_days",),
    ),
    ImportColumn("disability_benefit", "yes_no", _YES_NO, True, "Claiming disability benefit."),
    ImportColumn(
        "neuroleptic_use", "yes_no", _YES_NO, True, "Using neuroleptic (antipsychotic) medication."
    ),
    ImportColumn("work_or_study", "yes_no", _YES_NO, True, "In work or study."),
    ImportColumn(
        "given_name",
        "text",
        "text",
        False,
        "Checked against the record (case, accents and apostrophes ignored); never changes it. "
        "For a person the import registers, their given name.",
    ),
    ImportColumn("family_name", "text", "text", False, "As given_name, for the family name."),
    ImportColumn(
        "date_of_birth",
        "date",
        f"{_DATE}; not in the future, not before 1900, not after the assessment",
        False,
        "As given_name, for the date of birth.",
    ),
)
IMPORT_COLUMN_NAMES: tuple[str, ...] = tuple(column.name for column in IMPORT_COLUMNS)
IMPORT_REQUIRED_COLUMNS: tuple[str, ...] = tuple(c.name for c in IMPORT_COLUMNS if c.required)


def import_header_key(header: str) -> str:
    """How an uploaded header is matched to a column: case, spaces (of any kind), underscores
    and hyphens ignored, so "Assessed On", "ASSESSED_ON" and "assessed-on" are one column."""
    return "".join(ch for ch in header.casefold() if ch.isalnum())


# Follow-up windows: how far from its time point after the baseline assessment a follow-up may
# be dated, in months either side. The trial protocol defines its own visit windows (ODDESSI
# protocol: Pilling et al., Contemp Clin Trials 2022;113:106664, two years of follow-up); these
# are POD's defaults, chosen so that no two windows overlap - 12 months: 9 to 15, 24 months: 21
# to 27, 60 months: 54 to 66 - and a row carrying the wrong time point (12 for 24, or a date a
# year out) is refused rather than counted at the wrong time point. A quarter of the year either
# side is the widest such window at 12 and 24 months; five-year follow-up is harder to arrange,
# so it gets six months.
ASSESSMENT_WINDOW_MONTHS: dict[int, int] = {12: 3, 24: 3, 60: 6}


@functools.lru_cache(maxsize=65536)  # an import asks for the same baselines row after row
def assessment_window(*, baseline_on: date, timepoint_months: int) -> tuple[date, date] | None:
    """The first and last day (inclusive) a follow-up at `timepoint_months` may be dated, given
    the baseline assessment's date; None for the baseline itself (0 months) and any time point
    without a window."""
    margin = ASSESSMENT_WINDOW_MONTHS.get(timepoint_months)
    if margin is None:
        return None
    return (
        add_months(baseline_on, timepoint_months - margin),
        add_months(baseline_on, timepoint_months + margin),
    )


def assessment_timing_error(
    *, assessed_on: date, baseline_on: date, timepoint_months: int
) -> str | None:
    """Why a follow-up's date does not fit its time point, or None when it does (or it is the
    baseline). Messages are the same for every person, so repeated ones group."""
    if timepoint_months == 0:
        return None
    if assessed_on < baseline_on:
        return "This follow-up is dated before the person's baseline assessment."
    window = assessment_window(baseline_on=baseline_on, timepoint_months=timepoint_months)
    if window is not None and not window[0] <= assessed_on <= window[1]:
        margin = ASSESSMENT_WINDOW_MONTHS[timepoint_months]
        return (
            f"This date is more than {margin} months from {timepoint_months} months after the "
            "person's baseline assessment."
        )
    return None


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
    *, expires_at: datetime, used_at: datetime | None, now: datetime
) -> str | None:
    """Why a survey link can no longer be used, or None when it can."""
    if used_at is not None:
        return "This link has already been used. Thank you for your answers."
    if now >= expires_at:
        return "This link has expired. Please ask your team for a new one."
    return None
