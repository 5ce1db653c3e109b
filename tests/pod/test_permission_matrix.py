"""Every URL x every role: the status each role gets, against the table in access_matrix.py.

The world: one team with a person in an open episode, a meeting, a network member, a peer
contact and both peers assigned; an outsider is a clinician of another team. Each URL is opened
with GET by each role, with ids of that world substituted. A route missing from EXPECTED fails
the test, so a new page cannot land without someone deciding who may open it.

Status shorthand: 200 page; 302 redirect (a POST-only action answering GET by going back, or a
sign-in redirect for the anonymous visitor); 403 role refused; 404 record outside the user's
scope (another team's record "does not exist"); 405 GET not allowed.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings

from meetings.services.meetings import meeting_schedule
from networks.models import PeerAssignment, PeerContact
from outcomes.models import OutcomeImport
from tests import factories as f
from tests.pod.access_matrix import EXPECTED, ROLES
from tests.pod.urlwalk import build_url, routes

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(
    team,
    episode,
    service_user,
    clinician,
    prescriber,
    peer_worker,
    peer_volunteer,
    manager,
    admin_user,
    outsider,
    referral_at,
):
    member = f.make_member(service_user, name="Sky", consent_to_contact=False)
    meeting = meeting_schedule(
        episode=episode,
        scheduled_start=referral_at + timedelta(hours=3),
        scheduled_end=referral_at + timedelta(hours=4),
        location="home",
        staff=[clinician],
        network_members=[member],
        created_by=clinician,
        now=referral_at + timedelta(hours=1),
    )
    assignments = {
        peer: PeerAssignment.objects.create(
            service_user=service_user, peer=peer, assigned_by=clinician, assigned_at=referral_at
        )
        for peer in (peer_worker, peer_volunteer)
    }
    contact = PeerContact.objects.create(
        service_user=service_user,
        peer=peer_worker,
        contact_at=referral_at + timedelta(hours=2),
        mode="phone",
        duration_minutes=10,
        purpose="support",
    )
    import_job = OutcomeImport.objects.create(
        team=team,
        uploaded_by=manager,
        created_at=referral_at,
        updated_at=referral_at,
        file_name="trial.csv",
        file_sha256="0" * 64,
        file_size=0,
        mode="add",
        date_format="iso",
        status="refused",
    )
    users = {
        "clinician": clinician,
        "prescriber": prescriber,
        "peer_worker": peer_worker,
        "peer_volunteer": peer_volunteer,
        "manager": manager,
        "admin": admin_user,
        "outsider": outsider,
        "anonymous": None,
    }
    ids = {
        "episode": episode.pk,
        "meeting": meeting.pk,
        "person": service_user.pk,
        "member": member.pk,
        "contact": contact.pk,
        "assignment": assignments[peer_worker].pk,
        "team": team.pk,
        "import_job": import_job.pk,
    }
    return users, ids


# Which object an id parameter stands for, per route (default by parameter name below).
PARAM_OBJECT = {
    ("networks:member_edit", "pk"): "member",
    ("networks:member_end", "pk"): "member",
    ("networks:member_consent", "pk"): "member",
    ("networks:peer_contact_edit", "pk"): "contact",
    ("networks:peer_unassign", "pk"): "assignment",
    ("security:access_log", "pk"): "person",
    ("security:subject_access", "pk"): "person",
    ("security:subject_access_json", "pk"): "person",
    ("notification_read", "pk"): "none",
}
PARAM_DEFAULT = {
    "pk": "episode",
    "meeting_pk": "meeting",
    "meeting_id": "meeting",
    "person_pk": "person",
    "person_id": "person",
    "team_id": "team",
    "job_id": "import_job",
}
LITERAL = {
    "instrument": "PHQ9",
    "table": "first_meeting",
    "token": "not-a-real-token",
    "uidb64": "x",
    "app_label": "pod",
    "model_name": "user",
    "object_id": "1",
}


def _url_for(route, ids):
    def value(route_name, param):
        if param in LITERAL:
            return LITERAL[param]
        kind = PARAM_OBJECT.get((route_name, param)) or PARAM_DEFAULT.get(param)
        return str(ids.get(kind, 999999))

    return build_url(route, value)


def _matrix_routes():
    for route in routes():
        if route.name.startswith(("admin:", "admin/")) and route.name != "admin:index":
            continue  # the admin is one site: its front door stands for all of it
        yield route


def _status(response) -> int:
    if response.status_code == 302 and response["Location"].startswith(
        (
            settings.LOGIN_URL if settings.LOGIN_URL.startswith("/") else "/accounts/login/",
            "/admin/login/",
        )
    ):
        return 0  # sent to sign in
    return response.status_code


@pytest.mark.hazard("HAZ-06.C2")
def test_it_gives_every_role_the_expected_status_on_every_url(client, world):
    users, ids = world
    problems = []
    actual = {}
    for route in _matrix_routes():
        expected = EXPECTED.get(route.name)
        if expected is None:
            problems.append(f"{route.name}: no row in EXPECTED (tests/pod/access_matrix.py)")
        url = _url_for(route, ids)
        row = {}
        for role in ROLES:
            client.logout()
            if users[role] is not None:
                client.force_login(users[role])
            row[role] = _status(client.get(url))
            if expected is not None and row[role] not in expected[role]:
                problems.append(
                    f"GET {url} ({route.name}) as {role}: {row[role]}, expected {expected[role]}"
                )
        actual[route.name] = row
    assert not problems, (
        "\n".join(problems)
        + "\n\nActual:\n"
        + "\n".join(f"{name}: {row}" for name, row in actual.items())
    )
