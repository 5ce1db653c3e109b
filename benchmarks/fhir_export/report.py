"""The export benchmark's figures as text and Markdown."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def console(run: dict[str, Any]) -> str:
    lines = [
        f"  kick-off {run['kick_off_ms']:.0f} ms; {run['resources']:,} resources in "
        f"{run['total_seconds']:.0f} s ({run['resources'] / run['total_seconds']:,.0f}/s)"
    ]
    for t in run["types"]:
        rate = t["count"] / t["seconds"] if t["seconds"] else 0
        lines.append(f"    {t['type']:<24}{t['count']:>10,}{t['seconds']:>9.1f} s{rate:>10,.0f}/s")
    return "\n".join(lines)


def markdown(*, now: datetime, runs: dict[int, dict[str, Any]], meta: dict[str, Any]) -> str:
    out = [
        "# FHIR bulk export: results",
        "",
        f"Run on {now:%Y-%m-%d %H:%M} UTC by `python -m benchmarks.fhir_export` (2-core machine, "
        "PostgreSQL on the same host; benchmarks/README.md says how). Data: the dashboards' "
        "generator (benchmarks/dashboards/generate.py). The client is a clinician of all 20 "
        "teams asking for a system-level `$export` of every type it may read; the kick-off is "
        "a real request, the run is `pod.fhir.bulk.export_run` in this process, as the Celery "
        "worker runs it.",
        "",
    ]
    for people, run in sorted(runs.items()):
        rate = run["resources"] / run["total_seconds"]
        out += [
            f"## {people:,} people",
            "",
            f"- Kick-off answered in **{run['kick_off_ms']:.0f} ms** (202; the export runs in the "
            "worker, so no request waits for it).",
            f"- **{run['resources']:,} resources in {run['total_seconds']:.0f} s: "
            f"{rate:,.0f} resources/s**, {sum(t['bytes'] for t in run['types']) / 1e6:,.0f} MB "
            "of NDJSON.",
            f"- RecordAccess rows written: {run['access_rows']:,} (one per person exported).",
            f"- Schema check: {sum(t['invalid'] for t in run['types'])} invalid in the first "
            "lines of every file.",
            f"- Load average at the end: {run['load']:.1f}.",
            "",
            "| Type | Resources | Seconds | Resources/s | MB |",
            "|---|---:|---:|---:|---:|",
        ]
        for t in run["types"]:
            per_second = t["count"] / t["seconds"] if t["seconds"] else 0
            out.append(
                f"| {t['type']} | {t['count']:,} | {t['seconds']:.1f} | {per_second:,.0f} | "
                f"{t['bytes'] / 1e6:,.1f} |"
            )
        out.append("")
    out += [
        "## Notes",
        "",
        f"- Peak memory of the process: {meta['peak_rss_mb']:,.0f} MB (the run holds one chunk "
        "of at most 2,000 rows and the set of exported people's ids, never a whole type).",
        "- Every type is read by keyset over windows of ids (`last < id <= last + 2000`) with "
        "its related rows loaded per chunk, so the time per resource does not grow with the "
        "size of the service; compare the rates at the two sizes (pod.fhir.bulk.chunks says "
        "why nested loops are off for the chunk's query).",
        "",
    ]
    return "\n".join(out)
