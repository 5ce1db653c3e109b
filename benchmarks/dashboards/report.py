"""The dashboard benchmark's figures as console lines and as RESULTS.md."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field
from datetime import datetime

from benchmarks.dashboards.run import (
    FRESHNESS_TARGETS,
    FreshnessFigures,
    PageFigures,
    SectionFigures,
)

NOTES = [
    "## Notes",
    "",
    "- The query counts must hold constant: each section issues a fixed number of queries "
    "(1-4) whatever the data size, and the whole page the same number at 1,000 and at 50,000 "
    "people. Tests pin this (tests/outcomes/test_dashboard_figures.py, "
    "test_dashboard_access.py).",
    "- Planner settings: `jit = off` and `random_page_cost = 1.1`. The application sets both "
    "on every connection (pod/settings.py, DATABASES OPTIONS `-c jit=off -c "
    "random_page_cost=1.1`), and the benchmark also sets them on its database. With the "
    "defaults, JIT compilation adds about 0.4 s to every large dashboard query and the "
    "planner scans every meeting instead of walking the team's episodes.",
    "- ORM queries are built and compiled once per shape (outcomes/dashboard/query_cache.py) "
    "and then only executed: building and compiling them took 1-3 ms of Python each, several "
    "times PostgreSQL's time for one team at 1,000 people.",
    "- 'whole dashboard' SQL ms: every hand-written section run back to back, measured the "
    "same way as the ORM's whole dashboard (earlier runs summed the sections' warm medians).",
    "- Time is wall-clock on a shared 2-core machine, whose load average is recorded above each "
    "set of timings, with PostgreSQL's default 128 MB shared_buffers; single timings vary by up "
    "to about 2x from run to run (earlier runs under load 5-9 were that much slower), so treat "
    "the milliseconds as indicative and the ORM/SQL ratio (same process, same moment) as the "
    "comparison.",
    "- Where the time goes: 'attendance' reads the attendance stored on each held meeting "
    "(meetings 0006: Meeting.network_members_present, staff_present, core_team_present, set by "
    "meetings.services.meeting_attendance_refresh) index-only through Meeting (episode, "
    "actual_start) INCLUDE (id, those three) WHERE held, instead of walking every participant "
    "row (about 40,000 rows for one team); team-scoped queries list the team's episodes "
    "index-only through Episode (team, id) (meetings 0006). Earlier indexes: meetings "
    "0004/0005 (Participant, Prescription, CarePlanVersion, Episode (team, "
    "referral_received_at), Meeting (episode, actual_start)), networks 0005 (PeerContact).",
    "",
]


@dataclass(frozen=True)
class Size:
    """What was measured at one data size."""

    counts: dict[str, float]  # rows per table and "seconds" to fill; empty with --skip-fill
    sections: dict[str, dict[str, SectionFigures]]  # {scope: {section: figures}}
    pages: dict[str, PageFigures]  # {page: figures}
    load: tuple[float, float]  # load average before and after measuring
    freshness: dict[str, FreshnessFigures] = field(default_factory=dict)  # {dashboard: ...}


def console(
    sections: dict[str, dict[str, SectionFigures]],
    pages: dict[str, PageFigures],
    fresh: dict[str, FreshnessFigures] | None = None,
) -> str:
    lines = []
    for label, r in (fresh or {}).items():
        lines.append(
            f"  {label:<18} computed every request {r['baseline_ms']:8.1f} ms   kept "
            f"{r['kept_ms']:8.1f} ms   after the warm-up {r['warmed_ms']:8.1f} ms   "
            f"just expired {r['expired_ms']:8.1f} ms   "
            f"section just expired {r['section_expired_ms']:8.1f} ms"
        )
    for scope, figures in sections.items():
        for name, r in figures.items():
            lines.append(
                f"  {scope:<8} {name:<28} ORM {r['orm_queries']:>2}q {r['orm_ms']:8.1f} ms"
                f"   SQL {r['sql_queries']:>2}q {r['sql_ms']:8.1f} ms   agree={r['agree']}"
            )
    for label, page in pages.items():
        lines.append(f"  page {label:<40} {page['queries']:>2}q {page['ms']:8.1f} ms")
    return "\n".join(lines)


def _data_sizes(sizes: dict[int, Size]) -> list[str]:
    lines = []
    for people, size in sizes.items():
        if size.counts:
            lines += [f"## Data at {people:,} people", "", "| table | rows |", "|---|---:|"]
            lines += [f"| {t} | {n:,} |" for t, n in size.counts.items() if t != "seconds"]
            lines += ["", f"Generated in {size.counts['seconds']:.0f} s.", ""]
    return lines


def _query_counts(sizes: dict[int, Size]) -> list[str]:
    people = list(sizes)
    first = sizes[people[0]].sections["team"]
    lines = [
        "## Queries per dashboard section (must not grow with the data)",
        "",
        "| section | " + " | ".join(f"ORM at {p:,}" for p in people) + " | SQL |",
        "|---|" + "---:|" * (len(people) + 1),
    ]
    for name in first:
        cells = [str(sizes[p].sections["team"][name]["orm_queries"]) for p in people]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {first[name]['sql_queries']} |")
    lines += [
        "",
        "Whole page (HTTP through the test client, including session and user):",
        "",
        "| page | " + " | ".join(f"queries at {p:,}" for p in people) + " |",
        "|---|" + "---:|" * len(people),
    ]
    for label in sizes[people[0]].pages:
        cells = [str(sizes[p].pages[label]["queries"]) for p in people]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def _times(people: int, size: Size) -> list[str]:
    lines = [
        "",
        f"## Time at {people:,} people (ms)",
        "",
        f"Machine load average (1 min) {size.load[0]:.1f} before and {size.load[1]:.1f} after "
        f"measuring ({os.cpu_count()} CPUs).",
        "",
    ]
    for scope, figures in size.sections.items():
        lines += [
            f"### Scope: {scope}",
            "",
            "| section | ORM ms | SQL ms | ORM/SQL | within 2x | agree |",
            "|---|---:|---:|---:|:---:|:---:|",
        ]
        for name, r in figures.items():
            ratio = r["orm_ms"] / r["sql_ms"] if r["sql_ms"] else float("nan")
            lines.append(
                f"| {name} | {r['orm_ms']:.1f} | {r['sql_ms']:.1f} | {ratio:.2f} | "
                f"{'yes' if ratio <= 2 else 'NO'} | {'yes' if r['agree'] else 'NO'} |"
            )
        lines.append("")
    lines += ["Whole page:", "", "| page | ms | target |", "|---|---:|---|"]
    for label, page in size.pages.items():
        target = (
            "under 300 ms: " + ("met" if page["ms"] < 300 else "NOT met")
            if label.startswith("team")
            else "-"
        )
        lines.append(f"| {label} | {page['ms']:.1f} | {target} |")
    lines.append("")
    return lines


def _freshness(people: int, size: Size) -> list[str]:
    """The trust's and the service's dashboards with their figures kept (issue 17, point 4)."""
    if not size.freshness:
        return []
    lines = [
        "",
        f"## The trust's and the service's dashboards at {people:,} people (issue 17, point 4)",
        "",
        f"Machine load average (1 min) {size.load[0]:.1f} before and {size.load[1]:.1f} after "
        f"measuring ({os.cpu_count()} CPUs). The administrator opens the overview "
        "(`/outcomes/dashboard/`) for trust 1 (5 teams) and for the whole service. Baseline, "
        "in the same run: the same page with `POD_DASHBOARD_FRESH_SECONDS=0`, every section "
        "computed on every request, as every request did before the figures were kept. Kept: "
        "within the freshness window (10 minutes), what a manager sees on every look but the "
        "first in the window. Just expired: the first look after the window, every section "
        "computed again (the cache emptied before each run). The 24-hour rule's page: one "
        "section's page just after the window. After the warm-up: the page once the warm-up "
        "task (outcomes/dashboard/warming.py, run by beat every half window with a cache the "
        "processes share) has computed every usual view, which is what every look finds while "
        "beat runs it; the target is judged on it. Warm-up run: one run of that task from an "
        "empty cache (every manager's, trust's and the service's default views). `/health/`: "
        "the framework's floor for any page, in the same run.",
        "",
        "| dashboard | baseline ms (queries) | kept ms (queries) | kept / baseline "
        "| after the warm-up ms | target | just expired ms | just expired / baseline "
        "| 24-hour rule page: just expired ms / after the warm-up ms | `/health/` ms "
        "| warm-up run s |",
        "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for label, r in size.freshness.items():
        target = FRESHNESS_TARGETS.get(label)
        verdict = "-"
        if target is not None:
            worst = max(r["kept_ms"], r["warmed_ms"])
            verdict = f"under {target:.0f} ms: " + ("met" if worst < target else "NOT met")
        lines.append(
            f"| {label} | {r['baseline_ms']:.1f} ({r['baseline_queries']}) | "
            f"{r['kept_ms']:.1f} ({r['kept_queries']}) | "
            f"{r['kept_ms'] / r['baseline_ms']:.3f} | {r['warmed_ms']:.1f} | {verdict} | "
            f"{r['expired_ms']:.1f} | {r['expired_ms'] / r['baseline_ms']:.2f} | "
            f"{r['section_expired_ms']:.1f} / {r['warmed_section_ms']:.1f} | "
            f"{r['health_ms']:.1f} | {r['warm_up_s']:.1f} |"
        )
    lines.append("")
    return lines


def markdown(*, now: datetime, runs: int, sizes: dict[int, Size]) -> str:
    """RESULTS.md: the data, the query counts, and the times at each size."""
    lines = [
        "# Dashboard benchmark",
        "",
        f"Run on {now:%Y-%m-%d %H:%M} UTC by `python -m benchmarks.dashboards` "
        f"({platform.python_implementation()} {platform.python_version()}, "
        f"PostgreSQL on 127.0.0.1, {runs} timed runs after one warm-up; "
        "times are medians). Period: the last 365 days. Scopes: one team (1/20 of the "
        "service), one trust (5 teams), the whole service (20 teams).",
        "",
        "ORM = the selectors in `outcomes/dashboard/`; SQL = the same aggregates written by "
        "hand (`benchmarks/dashboards/handsql.py`), run in the same process against the same "
        "data. 'agree' = both produced the same numbers.",
        "",
        *_data_sizes(sizes),
    ]
    for people, size in sizes.items():
        lines += _freshness(people, size)
    if all(size.sections for size in sizes.values()):
        lines += _query_counts(sizes)
    for people, size in sizes.items():
        if size.sections:
            lines += _times(people, size)
    lines += NOTES
    return "\n".join(lines) + "\n"
