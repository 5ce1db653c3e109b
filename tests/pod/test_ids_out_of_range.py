"""Every route with a number in its path, given a number no id column holds: never a 5xx.

The input walks (test_every_input.py, test_bad_input_properties.py) vary form fields and query
strings; the ids in a path come from the URL itself (`<int:pk>` takes any length of digits).
A person's or an episode's page given 10^20 was a 500 once: the compiled look-ups ran as
prepared statements, and EXECUTE cannot convert such a value to a bigint parameter
(pod/foundation/compiled_query.py now runs such a value unprepared). Every role, GET and POST.
"""

from __future__ import annotations

import pytest

from tests.pod.access_matrix import ROLES
from tests.pod.urlwalk import routes, url_for_world

pytestmark = pytest.mark.django_db

# Past a bigint (2^63 - 1), and past an integer (2^31 - 1) but not a bigint.
OUT_OF_RANGE = [10**20, 2**63, 2**31]


def _numbered_routes():
    for route in routes():
        if "<int:" not in route.route:
            continue
        if route.name.startswith(("admin:", "admin/")):
            continue  # the administrators' maintenance tool (Django's own)
        yield route


@pytest.mark.parametrize("number", OUT_OF_RANGE)
def test_no_route_answers_an_id_out_of_range_with_a_server_error(client, world, number):
    users, ids = world
    routes_ = list(_numbered_routes())
    assert len(routes_) > 20
    huge = {kind: number for kind in ids}
    failures = []
    for route in routes_:
        url = url_for_world(route, huge)
        for role in ROLES:
            if users[role] is None:
                continue
            client.force_login(users[role])
            for method in ("get", "post"):
                status = getattr(client, method)(url).status_code
                if status >= 500:
                    failures.append(f"{method.upper()} {url} as {role}: {status}")
    assert not failures, "\n".join(failures)
