"""The dashboard's numbers as tables: one builder per table, used both for the page and for
its CSV download, so what is downloaded is exactly what is shown (lists: all rows in the CSV,
the first LIST_LIMIT on the page)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from outcomes import rules, selectors
from outcomes.rules import Cell
from outcomes.selectors import Scope
from pod.foundation.localtime import LONDON


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    headers: list[str]
    rows: list[list[Any]]


def fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, Cell):
        return str(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.astimezone(LONDON).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def pct(cell: Cell) -> str:
    if cell.suppressed:
        return "suppressed"
    return "-" if cell.percent is None else f"{cell.percent:.1f}"


def _first_meeting(d: dict) -> list[Table]:
    return [
        Table(
            "first_meeting",
            "24-hour rule",
            ["Measure", "Value"],
            [
                ["Referrals in the period", d["referrals"]],
                ["First meeting within 24 hours", d["met"]],
                ["Breaches", d["breached"]],
                ["Share met (of resolved clocks)", d["share_met"]],
                ["Median hours to first meeting", d["median_hours"]],
                ["90th percentile hours", d["p90_hours"]],
                ["Open clocks (no first meeting yet)", d["open_clocks"]],
            ],
        ),
        Table(
            "first_meeting_trend",
            "24-hour rule by month of referral",
            ["Month", "Met", "Breached", "Share met %"],
            [[r["month"], r["met"], r["breached"], r["share_met"]] for r in d["trend"]],
        ),
        Table(
            "breaches",
            "Breaches of the 24-hour rule",
            [
                "Episode",
                "Team",
                "Referral received",
                "Triage",
                "Source",
                "Due",
                "First meeting held",
                "Hours",
                "Reason (alert)",
            ],
            [
                [
                    b["id"],
                    b["team_name"],
                    b["referral_received_at"],
                    b["triage_category"],
                    b["referral_source"],
                    b["first_meeting_due_at"],
                    b["first_meeting_held_at"],
                    b["hours"],
                    b["breach_reason"] or "No alert recorded",
                ]
                for b in d["breaches"]
            ],
        ),
    ]


def _first_14(d: dict) -> list[Table]:
    return [
        Table(
            "first_14_days",
            "Meetings in the first 14 days",
            ["Measure", "Value"],
            [
                ["Episodes whose first 14 days have ended", d["episodes"]],
                ["Mean held meetings per episode", d["mean"]],
                ["Episodes with no meeting", d["none"]],
            ],
        )
    ]


def _attendance(d: dict) -> list[Table]:
    return [
        Table(
            "attendance",
            "Who was at the meetings",
            ["Measure", "Meetings", "Share"],
            [
                ["Held meetings", d["held"], "-"],
                ["With a network member present", d["members"], d["share_members"]],
                ["With a core-team member present", d["core"], d["share_core"]],
                ["With two or more staff present", d["two_staff"], d["share_two_staff"]],
            ],
        ),
        Table(
            "attendance_trend",
            "Who was at the meetings, by month",
            ["Month", "Held", "With network members %", "With core team %", "Two or more staff %"],
            [
                [r["month"], r["held"], r["members_pct"], r["core_pct"], r["two_staff_pct"]]
                for r in d["trend"]
            ],
        ),
    ]


def _medication(d: dict) -> list[Table]:
    return [
        Table(
            "medication",
            "The medication rule",
            ["Measure", "Value"],
            [
                ["Prescriptions", d["prescriptions"]],
                ["New medicines", d["new"]],
                [
                    f"New medicines with {d['required']} or more meetings before them",
                    d["new_with_meetings"],
                ],
                ["Share of new medicines", d["share_with_meetings"]],
                ["Rapid-response overrides", d["overrides"]],
                ["Violations found by the audit", d["violations"]],
            ],
        ),
        Table(
            "overrides",
            "Overrides and their reasons",
            [
                "Prescription",
                "Episode",
                "Team",
                "Prescribed",
                "Medicine",
                "Meetings before",
                "Reason given",
            ],
            [
                [
                    r["id"],
                    r["episode_id"],
                    r["team_name"],
                    r["prescribed_at"],
                    r["medicine"],
                    r["meetings_held_before"],
                    r["override_explanation"],
                ]
                for r in d["override_list"]
            ],
        ),
        Table(
            "violations",
            "Violations found by the audit",
            ["Alert", "Episode", "Team", "Prescribed", "Found", "Finding"],
            [
                [
                    r["id"],
                    r["episode_id"],
                    r["team_name"],
                    r["prescribed_at"],
                    r["raised_at"],
                    r["message"],
                ]
                for r in d["violation_list"]
            ],
        ),
    ]


def _peer(d: dict) -> list[Table]:
    return [
        Table(
            "peer",
            "Peer work",
            ["Measure", "Value"],
            [
                ["Peer contacts in the period", d["contacts"]],
                ["Contacts per week", d["per_week"]],
                ["Episodes referred in the period", d["episodes"]],
                ["Mean network size at referral", d["mean_at_referral"]],
                ["Mean network size now (active members)", d["mean_now"]],
                [
                    f"People with a thin network (fewer than {d['thin_threshold']} active "
                    "non-professional members)",
                    d["thin_count"],
                ],
            ],
        ),
        Table(
            "peer_weekly",
            "Peer contacts per week",
            ["Week beginning", "Contacts"],
            [[r["week"], r["contacts"]] for r in d["weekly"]],
        ),
        Table(
            "thin_networks",
            "Open episodes with a thin network",
            ["Episode", "Team", "Active non-professional members"],
            [[r["episode_id"], r["team_name"], r["non_professional"]] for r in d["thin_list"]],
        ),
    ]


def _staffing(rows: list[dict]) -> list[Table]:
    return [
        Table(
            "staffing",
            "Training and peer staffing against the targets",
            [
                "Trust",
                "Team",
                "Clinical staff",
                "POD-trained",
                "Coverage",
                "Half trained?",
                "Peer workers (target 1)",
                "Volunteers (target 4-5)",
            ],
            [
                [
                    r["trust_name"],
                    r["name"],
                    r["clinical"],
                    r["trained"],
                    r["coverage"],
                    "met" if r["coverage_met"] else "not met",
                    f"{r['peer_workers']} ({'met' if r['peer_worker_met'] else 'not met'})",
                    f"{r['volunteers']} ({'met' if r['volunteers_met'] else 'not met'})",
                ]
                for r in rows
            ],
        )
    ]


def _outcome_cell(row: dict, arm: str) -> str:
    cell = row[arm]
    if row["key"] == "bed_days":
        if cell["suppressed"]:
            return "suppressed (n<5)"
        return "no data" if cell["mean"] is None else f"{cell['mean']:.1f} days (n={cell['n']})"
    return str(cell)


def _outcomes(d: dict) -> list[Table]:
    t = d["timepoint_months"]
    return [
        Table(
            "outcomes",
            f"Outcomes at {t} months: POD against TAU",
            ["Outcome", "POD", "TAU", "Lapland Open Dialogue (2 years)", "Lapland TAU (2 years)"],
            [
                [
                    r["label"],
                    _outcome_cell(r, "POD"),
                    _outcome_cell(r, "TAU"),
                    r["lapland_pod"],
                    r["lapland_tau"],
                ]
                for r in d["rows"]
            ],
        )
    ]


def _experience(rows: list[dict]) -> list[Table]:
    return [
        Table(
            "experience",
            "Experience survey against the 2014 national survey",
            ["Statement", "This service (yes, definitely)", "National 2014 %"],
            [[r["statement"], r["cell"], r["national"]] for r in rows],
        )
    ]


def _care_plans(d: dict) -> list[Table]:
    return [
        Table(
            "care_plans",
            "Care plans against the 2013 audit",
            ["Evidence in the care plan", "This service", "2013 audit %"],
            [
                ["Care plans written in the period", d["plans"], "-"],
                ["The person's involvement", d["share_involved"], d["audit_involved"]],
                ["The person's views", d["share_views"], d["audit_views"]],
            ],
        )
    ]


def _fidelity(d: dict) -> list[Table]:
    elements = d["elements"]
    return [
        Table(
            "fidelity",
            "Fidelity: mean rating (0-3) per key element",
            ["Key element", "Mean rating"],
            [[label, d["overall"][field]] for field, label in elements],
        ),
        Table(
            "fidelity_trend",
            "Fidelity by month",
            ["Month", "Ratings", *[label for _f, label in elements]],
            [
                [r["month"], r["ratings"], *[r[field] for field, _l in elements]]
                for r in d["months"]
            ],
        ),
    ]


BUILDERS: dict[str, tuple[str, Callable[[dict], list[Table]]]] = {
    "first_meeting": ("first_meeting", _first_meeting),
    "first_14_days": ("first_14_days", _first_14),
    "attendance": ("attendance", _attendance),
    "medication": ("medication", _medication),
    "peer": ("peer", _peer),
    "staffing": ("staffing", _staffing),
    "outcomes": ("outcomes", _outcomes),
    "experience": ("experience", _experience),
    "care_plans": ("care_plans", _care_plans),
    "fidelity": ("fidelity", _fidelity),
}

# Which section computes each table, so a CSV download recomputes only that section.
TABLE_SECTION = {
    "first_meeting": "first_meeting",
    "first_meeting_trend": "first_meeting",
    "breaches": "first_meeting",
    "first_14_days": "first_14_days",
    "attendance": "attendance",
    "attendance_trend": "attendance",
    "medication": "medication",
    "overrides": "medication",
    "violations": "medication",
    "peer": "peer",
    "peer_weekly": "peer",
    "thin_networks": "peer",
    "staffing": "staffing",
    "outcomes": "outcomes",
    "experience": "experience",
    "care_plans": "care_plans",
    "fidelity": "fidelity",
    "fidelity_trend": "fidelity",
}


def section_tables(section: str, data: Any) -> dict[str, Table]:
    return {t.key: t for t in BUILDERS[section][1](data)}


def compute_section(
    section: str, scope: Scope, *, timepoint_months: int, list_limit: int | None
) -> Any:
    """One section's data; lists unlimited when `list_limit` is None (for CSV)."""
    if section == "first_meeting":
        return selectors.first_meeting_rule(scope, list_limit=list_limit)
    if section == "medication":
        return selectors.medication_rule(scope, list_limit=list_limit)
    if section == "peer":
        return selectors.peer_work(scope, list_limit=list_limit)
    if section == "outcomes":
        return selectors.outcomes_by_arm(scope, timepoint_months=timepoint_months)
    return getattr(
        selectors,
        {
            "first_14_days": "meetings_first_14_days",
            "attendance": "meeting_attendance",
            "staffing": "staffing",
            "experience": "experience",
            "care_plans": "care_plans",
            "fidelity": "fidelity_profile",
        }[section],
    )(scope)


def to_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.headers)
    for row in table.rows:
        writer.writerow([_csv_value(v) for v in row])
    return out.getvalue()


def _csv_value(value: Any) -> str:
    if isinstance(value, Cell):
        return pct(value)
    text = fmt(value)
    # Spreadsheet formula injection: a cell starting with = + - @ is read as a formula.
    if text and text[0] in "=+-@" and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


__all__ = ["Table", "fmt", "pct", "rules"]
