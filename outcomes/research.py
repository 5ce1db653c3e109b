"""The research export: a pseudonymised data set for the trial's statisticians, one row per
person and outcome time point, and its data dictionary, both generated from COLUMNS.

What it holds and why:
- **Study ids, never NHS numbers.** A person's study id is "P" and the first 16 hex digits of
  HMAC-SHA256(settings.POD_RESEARCH_ID_KEY, "pod-study-id:<person id>"). It is the same in
  every export for as long as the key is kept, so exports can be merged and compared; it
  cannot be turned back into the person, or matched to another data set, without the key,
  which lives in the secret store, not in the database or its backups. A stored table of
  random ids would do the same but is one more table of identifiers to protect, migrate and
  audit; the HMAC needs nothing stored. (64 bits: two people sharing an id is about as likely
  as 1 in 3 × 10⁷ among a million people.)
- **No dates.** Every date is given as days from the person's baseline assessment (negative
  before it); a person without a baseline has the days left blank and `baseline_recorded` no.
  No name, NHS number, date of birth, address or free text is exported.
- **Every outcome and measure.** The outcome assessment's fields, and for each scored or
  licensed measure the one completed nearest the assessment, within rules.FOLLOW_UP_WINDOW
  either side (the earlier on a tie), with its day. Measures with no assessment that near are
  not in this file.
- **Time to relapse.** `relapse_day` when the relapse's date is known; otherwise the relapse
  lies after the person's previous assessment (its `assessment_day`) and on or before this one,
  so the statisticians can fit an interval-censored model (the page uses the mid-point:
  outcomes/survival.py).
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from outcomes import rules, scoring

Value = str | int | Decimal | bool | None


@dataclass(frozen=True)
class AssessmentRecord:
    """One assessment with what the export needs about its person (outcomes.selectors)."""

    person_id: int
    trust_code: str
    team: str
    arm: str
    timepoint_months: int
    assessed_on: date
    symptom_level: str
    relapse: bool
    relapse_on: date | None
    hospital_bed_days: int
    disability_benefit: bool
    neuroleptic_use: bool
    work_or_study: bool


@dataclass(frozen=True)
class MeasureRecord:
    """A scored measure (item scores and scores) or a licensed one (score only)."""

    person_id: int
    name: str  # a ScoredMeasure instrument or a LicensedMeasure name
    completed_on: date
    items: tuple[int, ...] = ()
    total: int | None = None
    band: str = ""
    life_domains_mean: Decimal | None = None
    treatment_mean: Decimal | None = None
    score: Decimal | None = None


@dataclass(frozen=True)
class ExportRow:
    """What the columns read: the assessment, its person's baseline and study id, and the
    measures matched to it by name."""

    study_id: str
    assessment: AssessmentRecord
    baseline_on: date | None
    measures: dict[str, MeasureRecord]

    def day(self, when: date | None) -> int | None:
        """Days from the baseline assessment; None without a baseline or a date."""
        if when is None or self.baseline_on is None:
            return None
        return (when - self.baseline_on).days


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "text", "code", "integer", "decimal", "yes/no"
    unit: str
    values: str  # the allowed values or range
    description: str
    value: Callable[[ExportRow], Value]


def study_id(person_id: int, *, key: str) -> str:
    """The person's study id: 'P' and 16 upper-case hex digits of HMAC-SHA256(key,
    'pod-study-id:<person_id>'). ValueError for an empty key."""
    if not key:
        raise ValueError("The research export needs settings.POD_RESEARCH_ID_KEY.")
    digest = hmac.new(key.encode(), f"pod-study-id:{person_id}".encode(), hashlib.sha256)
    return "P" + digest.hexdigest()[:16].upper()


def _a(row: ExportRow) -> AssessmentRecord:
    return row.assessment


def _measure_columns(name: str, prefix: str, what: str) -> list[Column]:
    """The day column every measure has, and those of its kind."""

    def get(row: ExportRow) -> MeasureRecord | None:
        return row.measures.get(name)

    def day(row: ExportRow) -> Value:
        found = get(row)
        return None if found is None else row.day(found.completed_on)

    columns = [
        Column(
            f"{prefix}_day",
            "integer",
            "days",
            "any whole number",
            f"{what}: day it was completed, from the baseline assessment (blank: none within "
            f"{rules.FOLLOW_UP_WINDOW.days} days of this assessment)",
            day,
        )
    ]
    if name in scoring.LICENSED_RANGES:
        least, most = scoring.LICENSED_RANGES[name]

        def score(row: ExportRow) -> Value:
            found = get(row)
            return None if found is None else found.score

        return [
            *columns,
            Column(
                f"{prefix}_score",
                "decimal",
                "points",
                f"{least}-{most}",
                f"{what}: total score",
                score,
            ),
        ]
    count = scoring.ITEM_COUNTS[name]
    low, high = (1, 7) if name == "DIALOG" else (0, 3)

    def item(i: int) -> Callable[[ExportRow], Value]:
        def read(row: ExportRow) -> Value:
            found = get(row)
            return None if found is None or len(found.items) <= i else found.items[i]

        return read

    if name == "DIALOG":
        labels = [*scoring.DIALOG_LIFE_DOMAINS, *scoring.DIALOG_TREATMENT]
        columns += [
            Column(
                f"{prefix}_life_domains_mean",
                "decimal",
                "points",
                "1-7",
                f"{what}: mean of items 1-8",
                lambda r: _field(get(r), "life_domains_mean"),
            ),
            Column(
                f"{prefix}_treatment_mean",
                "decimal",
                "points",
                "1-7",
                f"{what}: mean of items 9-11",
                lambda r: _field(get(r), "treatment_mean"),
            ),
        ]
    else:
        labels = [f"item {i}" for i in range(1, count + 1)]
        bands = ", ".join(
            b for _top, b in (scoring.PHQ9_BANDS if name == "PHQ9" else scoring.GAD7_BANDS)
        )
        columns += [
            Column(
                f"{prefix}_total",
                "integer",
                "points",
                f"0-{3 * count}",
                f"{what}: total of the items",
                lambda r: _field(get(r), "total"),
            ),
            Column(
                f"{prefix}_band",
                "code",
                "",
                bands,
                f"{what}: severity band of the total",
                lambda r: _field(get(r), "band"),
            ),
        ]
    columns += [
        Column(
            f"{prefix}_item_{i + 1}",
            "integer",
            "points",
            f"{low}-{high}",
            f"{what}: {label}",
            item(i),
        )
        for i, label in enumerate(labels)
    ]
    return columns


def _field(found: MeasureRecord | None, name: str) -> Value:
    if found is None:
        return None
    value: Value = getattr(found, name)
    return value


COLUMNS: tuple[Column, ...] = (
    Column(
        "study_id",
        "text",
        "",
        "P + 16 hex digits",
        "The person's study id: the same in every export (never the NHS number)",
        lambda r: r.study_id,
    ),
    Column(
        "trust",
        "code",
        "",
        "the trust's code",
        "The trust of the person's team",
        lambda r: _a(r).trust_code,
    ),
    Column(
        "team",
        "text",
        "",
        "the team's name",
        "The person's team (the trial's cluster)",
        lambda r: _a(r).team,
    ),
    Column(
        "trial_arm",
        "code",
        "",
        "POD, TAU",
        "Trial arm: Peer-supported Open Dialogue or treatment as usual",
        lambda r: _a(r).arm,
    ),
    Column(
        "timepoint_months",
        "integer",
        "months",
        ", ".join(str(m) for m in rules.OUTCOME_TIMEPOINTS),
        "The outcome time point (0 = baseline)",
        lambda r: _a(r).timepoint_months,
    ),
    Column(
        "baseline_recorded",
        "yes/no",
        "",
        "1, 0",
        "Whether the person has a baseline assessment (0: every day column is blank)",
        lambda r: r.baseline_on is not None,
    ),
    Column(
        "assessment_day",
        "integer",
        "days",
        "0 at baseline",
        "Day of this assessment, from the baseline assessment",
        lambda r: r.day(_a(r).assessed_on),
    ),
    Column(
        "symptom_level",
        "code",
        "",
        "none, mild, moderate, severe",
        "Symptom level",
        lambda r: _a(r).symptom_level,
    ),
    Column(
        "relapse",
        "yes/no",
        "",
        "1, 0",
        "Relapsed since the previous time point",
        lambda r: _a(r).relapse,
    ),
    Column(
        "relapse_date_known",
        "yes/no",
        "",
        "1, 0",
        "Whether the relapse's date was recorded (0 with a relapse: it lies after the "
        "previous assessment and on or before this one)",
        lambda r: _a(r).relapse_on is not None,
    ),
    Column(
        "relapse_day",
        "integer",
        "days",
        "any whole number",
        "Day the relapse began, from the baseline assessment (blank: unknown or no relapse)",
        lambda r: r.day(_a(r).relapse_on),
    ),
    Column(
        "hospital_bed_days",
        "integer",
        "days",
        f"0-{rules.MAX_HOSPITAL_BED_DAYS}",
        "Hospital bed-days since the previous time point",
        lambda r: _a(r).hospital_bed_days,
    ),
    Column(
        "disability_benefit",
        "yes/no",
        "",
        "1, 0",
        "Claiming disability benefit",
        lambda r: _a(r).disability_benefit,
    ),
    Column(
        "neuroleptic_use",
        "yes/no",
        "",
        "1, 0",
        "Using neuroleptic (antipsychotic) medication",
        lambda r: _a(r).neuroleptic_use,
    ),
    Column(
        "work_or_study", "yes/no", "", "1, 0", "In work or study", lambda r: _a(r).work_or_study
    ),
    *_measure_columns("PHQ9", "phq9", "PHQ-9"),
    *_measure_columns("GAD7", "gad7", "GAD-7"),
    *_measure_columns("DIALOG", "dialog", "DIALOG"),
    *(
        column
        for name in scoring.LICENSED_RANGES
        for column in _measure_columns(name, name.lower().replace("-", ""), name)
    ),
)


def _nearest(measures: Sequence[MeasureRecord], on: date) -> dict[str, MeasureRecord]:
    """Of one person's measures, the one of each name completed nearest `on`, within the
    follow-up window either side; the earlier on a tie."""
    found: dict[str, MeasureRecord] = {}
    window = rules.FOLLOW_UP_WINDOW.days
    for measure in sorted(
        measures, key=lambda m: (abs((m.completed_on - on).days), m.completed_on)
    ):
        if abs((measure.completed_on - on).days) <= window:
            found.setdefault(measure.name, measure)
    return found


def export_rows(
    assessments: Sequence[AssessmentRecord], measures: Sequence[MeasureRecord], *, key: str
) -> list[ExportRow]:
    """One ExportRow per assessment, by study id and time point. ValueError without a key."""
    baselines = {a.person_id: a.assessed_on for a in assessments if a.timepoint_months == 0}
    by_person: dict[int, list[MeasureRecord]] = {}
    for measure in measures:
        by_person.setdefault(measure.person_id, []).append(measure)
    ids = {a.person_id: study_id(a.person_id, key=key) for a in assessments}
    rows = [
        ExportRow(
            study_id=ids[a.person_id],
            assessment=a,
            baseline_on=baselines.get(a.person_id),
            measures=_nearest(by_person.get(a.person_id, []), a.assessed_on),
        )
        for a in assessments
    ]
    rows.sort(key=lambda r: (r.study_id, r.assessment.timepoint_months))
    return rows


def _text(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def to_csv(rows: Sequence[ExportRow]) -> str:
    """The data set as CSV: a header of the column names, then one line per row."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.name for c in COLUMNS])
    for row in rows:
        writer.writerow([_text(c.value(row)) for c in COLUMNS])
    return out.getvalue()


DICTIONARY_HEADERS = ("column", "type", "unit", "values", "description")


def dictionary_rows() -> list[list[str]]:
    """The data dictionary: one row per column of the export, in its order."""
    return [[c.name, c.kind, c.unit, c.values, c.description] for c in COLUMNS]


def dictionary_csv() -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(DICTIONARY_HEADERS)
    writer.writerows(dictionary_rows())
    return out.getvalue()
