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

import pytest
from django.conf import settings

from tests.pod.access_matrix import EXPECTED, ROLES
from tests.pod.urlwalk import routes, url_for_world

pytestmark = pytest.mark.django_db


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
        url = url_for_world(route, ids)
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
