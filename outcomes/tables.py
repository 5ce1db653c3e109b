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
    """A cell as text: rules.NO_DATA_TEXT for None, a share, mean or difference with its 95%
    interval and n, yes/no, London times, floats to one decimal place."""
    if value is None:
        return rules.NO_DATA_TEXT
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
                ["Held meetings", d["held"], ""],  # a count: no share
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
                    else "new"
                    if r["is_new"]
                    else "continuing, listed by the prescriber within 24 h"
                    if r["self_listed"]
                    else "continuing",
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
            [
                "Meeting",
                "Episode",
                "Team",
                "Started",
                "Ended",
                "Recorded held",
                "Arranged beforehand",
                "Counts",
            ],
            [
                [
                    r["id"],
                    r["episode_id"],
                    r["team_name"],
                    r["actual_start"],
                    r["actual_end"],
                    r["recorded_held_at"],
                    "yes" if r["arranged_in_advance"] else "no",
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
                "Peer workers",
                f"{targets.peer_workers} or more peer workers?",
                "Volunteers",
                f"{targets.volunteers_text} volunteers?",
            ],
            [
                [
                    r["trust_name"],
                    r["name"],
                    r["clinical"],
                    r["trained"],
                    r["coverage"],
                    _met(r["coverage_met"]),
                    r["peer_workers"],
                    _met(r["peer_worker_met"]),
                    r["volunteers"],
                    _met(r["volunteers_met"]),
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
                ["Care plans written in the period", d["plans"], ""],
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
            f"Fidelity: mean rating (0-3) per key element, of {d['ratings']} "
            f"rating{'' if d['ratings'] == 1 else 's'}",
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
    return table_of(key, name, data)


def table_of(key: str, name: SectionName, data: Any) -> Table:
    """The table `key` of section `name`, built from the section's result `data`."""
    return next(t for t in BUILDERS[name](data) if t.key == key)


# --- The dashboard's pages: a short overview, and one page per group of sections ------------


@dataclass(frozen=True)
class Page:
    """One page of the dashboard: its URL slug (also the overview's anchor for it, which alert
    emails link to), title, the sections it computes and the template drawing them."""

    slug: str
    title: str
    sections: tuple[SectionName, ...]

    @property
    def template(self) -> str:
        return f"outcomes/dashboard/{self.slug}.html"


PAGES: dict[str, Page] = {
    p.slug: p
    for p in (
        Page("first-meeting", "The 24-hour rule", ("first_meeting",)),
        Page("meetings", "Meetings", ("first_14_days", "attendance")),
        Page("medication", "The medication rule", ("medication",)),
        Page("peer", "Peer work", ("peer",)),
        Page("staffing", "Staffing", ("staffing",)),
        Page("outcomes", "Outcomes: POD against treatment as usual", ("outcomes",)),
        Page("experience", "Experience and care plans", ("experience", "care_plans")),
        Page("fidelity", "Fidelity to dialogic practice", ("fidelity",)),
    )
}

Headline = list[tuple[str, Any]]  # (label, a cell as fmt draws it)


def _headline_first_meeting(d: FirstMeetingRule) -> Headline:
    return [
        (f"First meetings within {first_meeting_hours()} hours", d["share_met"]),
        ("Breaches", d["breached"]),
        ("Open clocks", d["open_clocks"]),
    ]


def _headline_meetings(d14: FirstDays, att: Attendance) -> Headline:
    return [
        (f"Mean meetings in the first {rules.EARLY_MEETINGS_DAYS} days", d14["mean"]),
        ("Meetings with a network member present", att["share_members"]),
    ]


def _headline_medication(d: MedicationRule) -> Headline:
    return [
        (f"New medicines with {d['required']} or more meetings before", d["share_with_meetings"]),
        ("Rapid-response overrides", d["overrides"]),
        ("Violations found by the audit", d["violations"]),
    ]


def _headline_peer(d: PeerWork) -> Headline:
    return [("Peer contacts per week", d["per_week"]), ("Thin networks", d["thin_count"])]


def _headline_staffing(rows: list[StaffingRow]) -> Headline:
    return [
        (
            "Teams meeting the training target",
            f"{sum(r['coverage_met'] for r in rows)} of {len(rows)}",
        )
    ]


def _headline_outcomes(d: OutcomesByArm) -> Headline:
    relapse = next((r for r in d["rows"] if r["key"] == "relapse"), None)
    found: Headline = [("People assessed (POD, TAU)", f"{d['n_pod']}, {d['n_tau']}")]
    if relapse is not None:
        found += [("Relapse, POD", relapse["POD"]), ("Relapse, TAU", relapse["TAU"])]
    return found


def _headline_experience(rows: list[ExperienceRow], plans: CarePlans) -> Headline:
    return [
        *[(r["statement"], r["cell"]) for r in rows[:1]],
        ("Care plans with the person's views", plans["share_views"]),
    ]


def _headline_fidelity(d: FidelityProfile) -> Headline:
    return [("Fidelity ratings", d["ratings"])]


HEADLINES: dict[str, Callable[..., Headline]] = {
    "first-meeting": _headline_first_meeting,
    "meetings": _headline_meetings,
    "medication": _headline_medication,
    "peer": _headline_peer,
    "staffing": _headline_staffing,
    "outcomes": _headline_outcomes,
    "experience": _headline_experience,
    "fidelity": _headline_fidelity,
}


def headline(page: Page, data: dict[SectionName, Any]) -> Headline:
    """A page's few key figures for the overview (none for a page without a headline)."""
    build = HEADLINES.get(page.slug)
    return [] if build is None else build(*(data[name] for name in page.sections))


def page_tables(page: Page, data: dict[SectionName, Any]) -> dict[str, Table]:
    """The tables of one page, by key."""
    return {t.key: t for name in page.sections for t in BUILDERS[name](data[name])}
