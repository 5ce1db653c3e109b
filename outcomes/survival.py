"""Time to relapse, the POD trial's primary outcome: how each person's time is derived from their
outcome assessments, and the shape of the analysis (outcomes.survival_analysis computes it
with lifelines; this module does not import it, so pages can name the results cheaply).

How event times are derived (relapse_times):
1. Time zero is the person's **baseline assessment** (time point 0), not their first referral.
   The trial compares POD with treatment as usual; people in the TAU arm are often imported
   from the trial's data and have no referral in POD at all, and a referral in POD is itself
   part of the POD arm's care. The baseline assessment is taken the same way in both arms, so
   time is measured from the same start in both. A person without one is left out (counted).
2. The first relapse is the relapse recorded at the earliest follow-up (12, 24, 60 months:
   "relapsed since the previous time point"). A relapse flag at baseline describes the time
   before it and is not an event.
3. Its date is `relapse_on` when known. When it is not, the relapse happened some time after the
   previous assessment and on or before this one: an interval-censored event. POD places it at
   the **mid-point** of that interval and flags it as approximated. Why not a full
   interval-censored analysis: lifelines offers interval censoring only for the Turnbull
   estimate (no confidence band) and parametric models, with no log-rank test and no Cox
   model, so one data set would no longer give the curve, the median, the test and the hazard
   ratio together. Why the mid-point rather than the assessment date: the assessment date puts
   every undated relapse at the end of its interval and so delays every such event by half an
   interval on average (up to 18 months between the 24- and 60-month assessments); the
   mid-point is unbiased when relapses fall evenly over the interval, and because the
   assessment schedule is the same in both arms its error largely cancels in the comparison
   (Law CG, Brookmeyer R. Effects of mid-point imputation on the analysis of doubly censored
   data. Stat Med 1992;11:1569-1578). The research export keeps both ends of every interval so
   the trial's statisticians can fit the interval-censored model.
4. A person who has not relapsed is right-censored at their last follow-up assessment. A
   person with no follow-up yet adds nothing to the curve and is left out (counted), as is one
   whose relapse is dated on or before their baseline (an error in the record).
5. Follow-ups dated on or before the baseline are data errors and are not used.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

ARMS = ("POD", "TAU")
DAYS_PER_MONTH = 365.25 / 12


def months(days: float) -> float:
    """Days as months of 365.25 / 12 days, as the page shows time."""
    return days / DAYS_PER_MONTH


@dataclass(frozen=True)
class AssessmentFact:
    """One outcome assessment, as far as time to relapse needs it (outcomes.selectors)."""

    person_id: int
    arm: str  # "POD" or "TAU"
    timepoint_months: int
    assessed_on: date
    relapse: bool
    relapse_on: date | None


@dataclass(frozen=True)
class RelapseTime:
    """One person's time from baseline to first relapse, or to censoring, in days."""

    person_id: int
    arm: str
    baseline_on: date
    days: float  # to the relapse (dated or mid-point), or to the last follow-up
    relapsed: bool
    approximated: bool  # a relapse without a date, placed at the mid-point of its interval
    # For an approximated relapse, the interval it lies in: after `interval_from` days and on
    # or before `interval_to` days from baseline. None otherwise.
    interval_from: int | None = None
    interval_to: int | None = None


@dataclass
class Cohort:
    """The people analysed and those left out, by reason."""

    times: list[RelapseTime] = field(default_factory=list)
    no_baseline: int = 0
    no_follow_up: int = 0
    relapse_before_baseline: int = 0

    @property
    def excluded(self) -> int:
        return self.no_baseline + self.no_follow_up + self.relapse_before_baseline


def _person_time(facts: list[AssessmentFact], baseline: AssessmentFact) -> RelapseTime | str:
    """Steps 2-5 for one person: their RelapseTime, or why they are left out."""
    start = baseline.assessed_on
    follow_ups = sorted(
        (a for a in facts if a.timepoint_months > 0 and a.assessed_on > start),
        key=lambda a: (a.timepoint_months, a.assessed_on),
    )
    if not follow_ups:
        return "no_follow_up"
    previous = start
    for assessment in follow_ups:
        if assessment.relapse:
            if assessment.relapse_on is not None:
                days = (assessment.relapse_on - start).days
                if days <= 0:
                    return "relapse_before_baseline"
                return RelapseTime(baseline.person_id, baseline.arm, start, days, True, False)
            low, high = (previous - start).days, (assessment.assessed_on - start).days
            return RelapseTime(
                baseline.person_id,
                baseline.arm,
                start,
                (low + high) / 2,
                relapsed=True,
                approximated=True,
                interval_from=low,
                interval_to=high,
            )
        previous = assessment.assessed_on
    last = (follow_ups[-1].assessed_on - start).days
    return RelapseTime(baseline.person_id, baseline.arm, start, last, False, False)


def relapse_times(
    facts: Iterable[AssessmentFact],
    *,
    baseline_from: date | None = None,
    baseline_to: date | None = None,
) -> Cohort:
    """Each person's time to first relapse (the module's steps 1-5), for people whose
    baseline falls from `baseline_from` to `baseline_to` (both included; None: open). People in
    neither arm are ignored; the rest are in `times` or counted in the Cohort's reasons."""
    by_person: dict[int, list[AssessmentFact]] = defaultdict(list)
    for fact in facts:
        if fact.arm in ARMS:
            by_person[fact.person_id].append(fact)
    cohort = Cohort()
    for person_id in sorted(by_person):
        assessments = by_person[person_id]
        baseline = next((a for a in assessments if a.timepoint_months == 0), None)
        if baseline is None:
            cohort.no_baseline += 1
            continue
        if baseline_from and baseline.assessed_on < baseline_from:
            continue
        if baseline_to and baseline.assessed_on > baseline_to:
            continue
        found = _person_time(assessments, baseline)
        if isinstance(found, RelapseTime):
            cohort.times.append(found)
        elif found == "no_follow_up":
            cohort.no_follow_up += 1
        else:
            cohort.relapse_before_baseline += 1
    return cohort


# --- The analysis' results (computed by outcomes.survival_analysis) ---------------------------


@dataclass(frozen=True)
class Step:
    """The Kaplan-Meier estimate of one arm at one time where something happened."""

    days: float
    at_risk: int  # just before `days`
    relapses: int
    approximated: int  # of the relapses, how many are placed at a mid-point
    censored: int
    survival: float  # share still without a relapse, 0-1
    lower: float  # 95% band (Greenwood's variance on the log(-log) scale)
    upper: float


@dataclass(frozen=True)
class ArmCurve:
    arm: str
    people: int
    relapses: int
    approximated: int
    censored: int
    suppressed: bool  # fewer than rules.SMALL_CELL people: nothing but that is shown
    steps: tuple[Step, ...] = ()  # from day 0, in time order
    # Median time to relapse in days and its 95% interval; None: not reached (the curve, or
    # the band's end, never falls to 50%).
    median: float | None = None
    median_lower: float | None = None
    median_upper: float | None = None


@dataclass(frozen=True)
class Comparison:
    """POD against TAU. Each figure is None when it cannot be estimated (`note` says why)."""

    logrank_chi2: float | None = None  # log-rank test statistic, 1 degree of freedom
    logrank_p: float | None = None
    expected_pod: float | None = None  # relapses expected in POD were the arms alike
    expected_tau: float | None = None
    hazard_ratio: float | None = None  # Cox: hazard of relapse in POD over TAU
    hazard_lower: float | None = None
    hazard_upper: float | None = None
    hazard_p: float | None = None
    note: str = ""


@dataclass(frozen=True)
class RelapseAnalysis:
    arms: tuple[ArmCurve, ...]  # POD, TAU
    comparison: Comparison
    cohort: Cohort
    # Numbers at risk under the chart's axis: (month, {arm: people at risk}).
    at_risk: tuple[tuple[int, dict[str, int]], ...]
    axis_months: float  # where the x axis ends: the last mark or the longest time, if later


def at_risk_ticks(longest_days: float) -> list[int]:
    """Month marks for the x axis and the numbers-at-risk row: every 6 months up to 2 years'
    follow-up, every 12 beyond, to the longest time (a mark a quarter-step short of it is
    close enough: assessments "at 60 months" fall a few days either side), at least one."""
    longest = months(longest_days)
    step = 6 if longest <= 24 else 12
    ticks = [0]
    while ticks[-1] < longest - step / 4:
        ticks.append(ticks[-1] + step)
    return ticks if len(ticks) > 1 else [0, step]


def at_risk_at(times: Iterable[RelapseTime], month: int) -> int:
    """People whose time (to relapse or censoring) reaches `month`: still at risk there."""
    return sum(1 for t in times if months(t.days) >= month)
