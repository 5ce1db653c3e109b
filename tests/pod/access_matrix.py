"""Who may open what: the expected GET status of every URL for every role.

The roles' needs, as the product is specified: clinicians work the whole record of their
team's people (prescribers also prescribe); peer workers and volunteers see only what their
work with a person needs; service managers see their teams' dashboards, breaches and
exceptions; administrators manage trusts, teams, staff and reference data (README "Security").

0 means "sent to sign in". Rows are built from a few profiles; a page that differs spells out
its exception. Read with tests/pod/test_permission_matrix.py.
"""

from __future__ import annotations

ROLES = [
    "clinician",
    "prescriber",
    "peer_worker",
    "peer_volunteer",
    "manager",
    "admin",
    "outsider",
    "anonymous",
]


def row(clinician, prescriber, peer_worker, peer_volunteer, manager, admin, outsider, anonymous=0):
    cells = [
        clinician,
        prescriber,
        peer_worker,
        peer_volunteer,
        manager,
        admin,
        outsider,
        anonymous,
    ]
    return {
        role: set(c) if isinstance(c, (set, tuple)) else {c}
        for role, c in zip(ROLES, cells, strict=True)
    }


# Clinical record of a person in the team: the team's clinicians and prescribers only. Peers,
# managers and administrators are refused by role; another team's clinician finds nothing.
CLINICAL = row(200, 200, 403, 403, 403, 403, 404)
# A POST-only action on the clinical record.
CLINICAL_POST = row(405, 405, 403, 403, 403, 403, 404)
# Peer work on a person assigned to the peer: peers only.
PEER = row(403, 403, 200, 200, 403, 403, 403)
# Every signed-in member of staff.
STAFF = row(200, 200, 200, 200, 200, 200, 200)
# Open to everyone, signed in or not (the short public list).
PUBLIC = row(200, 200, 200, 200, 200, 200, 200, 200)
# Management information: service managers and administrators.
MANAGEMENT = row(403, 403, 403, 403, 200, 200, 403)

EXPECTED = {
    "home": STAFF,
    "health": PUBLIC,
    # The monitors' endpoint: public like /health/; 503 while something is wrong (in this test
    # no periodic task has run yet).
    "health_monitor": row(*[(200, 503)] * 8),
    "notification_read": row(405, 405, 405, 405, 405, 405, 405),
    # Taking a referral: any clinician, into their own teams.
    "meetings:episode_new": row(200, 200, 403, 403, 403, 403, 200),
    "meetings:person_lookup": row(405, 405, 403, 403, 403, 403, 405),  # POST only
    # Finding a person: clinicians, within their own teams (the outsider searches theirs).
    "people:person_search": row(200, 200, 403, 403, 403, 403, 200),
    "people:person_detail": CLINICAL,
    "people:person_correct": CLINICAL,
    "meetings:episode_detail": CLINICAL,
    "meetings:episode_timeline": CLINICAL,
    "meetings:care_plan": CLINICAL,
    "meetings:prescribe": row(403, 200, 403, 403, 403, 403, 404),  # prescribers only
    "meetings:current_medication": CLINICAL,
    "meetings:episode_close": CLINICAL,
    "meetings:meeting_new": CLINICAL,
    "meetings:meeting_daily_run": CLINICAL,
    "meetings:meeting_took_place": CLINICAL,
    "meetings:meeting_detail": CLINICAL,
    "meetings:meeting_record_held": CLINICAL,
    "meetings:meeting_cancel": CLINICAL,
    "meetings:meeting_reschedule": CLINICAL,
    # Only a held meeting's record is corrected; this world's meeting is scheduled, so the
    # episode's clinicians are sent back to the meeting page (others as the meeting page).
    "meetings:meeting_correct": row(302, 302, 403, 403, 403, 403, 404),
    "meetings:utterance_add": CLINICAL_POST,
    "meetings:decision_add": CLINICAL_POST,
    "meetings:meeting_ics": CLINICAL,
    # The reviews of breaches, overrides and violations: the team's service managers only
    # (another team's manager finds nothing: tests/meetings/test_reviews.py).
    "meetings:review_list": row(403, 403, 403, 403, 200, 403, 403),
    "meetings:review_detail": row(403, 403, 403, 403, 200, 403, 403),
    "networks:member_list": CLINICAL,
    "networks:member_add": CLINICAL,
    "networks:member_edit": CLINICAL,
    "networks:member_end": CLINICAL,
    # Consent is recorded for a member a peer proposed; this world's member is already active.
    "networks:member_consent": row(404, 404, 404, 404, 403, 403, 404),
    "networks:peer_caseload": PEER,
    "networks:peer_person": PEER,
    "networks:peer_contact_add": PEER,
    # A peer edits only their own contacts (this one is the peer worker's).
    "networks:peer_contact_edit": row(403, 403, 200, 404, 403, 403, 403),
    "networks:member_propose": PEER,
    # Clinicians see their teams' peer work.
    "networks:peer_work": row(200, 200, 403, 403, 403, 403, 200),
    "networks:peer_assignments": CLINICAL,
    "networks:peer_unassign": row(405, 405, 405, 405, 405, 405, 405, 405),
    # The network map: the team's clinicians, and the peers assigned to the person.
    "networks:network_map": row(200, 200, 200, 200, 403, 403, 404),
    "outcomes:index": STAFF,
    "outcomes:dashboard": MANAGEMENT,
    "outcomes:dashboard_csv": MANAGEMENT,
    "outcomes:dashboard_section": MANAGEMENT,
    # Time to relapse, POD against TAU: figures for the manager's teams, like the dashboards.
    "outcomes:relapse": MANAGEMENT,
    "outcomes:relapse_csv": MANAGEMENT,
    # The research export and its dictionary: service managers, for their own teams; not the
    # administrators (they run accounts, not the teams' data).
    "outcomes:research_export": row(403, 403, 403, 403, 200, 403, 403),
    "outcomes:research_dictionary": row(403, 403, 403, 403, 200, 403, 403),
    # Team fidelity and follow-up: the team's clinicians and managers, not another team.
    "outcomes:team_fidelity": row(200, 200, 403, 403, 200, 200, 404),
    "outcomes:team_follow_up": row(200, 200, 403, 403, 200, 200, 404),
    "outcomes:person_measures": CLINICAL,
    "outcomes:licensed_measure_new": CLINICAL,
    "outcomes:scored_measure_new": CLINICAL,
    "outcomes:assessment_new": CLINICAL,
    "outcomes:survey_issue": CLINICAL,
    # The person's survey link: public, but a made-up token finds nothing.
    "outcomes:survey": row(404, 404, 404, 404, 404, 404, 404, 404),
    # Fidelity is rated for a held meeting; this world's meeting is only scheduled.
    "outcomes:meeting_fidelity": row(404, 404, 404, 404, 404, 404, 404),
    "outcomes:import": MANAGEMENT,
    # The import's template, data dictionary, job page (preview and progress) and problem report;
    # "Import" and "same person" are POST only.
    "outcomes:import_template": MANAGEMENT,
    "outcomes:import_dictionary": MANAGEMENT,
    "outcomes:import_job": MANAGEMENT,
    "outcomes:import_progress": MANAGEMENT,
    "outcomes:import_problems": MANAGEMENT,
    "outcomes:import_run": row(403, 403, 403, 403, 405, 405, 403),
    "outcomes:import_same_person": row(403, 403, 403, 403, 405, 405, 403),
    "login": PUBLIC,
    "logout": row(405, 405, 405, 405, 405, 405, 405, 405),  # POST only
    "password_reset": PUBLIC,
    "password_reset_done": PUBLIC,
    "password_reset_confirm": PUBLIC,
    "password_reset_complete": PUBLIC,
    # Who looked at the record, and the subject-access export: the team's clinicians and the
    # administrators (who answer subject access requests).
    "security:access_log": row(200, 200, 403, 403, 403, 200, 404),
    "security:subject_access": row(200, 200, 403, 403, 403, 200, 404),
    "security:subject_access_json": row(200, 200, 403, 403, 403, 200, 404),
    "security:subject_access_release": row(200, 200, 403, 403, 403, 200, 404),
    # Including third-party data in the released copy: the team's clinicians (POST only).
    "security:subject_access_include": row(405, 405, 403, 403, 403, 403, 405),
    "security:twofactor_setup": STAFF,
    # Each member of staff's own second factor (replacing it needs the password and a code).
    "security:twofactor_manage": STAFF,
    # Nobody in this world has an authenticator yet, so verify sends them to set-up.
    "security:twofactor_verify": row(302, 302, 302, 302, 302, 302, 302),
    # The admin: administrators only; everyone else is sent to the admin's sign-in.
    "admin:index": row(0, 0, 0, 0, 0, 200, 0),
    # The FHIR API (tests/fhir/test_access_matrix.py checks every type and machine clients).
    # It answers 401 (not a sign-in redirect) to a caller without a session or token.
    "fhir:metadata": PUBLIC,  # the CapabilityStatement: public, as FHIR expects
    "fhir:smart_configuration": PUBLIC,  # where to get a token
    "fhir:token": row(405, 405, 405, 405, 405, 405, 405, 405),  # POST only
    "fhir:openapi_json": row(200, 200, 200, 200, 200, 200, 200, 401),
    "fhir:openapi": STAFF,
    # Kick-offs without `Prefer: respond-async` are 400 for whoever may export something;
    # peers may read nothing through the API, administrators nothing about people.
    "fhir:export_system": row(400, 400, 403, 403, 400, 400, 400, 401),
    "fhir:export_patients": row(400, 400, 403, 403, 400, 403, 400, 401),
    "fhir:export_group": row(400, 400, 403, 403, 400, 403, 404, 401),
    "fhir:export_status": row(404, 404, 404, 404, 404, 404, 404, 401),  # nobody's export
    "fhir:export_file": row(404, 404, 404, 404, 404, 404, 404, 401),
    "fhir:search_post": row(405, 405, 405, 405, 405, 405, 405, 405),  # POST only
    "fhir:read": row(200, 200, 403, 403, 403, 403, 404, 401),  # Patient/<the person>
    "fhir:search": row(200, 200, 403, 403, 403, 403, 200, 401),  # outsider: an empty Bundle
    "fhir:not_found": row(404, 404, 404, 404, 404, 404, 404, 401),
}
