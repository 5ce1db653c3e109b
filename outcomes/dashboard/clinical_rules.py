"""Dashboard sections for the two clinical rules: the first network meeting within 24 hours of
the referral, and meetings held before a new medicine (meetings.rules holds the rules)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TypedDict, cast

from django.conf import settings
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce, TruncMonth

from meetings.models import Alert, Episode, Meeting, Prescription
from outcomes import rules
from outcomes.dashboard.expressions import (
    EpochHours,
    PercentileCont,
    count_subquery,
    in_period,
    limited,
    month_key,
)
from outcomes.dashboard.query_cache import Totals, ValuesQuery, rows, totals
from outcomes.dashboard.scope import Scope
from outcomes.rules import Cell
from pod.foundation.localtime import LONDON

# --- The 24-hour rule --------------------------------------------------------------------------


class BreachRow(TypedDict):
    """An episode of the period whose first meeting was late or is overdue."""

    id: int
    team_name: str
    referral_received_at: datetime
    referral_source: str
    triage_category: str
    first_meeting_due_at: datetime
    first_meeting_held_at: datetime | None
    hours: float | None  # referral to first meeting
    status: str
    breach_reason: str | None  # the message of the episode's breach alert, if one was raised


class ReferralMonth(TypedDict):
    month: str  # YYYY-MM, London, of the referral
    met: int
    breached: int
    share_met: Cell  # of met + breached, with its Wilson interval


class FirstMeetingRule(TypedDict):
    referrals: int
    met: int
    breached: int
    open_clocks: int  # no first meeting yet, episode not closed
    median_hours: float | None
    p90_hours: float | None
    share_met: Cell  # of the clocks that have resolved (met or breached)
    breaches: list[BreachRow]  # newest referral first
    trend: list[ReferralMonth]  # every month of the period, in order


def _breach_q(now: datetime) -> Q:
    """Held after the due time, or not held by the due time (unless closed before it)."""
    return Q(first_meeting_held_at__gt=F("first_meeting_due_at")) | Q(
        first_meeting_held_at__isnull=True, first_meeting_due_at__lte=now
    ) & (Q(closed_at__isnull=True) | Q(closed_at__gte=F("first_meeting_due_at")))


_MET_Q = Q(first_meeting_held_at__lte=F("first_meeting_due_at"))
_HOURS = EpochHours("time_to_first_meeting")


def _referrals(scope: Scope) -> QuerySet[Episode]:
    return Episode.objects.filter(
        in_period("referral_received_at", scope), team_id__in=scope.team_ids
    )


def _head(scope: Scope) -> Totals:
    return Totals(
        _referrals(scope),
        {
            "referrals": Count("id"),
            "met": Count("id", filter=_MET_Q),
            "breached": Count("id", filter=_breach_q(scope.now)),
            "open_clocks": Count(
                "id",
                filter=Q(first_meeting_held_at__isnull=True) & ~Q(status=Episode.Status.CLOSED),
            ),
            "median_hours": PercentileCont(_HOURS, 0.5),
            "p90_hours": PercentileCont(_HOURS, 0.9),
        },
    )


def _trend(scope: Scope) -> ValuesQuery:
    return (
        _referrals(scope)
        .annotate(month=TruncMonth("referral_received_at", tzinfo=LONDON))
        .values("month")
        .annotate(met=Count("id", filter=_MET_Q), breached=Count("id", filter=_breach_q(scope.now)))
        .order_by("month")
    )


def _breaches(scope: Scope, list_limit: int | None) -> ValuesQuery:
    reason = Alert.objects.filter(
        episode=OuterRef("pk"), kind=Alert.Kind.BREACHED, prescription__isnull=True
    ).values("message")[:1]
    return limited(
        _referrals(scope)
        .filter(_breach_q(scope.now))
        .annotate(team_name=F("team__name"), breach_reason=Subquery(reason), hours=_HOURS)
        .values(*BreachRow.__annotations__)
        .order_by("-referral_received_at", "-id"),
        list_limit,
    )


def first_meeting_rule(
    scope: Scope, *, list_limit: int | None = rules.DASHBOARD_LIST_LIMIT
) -> FirstMeetingRule:
    """Referrals in the period: how many first meetings were in time, of the clocks that have
    resolved (met or breached); median and 90th-percentile hours from referral to first
    meeting; open clocks; the breaches (the first `list_limit`, all when None) and the trend by
    month of referral. Three queries."""
    head = totals(("first_meeting.head",), scope, _head)
    by_month = {
        month_key(row["month"]): row for row in rows(("first_meeting.trend",), scope, _trend)
    }
    # Every month of the period, a month without referrals too (a gap in the chart, "no data").
    trend = []
    for month in (month_key(m) for m in scope.months()):
        row = by_month.get(month, {"met": 0, "breached": 0})
        trend.append(
            ReferralMonth(
                month=month,
                met=row["met"],
                breached=row["breached"],
                share_met=rules.share(row["met"], row["met"] + row["breached"]),
            )
        )
    breaches = rows(
        ("first_meeting.breaches", list_limit), scope, lambda s: _breaches(s, list_limit)
    )
    return FirstMeetingRule(
        referrals=head["referrals"],
        met=head["met"],
        breached=head["breached"],
        open_clocks=head["open_clocks"],
        median_hours=head["median_hours"],
        p90_hours=head["p90_hours"],
        share_met=rules.share(head["met"], head["met"] + head["breached"]),
        # The query selects exactly BreachRow's keys.
        breaches=cast(list[BreachRow], breaches),
        trend=trend,
    )


# --- The medication rule -----------------------------------------------------------------------


class OverrideRow(TypedDict):
    """A prescription that overrode the rule, with the reason the prescriber gave."""

    id: int
    episode_id: int
    team_name: str
    prescribed_at: datetime
    medicine: str
    meetings_held_before: int | None
    override_explanation: str


class ViolationRow(TypedDict):
    """A medication-rule violation found by the prescription audit (its alert)."""

    id: int
    episode_id: int
    team_name: str
    prescribed_at: datetime
    raised_at: datetime
    message: str


class PrescriptionRow(TypedDict):
    """Every prescription of the period, with how it was made (new, continuing, override)."""

    id: int
    episode_id: int
    team_name: str
    prescribed_at: datetime
    medicine: str
    is_new: bool
    override_reason: str
    meetings_held_before: int | None
    meetings_required: int | None
    rule_version: str
    # Continuing a list entry that the prescriber added within SELF_LISTED_WITHIN before it:
    # allowed, but the one way round the rule a single person can take, so the manager sees it.
    self_listed: bool | None


class LateRecordRow(TypedDict):
    """A held meeting recorded after the event: more than POD_RECORDED_AFTER_EVENT_HOURS after
    it ended, or never arranged in POD before it began (meetings.medication_rules)."""

    id: int
    episode_id: int
    team_name: str
    actual_start: datetime
    actual_end: datetime
    recorded_held_at: datetime
    arranged_in_advance: bool
    counts_as_network_meeting: bool | None


class MedicationRule(TypedDict):
    prescriptions: int  # = new_under_rule + continuing + overrides
    new: int  # new medicines (under the rule or overridden)
    new_under_rule: int  # new medicines prescribed without an override
    continuing: int  # medicines continued from the person's current-medication list
    new_with_meetings: int  # new medicines with `required` network meetings before them
    required: int  # settings.POD_MEETINGS_BEFORE_MEDICATION
    share_with_meetings: Cell
    overrides: int
    violations: int
    late_records: int  # held meetings of the period recorded after the event
    prescription_list: list[PrescriptionRow]  # newest first
    override_list: list[OverrideRow]  # newest first
    violation_list: list[ViolationRow]  # newest first
    late_record_list: list[LateRecordRow]  # newest first


def _prescriptions(scope: Scope) -> QuerySet[Prescription]:
    return Prescription.objects.filter(
        in_period("prescribed_at", scope), episode__team_id__in=scope.team_ids
    )


def _medication_head(scope: Scope, required: int) -> Totals:
    held_before = Coalesce(
        "meetings_held_before",
        count_subquery(
            # Only network meetings (meetings.medication_rules, stored on each meeting).
            Meeting.objects.filter(
                episode=OuterRef("episode"),
                status=Meeting.Status.HELD,
                counts_as_network_meeting=True,
                actual_start__lte=OuterRef("prescribed_at"),
            ),
            "episode",
        ),
    )
    violation = Alert.objects.filter(
        prescription=OuterRef("pk"), kind=Alert.Kind.MEDICATION_VIOLATION
    )
    return Totals(
        _prescriptions(scope).annotate(held=held_before, violated=Exists(violation)),
        {
            "prescriptions": Count("id"),
            "new": Count("id", filter=Q(is_new=True)),
            "new_under_rule": Count("id", filter=Q(is_new=True, override_reason="")),
            "continuing": Count("id", filter=Q(is_new=False, override_reason="")),
            "new_with_meetings": Count("id", filter=Q(is_new=True, held__gte=required)),
            "overrides": Count("id", filter=~Q(override_reason="")),
            "violations": Count("id", filter=Q(violated=True)),
        },
    )


# How recently before a continuing prescription its list entry may have been added by the
# prescriber for the manager's list to mark it (issue 13/10 review: a prescriber listed a medicine
# and continued it at once, with no meeting and no trace).
SELF_LISTED_WITHIN = timedelta(hours=24)


def _all_prescriptions(scope: Scope, list_limit: int | None) -> ValuesQuery:
    self_listed = ExpressionWrapper(
        Q(
            current_medication__recorded_by=F("prescriber"),
            current_medication__recorded_at__gte=F("prescribed_at") - SELF_LISTED_WITHIN,
        ),
        output_field=BooleanField(),
    )
    return limited(
        _prescriptions(scope)
        .annotate(team_name=F("episode__team__name"), self_listed=self_listed)
        .values(*PrescriptionRow.__annotations__)
        .order_by("-prescribed_at", "-id"),
        list_limit,
    )


def _late_records_q(scope: Scope) -> QuerySet[Meeting]:
    return Meeting.objects.filter(
        in_period("actual_start", scope),
        status=Meeting.Status.HELD,
        recorded_after_event=True,
        episode__team_id__in=scope.team_ids,
    )


def _late_head(scope: Scope) -> Totals:
    return Totals(_late_records_q(scope), {"late_records": Count("id")})


def _late_records(scope: Scope, list_limit: int | None) -> ValuesQuery:
    return limited(
        _late_records_q(scope)
        .annotate(team_name=F("episode__team__name"))
        .values(*LateRecordRow.__annotations__)
        .order_by("-actual_start", "-id"),
        list_limit,
    )


def _overrides(scope: Scope, list_limit: int | None) -> ValuesQuery:
    return limited(
        _prescriptions(scope)
        .exclude(override_reason="")
        .annotate(team_name=F("episode__team__name"))
        .values(*OverrideRow.__annotations__)
        .order_by("-prescribed_at", "-id"),
        list_limit,
    )


def _violations(scope: Scope, list_limit: int | None) -> ValuesQuery:
    return limited(
        # A join rather than `prescription__in`: PostgreSQL then walks the team's episodes to
        # their prescriptions in the period and their alerts, instead of merging every
        # violation alert of the service against them.
        Alert.objects.filter(
            in_period("prescription__prescribed_at", scope),
            kind=Alert.Kind.MEDICATION_VIOLATION,
            prescription__episode__team_id__in=scope.team_ids,
        )
        .annotate(
            team_name=F("episode__team__name"),
            prescribed_at=F("prescription__prescribed_at"),
        )
        .values(*ViolationRow.__annotations__)
        .order_by("-raised_at", "-id"),
        list_limit,
    )


def medication_rule(
    scope: Scope, *, list_limit: int | None = rules.DASHBOARD_LIST_LIMIT
) -> MedicationRule:
    """Prescriptions in the period, every one listed and counted by how it was made: new
    under the rule, continuing (from the current-medication list) and overridden; new
    medicines with the required number of network meetings (settings.
    POD_MEETINGS_BEFORE_MEDICATION; meetings.medication_rules) before them, overrides with
    their reasons, violations found by the audit, and held meetings of the period recorded
    after the event (lists: the first `list_limit`, all when None). Seven queries."""
    required: int = settings.POD_MEETINGS_BEFORE_MEDICATION
    head = totals(("medication.head", required), scope, lambda s: _medication_head(s, required))
    late = totals(("medication.late_head",), scope, _late_head)
    every = rows(
        ("medication.prescriptions", list_limit),
        scope,
        lambda s: _all_prescriptions(s, list_limit),
    )
    late_list = rows(
        ("medication.late_records", list_limit), scope, lambda s: _late_records(s, list_limit)
    )
    overrides = rows(
        ("medication.overrides", list_limit), scope, lambda s: _overrides(s, list_limit)
    )
    violations = rows(
        ("medication.violations", list_limit), scope, lambda s: _violations(s, list_limit)
    )
    return MedicationRule(
        prescriptions=head["prescriptions"],
        new=head["new"],
        new_under_rule=head["new_under_rule"],
        continuing=head["continuing"],
        new_with_meetings=head["new_with_meetings"],
        required=required,
        share_with_meetings=rules.share(head["new_with_meetings"], head["new"]),
        overrides=head["overrides"],
        violations=head["violations"],
        late_records=late["late_records"],
        # The queries select exactly the row types' keys.
        prescription_list=cast(list[PrescriptionRow], every),
        override_list=cast(list[OverrideRow], overrides),
        violation_list=cast(list[ViolationRow], violations),
        late_record_list=cast(list[LateRecordRow], late_list),
    )
