"""What a look at a record was, in words, for the access log page (issue 13).

A RecordAccess row's `what` is a code: the route name of a person's page
("meetings:episode_detail", written by RecordAccessMiddleware) or the short code a list or
export passed to `note_shown` ("list:home", "export:json"). People read the log, so each code
has words here; a code not listed (a page added later) is still written as words, from its
name, never as a route name.
"""

from __future__ import annotations

ACCESS_WORDS: dict[str, str] = {
    # A person's own pages.
    "people:person_detail": "Opened the person's details",
    "people:person_correct": "Corrected the person's details",
    "meetings:episode_detail": "Opened the episode",
    "meetings:episode_timeline": "Opened the episode's timeline",
    "meetings:care_plan": "Opened the care plan",
    "meetings:prescribe": "Opened prescribing",
    "meetings:episode_close": "Opened closing the episode",
    "meetings:meeting_new": "Arranged a network meeting",
    "meetings:meeting_daily_run": "Arranged daily network meetings",
    "meetings:meeting_detail": "Opened a network meeting",
    "meetings:meeting_record_held": "Recorded a network meeting as held",
    "meetings:meeting_ics": "Downloaded a meeting's calendar file",
    "meetings:review_detail": "Opened a manager's review",
    "networks:member_list": "Opened the network members",
    "networks:member_add": "Added a network member",
    "networks:member_edit": "Changed a network member",
    "networks:member_end": "Ended a network member",
    "networks:member_consent": "Recorded a network member's consent",
    "networks:network_map": "Opened the network map",
    "networks:peer_person": "Opened the peer's page for the person",
    "networks:peer_contact_add": "Logged a peer contact",
    "networks:peer_contact_edit": "Changed a peer contact",
    "networks:member_propose": "Proposed a network member",
    "networks:peer_assignments": "Opened the peer assignments",
    "outcomes:person_measures": "Opened the outcome measures",
    "outcomes:licensed_measure_new": "Recorded a licensed measure",
    "outcomes:scored_measure_new": "Recorded a scored measure",
    "outcomes:assessment_new": "Recorded an outcome assessment",
    "outcomes:survey_issue": "Issued the experience survey link",
    "outcomes:meeting_fidelity": "Rated a meeting's fidelity",
    "security:access_log": "Opened who has looked at the record",
    "security:subject_access": "Opened the subject access review",
    "security:subject_access_json": "Downloaded the subject access copy",
    "security:subject_access_release": "Opened the subject access release",
    "access_log": "Opened who has looked at the record",
    # Lists, look-ups and exports that named the person among others.
    "list:home": "Saw the person listed on the home page",
    "list:alerts": "Saw an alert about the person",
    "list:caseload": "Saw the person in a caseload",
    "list:dashboard": "Saw the person's episode listed on the dashboard",
    "list:follow_up": "Saw the person in the follow-up list",
    "list:peer_caseload": "Saw the person in the peer's caseload",
    "list:peer_home": "Saw the person on the peer's home page",
    "list:peer_work": "Saw the person in the team's peer work",
    "list:reviews": "Saw the person in the managers' reviews",
    "lookup:nhs_number": "Found the person by NHS number (taking a referral)",
    "referral:identity_check": "Compared identities on a referral",
    "search:people": "Found the person in a search",
    "export:json": "Downloaded the subject access copy",
    "export:review": "Opened the subject access review",
    "export:released": "Released the subject access copy",
    "export:dashboard_csv": "Downloaded a dashboard table",
    "fhir:read": "Read the record through the API",
    "fhir:search": "Found the person through the API",
    "fhir:export": "Exported the record through the API",
    "admin:list": "Saw the person listed in the admin",
    "admin:change": "Opened the record in the admin",
    "admin:delete": "Opened deleting the record in the admin",
    "admin:delete_related": "Saw the record while deleting another in the admin",
    "admin:history": "Opened the record's history in the admin",
    "admin:audit": "Opened the audit trail in the admin",
    "admin:access_log": "Opened the access log in the admin",
}


def access_words(what: str) -> str:
    """`what` (a RecordAccess code) in words: ACCESS_WORDS, or else words made from the code's
    name ("outcomes:team_fidelity" -> "Opened team fidelity")."""
    if what in ACCESS_WORDS:
        return ACCESS_WORDS[what]
    name = what.rsplit(":", 1)[-1].replace("_", " ").strip()
    return f"Opened {name}" if name else "Opened the record"
