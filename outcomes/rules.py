"""Outcomes' reference figures, time points, suppression, 95% intervals, staffing targets,
follow-up and survey-link rules, as pure functions (scoring of the measures: outcomes.scoring).

Nothing here touches the database or the clock: callers pass the facts, and `now`/`today`
where time matters, so tests can pin any instant.
"""

from __future__ import annotations

import calendar
import functools
import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from statistics import NormalDist

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
    "work_or_study": ("74% (86% at 5 years)", "not reported"),
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
# How every dashboard table, chart and CSV writes a value that has no data behind it (one way
# everywhere); a cell that does not apply (the share of a count) is left blank instead.
NO_DATA_TEXT = "no data"
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

# --- Aggregates and their 95% intervals ----------------------------------------------------------
# Every share on the dashboards carries Wilson's score interval, every mean a t interval, and the
# POD-TAU comparison its difference with Newcombe's hybrid score interval (shares) or Welch's
# interval (means). Sources, cited by the functions below:
# - Wilson EB. Probable inference, the law of succession, and statistical inference. J Am Stat
#   Assoc 1927;22:209-212.
# - Newcombe RG. Two-sided confidence intervals for the single proportion: comparison of seven
#   methods. Stat Med 1998;17:857-872 ("Newcombe 1998a"; Wilson's interval is its method 3).
# - Newcombe RG. Interval estimation for the difference between independent proportions:
#   comparison of eleven methods. Stat Med 1998;17:873-890 ("Newcombe 1998b", method 10).
# - Student. The probable error of a mean. Biometrika 1908;6:1-25.
# - Welch BL. The generalization of "Student's" problem when several different population
#   variances are involved. Biometrika 1947;34:28-35.

CONFIDENCE = 0.95
Z_95 = NormalDist().inv_cdf(0.5 + CONFIDENCE / 2)  # 1.959964...


def wilson_interval(count: int, n: int, *, z: float = Z_95) -> tuple[float, float]:
    """Wilson's score interval for the proportion count/n, as fractions from 0 to 1.

    (p + z²/2n ± z·√(p(1-p)/n + z²/4n²)) / (1 + z²/n), with p = count/n (Wilson 1927;
    Newcombe 1998a, method 3: e.g. 81/263 gives 0.2553 to 0.3662). Unlike p ± z·√(p(1-p)/n)
    it never leaves 0-1 and keeps close to 95% coverage for small n and for shares near 0% or
    100%, which is what a team's figures are. ValueError when n < 1 or count is not in 0..n.
    """
    if n < 1 or not 0 <= count <= n:
        raise ValueError(f"A proportion needs 0 <= count <= n and n >= 1 (got {count}/{n}).")
    p, z2 = count / n, z * z
    centre = p + z2 / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, (centre - half) / (1 + z2 / n)), min(1.0, (centre + half) / (1 + z2 / n))


def newcombe_difference(
    count1: int, n1: int, count2: int, n2: int, *, z: float = Z_95
) -> tuple[float, float, float]:
    """p1 - p2 with Newcombe's hybrid score interval, as fractions from -1 to 1:
    (d - √((p1-l1)² + (u2-p2)²), d + √((u1-p1)² + (p2-l2)²)), where (l, u) are each share's
    Wilson interval (Newcombe 1998b, method 10: e.g. 56/70 - 48/80 gives 0.2000, 0.0524 to
    0.3339). The standard companion of Wilson's interval: it needs nothing but the two Wilson
    intervals and stays within -1 to 1. ValueError as wilson_interval."""
    low1, high1 = wilson_interval(count1, n1, z=z)
    low2, high2 = wilson_interval(count2, n2, z=z)
    p1, p2 = count1 / n1, count2 / n2
    d = p1 - p2
    return (
        d,
        d - math.sqrt((p1 - low1) ** 2 + (high2 - p2) ** 2),
        d + math.sqrt((high1 - p1) ** 2 + (p2 - low2) ** 2),
    )


def t_quantile(probability: float, df: float) -> float:
    """Student's t quantile: the t with P(T <= t) = `probability` on `df` (> 0, not necessarily
    whole) degrees of freedom, from scipy.special.stdtrit. ValueError when df <= 0."""
    if not df > 0:
        raise ValueError(f"Degrees of freedom must be positive (got {df}).")
    # scipy takes ~0.4 s to import: only a page that draws an interval of a mean should pay it,
    # not every process that loads outcomes' models.
    from scipy.special import stdtrit  # noqa: PLC0415

    return float(stdtrit(df, probability))


def t_interval(*, mean: float, sd: float, n: int) -> tuple[float, float]:
    """mean ± t(0.975; n-1)·sd/√n: the 95% interval of a mean of n values whose sample standard
    deviation is sd (Student 1908; e.g. the sleep data's 10 differences, mean 1.58, sd 1.230,
    give 0.700 to 2.460). ValueError when n < 2 or sd < 0."""
    if n < 2 or sd < 0:
        raise ValueError(f"A t interval needs n >= 2 and sd >= 0 (got n={n}, sd={sd}).")
    half = t_quantile(0.5 + CONFIDENCE / 2, n - 1) * sd / math.sqrt(n)
    return mean - half, mean + half


def welch_difference(
    *, mean1: float, sd1: float, n1: int, mean2: float, sd2: float, n2: int
) -> tuple[float, float, float]:
    """mean1 - mean2 with Welch's 95% interval: d ± t(0.975; ν)·√(s1²/n1 + s2²/n2), ν from the
    Welch-Satterthwaite formula (Welch 1947), so the arms need not share a variance (e.g. the
    sleep data's two groups, 0.75 and 2.33, give -1.58, -3.365 to 0.205 on 17.78 df).
    ValueError when either n < 2 or an sd < 0."""
    if n1 < 2 or n2 < 2 or sd1 < 0 or sd2 < 0:
        raise ValueError("Welch's interval needs two samples of at least 2 with sd >= 0.")
    v1, v2 = sd1 * sd1 / n1, sd2 * sd2 / n2
    d = mean1 - mean2
    if v1 + v2 == 0:
        return d, d, d
    df = (v1 + v2) ** 2 / (v1 * v1 / (n1 - 1) + v2 * v2 / (n2 - 1))
    half = t_quantile(0.5 + CONFIDENCE / 2, df) * math.sqrt(v1 + v2)
    return d, d - half, d + half


def pooled_mean_sd(groups: Sequence[tuple[int, float, float | None]]) -> tuple[int, float, float]:
    """The n, mean and sample sd of the values of several groups together, from each group's
    (n, mean, sd) (sd None or anything for a group of one). The sum of squares about the
    overall mean is Σ[(n_i - 1)·sd_i² + n_i·mean_i²] - N·mean². ValueError when N < 2."""
    total = sum(n for n, _m, _s in groups)
    if total < 2:
        raise ValueError("A pooled sd needs at least two values.")
    mean = sum(n * m for n, m, _s in groups) / total
    squares = sum((n - 1) * (s or 0.0) ** 2 + n * m * m for n, m, s in groups if n)
    return total, mean, math.sqrt(max(0.0, squares - total * mean * mean) / (total - 1))


def _interval_text(low: float, high: float, places: int, unit: str) -> str:
    return f"95% CI {low:.{places}f} to {high:.{places}f}{unit}"


@dataclass(frozen=True)
class Cell:
    """A share reported on a dashboard with its 95% Wilson interval, all in percent.

    `percent`, `lower` and `upper` are None when the cell is suppressed or n is 0; `lower` and
    `upper` are also None for a share made with interval=False (a headcount, not an estimate).
    """

    count: int
    n: int
    percent: float | None
    suppressed: bool
    lower: float | None = None
    upper: float | None = None

    def __str__(self) -> str:
        if self.suppressed:
            return SUPPRESSED_TEXT
        if self.percent is None:
            return NO_DATA_TEXT
        if self.lower is None or self.upper is None:
            return f"{self.percent:.0f}% (n={self.n})"
        return f"{self.percent:.0f}% ({_interval_text(self.lower, self.upper, 0, '%')}, n={self.n})"


def share(count: int, n: int, *, suppress_under: int = 0, interval: bool = True) -> Cell:
    """count out of n as a Cell with its Wilson interval (interval=False: without one). With
    `suppress_under` (e.g. 5), a cell resting on fewer than that many people is suppressed:
    neither its count, its percentage nor its interval is shown."""
    if n and n < suppress_under:
        return Cell(count=0, n=0, percent=None, suppressed=True)
    if not n:
        return Cell(count=count, n=n, percent=None, suppressed=False)
    low, high = wilson_interval(count, n) if interval else (None, None)
    return Cell(
        count=count,
        n=n,
        percent=100.0 * count / n,
        suppressed=False,
        lower=None if low is None else 100.0 * low,
        upper=None if high is None else 100.0 * high,
    )


@dataclass(frozen=True)
class Mean:
    """A mean reported on a dashboard with its 95% t interval, in the measure's unit.

    `mean` is None when suppressed or n is 0; `lower` and `upper` are None then and when n < 2
    (one value has no spread). `sd` is the sample standard deviation, kept for comparisons.
    """

    n: int
    mean: float | None
    sd: float | None
    lower: float | None
    upper: float | None
    suppressed: bool
    unit: str = ""  # as the page says it after a number: " days", "" for a rating

    def __str__(self) -> str:
        if self.suppressed:
            return SUPPRESSED_TEXT
        if self.mean is None:
            return NO_DATA_TEXT
        if self.lower is None or self.upper is None:
            return f"{self.mean:.1f}{self.unit} (n={self.n})"
        interval = _interval_text(self.lower, self.upper, 1, self.unit)
        return f"{self.mean:.1f}{self.unit} ({interval}, n={self.n})"


def mean_estimate(
    *,
    n: int,
    mean: float | Decimal | None,
    sd: float | Decimal | None,
    suppress_under: int = 0,
    unit: str = "",
    bounds: tuple[float, float] | None = None,
) -> Mean:
    """A Mean of n values with their mean and sample sd (as SQL's avg and stddev_samp give
    them; sd None for n < 2), with its t interval, clipped to `bounds` when the measure has
    them (a rating of 0-3, days >= 0). Suppressed below `suppress_under` values, like share."""
    if n and n < suppress_under:
        return Mean(n=0, mean=None, sd=None, lower=None, upper=None, suppressed=True, unit=unit)
    if not n or mean is None:
        return Mean(n=n, mean=None, sd=None, lower=None, upper=None, suppressed=False, unit=unit)
    value, spread = float(mean), None if sd is None else float(sd)
    low: float | None = None
    high: float | None = None
    if n >= 2 and spread is not None:
        low, high = t_interval(mean=value, sd=spread, n=n)
        if bounds is not None:
            low, high = max(low, bounds[0]), min(high, bounds[1])
    return Mean(n=n, mean=value, sd=spread, lower=low, upper=high, suppressed=False, unit=unit)


@dataclass(frozen=True)
class Difference:
    """POD minus TAU with its 95% interval: percentage points between two shares (Newcombe
    1998b), or the measure's unit between two means (Welch 1947). The three numbers are None
    when either side is suppressed or has too few values; `n` counts both arms."""

    estimate: float | None
    lower: float | None
    upper: float | None
    n: int
    suppressed: bool
    unit: str  # POINTS between shares, the means' unit between means

    def __str__(self) -> str:
        if self.suppressed:
            return SUPPRESSED_TEXT
        if self.estimate is None or self.lower is None or self.upper is None:
            return NO_DATA_TEXT
        places = 0 if self.unit == POINTS else 1
        interval = _interval_text(self.lower, self.upper, places, "")
        return f"{self.estimate:+.{places}f}{self.unit} ({interval})"


POINTS = " points"  # percentage points


def share_difference(first: Cell, second: Cell) -> Difference:
    """first - second in percentage points with Newcombe's hybrid score interval."""
    n, hidden = first.n + second.n, first.suppressed or second.suppressed
    if hidden or not first.n or not second.n:
        return Difference(None, None, None, n=n, suppressed=hidden, unit=POINTS)
    d, low, high = newcombe_difference(first.count, first.n, second.count, second.n)
    return Difference(100 * d, 100 * low, 100 * high, n=n, suppressed=False, unit=POINTS)


def mean_difference(first: Mean, second: Mean) -> Difference:
    """first - second with Welch's interval (no figure when either has fewer than 2 values)."""
    n, hidden = first.n + second.n, first.suppressed or second.suppressed
    if hidden or first.mean is None or second.mean is None or first.sd is None:
        return Difference(None, None, None, n=n, suppressed=hidden, unit=first.unit)
    if second.sd is None or first.n < 2 or second.n < 2:
        return Difference(None, None, None, n=n, suppressed=False, unit=first.unit)
    d, low, high = welch_difference(
        mean1=first.mean, sd1=first.sd, n1=first.n, mean2=second.mean, sd2=second.sd, n2=second.n
    )
    return Difference(d, low, high, n=n, suppressed=False, unit=first.unit)


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
