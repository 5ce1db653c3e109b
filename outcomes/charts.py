"""Server-rendered SVG charts. No JavaScript, no CDN: the page carries the picture, and every
chart sits beside a table of the same numbers (the table is the accessible version; the SVG
has role="img" and a text label). Series are told apart by marker shape and dash pattern as
well as colour, so colour is never the only signal. A series may carry a 95% interval for each
value, drawn as an error bar with caps (survival curves: outcomes/survival_chart.py)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from django.utils.safestring import SafeString, mark_safe

from outcomes.rules import NO_DATA_TEXT, SUPPRESSED_TEXT

COLOURS = ("#005eb8", "#d5281b", "#007f3b", "#7c2855", "#ed8b00", "#330072")
DASHES = ("", "6 3", "2 3", "8 3 2 3", "1 2", "10 4")
MARKERS = ("circle", "square", "triangle", "diamond", "circle", "square")
WIDTH = 640  # of every chart's viewBox; the page scales it to the column
LINE_CHART_HEIGHT = 260


Interval = tuple[float, float] | None


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float | None]
    # The 95% interval of each value (None: none), in the values' unit; empty: no intervals.
    intervals: Sequence[Interval] = ()
    # Why a value is None: SUPPRESSED (too few people to show) or NO_DATA; empty: no data.
    missing: Sequence[str | None] = ()

    def why_missing(self, i: int) -> str:
        """SUPPRESSED or NO_DATA for the None value at `i`."""
        return (self.missing[i] if i < len(self.missing) else None) or NO_DATA


SUPPRESSED = "suppressed"
NO_DATA = "no data"
# How a chart marks a missing value, and what its legend says of the mark.
MISSING_MARK = {SUPPRESSED: "s", NO_DATA: "\u00d7"}
MISSING_TEXT = {SUPPRESSED: SUPPRESSED_TEXT, NO_DATA: NO_DATA_TEXT}


def missing_of(estimates: Sequence[Any]) -> list[str | None]:
    """Why each estimate (a rules.Cell or rules.Mean) has no value: SUPPRESSED, NO_DATA, or
    None where it has one."""
    found: list[str | None] = []
    for estimate in estimates:
        if getattr(estimate, "suppressed", False):
            found.append(SUPPRESSED)
        elif estimate is None or getattr(estimate, "percent", getattr(estimate, "mean", 0)) is None:
            found.append(NO_DATA)
        else:
            found.append(None)
    return found


def nice_ticks(largest: float, *, most: int = 5) -> list[float]:
    """Evenly spaced tick values from 0 covering `largest`, the step 1, 2 or 5 times a power of
    ten, at most `most` steps: 0, 20, 40, 60, 80, 100 for 100; 0, 2, 4, 6 for 5.5."""
    if largest <= 0:
        return [0.0, 1.0]
    raw = largest / most
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    if largest >= 1:  # counts: whole-number steps
        step = max(step, 1.0)
    count = math.ceil(largest / step - 1e-9)
    return [step * i for i in range(count + 1)]


def intervals_of(estimates: Sequence[Any]) -> list[Interval]:
    """The (lower, upper) of each estimate (a rules.Cell or rules.Mean), None where it has
    none (suppressed, no data, a single value)."""
    found: list[Interval] = []
    for estimate in estimates:
        low, high = getattr(estimate, "lower", None), getattr(estimate, "upper", None)
        found.append(None if low is None or high is None else (float(low), float(high)))
    return found


def _error_bar(x1: float, y1: float, x2: float, y2: float, colour: str) -> str:
    """An error bar from (x1, y1) to (x2, y2) with a cap across each end."""
    vertical = abs(x2 - x1) < abs(y2 - y1)
    caps = []
    for x, y in ((x1, y1), (x2, y2)):
        if vertical:
            caps.append(f'<line x1="{x - 4:.1f}" x2="{x + 4:.1f}" y1="{y:.1f}" y2="{y:.1f}"/>')
        else:
            caps.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y - 4:.1f}" y2="{y + 4:.1f}"/>')
    line = f'<line x1="{x1:.1f}" x2="{x2:.1f}" y1="{y1:.1f}" y2="{y2:.1f}"/>'
    # A white halo under the bar keeps it visible across a filled bar of its own colour.
    return (
        f'<g class="error-bar"><g stroke="#fff" stroke-width="3.2">{line}{"".join(caps)}</g>'
        f'<g stroke="{colour}" stroke-width="1.2">{line}{"".join(caps)}</g></g>'
    )


def marker(kind: str, x: float, y: float, colour: str) -> str:
    if kind == "square":
        return f'<rect x="{x - 3.5:.1f}" y="{y - 3.5:.1f}" width="7" height="7" fill="{colour}"/>'
    if kind == "triangle":
        return (
            f'<polygon points="{x:.1f},{y - 4.5:.1f} {x - 4:.1f},{y + 3.5:.1f} '
            f'{x + 4:.1f},{y + 3.5:.1f}" fill="{colour}"/>'
        )
    if kind == "diamond":
        return (
            f'<polygon points="{x:.1f},{y - 4.5:.1f} {x + 4.5:.1f},{y:.1f} {x:.1f},'
            f'{y + 4.5:.1f} {x - 4.5:.1f},{y:.1f}" fill="{colour}"/>'
        )
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"/>'


def line_chart(
    *,
    title: str,
    x_labels: Sequence[str],
    series: Sequence[Series],
    y_max: float | None = None,
    y_unit: str = "",
) -> SafeString:
    """A line chart of one or more series over the same x labels, the y axis from 0 to `y_max`
    (or to the first even tick above the largest value or interval end when None), with evenly
    spaced ticks (`nice_ticks`) labelled with `y_unit`. None values leave gaps, each marked on
    the axis as suppressed ("s") or no data ("x") as the series' `missing` says; a series'
    intervals are drawn as vertical error bars."""
    width, height = WIDTH, LINE_CHART_HEIGHT
    left, right, top, bottom = 44, 12, 16, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for s in series for v in s.values if v is not None]
    values += [iv[1] for s in series for iv in s.intervals if iv is not None]
    ticks = nice_ticks(y_max if y_max is not None else max([*values, 1]))
    top_value = ticks[-1]
    n = max(len(x_labels), 1)

    def x_at(i: int) -> float:
        return left + (plot_w * (i + 0.5) / n)

    def y_at(v: float) -> float:
        return top + plot_h - (plot_h * min(v, top_value) / top_value if top_value else 0)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'class="pod-chart" aria-label="{escape(title)} (the numbers are in the table below)">',
        f"<title>{escape(title)}</title>",
    ]
    decimals = 0 if all(float(t).is_integer() for t in ticks) else 1
    for tick_value in ticks:
        y = y_at(tick_value)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d8dde0"/>'
        )
        parts.append(
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" '
            f'font-size="11">{tick_value:.{decimals}f}{escape(y_unit)}</text>'
        )
    step = max(1, n // 8)
    for i, label in enumerate(x_labels):
        if i % step == 0:
            parts.append(
                f'<text x="{x_at(i):.1f}" y="{height - bottom + 16}" '
                f'text-anchor="middle" font-size="11">{escape(label)}</text>'
            )
    shown_missing: set[str] = set()
    for k, s in enumerate(series):
        colour, dash, shape = COLOURS[k % 6], DASHES[k % 6], MARKERS[k % 6]
        segment: list[str] = []
        segments: list[list[str]] = []
        for i, v in enumerate(s.values):
            if v is None:
                if segment:
                    segments.append(segment)
                segment = []
                why = s.why_missing(i)
                shown_missing.add(why)
                parts.append(
                    f'<text x="{x_at(i) + (k - (len(series) - 1) / 2) * 7:.1f}" '
                    f'y="{top + plot_h - 3 - 9 * k:.1f}" text-anchor="middle" font-size="10" '
                    f'fill="{colour}" class="missing-{why.replace(" ", "-")}">'
                    f"{MISSING_MARK[why]}<title>{escape(s.label)}: "
                    f"{escape(MISSING_TEXT[why])}</title></text>"
                )
                continue
            segment.append(f"{x_at(i):.1f},{y_at(v):.1f}")
            interval = s.intervals[i] if i < len(s.intervals) else None
            if interval is not None:
                # Offset a little per series so overlapping bars stay apart.
                bar_x = x_at(i) + (k - (len(series) - 1) / 2) * 3
                parts.append(_error_bar(bar_x, y_at(interval[0]), bar_x, y_at(interval[1]), colour))
            parts.append(marker(shape, x_at(i), y_at(v), colour))
        if segment:
            segments.append(segment)
        for seg in segments:
            parts.append(
                f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                f'stroke-dasharray="{dash}" points="{" ".join(seg)}"/>'
            )
    # Legend under the axis labels.
    x: float = left
    for k, s in enumerate(series):
        colour = COLOURS[k % 6]
        parts.append(
            f'<line x1="{x}" x2="{x + 18}" y1="{height - 10}" y2="{height - 10}" '
            f'stroke="{colour}" stroke-width="2" stroke-dasharray="{DASHES[k % 6]}"/>'
        )
        parts.append(marker(MARKERS[k % 6], x + 9, height - 10, colour))
        parts.append(f'<text x="{x + 22}" y="{height - 6}" font-size="11">{escape(s.label)}</text>')
        x += 30 + 6.5 * len(s.label)
    for why in (SUPPRESSED, NO_DATA):
        if why in shown_missing:
            label = f"{MISSING_MARK[why]} {MISSING_TEXT[why]}"
            parts.append(f'<text x="{x}" y="{height - 6}" font-size="11">{escape(label)}</text>')
            x += 20 + 6.5 * len(label)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every text above is escaped


def bar_chart(
    *,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    x_max: float = 100,
    unit: str = "%",
) -> SafeString:
    """Horizontal grouped bars (one group per label, one bar per series), from 0 to `x_max`,
    value and `unit` printed at the end of each bar, a series' intervals as horizontal error
    bars across it. A None value is drawn as 'no data'."""
    width = WIDTH
    bar_h, gap, left, right, top = 12, 10, 10, 50, 8
    group_h = len(series) * (bar_h + 2) + 18
    height = top + len(labels) * (group_h + gap) + 24
    plot_w = width - left - right
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'class="pod-chart" aria-label="{escape(title)} (the numbers are in the table below)">',
        f"<title>{escape(title)}</title>",
    ]
    y = top
    for i, label in enumerate(labels):
        parts.append(f'<text x="{left}" y="{y + 11}" font-size="11">{escape(label)}</text>')
        y += 16
        for k, s in enumerate(series):
            v = s.values[i]
            colour = COLOURS[k % 6]
            if v is None:
                why = s.why_missing(i)
                parts.append(
                    f'<text x="{left}" y="{y + 10}" font-size="10" '
                    f'class="missing-{why.replace(" ", "-")}">'
                    f"{escape(s.label)}: {escape(MISSING_TEXT[why])}</text>"
                )
            else:
                w = plot_w * min(v, x_max) / x_max if x_max else 0
                pattern = "" if k == 0 else ' fill-opacity="0.55"'
                parts.append(
                    f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" '
                    f'fill="{colour}"{pattern}/>'
                )
                end = w
                interval = s.intervals[i] if i < len(s.intervals) else None
                if interval is not None and x_max:
                    low, high = (plot_w * min(e, x_max) / x_max for e in interval)
                    mid = y + bar_h / 2
                    parts.append(_error_bar(left + low, mid, left + high, mid, "#212b32"))
                    end = max(w, high)
                decimals = 0 if x_max > 10 else 1
                parts.append(
                    f'<text x="{left + end + 6:.1f}" y="{y + 10}" font-size="10">'
                    f"{escape(s.label)} {v:.{decimals}f}{escape(unit)}</text>"
                )
            y += bar_h + 2
        y += gap + 2
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every text above is escaped
