"""Scoring of the free-to-use measures (PHQ-9, GAD-7, DIALOG) and the ranges of the licensed
ones, as pure functions: the form, the service and the research export score and describe a
measure from here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

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
