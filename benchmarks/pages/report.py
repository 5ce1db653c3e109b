"""The page-cost benchmark's Markdown (RESULTS.md)."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from benchmarks.pages.measure import LoadFigures, Page, PageCost


def _kb(n: int) -> str:
    return f"{n / 1024:.1f}"


def markdown(
    *,
    now: datetime,
    runs: int,
    costs: dict[int, dict[Page, PageCost]],
    fills: dict[int, float],
    load: dict[tuple[str, Page], LoadFigures],
    load_people: int | None,
    workers: int,
    clients: int,
    seconds: int,
    rounds: int = 1,
    baseline: Path | None = None,
) -> str:
    sizes = sorted(costs)
    lines = [
        "# Page-cost benchmark: results",
        "",
        f"Run {now:%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores shared with other work "
        f"(load average at the end: {os.getloadavg()[0]:.1f}). How to rerun and what it "
        "measures: [../README.md](../README.md#page-cost-benchmarkspages).",
        "",
        "## Each page and export, as its usual role",
        "",
        f"Through Django's test client, with the second factor passed; queries and bytes of one "
        f"request, median time of {runs}. *gzip*: the bytes sent to a browser that accepts gzip "
        "(every browser). People: the dashboards' synthetic service "
        "(benchmarks/dashboards/generate.py); team 1 holds 1/20 of them.",
        "",
    ]
    header = "| Page | Role |"
    rule = "|---|---|"
    for people in sizes:
        header += f" queries @{people:,} | KB @{people:,} | gzip KB @{people:,} | ms @{people:,} |"
        rule += "---:|---:|---:|---:|"
    lines += [header, rule]
    for page in costs[sizes[0]]:
        row = f"| {page.label} | {page.role} |"
        for people in sizes:
            cost = next(
                (
                    c
                    for p, c in costs[people].items()
                    if p.label == page.label and p.role == page.role
                ),
                None,
            )
            if cost is None:
                row += " – | – | – | – |"
                continue
            flag = "" if cost.status == 200 else f" ({cost.status})"
            row += (
                f" {cost.queries}{flag} | {_kb(cost.raw_bytes)} | {_kb(cost.gzip_bytes)} |"
                f" {cost.median_ms:.0f} |"
            )
        lines.append(row)
    lines.append("")
    if fills:
        lines.append(
            "Data built in: "
            + ", ".join(f"{people:,} people {seconds:.0f} s" for people, seconds in fills.items())
            + "."
        )
        lines.append("")
    if load:
        lines += _load_section(load, load_people, workers, clients, seconds, rounds, baseline)
    return "\n".join(lines)


def _load_section(
    load: dict[tuple[str, Page], LoadFigures],
    load_people: int | None,
    workers: int,
    clients: int,
    seconds: int,
    rounds: int,
    baseline: Path | None,
) -> list[str]:
    def health(tree: str) -> LoadFigures:
        return next(f for (t, p), f in load.items() if t == tree and p.label == "/health/")

    lines = [
        f"## Load run at {load_people or 0:,} people",
        "",
        f'gunicorn, {workers} synchronous workers (README "Deploying"), DEBUG off, static '
        f"files from collectstatic; `wrk` with {clients} connections for {seconds} s per page, "
        f"in {rounds} rounds of {seconds // max(rounds, 1)} s that cycle through the pages "
        "(/health/ first in each), so the load of the shared machine falls on every page "
        "alike; each with its role's session cookie (second factor passed) and "
        "`Accept-Encoding: gzip`. *median ms*: the median of the rounds' medians. Target "
        "(issue 17): the clinician's home and episode pages at least 1/5 (0.20) of "
        "`/health/`'s rate. The two *floor* pages (benchmarks/pages/floor_urls.py, served only "
        "here) are what any signed-in page costs before it shows anything: every middleware, "
        'the session, the user and the second-factor device, answered "ok"; and the same '
        "with POD's base template drawn around an empty page.",
        "",
        "| Page | Role | requests/s | ratio to /health/ | median ms | requests | errors |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    floor = health("this").requests_per_second
    for (tree, page), figures in load.items():
        if tree != "this":
            continue
        ratio = figures.requests_per_second / floor
        lines.append(
            f"| {page.label} | {page.role} | {figures.requests_per_second:.1f} | "
            f"{ratio:.3f} (1/{1 / ratio:.1f}) | {figures.median_ms:.0f} | {figures.requests} | "
            f"{figures.errors} |"
        )
    lines.append("")
    if baseline is not None and any(t == "baseline" for t, _p in load):
        before = health("baseline").requests_per_second
        lines += [
            "### Before and after, in the same run",
            "",
            f"The code checked out at `{baseline}` served by a second gunicorn ({workers} "
            "workers) against the same database and sessions, its pages in the same rounds as "
            "this tree's. Each ratio is to its own server's `/health/`.",
            "",
            "| Page | Role | before: requests/s (ratio) | after: requests/s (ratio) "
            "| after / before |",
            "|---|---|---:|---:|---:|",
        ]
        for (tree, page), after in load.items():
            was = load.get(("baseline", page))
            if tree != "this" or was is None:
                continue
            lines.append(
                f"| {page.label} | {page.role} | {was.requests_per_second:.1f} "
                f"({was.requests_per_second / before:.3f}) | {after.requests_per_second:.1f} "
                f"({after.requests_per_second / floor:.3f}) | "
                f"{after.requests_per_second / was.requests_per_second:.2f} |"
            )
        lines.append("")
    return lines
