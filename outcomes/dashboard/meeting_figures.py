"""Dashboard sections about network meetings: how many in an episode's first days, and who was
at them."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import TypedDict

from django.db.models import Avg, Count, Exists, OuterRef, Q, StdDev
from django.db.models.functions import TruncMonth

from meetings.models import Episode, Meeting
from outcomes import rules
from outcomes.dashboard.expressions import LondonDayStart, count_subquery, in_period, month_key
from outcomes.dashboard.query_cache import Row, Totals, ValuesQuery, rows, totals
from outcomes.dashboard.scope import Scope
from outcomes.rules import Cell, Mean
from pod.foundation.localtime import LONDON

# --- Meetings in the first days ------------------------------------------------------------------


class FirstDays(TypedDict):
    episodes: int  # referred in the period, whose first days had all passed by `now`
    mean: Mean  # network meetings per episode in its first days, with its t interval
    none: int  # episodes with no network meeting held in their first days


def _first_days(scope: Scope) -> Totals:
    early = Meeting.objects.filter(
        episode=OuterRef("pk"),
        status=Meeting.Status.HELD,
        # Network meetings only (meetings.medication_rules, stored on each held meeting): a
        # one-minute or staff-only "meeting" is not one, here as for the medication rule.
        counts_as_network_meeting=True,
        actual_start__lt=LondonDayStart(
            OuterRef("referral_received_at"), rules.EARLY_MEETINGS_DAYS
        ),
    )
    return Totals(
        Episode.objects.filter(
            in_period("referral_received_at", scope),
            team_id__in=scope.team_ids,
            referral_received_at__lt=scope.now - timedelta(days=rules.EARLY_MEETINGS_DAYS),
        ).annotate(n=count_subquery(early, "episode"), any_held=Exists(early)),
        {
            "episodes": Count("id"),
            "mean": Avg("n"),
            "sd": StdDev("n", sample=True),
            "none": Count("id", filter=Q(any_held=False)),
        },
    )


def meetings_first_14_days(scope: Scope) -> FirstDays:
    """Network meetings per episode (held meetings that count as network meetings under
    meetings.medication_rules) in its first rules.EARLY_MEETINGS_DAYS (14) London calendar
    days (the referral day is day 1), over episodes referred in the period whose first days
    had all passed by `now`. One query; the count per episode is a correlated subquery that
    PostgreSQL answers from the (episode, actual_start) index of held meetings."""
    head = totals(("first_14_days",), scope, _first_days)
    return FirstDays(
        episodes=head["episodes"],
        mean=rules.mean_estimate(
            n=head["episodes"], mean=head["mean"], sd=head["sd"], bounds=(0, math.inf)
        ),
        none=head["none"],
    )


# --- Who was at the meetings -------------------------------------------------------------------


class AttendanceMonth(TypedDict):
    month: str  # YYYY-MM, London
    held: int
    network: int  # held meetings that count as network meetings (meetings.medication_rules)
    members: int  # with a network member present
    core: int  # with a member of the episode's core team present
    two_staff: int  # with two or more staff present
    share_members: Cell  # of the month's held meetings, with its Wilson interval
    share_core: Cell
    share_two_staff: Cell


class Attendance(TypedDict):
    held: int
    network: int  # of them, network meetings (plausible, distinct, two staff, the network)
    share_network: Cell
    members: int
    core: int
    two_staff: int
    share_members: Cell
    share_core: Cell
    share_two_staff: Cell
    trend: list[AttendanceMonth]  # every month of the period, in order


def _attendance_by_month(scope: Scope) -> ValuesQuery:
    return (
        Meeting.objects.filter(
            in_period("actual_start", scope),
            status=Meeting.Status.HELD,
            episode__team_id__in=scope.team_ids,
        )
        .annotate(month=TruncMonth("actual_start", tzinfo=LONDON))
        .values("month")
        .annotate(
            held=Count("id"),
            network=Count("id", filter=Q(counts_as_network_meeting=True)),
            members=Count("id", filter=Q(network_members_present__gt=0)),
            core=Count("id", filter=Q(core_team_present=True)),
            two_staff=Count("id", filter=Q(staff_present__gte=2)),
        )
        .order_by("month")
    )


def _month(month: str, found: Row) -> AttendanceMonth:
    held, members, core = found.get("held", 0), found.get("members", 0), found.get("core", 0)
    two_staff = found.get("two_staff", 0)
    return AttendanceMonth(
        month=month,
        held=held,
        network=found.get("network", 0),
        members=members,
        core=core,
        two_staff=two_staff,
        share_members=rules.share(members, held),
        share_core=rules.share(core, held),
        share_two_staff=rules.share(two_staff, held),
    )


def meeting_attendance(scope: Scope) -> Attendance:
    """Of meetings held in the period: the share that count as network meetings
    (meetings.medication_rules), with a network member present, with a member of the episode's
    core team present, and with two or more staff present, in all and by month (every month of
    the period, 0 where none was held). The attendance shares are over every held meeting, not
    only network meetings: they measure how often meetings fall short of one.

    One query, grouped by London month; the headline is the sum of the months. It reads the
    attendance stored on each held meeting (meetings.services.meeting_attendance_refresh)
    rather than walking every participant row (benchmarks/dashboards/RESULTS.md).
    """
    found = rows(("attendance",), scope, _attendance_by_month)
    by_month = {month_key(r["month"]): r for r in found}
    trend = [_month(month_key(m), by_month.get(month_key(m), {})) for m in scope.months()]
    held = sum(m["held"] for m in trend)
    network = sum(m["network"] for m in trend)
    members = sum(m["members"] for m in trend)
    core = sum(m["core"] for m in trend)
    two_staff = sum(m["two_staff"] for m in trend)
    return Attendance(
        held=held,
        network=network,
        share_network=rules.share(network, held),
        members=members,
        core=core,
        two_staff=two_staff,
        share_members=rules.share(members, held),
        share_core=rules.share(core, held),
        share_two_staff=rules.share(two_staff, held),
        trend=trend,
    )
