"""The whole dashboard: every section for one scope, by name."""

from __future__ import annotations

from typing import Literal, TypedDict, get_args

from outcomes import rules
from outcomes.dashboard.clinical_rules import (
    FirstMeetingRule,
    MedicationRule,
    first_meeting_rule,
    medication_rule,
)
from outcomes.dashboard.meeting_figures import (
    Attendance,
    FirstDays,
    meeting_attendance,
    meetings_first_14_days,
)
from outcomes.dashboard.outcome_figures import (
    CarePlans,
    ExperienceRow,
    FidelityProfile,
    OutcomesByArm,
    care_plans,
    experience,
    fidelity_profile,
    outcomes_by_arm,
)
from outcomes.dashboard.peer_and_staffing import PeerWork, StaffingRow, peer_work, staffing
from outcomes.dashboard.scope import Scope


class Dashboard(TypedDict):
    first_meeting: FirstMeetingRule
    first_14_days: FirstDays
    attendance: Attendance
    medication: MedicationRule
    peer: PeerWork
    staffing: list[StaffingRow]
    outcomes: OutcomesByArm
    experience: list[ExperienceRow]
    care_plans: CarePlans
    fidelity: FidelityProfile


SectionName = Literal[
    "first_meeting",
    "first_14_days",
    "attendance",
    "medication",
    "peer",
    "staffing",
    "outcomes",
    "experience",
    "care_plans",
    "fidelity",
]
SECTION_NAMES: tuple[SectionName, ...] = get_args(SectionName)
# The overview's sections but the outcomes card, whose default period differs (it starts at the
# first assessment on record: outcomes/views/dashboards.py).
OVERVIEW_SECTIONS: tuple[SectionName, ...] = tuple(n for n in SECTION_NAMES if n != "outcomes")


def dashboard(
    scope: Scope,
    *,
    timepoint_months: int = rules.DASHBOARD_TIMEPOINT,
    list_limit: int | None = rules.DASHBOARD_LIST_LIMIT,
) -> Dashboard:
    """Every section for one scope: outcomes at `timepoint_months`, lists cut at `list_limit`
    rows (all of them when None). The number of queries is fixed, whatever the data
    (tests/outcomes/test_dashboard_figures.py)."""
    return Dashboard(
        first_meeting=first_meeting_rule(scope, list_limit=list_limit),
        first_14_days=meetings_first_14_days(scope),
        attendance=meeting_attendance(scope),
        medication=medication_rule(scope, list_limit=list_limit),
        peer=peer_work(scope, list_limit=list_limit),
        staffing=staffing(scope),
        outcomes=outcomes_by_arm(scope, timepoint_months=timepoint_months),
        experience=experience(scope),
        care_plans=care_plans(scope),
        fidelity=fidelity_profile(scope),
    )


SectionResult = (
    FirstMeetingRule
    | FirstDays
    | Attendance
    | MedicationRule
    | PeerWork
    | list[StaffingRow]
    | OutcomesByArm
    | list[ExperienceRow]
    | CarePlans
    | FidelityProfile
)


def section(
    name: SectionName,
    scope: Scope,
    *,
    timepoint_months: int = rules.DASHBOARD_TIMEPOINT,
    list_limit: int | None = rules.DASHBOARD_LIST_LIMIT,
) -> SectionResult:
    """One section, as dashboard() computes it, and only its queries (a CSV download)."""
    match name:
        case "first_meeting":
            return first_meeting_rule(scope, list_limit=list_limit)
        case "first_14_days":
            return meetings_first_14_days(scope)
        case "attendance":
            return meeting_attendance(scope)
        case "medication":
            return medication_rule(scope, list_limit=list_limit)
        case "peer":
            return peer_work(scope, list_limit=list_limit)
        case "staffing":
            return staffing(scope)
        case "outcomes":
            return outcomes_by_arm(scope, timepoint_months=timepoint_months)
        case "experience":
            return experience(scope)
        case "care_plans":
            return care_plans(scope)
        case "fidelity":
            return fidelity_profile(scope)
