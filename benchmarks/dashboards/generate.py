"""Fill a benchmark database with a synthetic trust-scale service, in bulk SQL.

Everything is generated inside PostgreSQL with generate_series and a seeded random(), so
50,000 people, 500,000 meetings (with ~2.3 million attendance rows), 100,000 prescriptions and
200,000 peer contacts take a few minutes rather than hours. Triggers (the audit trail) and
foreign-key checks are switched off for the load with session_replication_role = replica; the
data is built consistent by construction.

Shape, for `people` = P (all ids are explicit, so rows can refer to each other arithmetically):
- 4 trusts x 5 teams = 20 teams; 18 staff per team (10 clinicians, 2 prescribers, 1 peer
  worker, 4 volunteers, 1 service manager) plus one administrator; ~55% of clinical staff have
  completed POD training.
- person p (1..P) belongs to team (p-1) % 20 + 1, trial arm POD or TAU alternately;
  4 network members each; one episode each (id p), referred in the last 3 years.
- 10 meetings per episode (so 500,000 for 50,000 people), attendance for the person, two
  network members and the core team (plus a third member of staff at some meetings).
- 2 prescriptions, 4 peer contacts, 1 care plan, outcome assessments at each time point
  reached, 1 fidelity rating per 5 meetings and 1 survey response per 5 people.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from importlib import import_module

from outcomes import rules

TEAMS = 20
STAFF_PER_TEAM = 18  # offsets: 0-9 clinicians, 10-11 prescribers, 12 peer worker,
# 13-16 volunteers, 17 service manager
MEETINGS_PER_EPISODE = 10

TABLES = [
    "outcomes_fidelityrating",
    "outcomes_surveyresponse",
    "outcomes_surveyinvitation",
    "outcomes_scoredmeasure",
    "outcomes_licensedmeasure",
    "outcomes_outcomeassessment",
    "meetings_alert",
    "meetings_prescription",
    "meetings_careplanversion_involved_members",
    "meetings_careplanversion",
    "meetings_decision",
    "meetings_utterance",
    "meetings_participant",
    "meetings_meeting",
    "meetings_episode_core_team",
    "meetings_episode",
    "networks_peercontact_members",
    "networks_peercontact",
    "networks_peerassignment",
    "networks_networkmember",
    "networks_serviceuser",
    "pod_notification",
    "pod_trainingrecord",
    "pod_teammembership",
    "pod_user",
    "pod_team",
    "pod_trust",
]


# The time points an assessment is generated at (those reached by `now` are kept).
TIMEPOINTS = ", ".join(f"({months})" for months in rules.OUTCOME_TIMEPOINTS)

ATTENDANCE_BACKFILL = import_module("meetings.migrations.0006_meeting_attendance_counts").BACKFILL


def staff_id(team_sql: str, offset_sql: str) -> str:
    return f"(({team_sql}) - 1) * {STAFF_PER_TEAM} + ({offset_sql}) + 1"


def steps(people: int, now: datetime) -> list[tuple[str, str]]:
    """(label, SQL) in load order. `now` anchors the synthetic calendar."""
    p = people
    admin_id = TEAMS * STAFF_PER_TEAM + 1
    now_sql = f"'{now.isoformat()}'::timestamptz"
    role_case = (
        "CASE WHEN r < 10 THEN 'clinician' WHEN r < 12 THEN 'prescriber' "
        "WHEN r = 12 THEN 'peer_worker' WHEN r < 17 THEN 'peer_volunteer' "
        "ELSE 'service_manager' END"
    )
    return [
        (
            "trusts and teams",
            f"""
            INSERT INTO pod_trust (id, name, code)
              SELECT t, 'Bench trust ' || t, 'BT' || t FROM generate_series(1, 4) t;
            INSERT INTO pod_team (id, trust_id, name, kind, contact_email, contact_phone)
              SELECT t, (t - 1) / 5 + 1, 'Bench team ' || t,
                     (ARRAY['CRT','EIP','COMMUNITY'])[t % 3 + 1], '', ''
              FROM generate_series(1, {TEAMS}) t;""",
        ),
        (
            "staff, memberships and training",
            f"""
            INSERT INTO pod_user (id, password, is_superuser, username, first_name, last_name,
                                  email, is_staff, is_active, date_joined, role, profession)
              SELECT (t - 1) * {STAFF_PER_TEAM} + r + 1, '!', false,
                     'bench' || t || '_' || r, 'Staff', 'T' || t || 'R' || r,
                     'bench' || t || '_' || r || '@example.nhs.uk', false, true, {now_sql},
                     {role_case}, ''
              FROM generate_series(1, {TEAMS}) t, generate_series(0, {STAFF_PER_TEAM - 1}) r;
            INSERT INTO pod_user (id, password, is_superuser, username, first_name, last_name,
                                  email, is_staff, is_active, date_joined, role, profession)
              VALUES ({admin_id}, '!', true, 'benchadmin', 'Bench', 'Admin',
                      'benchadmin@example.nhs.uk', true, true, {now_sql}, 'administrator', '');
            INSERT INTO pod_teammembership (id, team_id, user_id)
              SELECT (t - 1) * {STAFF_PER_TEAM} + r + 1, t, (t - 1) * {STAFF_PER_TEAM} + r + 1
              FROM generate_series(1, {TEAMS}) t, generate_series(0, {STAFF_PER_TEAM - 1}) r;
            INSERT INTO pod_trainingrecord (id, user_id, course, started_on, completed_on)
              SELECT u.id, u.id, 'POD', ({now_sql})::date - 800,
                     CASE WHEN random() < 0.55 THEN ({now_sql})::date - 400 END
              FROM pod_user u WHERE u.role IN ('clinician', 'prescriber');""",
        ),
        (
            "people",
            f"""
            INSERT INTO networks_serviceuser (id, nhs_number, given_name, family_name,
                preferred_name, date_of_birth, phone, email, address, postcode, trial_arm,
                created_at, team_id)
              SELECT s, lpad((9000000000 + s)::text, 10, '0'), 'Bench', 'Person ' || s, '',
                     DATE '1970-01-01' + (s % 15000), '', '', '', '',
                     CASE WHEN s % 2 = 0 THEN 'POD' ELSE 'TAU' END, {now_sql},
                     (s - 1) % {TEAMS} + 1
              FROM generate_series(1, {p}) s;""",
        ),
        (
            "episodes and core teams",
            f"""
            INSERT INTO meetings_episode (id, service_user_id, team_id, referral_received_at,
                referral_source, triage_category, reason, status, first_meeting_due_at,
                first_meeting_held_at, time_to_first_meeting, clock_next_check_at, closed_at,
                closure_outcome, created_at)
              SELECT s, s, (s - 1) % {TEAMS} + 1, ref, 'gp', 'C', 'Synthetic referral',
                     CASE WHEN ref < {now_sql} - interval '180 days' THEN 'closed'
                          WHEN held IS NULL THEN 'referred' ELSE 'active' END,
                     ref + interval '24 hours', held, held - ref, NULL,
                     CASE WHEN ref < {now_sql} - interval '180 days'
                          THEN ref + interval '150 days' END,
                     CASE WHEN ref < {now_sql} - interval '180 days' THEN 'Recovered' ELSE '' END,
                     ref
              FROM (
                SELECT s, ref,
                       CASE WHEN random() < 0.03 THEN NULL
                            ELSE ref + (random() * 30 + 1) * interval '1 hour' END AS held
                FROM (SELECT s, {now_sql} - random() * interval '1095 days' AS ref
                      FROM generate_series(1, {p}) s) x
              ) y;
            UPDATE meetings_episode SET first_meeting_held_at = NULL, time_to_first_meeting = NULL
              WHERE first_meeting_held_at > {now_sql};
            INSERT INTO meetings_episode_core_team (id, episode_id, user_id)
              SELECT (s - 1) * 2 + k, s,
                     {staff_id(f"(s - 1) % {TEAMS} + 1", "(s + k * 3) % 10")}
              FROM generate_series(1, {p}) s, generate_series(1, 2) k;""",
        ),
        (
            "network members",
            f"""
            INSERT INTO networks_networkmember (id, service_user_id, name, category,
                relationship, closeness, phone, email, address, status, contact_consent,
                person_wants_invited, not_invited_reason, added_at, ended_at, joined_at)
              SELECT (s - 1) * 4 + k, s, 'Member ' || k,
                     (ARRAY['family','friend','professional','neighbour'])[k],
                     (ARRAY['mother','friend','GP','neighbour'])[k], 2, '', '', '',
                     CASE WHEN ended THEN 'ended' ELSE 'active' END, 'not_asked', true, '',
                     e.referral_received_at - CASE WHEN k = 4 THEN interval '-20 days'
                                                   ELSE interval '30 days' END,
                     CASE WHEN ended THEN e.referral_received_at + interval '60 days' END, NULL
              FROM (SELECT s, k, (k = 2 AND random() < 0.3) AS ended
                    FROM generate_series(1, {p}) s, generate_series(1, 4) k) g
              JOIN meetings_episode e ON e.id = g.s;""",
        ),
        (
            "meetings",
            f"""
            INSERT INTO meetings_meeting (id, episode_id, scheduled_start, scheduled_end,
                location, location_detail, status, actual_start, actual_end, cancelled_reason,
                created_at, calendar_sequence, cancelled_by, arranged_in_advance)
              SELECT (e.id - 1) * {MEETINGS_PER_EPISODE} + j, e.id, st, st + interval '1 hour',
                     'home', '',
                     CASE WHEN e.first_meeting_held_at IS NULL OR st > {now_sql}
                          THEN 'scheduled' ELSE 'held' END,
                     CASE WHEN e.first_meeting_held_at IS NOT NULL AND st <= {now_sql}
                          THEN st END,
                     CASE WHEN e.first_meeting_held_at IS NOT NULL AND st <= {now_sql}
                          THEN st + interval '1 hour' END,
                     '', e.referral_received_at, 0, '', true
              FROM meetings_episode e
              CROSS JOIN generate_series(1, {MEETINGS_PER_EPISODE}) j
              CROSS JOIN LATERAL (
                SELECT COALESCE(e.first_meeting_held_at,
                                e.referral_received_at + interval '30 hours')
                       + (j - 1) * interval '2 days' + (j > 1)::int * interval '3 hours' AS st
              ) t
              ORDER BY st;  -- meetings reach the table in the order they are arranged""",
        ),
        # One statement, ordered by when the meeting was arranged: a meeting's attendance rows
        # are written together (as meetings.services does), so they share heap pages as they
        # would in production.
        (
            "attendance",
            f"""
            INSERT INTO meetings_participant (meeting_id, kind, network_member_id, staff_id,
                invited, not_invited_reason, attended)
            SELECT meeting_id, kind, network_member_id, staff_id, true, '', attended FROM (
              SELECT m.id AS meeting_id, m.scheduled_start, 0 AS o, 'service_user' AS kind,
                     NULL::bigint AS network_member_id, NULL::bigint AS staff_id,
                     CASE WHEN m.status = 'held' THEN true END AS attended
              FROM meetings_meeting m
              UNION ALL
              SELECT m.id, m.scheduled_start, k, 'network_member', (m.episode_id - 1) * 4 + k,
                     NULL, CASE WHEN m.status = 'held' THEN random() < 0.6 END
              FROM meetings_meeting m CROSS JOIN (VALUES (1), (2)) v(k)
              UNION ALL
              SELECT m.id, m.scheduled_start, 3, 'staff', NULL, c.user_id,
                     CASE WHEN m.status = 'held' THEN random() < 0.85 END
              FROM meetings_meeting m
              JOIN meetings_episode_core_team c ON c.episode_id = m.episode_id
              UNION ALL
              SELECT m.id, m.scheduled_start, 4, 'staff', NULL,
                     {staff_id(f"(m.episode_id - 1) % {TEAMS} + 1", "10 + m.id % 2")},
                     CASE WHEN m.status = 'held' THEN true END
              FROM meetings_meeting m WHERE m.id % 4 = 0
            ) rows ORDER BY scheduled_start, meeting_id, o;""",
        ),
        # The attendance stored on each held meeting, as meetings.services does when a meeting
        # is recorded held: the same statement that backfilled it in the migration.
        ("attendance on meetings", ATTENDANCE_BACKFILL),
        (
            "prescriptions",
            f"""
            INSERT INTO meetings_prescription (id, episode_id, medicine, dose, is_new,
                is_antipsychotic, prescriber_id, prescribed_at, meetings_held_before,
                override_reason, override_explanation, created_at, audited_at)
              -- All new: a continuing prescription must name a row of the person's
              -- current-medication list (prescription_continuing_is_on_the_list), which the
              -- synthetic service does not have.
              SELECT (e.id - 1) * 2 + k, e.id, 'Medicine ' || k, '', true,
                     random() < 0.4, {staff_id("e.team_id", "10 + k % 2")}, pa, NULL,
                     CASE WHEN o THEN 'rapid_response' ELSE '' END,
                     CASE WHEN o THEN 'Physical safety threatened (synthetic)' ELSE '' END,
                     pa, pa
              FROM meetings_episode e CROSS JOIN generate_series(1, 2) k
              CROSS JOIN LATERAL (
                SELECT LEAST(e.referral_received_at + random() * interval '40 days',
                             {now_sql}) AS pa,
                       random() < 0.03 AS o) x;
            UPDATE meetings_prescription p SET meetings_held_before = (
                SELECT count(*) FROM meetings_meeting m
                WHERE m.episode_id = p.episode_id AND m.status = 'held'
                  AND m.actual_start <= p.prescribed_at);""",
        ),
        (
            "alerts",
            f"""
            INSERT INTO meetings_alert (kind, episode_id, prescription_id, message, raised_at,
                delivered_at, delivery_attempts, last_error)
              SELECT 'breached', e.id, NULL,
                     'Episode ' || e.id || ': no first network meeting within 24 hours.',
                     e.first_meeting_due_at, e.first_meeting_due_at, 1, ''
              FROM meetings_episode e
              WHERE (e.first_meeting_held_at > e.first_meeting_due_at)
                 OR (e.first_meeting_held_at IS NULL AND e.first_meeting_due_at <= {now_sql});
            INSERT INTO meetings_alert (kind, episode_id, prescription_id, message, raised_at,
                delivered_at, delivery_attempts, last_error)
              SELECT 'medication_override', p.episode_id, p.id,
                     'Override: ' || p.override_explanation, p.prescribed_at, p.prescribed_at,
                     1, ''
              FROM meetings_prescription p WHERE p.override_reason <> '';
            INSERT INTO meetings_alert (kind, episode_id, prescription_id, message, raised_at,
                delivered_at, delivery_attempts, last_error)
              SELECT 'medication_violation', p.episode_id, p.id,
                     'New medicine after ' || p.meetings_held_before || ' of 3 meetings.',
                     p.prescribed_at + interval '5 minutes', NULL, 0, ''
              FROM meetings_prescription p
              WHERE p.is_new AND p.override_reason = '' AND p.meetings_held_before < 3;""",
        ),
        (
            "peer contacts",
            f"""
            INSERT INTO networks_peercontact (service_user_id, peer_id, with_service_user,
                contact_at, mode, duration_minutes, purpose, note, created_at)
              SELECT e.service_user_id, {staff_id("e.team_id", "12 + k % 5")}, k % 2 = 0, ca,
                     'phone', 30, 'support', '', ca
              FROM meetings_episode e CROSS JOIN generate_series(1, 4) k
              CROSS JOIN LATERAL (
                SELECT LEAST(e.referral_received_at + random() * interval '120 days',
                             {now_sql}) AS ca) x;""",
        ),
        (
            "care plans",
            f"""
            INSERT INTO meetings_careplanversion (episode_id, version, meeting_id, what_matters,
                actions, responsible, person_views, person_involved, person_agreed,
                created_by_id, created_at)
              SELECT e.id, 1, (e.id - 1) * {MEETINGS_PER_EPISODE} + 2, 'Synthetic', 'Synthetic',
                     'Core team', CASE WHEN random() < 0.75 THEN 'My view' ELSE '' END,
                     random() < 0.8, true, c.user_id, e.referral_received_at + interval '3 days'
              FROM meetings_episode e
              JOIN meetings_episode_core_team c ON c.episode_id = e.id AND c.id % 2 = 1;""",
        ),
        (
            "outcome assessments",
            f"""
            INSERT INTO outcomes_outcomeassessment (service_user_id, timepoint_months,
                assessed_on, symptom_level, relapse, hospital_bed_days, disability_benefit,
                neuroleptic_use, work_or_study, created_at)
              SELECT e.service_user_id, t, (e.referral_received_at + t * interval '1 month')::date,
                     (ARRAY['none','mild','moderate','severe'])[1 + floor(random() * 4)::int],
                     random() < 0.4, floor(random() * 40)::int, random() < 0.4,
                     random() < 0.6, random() < 0.5, {now_sql}
              FROM meetings_episode e CROSS JOIN (VALUES {TIMEPOINTS}) v(t)
              WHERE e.referral_received_at + t * interval '1 month' <= {now_sql};""",
        ),
        (
            "fidelity ratings",
            f"""
            INSERT INTO outcomes_fidelityrating (meeting_id, rater_id, rated_at,
                {", ".join(field for field, _label in rules.FIDELITY_ELEMENTS)})
              SELECT m.id, c.user_id, m.actual_end,
                     {", ".join("floor(random() * 4)" for _ in rules.FIDELITY_ELEMENTS)}
              FROM meetings_meeting m
              JOIN meetings_episode_core_team c ON c.episode_id = m.episode_id AND c.id % 2 = 1
              WHERE m.status = 'held' AND m.id % 5 = 0;""",
        ),
        (
            "survey responses",
            f"""
            INSERT INTO outcomes_surveyresponse (team_id, submitted_month,
                {", ".join(field for field, _s, _n in rules.SURVEY_STATEMENTS)})
              SELECT (s - 1) % {TEAMS} + 1,
                     date_trunc('month', {now_sql} - random() * interval '1000 days')::date,
                     {", ".join("a[1 + floor(random() * 4)::int]" for _ in rules.SURVEY_STATEMENTS)}
              FROM generate_series(1, {max(p // 5, 1)}) s,
                   (SELECT ARRAY['definitely','somewhat','no','na'] AS a) arr;""",
        ),
    ]


def existing_tables(cursor) -> list[str]:
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    present = {r[0] for r in cursor.fetchall()}
    return [t for t in TABLES if t in present]


def reset_sequences(cursor) -> None:
    for table in existing_tables(cursor):
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)"
        )


def fill(connection, *, people: int, now: datetime, log: Callable[[str], None] = print) -> dict:
    """Empty the benchmark tables and fill them for `people` people. Returns row counts."""
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute("TRUNCATE " + ", ".join(existing_tables(cursor)) + " CASCADE")
        for label, sql in steps(people, now):
            t0 = time.monotonic()
            cursor.execute(sql)
            log(f"  {label:<32} {time.monotonic() - t0:7.1f} s")
        cursor.execute("SET session_replication_role = DEFAULT")
        reset_sequences(cursor)
        t0 = time.monotonic()
        cursor.execute("VACUUM ANALYZE") if connection.get_autocommit() else cursor.execute(
            "ANALYZE"
        )
        log(f"  {'analyze':<32} {time.monotonic() - t0:7.1f} s")
        counts = {}
        for table in (
            "networks_serviceuser",
            "meetings_episode",
            "meetings_meeting",
            "meetings_participant",
            "meetings_prescription",
            "networks_peercontact",
            "networks_networkmember",
            "meetings_alert",
            "outcomes_outcomeassessment",
            "outcomes_fidelityrating",
            "outcomes_surveyresponse",
        ):
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
    counts["seconds"] = time.monotonic() - started
    log(f"  filled in {counts['seconds']:.0f} s")
    return counts
