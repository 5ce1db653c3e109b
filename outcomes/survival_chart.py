"""The time-to-relapse chart: Kaplan-Meier step curves for POD and TAU with their 95% bands, a
mark at each censored time, a dotted line at 50% (where the median is read), and the numbers
at risk under the axis. Drawn on the server as SVG like outcomes.charts, whose colours, dash
patterns and markers it shares: each arm's curve has its own dash pattern and each band its own
fill pattern (hatched, dotted), so colour is never the only signal."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from django.utils.safestring import SafeString, mark_safe

from outcomes.charts import COLOURS, DASHES, MARKERS, WIDTH, marker
from outcomes.survival import ArmCurve, RelapseAnalysis, months

LEFT, RIGHT, TOP, PLOT_HEIGHT = 56, 16, 14, 220
_X = Callable[[float], float]  # days to the x of the plot
_Y = Callable[[float], float]  # a share (0-1) to the y of the plot
AXIS_LABELS = 34  # below the plot: tick labels and the axis title
RISK_ROW = 17
# Each arm's band pattern: diagonal hatching for the first, dots for the second.
PATTERNS = (
    '<pattern id="km-band-0" width="6" height="6" patternUnits="userSpaceOnUse" '
    'patternTransform="rotate(45)"><rect width="6" height="6" fill="{colour}" '
    'fill-opacity="0.10"/><line x1="0" y1="0" x2="0" y2="6" stroke="{colour}" '
    'stroke-width="1.6" stroke-opacity="0.45"/></pattern>',
    '<pattern id="km-band-1" width="6" height="6" patternUnits="userSpaceOnUse">'
    '<rect width="6" height="6" fill="{colour}" fill-opacity="0.10"/>'
    '<circle cx="3" cy="3" r="1.3" fill="{colour}" fill-opacity="0.55"/></pattern>',
)


def relapse_chart(analysis: RelapseAnalysis, *, title: str) -> SafeString:
    """The chart for `analysis` (outcomes.survival_analysis.analyse): an SVG of WIDTH, its
    height growing with the arms shown in the numbers-at-risk rows."""
    shown = [(k, curve) for k, curve in enumerate(analysis.arms) if curve.steps]
    ticks = [month for month, _arms in analysis.at_risk]
    last = analysis.axis_months or 6
    plot_w = WIDTH - LEFT - RIGHT
    risk_top = TOP + PLOT_HEIGHT + AXIS_LABELS + 14
    height = risk_top + RISK_ROW * (len(shown) + 1) + 28

    def x_at(days: float) -> float:
        return LEFT + plot_w * min(months(days), last) / last

    def y_at(share: float) -> float:
        return TOP + PLOT_HEIGHT * (1 - share)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'class="pod-chart" aria-label="{escape(title)} (the numbers are in the tables below)">',
        f"<title>{escape(title)}</title>",
        "<defs>",
        *(PATTERNS[k % 2].format(colour=COLOURS[k % 6]) for k in range(len(analysis.arms))),
        "</defs>",
    ]
    parts += _axes(ticks, x_at, y_at)
    for k, curve in shown:
        parts += _curve(k, curve, x_at, y_at)
    parts += _at_risk(analysis, shown, ticks, x_at, risk_top)
    parts += _legend(shown, height - 10)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every text above is escaped


def _axes(ticks: list[int], x_at: _X, y_at: _Y) -> list[str]:
    parts = []
    for share in (0, 0.25, 0.5, 0.75, 1):
        y = y_at(share)
        dash = ' stroke-dasharray="2 3"' if share == 0.5 else ""
        colour = "#4c6272" if share == 0.5 else "#d8dde0"
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{colour}"{dash}/>'
        )
        parts.append(
            f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="11">'
            f"{share * 100:.0f}%</text>"
        )
    bottom = y_at(0)
    for month in ticks:
        x = x_at(month * 365.25 / 12)
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{bottom}" y2="{bottom + 4}" stroke="#4c6272"/>'
        )
        parts.append(
            f'<text x="{x:.1f}" y="{bottom + 16}" text-anchor="middle" font-size="11">'
            f"{month}</text>"
        )
    parts.append(
        f'<text x="{LEFT + (WIDTH - LEFT - RIGHT) / 2:.0f}" y="{bottom + 30}" '
        'text-anchor="middle" font-size="11">Months from the baseline assessment</text>'
    )
    parts.append(
        f'<text x="12" y="{y_at(0.5):.0f}" font-size="11" text-anchor="middle" '
        f'transform="rotate(-90 12 {y_at(0.5):.0f})">Without a relapse</text>'
    )
    return parts


def _curve(k: int, curve: ArmCurve, x_at: _X, y_at: _Y) -> list[str]:
    """The band as a step-shaped polygon, the curve as a step path, and a tick at each time
    someone was censored."""
    colour, dash = COLOURS[k % 6], DASHES[k % 6]
    steps = curve.steps
    ends = [x_at(s.days) for s in steps[1:]] + [x_at(steps[-1].days)]
    upper = [
        f"{x_at(s.days):.1f},{y_at(s.upper):.1f} {end:.1f},{y_at(s.upper):.1f}"
        for s, end in zip(steps, ends, strict=True)
    ]
    lower = [
        f"{end:.1f},{y_at(s.lower):.1f} {x_at(s.days):.1f},{y_at(s.lower):.1f}"
        for s, end in reversed(list(zip(steps, ends, strict=True)))
    ]
    parts = [
        f'<polygon class="km-band" points="{" ".join(upper + lower)}" '
        f'fill="url(#km-band-{k % 2})" stroke="none"/>'
    ]
    path = [f"M{x_at(steps[0].days):.1f},{y_at(steps[0].survival):.1f}"]
    for step in steps[1:]:
        path.append(f"H{x_at(step.days):.1f}V{y_at(step.survival):.1f}")
    parts.append(
        f'<path class="km-curve" d="{"".join(path)}" fill="none" stroke="{colour}" '
        f'stroke-width="2.2" stroke-dasharray="{dash}"/>'
    )
    for step in steps:
        if step.censored:
            x, y = x_at(step.days), y_at(step.survival)
            parts.append(
                f'<line class="km-censored" x1="{x:.1f}" x2="{x:.1f}" y1="{y - 4:.1f}" '
                f'y2="{y + 4:.1f}" stroke="{colour}" stroke-width="1.4"/>'
            )
    return parts


def _at_risk(
    analysis: RelapseAnalysis,
    shown: list[tuple[int, ArmCurve]],
    ticks: list[int],
    x_at: _X,
    top: float,
) -> list[str]:
    parts = [f'<text x="4" y="{top}" font-size="11" font-weight="bold">Number at risk</text>']
    for row, (k, curve) in enumerate(shown, start=1):
        y = top + RISK_ROW * row
        parts.append(marker(MARKERS[k % 6], 8, y - 4, COLOURS[k % 6]))
        parts.append(f'<text x="16" y="{y}" font-size="11">{escape(curve.arm)}</text>')
        for month, arms in analysis.at_risk:
            if month in ticks and curve.arm in arms:
                parts.append(
                    f'<text x="{x_at(month * 365.25 / 12):.1f}" y="{y}" text-anchor="middle" '
                    f'font-size="11">{arms[curve.arm]}</text>'
                )
    return parts


def _legend(shown: list[tuple[int, ArmCurve]], y: float) -> list[str]:
    parts = []
    x = float(LEFT)
    for k, curve in shown:
        colour = COLOURS[k % 6]
        parts.append(
            f'<rect x="{x:.0f}" y="{y - 9}" width="22" height="12" fill="url(#km-band-{k % 2})"/>'
        )
        parts.append(
            f'<line x1="{x:.0f}" x2="{x + 22:.0f}" y1="{y - 3}" y2="{y - 3}" stroke="{colour}" '
            f'stroke-width="2.2" stroke-dasharray="{DASHES[k % 6]}"/>'
        )
        label = f"{curve.arm} (95% band)"
        parts.append(f'<text x="{x + 28:.0f}" y="{y + 1}" font-size="11">{escape(label)}</text>')
        x += 40 + 6.5 * len(label)
    parts.append(
        f'<text x="{x:.0f}" y="{y + 1}" font-size="11">| censored · dotted line: 50%</text>'
    )
    return parts
