"""Dashboard reads. Every figure is aggregated in PostgreSQL, so each section costs a fixed
number of queries however many people, meetings or contacts lie behind it.

A `Scope` says whose records (team ids) and when (a period of London calendar days). The
section functions return plain dicts of numbers and short lists; views render them, charts
draw them, and the CSV download writes the same rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import (
    Aggregate,
    Avg,
    Count,
    DateTimeField,
    Exists,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    Window,
)
from django.db.models.functions import (
    Coalesce,
    Length,
    Trim,
    TruncMonth,
    TruncWeek,
)

from meetings.models import Alert, CarePlanVersion, Episode, Meeting, Prescription
from networks.models import NetworkMember, PeerContact, ServiceUser
from outcomes import rules
from outcomes.models import FidelityRating, OutcomeAssessment, SurveyResponse
from pod.foundation.access import CLINICAL_ROLES
from pod.foundation.localtime import LONDON, SERVICE_TIME_ZONE_NAME
from pod.foundation.models import Team, User

LIST_LIMIT = 50  # rows of a breach/exception list shown on the page (the CSV has them all)


# --- Expressions -------------------------------------------------------------------------------


class PercentileCont(Aggregate):
    """PostgreSQL's percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Any, fraction: float, **extra: Any) -> None:
        super().__init__(expression, fraction=float(fraction), **extra)


class EpochHours(Func):
    """An interval as hours (float)."""

    template = "(EXTRACT(EPOCH FROM %(expressions)s) / 3600.0)"
    output_field = FloatField()


class LondonDayStart(Func):
    """The instant London's calendar day `days` after the day of an instant begins: day 0 is
    the day of the instant itself, so `days=14` ends the first 14 calendar days."""

    # The zone name is a constant of ours, never user input, so it may sit in the SQL text.
    template = (
        f"((((%(expressions)s) AT TIME ZONE '{SERVICE_TIME_ZONE_NAME}')::date + %(days)s)"
        f"::timestamp AT TIME ZONE '{SERVICE_TIME_ZONE_NAME}')"
    )
    output_field = DateTimeField()

    def __init__(self, expression: Any, days: int) -> None:
        super().__init__(expression, days=int(days))


def _count_subquery(qs: QuerySet, field: str) -> Coalesce:
    """COUNT(*) of a correlated queryset grouped by `field`, as an integer expression."""
    counted = qs.order_by().values(field).annotate(c=Count("*")).values("c")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


# --- Scope -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    team_ids: tuple[int, ...]
    start: date  # first London calendar day of the period
    end: date  # last London calendar day of the period (inclusive)
    now: datetime

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=LONDON)

    @property
    def end_at(self) -> datetime:
        """Exclusive: the start of the day after the period."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=LONDON)

    def months(self) -> list[date]:
        months, cursor = [], self.start.replace(day=1)
        while cursor <= self.end:
            months.append(cursor)
            cursor = rules.add_months(cursor, 1)
        return months


# --- Compiled once, run many times ---------------------------------------------------------------
#
# Django builds and compiles a queryset afresh on every call. For these dashboard queries that
# is 1-3 ms of Python each (cloning, resolving a dozen filtered aggregates and subqueries),
# which for one team at 1,000 people is several times what PostgreSQL takes to answer them
# (outcomes/benchmarks/RESULTS.md). So each query is built and compiled once per shape, from a
# scope of sentinel values, and afterwards only executed: the sentinels in its parameter list
# are replaced by the real scope's values and the row converters Django would apply are
# applied. The shape key holds everything else the SQL depends on (the number of teams, list
# limits, settings), so a change of any of them compiles a new statement.


def _derived(scope: Scope) -> list[Any]:
    """Every value a dashboard query takes from its scope, in a fixed order."""
    return [
        scope.start_at,
        scope.end_at,
        scope.now,
        scope.now - timedelta(days=14),
        scope.start,
        scope.end,
        scope.start.replace(day=1),
        *scope.team_ids,
    ]


def _sentinel_scope(teams: int) -> Scope:
    return Scope(
        team_ids=tuple(-1_000_000_001 - i for i in range(teams)),
        start=date(1234, 5, 6),
        end=date(1234, 8, 9),
        now=datetime(1235, 1, 2, 3, 4, 5, tzinfo=UTC),
    )


@dataclass(frozen=True)
class _Compiled:
    sql: str | None  # None: the query can match nothing (no teams)
    params: tuple[Any, ...]
    slots: tuple[tuple[int, int], ...]  # (position in params, position in _derived)
    names: tuple[str, ...]
    converters: tuple[tuple[int, tuple[Callable, ...], Any], ...]
    empty_row: dict[str, Any]
    db: str


_COMPILED: dict[tuple[Any, ...], _Compiled] = {}


def _compile(qs: QuerySet, sentinels: list[Any]) -> _Compiled:
    query = qs.query
    # As django.db.models.query.ValuesIterable names the columns.
    names = tuple(
        query.selected or (*query.extra_select, *query.values_select, *query.annotation_select)
    )
    empty_row = {
        name: getattr(expr, "empty_result_set_value", None)
        for name, expr in query.annotation_select.items()
    }
    compiler = query.get_compiler(qs.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return _Compiled(None, (), (), names, (), empty_row, qs.db)
    slots = []
    for i, param in enumerate(params):
        for j, sentinel in enumerate(sentinels):
            if type(param) is type(sentinel) and param == sentinel:
                slots.append((i, j))
                break
    mapped = {i for i, _ in slots}
    for i, param in enumerate(params):
        if i not in mapped and _looks_like_sentinel(param):
            raise RuntimeError(f"A scope value reached the SQL transformed: {param!r}")
    fields = [s[0] for s in compiler.select[0 : compiler.col_count]]
    converters = tuple(
        (pos, tuple(convs), expr) for pos, (convs, expr) in compiler.get_converters(fields).items()
    )
    return _Compiled(sql, tuple(params), tuple(slots), names, converters, empty_row, qs.db)


def _looks_like_sentinel(param: Any) -> bool:
    if isinstance(param, date):
        return param.year in (1234, 1235)
    if isinstance(param, int) and not isinstance(param, bool):
        return param <= -1_000_000_001
    return "1234-" in param or "1235-" in param if isinstance(param, str) else False


def _rows(key: tuple[Any, ...], scope: Scope, build: Callable[[Scope], QuerySet]) -> list[dict]:
    """The rows of the values() queryset `build(scope)` returns, as dicts. `build` must use
    only the values _derived lists from the scope (anything else belongs in `key`)."""
    shape = (*key, len(scope.team_ids))
    compiled = _COMPILED.get(shape)
    if compiled is None:
        sentinel = _sentinel_scope(len(scope.team_ids))
        compiled = _COMPILED[shape] = _compile(build(sentinel), _derived(sentinel))
    if compiled.sql is None:
        return []
    params = list(compiled.params)
    values = _derived(scope)
    for i, j in compiled.slots:
        params[i] = values[j]
    connection = connections[compiled.db]
    with connection.cursor() as cursor:
        cursor.execute(compiled.sql, params)
        rows = cursor.fetchall()
    names = compiled.names
    result = []
    for row in rows:
        row = list(row)
        for pos, convs, expr in compiled.converters:
            value = row[pos]
            for convert in convs:
                value = convert(value, expr, connection)
            row[pos] = value
        result.append(dict(zip(names, row, strict=True)))
    return result


def _totals(qs: QuerySet, **aggregates: Any) -> QuerySet:
    """`qs.aggregate(**aggregates)` as a one-row values() queryset that _rows can run."""
    return qs.order_by().values(_all=Value(1)).annotate(**aggregates)


def _row(key: tuple[Any, ...], scope: Scope, build: Callable[[Scope], QuerySet]) -> dict:
    """The single row of a _totals queryset (its aggregates' empty values if none)."""
    rows = _rows(key, scope, build)
    row = rows[0] if rows else dict(_COMPILED[(*key, len(scope.team_ids))].empty_row)
    row.pop("_all", None)
    return row


def teams_visible_to(user: User) -> QuerySet[Team]:
    """Administrators see every team; service managers the teams they belong to."""
    if user.role == User.Role.ADMINISTRATOR:
        return Team.objects.select_related("trust").all()
    if user.role == User.Role.SERVICE_MANAGER:
        return Team.objects.select_related("trust").filter(memberships__user=user)
    return Team.objects.none()


def _in_period(field: str, scope: Scope) -> Q:
    return Q(**{f"{field}__gte": scope.start_at, f"{field}__lt": scope.end_at})


def _month_key(value: datetime | date | None) -> str:
    return value.strftime("%Y-%m") if value else ""


# --- The 24-hour rule --------------------------------------------------------------------------


def _breach_q(now: datetime) -> Q:
    """Held after the due time, or not held by the due time (unless closed before it)."""
    return Q(first_meeting_held_at__gt=F("first_meeting_due_at")) | Q(
        first_meeting_held_at__isnull=True, first_meeting_due_at__lte=now
    ) & (Q(closed_at__isnull=True) | Q(closed_at__gte=F("first_meeting_due_at")))


def first_meeting_rule(scope: Scope, *, list_limit: int | None = LIST_LIMIT) -> dict[str, Any]:
    """Share of referrals in the period whose first meeting was in time (of those whose clock
    has resolved: met or breached), median and 90th-percentile hours, open clocks, breaches.
    Three queries: the headline, the monthly trend, the breach list."""
    met_q = Q(first_meeting_held_at__lte=F("first_meeting_due_at"))
    hours = EpochHours("time_to_first_meeting")

    def episodes(s: Scope) -> QuerySet:
        return Episode.objects.filter(_in_period("referral_received_at", s), team_id__in=s.team_ids)

    head = _row(
        ("first_meeting.head",),
        scope,
        lambda s: _totals(
            episodes(s),
            referrals=Count("id"),
            met=Count("id", filter=met_q),
            breached=Count("id", filter=_breach_q(s.now)),
            open_clocks=Count(
                "id",
                filter=Q(first_meeting_held_at__isnull=True) & ~Q(status=Episode.Status.CLOSED),
            ),
            median_hours=PercentileCont(hours, 0.5),
            p90_hours=PercentileCont(hours, 0.9),
        ),
    )
    head["share_met"] = rules.share(head["met"], head["met"] + head["breached"])
    trend = _rows(
        ("first_meeting.trend",),
        scope,
        lambda s: (
            episodes(s)
            .annotate(month=TruncMonth("referral_received_at", tzinfo=LONDON))
            .values("month")
            .annotate(met=Count("id", filter=met_q), breached=Count("id", filter=_breach_q(s.now)))
            .order_by("month")
        ),
    )
    for row in trend:
        row["month"] = _month_key(row["month"])
        row["share_met"] = rules.share(row["met"], row["met"] + row["breached"]).percent
    reason = Alert.objects.filter(
        episode=OuterRef("pk"), kind=Alert.Kind.BREACHED, prescription__isnull=True
    ).values("message")[:1]

    def breaches(s: Scope) -> QuerySet:
        rows = (
            episodes(s)
            .filter(_breach_q(s.now))
            .annotate(team_name=F("team__name"), breach_reason=Subquery(reason), hours=hours)
            .values(
                "id",
                "team_name",
                "referral_received_at",
                "referral_source",
                "triage_category",
                "first_meeting_due_at",
                "first_meeting_held_at",
                "hours",
                "status",
                "breach_reason",
            )
            .order_by("-referral_received_at", "-id")
        )
        return rows[:list_limit] if list_limit else rows

    head["breaches"] = _rows(("first_meeting.breaches", list_limit), scope, breaches)
    head["trend"] = trend
    return head


# --- Meetings ----------------------------------------------------------------------------------


def meetings_first_14_days(scope: Scope) -> dict[str, Any]:
    """Held network meetings per episode in its first 14 London calendar days (the referral
    day is day 1), over episodes referred in the period whose 14 days had ended by `now`.
    One query; the count per episode is a correlated subquery that PostgreSQL answers from
    the (episode, actual_start) index of held meetings."""
    early = Meeting.objects.filter(
        episode=OuterRef("pk"),
        status=Meeting.Status.HELD,
        actual_start__lt=LondonDayStart(OuterRef("referral_received_at"), 14),
    )
    return _row(
        ("first_14_days",),
        scope,
        lambda s: _totals(
            Episode.objects.filter(
                _in_period("referral_received_at", s),
                team_id__in=s.team_ids,
                referral_received_at__lt=s.now - timedelta(days=14),
            ).annotate(n=_count_subquery(early, "episode"), any_held=Exists(early)),
            episodes=Count("id"),
            mean=Avg("n"),
            none=Count("id", filter=Q(any_held=False)),
        ),
    )


def meeting_attendance(scope: Scope) -> dict[str, Any]:
    """Of meetings held in the period: share with a network member present, with a member of
    the episode's core team present, and with two or more staff present.

    One query, grouped by London month; the headline is the sum of the months. It reads the
    attendance stored on each held meeting (meetings.services.meeting_attendance_refresh)
    rather than walking every participant row (outcomes/benchmarks/RESULTS.md).
    """
    rows = _rows(
        ("attendance",),
        scope,
        lambda s: (
            Meeting.objects.filter(
                _in_period("actual_start", s),
                status=Meeting.Status.HELD,
                episode__team_id__in=s.team_ids,
            )
            .annotate(month=TruncMonth("actual_start", tzinfo=LONDON))
            .values("month")
            .annotate(
                held=Count("id"),
                members=Count("id", filter=Q(network_members_present__gt=0)),
                core=Count("id", filter=Q(core_team_present=True)),
                two_staff=Count("id", filter=Q(staff_present__gte=2)),
            )
            .order_by("month")
        ),
    )
    by_month = {_month_key(r["month"]): r for r in rows}
    trend = []
    for month in scope.months():
        key = _month_key(month)
        found = by_month.get(key, {})
        row = {
            "month": key,
            **{k: found.get(k, 0) for k in ("held", "members", "core", "two_staff")},
        }
        for k in ("members", "core", "two_staff"):
            row[f"{k}_pct"] = rules.share(row[k], row["held"]).percent
        trend.append(row)
    totals = {k: sum(r[k] for r in trend) for k in ("held", "members", "core", "two_staff")}
    return {
        **totals,
        "share_members": rules.share(totals["members"], totals["held"]),
        "share_core": rules.share(totals["core"], totals["held"]),
        "share_two_staff": rules.share(totals["two_staff"], totals["held"]),
        "trend": trend,
    }


# --- The medication rule -----------------------------------------------------------------------


def medication_rule(scope: Scope, *, list_limit: int | None = LIST_LIMIT) -> dict[str, Any]:
    """New prescriptions in the period with three (the setting) meetings held before them,
    overrides with their reasons, and violations found by the audit. Three queries."""
    required = settings.POD_MEETINGS_BEFORE_MEDICATION
    held_before = Coalesce(
        "meetings_held_before",
        _count_subquery(
            Meeting.objects.filter(
                episode=OuterRef("episode"),
                status=Meeting.Status.HELD,
                actual_start__lte=OuterRef("prescribed_at"),
            ),
            "episode",
        ),
    )
    violation = Alert.objects.filter(
        prescription=OuterRef("pk"), kind=Alert.Kind.MEDICATION_VIOLATION
    )

    def prescriptions(s: Scope) -> QuerySet:
        return Prescription.objects.filter(
            _in_period("prescribed_at", s), episode__team_id__in=s.team_ids
        )

    head = _row(
        ("medication.head", required),
        scope,
        lambda s: _totals(
            prescriptions(s).annotate(held=held_before, violated=Exists(violation)),
            prescriptions=Count("id"),
            new=Count("id", filter=Q(is_new=True)),
            new_with_meetings=Count("id", filter=Q(is_new=True, held__gte=required)),
            overrides=Count("id", filter=~Q(override_reason="")),
            violations=Count("id", filter=Q(violated=True)),
        ),
    )
    head["required"] = required
    head["share_with_meetings"] = rules.share(head["new_with_meetings"], head["new"])

    def overrides(s: Scope) -> QuerySet:
        rows = (
            prescriptions(s)
            .exclude(override_reason="")
            .annotate(team_name=F("episode__team__name"))
            .values(
                "id",
                "episode_id",
                "team_name",
                "prescribed_at",
                "medicine",
                "meetings_held_before",
                "override_explanation",
            )
            .order_by("-prescribed_at", "-id")
        )
        return rows[:list_limit] if list_limit else rows

    def violations(s: Scope) -> QuerySet:
        rows = (
            # A join rather than `prescription__in`: PostgreSQL then walks the team's episodes
            # to their prescriptions in the period and their alerts, instead of merging every
            # violation alert of the service against them.
            Alert.objects.filter(
                _in_period("prescription__prescribed_at", s),
                kind=Alert.Kind.MEDICATION_VIOLATION,
                prescription__episode__team_id__in=s.team_ids,
            )
            .annotate(
                team_name=F("episode__team__name"),
                prescribed_at=F("prescription__prescribed_at"),
            )
            .values("id", "episode_id", "team_name", "prescribed_at", "raised_at", "message")
            .order_by("-raised_at", "-id")
        )
        return rows[:list_limit] if list_limit else rows

    head["override_list"] = _rows(("medication.overrides", list_limit), scope, overrides)
    head["violation_list"] = _rows(("medication.violations", list_limit), scope, violations)
    return head


# --- Peer work ---------------------------------------------------------------------------------


def _members_in_network_at(person_ref: OuterRef, at: Any) -> QuerySet:
    """Members in a person's network at an instant: networks.rules.member_in_network_at in SQL."""
    return NetworkMember.objects.filter(service_user=person_ref).filter(
        Q(joined_at__isnull=False, joined_at__lte=at)
        | Q(joined_at__isnull=True, added_at__lte=at) & ~Q(status=NetworkMember.Status.PROPOSED),
        Q(ended_at__isnull=True) | Q(ended_at__gt=at),
    )


def peer_work(scope: Scope, *, list_limit: int | None = LIST_LIMIT) -> dict[str, Any]:
    """Peer contacts per week; mean network size at referral and now for episodes referred in
    the period; people with an open episode whose network is thin (fewer than the threshold of
    active non-professional members). Three queries."""
    threshold = settings.POD_THIN_NETWORK_THRESHOLD
    weekly = _rows(
        ("peer.weekly",),
        scope,
        lambda s: (
            PeerContact.objects.filter(
                _in_period("contact_at", s), service_user__team_id__in=s.team_ids
            )
            .annotate(week=TruncWeek("contact_at", tzinfo=LONDON))
            .values("week")
            .annotate(contacts=Count("id"))
            .order_by("week")
        ),
    )
    for row in weekly:
        row["week"] = row["week"].date().isoformat() if row["week"] else ""
    total_contacts = sum(r["contacts"] for r in weekly)
    active = NetworkMember.objects.filter(
        service_user=OuterRef("service_user"), status=NetworkMember.Status.ACTIVE
    )
    sizes = _row(
        ("peer.sizes",),
        scope,
        lambda s: _totals(
            Episode.objects.filter(
                _in_period("referral_received_at", s), team_id__in=s.team_ids
            ).annotate(
                at_referral=_count_subquery(
                    _members_in_network_at(
                        OuterRef("service_user"), OuterRef("referral_received_at")
                    ),
                    "service_user",
                ),
                now=_count_subquery(active, "service_user"),
            ),
            episodes=Count("id"),
            mean_at_referral=Avg("at_referral"),
            mean_now=Avg("now"),
        ),
    )

    def thin_rows(s: Scope) -> QuerySet:
        return _thin_networks(s, threshold, list_limit)

    thin_list = _rows(("peer.thin", threshold, list_limit), scope, thin_rows)
    thin_count = thin_list[0]["total"] if thin_list else 0
    return {
        "contacts": total_contacts,
        "per_week": rules.per_week(
            total_contacts,
            start=scope.start,
            end=min(scope.end, scope.now.astimezone(LONDON).date()),
        ),
        "weekly": weekly,
        **sizes,
        "thin_threshold": threshold,
        "thin_count": thin_count,
        "thin_list": thin_list,
    }


def _thin_networks(scope: Scope, threshold: int, list_limit: int | None) -> QuerySet:
    """People with an open episode whose network has fewer than `threshold` active
    non-professional members, with the number of them in every row (COUNT(*) OVER () is taken
    before the LIMIT, so the list and its length come in one query)."""
    open_people = ServiceUser.objects.filter(
        team_id__in=scope.team_ids,
        episodes__status__in=[Episode.Status.REFERRED, Episode.Status.ACTIVE],
    ).annotate(
        non_professional=_count_subquery(
            NetworkMember.objects.filter(
                service_user=OuterRef("pk"), status=NetworkMember.Status.ACTIVE
            ).exclude(category=NetworkMember.Category.PROFESSIONAL),
            "service_user",
        ),
        episode_id=F("episodes__id"),
        team_name=F("team__name"),
    )
    rows = (
        open_people.filter(non_professional__lt=threshold)
        .annotate(total=Window(Count("id")))
        .values("episode_id", "team_name", "non_professional", "total")
        .order_by("episode_id")
    )
    return rows[:list_limit] if list_limit else rows


# --- Staffing ----------------------------------------------------------------------------------


def staffing(scope: Scope) -> list[dict[str, Any]]:
    """Per team: clinical staff, how many completed POD training (target: half), paid peer
    workers (target 1) and peer volunteers (target 4-5). One query."""
    rows = _rows(("staffing",), scope, _staffing_rows)
    result = []
    for row in rows:
        coverage = rules.share(row["trained"], row["clinical"])
        result.append(
            {
                **row,
                "coverage": coverage,
                "coverage_met": coverage.percent is not None and coverage.percent >= 50,
                "peer_worker_met": row["peer_workers"] >= 1,
                "volunteers_met": 4 <= row["volunteers"] <= 5,
            }
        )
    return result


def _staffing_rows(scope: Scope) -> QuerySet:
    member = "memberships__user"
    active = Q(**{f"{member}__is_active": True})
    clinical = active & Q(**{f"{member}__role__in": CLINICAL_ROLES})
    trained = clinical & Q(
        **{
            f"{member}__training__course": "POD",
            f"{member}__training__completed_on__isnull": False,
            f"{member}__training__completed_on__lte": scope.end,
        }
    )
    return (
        Team.objects.filter(id__in=scope.team_ids)
        .annotate(
            trust_name=F("trust__name"),
            clinical=Count(member, filter=clinical, distinct=True),
            trained=Count(member, filter=trained, distinct=True),
            peer_workers=Count(
                member,
                filter=active & Q(**{f"{member}__role": User.Role.PEER_WORKER}),
                distinct=True,
            ),
            volunteers=Count(
                member,
                filter=active & Q(**{f"{member}__role": User.Role.PEER_VOLUNTEER}),
                distinct=True,
            ),
        )
        .values("id", "name", "trust_name", "clinical", "trained", "peer_workers", "volunteers")
        .order_by("trust_name", "name")
    )


# --- Outcomes, experience, care plans, fidelity -------------------------------------------------

OUTCOME_ROWS = (
    ("mild_or_none", "Mild or no symptoms"),
    ("relapse", "Relapse"),
    ("disability", "On disability allowance"),
    ("neuroleptic", "Neuroleptic (antipsychotic) use"),
    ("bed_days", "Mean hospital bed-days"),
    ("work_or_study", "In work or study"),
)


def outcomes_by_arm(scope: Scope, *, timepoint_months: int) -> dict[str, Any]:
    """POD against TAU at one time point, for assessments dated in the period: each share with
    its n, suppressed when an arm has fewer than 5 people. One query."""
    rows = _rows(
        ("outcomes", timepoint_months),
        scope,
        lambda s: (
            OutcomeAssessment.objects.filter(
                service_user__team_id__in=s.team_ids,
                timepoint_months=timepoint_months,
                assessed_on__gte=s.start,
                assessed_on__lte=s.end,
                service_user__trial_arm__in=["POD", "TAU"],
            )
            .values(arm=F("service_user__trial_arm"))
            .annotate(
                n=Count("id"),
                mild_or_none=Count("id", filter=Q(symptom_level__in=["none", "mild"])),
                relapse=Count("id", filter=Q(relapse=True)),
                disability=Count("id", filter=Q(disability_benefit=True)),
                neuroleptic=Count("id", filter=Q(neuroleptic_use=True)),
                work_or_study=Count("id", filter=Q(work_or_study=True)),
                bed_days=Avg("hospital_bed_days"),
            )
            .order_by("arm")
        ),
    )
    arms = {r["arm"]: r for r in rows}
    table = []
    for key, label in OUTCOME_ROWS:
        cells = {}
        for arm in ("POD", "TAU"):
            r = arms.get(arm, {"n": 0})
            if key == "bed_days":
                small = 0 < r["n"] < rules.SMALL_CELL
                cells[arm] = {
                    "n": 0 if small else r["n"],
                    "mean": None if small or not r["n"] else float(r["bed_days"]),
                    "suppressed": small,
                }
            else:
                cells[arm] = rules.share(r.get(key, 0), r["n"], suppress_under=rules.SMALL_CELL)
        table.append(
            {
                "key": key,
                "label": label,
                **cells,
                "lapland_pod": rules.LAPLAND_2_YEARS[key][0],
                "lapland_tau": rules.LAPLAND_2_YEARS[key][1],
            }
        )
    return {
        "timepoint_months": timepoint_months,
        "rows": table,
        "n_pod": arms.get("POD", {}).get("n", 0),
        "n_tau": arms.get("TAU", {}).get("n", 0),
    }


def experience(scope: Scope) -> list[dict[str, Any]]:
    """Each survey statement: share answering 'Yes, definitely' of those who answered (not
    'don't know'), against the 2014 national figure; suppressed under 5 answers. One query."""

    def build(s: Scope) -> QuerySet:
        aggregates = {}
        for field, _statement, _national in rules.SURVEY_STATEMENTS:
            aggregates[f"{field}__n"] = Count("id", filter=~Q(**{field: "na"}))
            aggregates[f"{field}__yes"] = Count("id", filter=Q(**{field: "definitely"}))
        responses = SurveyResponse.objects.filter(
            team_id__in=s.team_ids,
            submitted_month__gte=s.start.replace(day=1),
            submitted_month__lte=s.end,
        )
        return _totals(responses, **aggregates)

    counts = _row(("experience",), scope, build)
    return [
        {
            "field": field,
            "statement": statement,
            "cell": rules.share(
                counts[f"{field}__yes"], counts[f"{field}__n"], suppress_under=rules.SMALL_CELL
            ),
            "national": national,
        }
        for field, statement, national in rules.SURVEY_STATEMENTS
    ]


def care_plans(scope: Scope) -> dict[str, Any]:
    """Care-plan versions written in the period with evidence of the person's involvement and
    of their views (non-blank), against the 2013 audit. One query."""
    counts = _row(
        ("care_plans",),
        scope,
        lambda s: _totals(
            CarePlanVersion.objects.filter(
                _in_period("created_at", s), episode__team_id__in=s.team_ids
            ).annotate(views_length=Length(Trim("person_views"))),
            plans=Count("id"),
            involved=Count("id", filter=Q(person_involved=True)),
            views=Count("id", filter=Q(views_length__gt=0)),
        ),
    )
    return {
        **counts,
        "share_involved": rules.share(counts["involved"], counts["plans"]),
        "share_views": rules.share(counts["views"], counts["plans"]),
        "audit_involved": rules.CARE_PLAN_AUDIT_2013["involvement"],
        "audit_views": rules.CARE_PLAN_AUDIT_2013["views"],
    }


def fidelity_profile(scope: Scope) -> dict[str, Any]:
    """Mean score (0-3) per key element per month of meetings held in the period. One query."""
    averages = {
        field: Avg(field, output_field=FloatField()) for field, _ in rules.FIDELITY_ELEMENTS
    }
    months = _rows(
        ("fidelity",),
        scope,
        lambda s: (
            FidelityRating.objects.filter(
                _in_period("meeting__actual_start", s),
                meeting__episode__team_id__in=s.team_ids,
            )
            .annotate(month=TruncMonth("meeting__actual_start", tzinfo=LONDON))
            .values("month")
            .annotate(ratings=Count("id"), **averages)
            .order_by("month")
        ),
    )
    for row in months:
        row["month"] = _month_key(row["month"])
    total = sum(r["ratings"] for r in months)
    overall = {
        field: (sum(r[field] * r["ratings"] for r in months) / total if total else None)
        for field, _ in rules.FIDELITY_ELEMENTS
    }
    return {
        "ratings": total,
        "months": months,
        "overall": overall,
        "elements": rules.FIDELITY_ELEMENTS,
    }


# --- Follow-up of outcome assessments ----------------------------------------------------------


def assessments_follow_up(team: Team, *, today: date) -> list[dict[str, Any]]:
    """People of a team with an outcome assessment due or overdue, by time point, from the
    London date of their first referral. One query; the status rule is outcomes.rules."""
    done = {
        f"done_{t}": Exists(
            OutcomeAssessment.objects.filter(service_user=OuterRef("pk"), timepoint_months=t)
        )
        for t in rules.OUTCOME_TIMEPOINTS
    }
    first = (
        Episode.objects.filter(service_user=OuterRef("pk"))
        .order_by("referral_received_at")
        .values("referral_received_at")[:1]
    )
    people = (
        ServiceUser.objects.filter(team=team)
        .annotate(first_referral=Subquery(first, output_field=DateTimeField()), **done)
        .filter(first_referral__isnull=False)
        .values(
            "id",
            "given_name",
            "preferred_name",
            "family_name",
            "nhs_number",
            "first_referral",
            *done,
        )
        .order_by("family_name", "given_name")
    )
    rows = []
    for person in people:
        referral_on = person["first_referral"].astimezone(LONDON).date()
        for t in rules.OUTCOME_TIMEPOINTS:
            due_on = rules.assessment_due_on(referral_on=referral_on, timepoint_months=t)
            status = rules.assessment_status(due_on=due_on, today=today, done=person[f"done_{t}"])
            if status in ("due", "overdue"):
                rows.append({**person, "timepoint_months": t, "due_on": due_on, "status": status})
    rows.sort(key=lambda r: (r["status"] != "overdue", r["due_on"]))
    return rows


# --- Whole dashboard ---------------------------------------------------------------------------


def dashboard(scope: Scope, *, timepoint_months: int = 24) -> dict[str, Any]:
    """Every section for one scope. The number of queries is fixed (see tests/outcomes)."""
    return {
        "first_meeting": first_meeting_rule(scope),
        "first_14_days": meetings_first_14_days(scope),
        "attendance": meeting_attendance(scope),
        "medication": medication_rule(scope),
        "peer": peer_work(scope),
        "staffing": staffing(scope),
        "outcomes": outcomes_by_arm(scope, timepoint_months=timepoint_months),
        "experience": experience(scope),
        "care_plans": care_plans(scope),
        "fidelity": fidelity_profile(scope),
    }
