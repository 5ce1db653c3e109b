"""The dashboard's numbers as tables: one builder per section, used both for the page
(templates/outcomes/_table.html draws each table) and for its CSV download, so what is
downloaded is exactly what is shown (lists: all rows in the CSV, the first
rules.DASHBOARD_LIST_LIMIT on the page)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings

from outcomes import rules
from outcomes.dashboard import sections
from outcomes.dashboard.clinical_rules import FirstMeetingRule, MedicationRule
from outcomes.dashboard.meeting_figures import Attendance, FirstDays
from outcomes.dashboard.outcome_figures import (
    CarePlans,
    ExperienceRow,
    FidelityProfile,
    OutcomesByArm,
)
from outcomes.dashboard.peer_and_staffing import PeerWork, StaffingRow, staffing_targets
from outcomes.dashboard.scope import Scope
from outcomes.dashboard.sections import Dashboard, SectionName
from outcomes.rules import Cell, Difference, Mean
from pod.foundation.localtime import LONDON


@dataclass(frozen=True)
class Table:
    key: str  # names the table in its CSV URL
    title: str
    headers: list[str]
    rows: list[list[Any]]  # cells: numbers, text, Cells, datetimes, None (see fmt)
    limited: bool = False  # a list cut at rules.DASHBOARD_LIST_LIMIT rows on the page
    # A list of episodes (one per person): the column holding the episode id, so the page and
    # the CSV can log whose records they showed (pod.foundation.audit.note_shown).
    episode_column: int | None = None

    def episode_ids(self, limit: int | None = None) -> list[int]:
        """The episode ids in the rows shown (the first `limit` rows; all when None)."""
        if self.episode_column is None:
            return []
        rows = self.rows if limit is None else self.rows[:limit]
        return [row[self.episode_column] for row in rows]


def fmt(value: Any) -> str:
    """A cell as text: '-' for None, a share, mean or difference with its 95% interval and n,
    yes/no, London times, floats to one decimal place."""
    if value is None:
        return "-"
    if isinstance(value, Cell | Mean | Difference):
        return str(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.astimezone(LONDON).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def first_meeting_hours() -> str:
    """The first-meeting window as a page says it: '24' (settings.POD_FIRST_MEETING_HOURS)."""
    return f"{settings.POD_FIRST_MEETING_HOURS:g}"


def _first_meeting(d: FirstMeetingRule) -> list[Table]:
    return [
        Table(
            "first_meeting",
            "24-hour rule",
            ["Measure", "Value"],
            [
                ["Referrals in the period", d["referrals"]],
                [f"First meeting within {first_meeting_hours()} hours", d["met"]],
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
            ["Month", "Met", "Breached", "Share met"],
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
            limited=True,
            episode_column=0,
        ),
    ]


def _first_14(d: FirstDays) -> list[Table]:
    days = rules.EARLY_MEETINGS_DAYS
    return [
        Table(
            "first_14_days",
            f"Network meetings in the first {days} days",
            ["Measure", "Value"],
            [
                [f"Episodes whose first {days} days have ended", d["episodes"]],
                ["Mean network meetings per episode", d["mean"]],
                ["Episodes with no network meeting", d["none"]],
            ],
        )
    ]


def _attendance(d: Attendance) -> list[Table]:
    return [
        Table(
            "attendance",
            "Who was at the meetings",
            ["Measure", "Meetings", "Share"],
            [
                ["Held meetings", d["held"], "-"],
                [
                    "Network meetings (counted for the medication rule)",
                    d["network"],
                    d["share_network"],
                ],
                ["With a network member present", d["members"], d["share_members"]],
                ["With a core-team member present", d["core"], d["share_core"]],
                ["With two or more staff present", d["two_staff"], d["share_two_staff"]],
            ],
        ),
        Table(
            "attendance_trend",
            "Who was at the meetings, by month",
            ["Month", "Held", "With network members", "With core team", "Two or more staff"],
            [
                [r["month"], r["held"], r["share_members"], r["share_core"], r["share_two_staff"]]
                for r in d["trend"]
            ],
        ),
    ]


def _medication(d: MedicationRule) -> list[Table]:
    return [
        Table(
            "medication",
            "The medication rule",
            ["Measure", "Value"],
            [
                ["Prescriptions", d["prescriptions"]],
                ["New medicines under the rule", d["new_under_rule"]],
                ["Continuing medicines (on the current-medication list)", d["continuing"]],
                ["Rapid-response overrides", d["overrides"]],
                ["New medicines (under the rule or overridden)", d["new"]],
                [
                    f"New medicines with {d['required']} or more network meetings before them",
                    d["new_with_meetings"],
                ],
                ["Share of new medicines", d["share_with_meetings"]],
                ["Violations found by the audit", d["violations"]],
                ["Held meetings recorded after the event", d["late_records"]],
            ],
        ),
        Table(
            "prescriptions",
            "Every prescription",
            [
                "Prescription",
                "Episode",
                "Team",
                "Prescribed",
                "Medicine",
                "How",
                "Network meetings before",
                "Threshold",
                "Rule version",
            ],
            [
                [
                    r["id"],
                    r["episode_id"],
                    r["team_name"],
                    r["prescribed_at"],
                    r["medicine"],
                    "override"
                    if r["override_reason"]
                    else ("new" if r["is_new"] else "continuing"),
                    r["meetings_held_before"],
                    r["meetings_required"],
                    r["rule_version"],
                ]
                for r in d["prescription_list"]
            ],
            limited=True,
            episode_column=1,
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
            limited=True,
            episode_column=1,
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
            limited=True,
            episode_column=1,
        ),
        Table(
            "late_records",
            "Meetings recorded after the event",
            ["Meeting", "Episode", "Team", "Started", "Ended", "Recorded held", "Counts"],
            [
                [
                    r["id"],
                    r["episode_id"],
                    r["team_name"],
                    r["actual_start"],
                    r["actual_end"],
                    r["recorded_held_at"],
                    "yes" if r["counts_as_network_meeting"] else "no",
                ]
                for r in d["late_record_list"]
            ],
            limited=True,
            episode_column=1,
        ),
    ]


def _peer(d: PeerWork) -> list[Table]:
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
            limited=True,
            episode_column=0,
        ),
    ]


def _met(met: bool) -> str:
    return "met" if met else "not met"


def _staffing(rows: list[StaffingRow]) -> list[Table]:
    targets = staffing_targets()
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
                f"{targets.trained_text} trained?",
                f"Peer workers (target {targets.peer_workers})",
                f"Volunteers (target {targets.volunteers_text})",
            ],
            [
                [
                    r["trust_name"],
                    r["name"],
                    r["clinical"],
                    r["trained"],
                    r["coverage"],
                    _met(r["coverage_met"]),
                    f"{r['peer_workers']} ({_met(r['peer_worker_met'])})",
                    f"{r['volunteers']} ({_met(r['volunteers_met'])})",
                ]
                for r in rows
            ],
        )
    ]


def _outcomes(d: OutcomesByArm) -> list[Table]:
    return [
        Table(
            "outcomes",
            f"Outcomes at {rules.timepoint_label(d['timepoint_months']).lower()}: POD against TAU",
            [
                "Outcome",
                "POD",
                "TAU",
                "POD - TAU",
                "Lapland Open Dialogue (2 years)",
                "Lapland TAU (2 years)",
            ],
            [
                [
                    r["label"],
                    r["POD"],
                    r["TAU"],
                    r["difference"],
                    r["lapland_pod"],
                    r["lapland_tau"],
                ]
                for r in d["rows"]
            ],
        )
    ]


def _experience(rows: list[ExperienceRow]) -> list[Table]:
    return [
        Table(
            "experience",
            "Experience survey against the 2014 national survey",
            ["Statement", "This service (yes, definitely)", "National 2014 %"],
            [[r["statement"], r["cell"], r["national"]] for r in rows],
        )
    ]


def _care_plans(d: CarePlans) -> list[Table]:
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


def fidelity_tables(d: FidelityProfile) -> list[Table]:
    """The fidelity section's tables: also the team's fidelity page."""
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
                [r["month"], r["ratings"], *[r["means"][field] for field, _l in elements]]
                for r in d["months"]
            ],
        ),
    ]


# Each section's table builder. The builders' argument types are the sections' result types
# (a wrong pairing fails tests/outcomes/test_dashboard_access.py, which downloads every table).
BUILDERS: dict[SectionName, Callable[[Any], list[Table]]] = {
    "first_meeting": _first_meeting,
    "first_14_days": _first_14,
    "attendance": _attendance,
    "medication": _medication,
    "peer": _peer,
    "staffing": _staffing,
    "outcomes": _outcomes,
    "experience": _experience,
    "care_plans": _care_plans,
    "fidelity": fidelity_tables,
}

# Which section computes each table, so a CSV download computes only that section.
TABLE_SECTION: dict[str, SectionName] = {
    "first_meeting": "first_meeting",
    "first_meeting_trend": "first_meeting",
    "breaches": "first_meeting",
    "first_14_days": "first_14_days",
    "attendance": "attendance",
    "attendance_trend": "attendance",
    "medication": "medication",
    "prescriptions": "medication",
    "overrides": "medication",
    "violations": "medication",
    "late_records": "medication",
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


def dashboard_tables(data: Dashboard) -> dict[str, Table]:
    """Every table of the dashboard page, by key."""
    return {t.key: t for name in sections.SECTION_NAMES for t in BUILDERS[name](data[name])}


def csv_table(key: str, scope: Scope, *, timepoint_months: int) -> Table:
    """One table (a key of TABLE_SECTION) with all its rows, computing only its section."""
    name = TABLE_SECTION[key]
    data = sections.section(name, scope, timepoint_months=timepoint_months, list_limit=None)
    return next(t for t in BUILDERS[name](data) if t.key == key)
