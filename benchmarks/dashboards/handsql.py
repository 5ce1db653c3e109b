"""The dashboard aggregates written by hand in SQL: the yardstick for outcomes/dashboard/.

Each function takes a cursor and a Scope and returns the headline numbers of one dashboard
section under the same names the ORM selector uses, so the benchmark can check that both agree
before it compares their speed. Hand-tuning used here: GROUPING SETS to get the headline and
the monthly trend in one pass, LATERAL subqueries that walk the (episode, actual_start) and
(meeting) indexes, window counts to return a list and its length together.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from outcomes import rules
from outcomes.dashboard.scope import Scope
from pod.foundation.localtime import SERVICE_TIME_ZONE_NAME

TZ = f"'{SERVICE_TIME_ZONE_NAME}'"
LIMIT = rules.DASHBOARD_LIST_LIMIT


def _params(scope: Scope, **extra: Any) -> dict[str, Any]:
    return {
        "teams": list(scope.team_ids),
        "start": scope.start_at,
        "end": scope.end_at,
        "now": scope.now,
        "start_day": scope.start,
        "end_day": scope.end,
        **extra,
    }


def _one(cursor, sql: str, params: dict[str, Any]) -> dict[str, Any]:
    cursor.execute(sql, params)
    names = [c[0] for c in cursor.description]
    return dict(zip(names, cursor.fetchone(), strict=True))


def _all(cursor, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    cursor.execute(sql, params)
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


BREACH = """(e.first_meeting_held_at > e.first_meeting_due_at
    OR (e.first_meeting_held_at IS NULL AND e.first_meeting_due_at <= %(now)s
        AND (e.closed_at IS NULL OR e.closed_at >= e.first_meeting_due_at)))"""
EPISODES_IN_SCOPE = """e.team_id = ANY(%(teams)s)
    AND e.referral_received_at >= %(start)s AND e.referral_received_at < %(end)s"""


def first_meeting_rule(cursor, scope: Scope) -> dict[str, Any]:
    rows = _all(
        cursor,
        f"""
        SELECT date_trunc('month', e.referral_received_at AT TIME ZONE {TZ}) AS month,
               GROUPING(date_trunc('month', e.referral_received_at AT TIME ZONE {TZ})) AS total,
               count(*) AS referrals,
               count(*) FILTER (WHERE e.first_meeting_held_at <= e.first_meeting_due_at) AS met,
               count(*) FILTER (WHERE {BREACH}) AS breached,
               count(*) FILTER (WHERE e.first_meeting_held_at IS NULL
                                AND e.status <> 'closed') AS open_clocks,
               percentile_cont(0.5) WITHIN GROUP (
                   ORDER BY extract(epoch FROM e.time_to_first_meeting) / 3600.0) AS median_hours,
               percentile_cont(0.9) WITHIN GROUP (
                   ORDER BY extract(epoch FROM e.time_to_first_meeting) / 3600.0) AS p90_hours
        FROM meetings_episode e WHERE {EPISODES_IN_SCOPE}
        GROUP BY GROUPING SETS ((1), ())""",
        _params(scope),
    )
    head = next((r for r in rows if r["total"] == 1), None) or {
        "referrals": 0,
        "met": 0,
        "breached": 0,
        "open_clocks": 0,
        "median_hours": None,
        "p90_hours": None,
    }
    head["trend"] = [r for r in rows if r["total"] == 0]
    head["breaches"] = _all(
        cursor,
        f"""
        SELECT e.id, t.name AS team_name, e.referral_received_at, e.first_meeting_due_at,
               e.first_meeting_held_at, a.message AS breach_reason
        FROM meetings_episode e JOIN pod_team t ON t.id = e.team_id
        LEFT JOIN meetings_alert a ON a.episode_id = e.id AND a.kind = 'breached'
                                  AND a.prescription_id IS NULL
        WHERE {EPISODES_IN_SCOPE} AND {BREACH}
        ORDER BY e.referral_received_at DESC, e.id DESC LIMIT {LIMIT}""",
        _params(scope),
    )
    return head


def meetings_first_14_days(cursor, scope: Scope) -> dict[str, Any]:
    return _one(
        cursor,
        f"""
        SELECT count(*) AS episodes, avg(n) AS mean, count(*) FILTER (WHERE n = 0) AS none
        FROM meetings_episode e
        CROSS JOIN LATERAL (
            SELECT count(*) AS n FROM meetings_meeting m
            WHERE m.episode_id = e.id AND m.status = 'held'
              AND m.actual_start < (((e.referral_received_at AT TIME ZONE {TZ})::date + 14)
                                    ::timestamp AT TIME ZONE {TZ})) c
        WHERE {EPISODES_IN_SCOPE} AND e.referral_received_at < %(now)s - interval '14 days'
        """,
        _params(scope),
    )


def meeting_attendance(cursor, scope: Scope) -> dict[str, Any]:
    rows = _all(
        cursor,
        f"""
        SELECT date_trunc('month', m.actual_start AT TIME ZONE {TZ}) AS month,
               count(*) AS held,
               count(*) FILTER (WHERE m.network_members_present > 0) AS members,
               count(*) FILTER (WHERE m.core_team_present) AS core,
               count(*) FILTER (WHERE m.staff_present >= 2) AS two_staff
        FROM meetings_meeting m
        JOIN meetings_episode e ON e.id = m.episode_id
        WHERE e.team_id = ANY(%(teams)s) AND m.status = 'held'
          AND m.actual_start >= %(start)s AND m.actual_start < %(end)s
        GROUP BY 1 ORDER BY 1""",
        _params(scope),
    )
    totals = {k: sum(r[k] for r in rows) for k in ("held", "members", "core", "two_staff")}
    return {**totals, "trend": rows}


# Before the attendance was stored on Meeting (meetings 0006) the same figures walked every
# attending participant row of every held meeting (110-150 ms for one team at 50,000 people):
PARTICIPANT_WALK_ATTENDANCE = f"""
        SELECT date_trunc('month', m.actual_start AT TIME ZONE {TZ}) AS month,
               count(*) AS held,
               count(*) FILTER (WHERE p.members > 0) AS members,
               count(*) FILTER (WHERE p.core > 0) AS core,
               count(*) FILTER (WHERE p.staff >= 2) AS two_staff
        FROM meetings_meeting m
        JOIN meetings_episode e ON e.id = m.episode_id
        CROSS JOIN LATERAL (
            SELECT count(*) FILTER (WHERE pa.kind = 'network_member') AS members,
                   count(*) FILTER (WHERE pa.kind = 'staff') AS staff,
                   count(*) FILTER (WHERE pa.kind = 'staff' AND EXISTS (
                       SELECT 1 FROM meetings_episode_core_team c
                       WHERE c.episode_id = m.episode_id AND c.user_id = pa.staff_id)) AS core
            FROM meetings_participant pa WHERE pa.meeting_id = m.id AND pa.attended) p
        WHERE e.team_id = ANY(%(teams)s) AND m.status = 'held'
          AND m.actual_start >= %(start)s AND m.actual_start < %(end)s
        GROUP BY 1 ORDER BY 1"""


def medication_rule(cursor, scope: Scope) -> dict[str, Any]:
    where = """e.team_id = ANY(%(teams)s)
        AND p.prescribed_at >= %(start)s AND p.prescribed_at < %(end)s"""
    head = _one(
        cursor,
        f"""
        SELECT count(*) AS prescriptions,
               count(*) FILTER (WHERE p.is_new) AS new,
               count(*) FILTER (WHERE p.is_new AND COALESCE(p.meetings_held_before, (
                   SELECT count(*) FROM meetings_meeting m
                   WHERE m.episode_id = p.episode_id AND m.status = 'held'
                     AND m.actual_start <= p.prescribed_at)) >= %(required)s)
                   AS new_with_meetings,
               count(*) FILTER (WHERE p.override_reason <> '') AS overrides,
               count(*) FILTER (WHERE EXISTS (
                   SELECT 1 FROM meetings_alert a WHERE a.prescription_id = p.id
                   AND a.kind = 'medication_violation')) AS violations
        FROM meetings_prescription p JOIN meetings_episode e ON e.id = p.episode_id
        WHERE {where}""",
        _params(scope, required=settings.POD_MEETINGS_BEFORE_MEDICATION),
    )
    head["override_list"] = _all(
        cursor,
        f"""
        SELECT p.id, p.episode_id, t.name AS team_name, p.prescribed_at, p.medicine,
               p.meetings_held_before, p.override_explanation
        FROM meetings_prescription p JOIN meetings_episode e ON e.id = p.episode_id
        JOIN pod_team t ON t.id = e.team_id
        WHERE {where} AND p.override_reason <> ''
        ORDER BY p.prescribed_at DESC, p.id DESC LIMIT {LIMIT}""",
        _params(scope),
    )
    head["violation_list"] = _all(
        cursor,
        f"""
        SELECT a.id, a.episode_id, t.name AS team_name, p.prescribed_at, a.raised_at, a.message
        FROM meetings_alert a JOIN meetings_prescription p ON p.id = a.prescription_id
        JOIN meetings_episode e ON e.id = p.episode_id JOIN pod_team t ON t.id = e.team_id
        WHERE {where} AND a.kind = 'medication_violation'
        ORDER BY a.raised_at DESC, a.id DESC LIMIT {LIMIT}""",
        _params(scope),
    )
    return head


def peer_work(cursor, scope: Scope) -> dict[str, Any]:
    weekly = _all(
        cursor,
        f"""
        SELECT date_trunc('week', c.contact_at AT TIME ZONE {TZ}) AS week, count(*) AS contacts
        FROM networks_peercontact c JOIN networks_serviceuser s ON s.id = c.service_user_id
        WHERE s.team_id = ANY(%(teams)s)
          AND c.contact_at >= %(start)s AND c.contact_at < %(end)s
        GROUP BY 1 ORDER BY 1""",
        _params(scope),
    )
    sizes = _one(
        cursor,
        f"""
        SELECT count(*) AS episodes, avg(n.at_referral) AS mean_at_referral,
               avg(n.now) AS mean_now
        FROM meetings_episode e
        CROSS JOIN LATERAL (
            SELECT count(*) FILTER (WHERE
                       ((nm.joined_at IS NOT NULL AND nm.joined_at <= e.referral_received_at)
                        OR (nm.joined_at IS NULL AND nm.added_at <= e.referral_received_at
                            AND nm.status <> 'proposed'))
                       AND (nm.ended_at IS NULL OR nm.ended_at > e.referral_received_at))
                       AS at_referral,
                   count(*) FILTER (WHERE nm.status = 'active') AS now
            FROM networks_networkmember nm WHERE nm.service_user_id = e.service_user_id) n
        WHERE {EPISODES_IN_SCOPE}""",
        _params(scope),
    )
    thin = _all(
        cursor,
        f"""
        SELECT e.id AS episode_id, t.name AS team_name, n.c AS non_professional,
               count(*) OVER () AS total
        FROM networks_serviceuser s
        JOIN meetings_episode e ON e.service_user_id = s.id AND e.status IN ('referred', 'active')
        JOIN pod_team t ON t.id = s.team_id
        CROSS JOIN LATERAL (
            SELECT count(*) AS c FROM networks_networkmember nm
            WHERE nm.service_user_id = s.id AND nm.status = 'active'
              AND nm.category <> 'professional') n
        WHERE s.team_id = ANY(%(teams)s) AND n.c < %(threshold)s
        ORDER BY e.id LIMIT {LIMIT}""",
        _params(scope, threshold=settings.POD_THIN_NETWORK_THRESHOLD),
    )
    return {
        "contacts": sum(r["contacts"] for r in weekly),
        "weekly": weekly,
        **sizes,
        "thin_count": thin[0]["total"] if thin else 0,
        "thin_list": thin,
    }


def staffing(cursor, scope: Scope) -> list[dict[str, Any]]:
    return _all(
        cursor,
        """
        SELECT t.id, t.name,
               count(*) FILTER (WHERE u.role IN ('clinician', 'prescriber')) AS clinical,
               count(*) FILTER (WHERE u.role IN ('clinician', 'prescriber') AND EXISTS (
                   SELECT 1 FROM pod_trainingrecord r WHERE r.user_id = u.id
                   AND r.course = 'POD' AND r.completed_on <= %(end_day)s)) AS trained,
               count(*) FILTER (WHERE u.role = 'peer_worker') AS peer_workers,
               count(*) FILTER (WHERE u.role = 'peer_volunteer') AS volunteers
        FROM pod_team t JOIN pod_trust tr ON tr.id = t.trust_id
        LEFT JOIN pod_teammembership mb ON mb.team_id = t.id
        LEFT JOIN pod_user u ON u.id = mb.user_id AND u.is_active
        WHERE t.id = ANY(%(teams)s)
        GROUP BY t.id, tr.name ORDER BY tr.name, t.name""",
        _params(scope),
    )


def outcomes_by_arm(
    cursor, scope: Scope, *, timepoint_months: int = rules.DASHBOARD_TIMEPOINT
) -> list[dict[str, Any]]:
    return _all(
        cursor,
        """
        SELECT s.trial_arm AS arm, count(*) AS n,
               count(*) FILTER (WHERE o.symptom_level IN ('none', 'mild')) AS mild_or_none,
               count(*) FILTER (WHERE o.relapse) AS relapse,
               count(*) FILTER (WHERE o.disability_benefit) AS disability,
               count(*) FILTER (WHERE o.neuroleptic_use) AS neuroleptic,
               count(*) FILTER (WHERE o.work_or_study) AS work_or_study,
               avg(o.hospital_bed_days) AS bed_days
        FROM outcomes_outcomeassessment o JOIN networks_serviceuser s ON s.id = o.service_user_id
        WHERE s.team_id = ANY(%(teams)s) AND o.timepoint_months = %(tp)s
          AND o.assessed_on BETWEEN %(start_day)s AND %(end_day)s
          AND s.trial_arm IN ('POD', 'TAU')
        GROUP BY s.trial_arm ORDER BY s.trial_arm""",
        _params(scope, tp=timepoint_months),
    )


def experience(cursor, scope: Scope) -> dict[str, Any]:
    columns = ", ".join(
        f"count(*) FILTER (WHERE {f} <> 'na') AS {f}__n, "
        f"count(*) FILTER (WHERE {f} = 'definitely') AS {f}__yes"
        for f, _s, _n in rules.SURVEY_STATEMENTS
    )
    return _one(
        cursor,
        f"""
        SELECT {columns} FROM outcomes_surveyresponse
        WHERE team_id = ANY(%(teams)s)
          AND submitted_month >= date_trunc('month', %(start_day)s::date)::date
          AND submitted_month <= %(end_day)s""",
        _params(scope),
    )


def care_plans(cursor, scope: Scope) -> dict[str, Any]:
    return _one(
        cursor,
        """
        SELECT count(*) AS plans, count(*) FILTER (WHERE c.person_involved) AS involved,
               count(*) FILTER (WHERE length(btrim(c.person_views)) > 0) AS views
        FROM meetings_careplanversion c JOIN meetings_episode e ON e.id = c.episode_id
        WHERE e.team_id = ANY(%(teams)s)
          AND c.created_at >= %(start)s AND c.created_at < %(end)s""",
        _params(scope),
    )


def fidelity_profile(cursor, scope: Scope) -> dict[str, Any]:
    averages = ", ".join(f"avg(f.{name})::float AS {name}" for name, _ in rules.FIDELITY_ELEMENTS)
    months = _all(
        cursor,
        f"""
        SELECT date_trunc('month', m.actual_start AT TIME ZONE {TZ}) AS month,
               count(*) AS ratings, {averages}
        FROM outcomes_fidelityrating f JOIN meetings_meeting m ON m.id = f.meeting_id
        JOIN meetings_episode e ON e.id = m.episode_id
        WHERE e.team_id = ANY(%(teams)s)
          AND m.actual_start >= %(start)s AND m.actual_start < %(end)s
        GROUP BY 1 ORDER BY 1""",
        _params(scope),
    )
    return {"ratings": sum(r["ratings"] for r in months), "months": months}


SECTIONS = {
    "first_meeting": first_meeting_rule,
    "first_14_days": meetings_first_14_days,
    "attendance": meeting_attendance,
    "medication": medication_rule,
    "peer": peer_work,
    "staffing": staffing,
    "outcomes": outcomes_by_arm,
    "experience": experience,
    "care_plans": care_plans,
    "fidelity": fidelity_profile,
}
