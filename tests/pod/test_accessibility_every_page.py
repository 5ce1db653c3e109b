"""axe-core on every page, as a role that can open it, at 1280 px and at 360 px.

Issue 13, point 3. The URLconf is walked (tests/pod/urlwalk.py) in the world of the permission
matrix (tests/pod/conftest.py); every route that answers some role with an HTML page (200,
text/html, a whole document) is opened in Chromium as the first role that may open it (in the
order of ROLE_GROUPS; the home page as every role), on a desktop and on a phone screen, and
axe-core (axe-playwright-python) runs on it. Any serious or critical violation fails the test,
listed by page, role and width. A new page is walked without editing this file.

Django's admin is left out: it is Django's own, used by administrators on desktops, and its
front door (admin:index) stands for it, as in the permission matrix.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.pod.urlwalk import routes, url_for_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {
    "1280": {"viewport": {"width": 1280, "height": 900}},
    "360": {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True},
}
FAILING_IMPACTS = ("serious", "critical")
# Every page and role checked at a width, with its count of violations of any impact (CI
# artifacts: every-page-1280px.txt and every-page-360px.txt).
REPORT = Path(settings.BASE_DIR) / "test-artifacts" / "accessibility" / "every-page.txt"
# Each page is checked as the first role, in this order, that may open it; each group's own
# navigation (the part of a page that differs by role) on its home page. A page open to several
# roles draws the same template for each, with the navigation as the only difference.
ROLE_GROUPS = [
    ("clinician", "prescriber", "outsider"),
    ("peer_worker", "peer_volunteer"),
    ("manager",),
    ("admin",),
    ("anonymous",),
]


def _is_document(response) -> bool:
    """A whole HTML page, not a fragment that htmx swaps into one (checked with its page)."""
    return response["Content-Type"].startswith("text/html") and response.content[
        :200
    ].lstrip().lower().startswith(b"<!doctype html")


def _html_pages(users, ids):
    """(route name, url, role, session cookie) for every page, as the first role (in the order
    of ROLE_GROUPS) that opens it as an HTML document; the home page as every role group."""
    clients: dict[str, Client] = {}
    for role, user in users.items():
        client = Client()
        if user is not None:
            client.force_login(user)
        clients[role] = client
    for route in routes():
        if route.name.startswith(("admin:", "admin/")) and route.name != "admin:index":
            continue
        url = url_for_world(route, ids)
        for group in ROLE_GROUPS:
            found = False
            for role in group:
                response = clients[role].get(url)
                if response.status_code == 200 and _is_document(response):
                    cookie = clients[role].cookies.get(settings.SESSION_COOKIE_NAME)
                    yield route.name, url, role, cookie.value if cookie else None
                    found = True
                    break
            if found and route.name != "home":
                break


@pytest.fixture
def html_pages(world):
    """Found with Django's test client before Chromium starts: playwright's sync API runs an
    event loop in this thread, and an async view (the health monitor) cannot run beside it."""
    users, ids = world
    return list(_html_pages(users, ids))


@pytest.mark.parametrize("width", WIDTHS)  # one test per width: xdist runs them side by side
def test_no_page_has_a_serious_accessibility_violation_for_any_role_or_width(
    html_pages, live_server, browser, width
):
    from axe_playwright_python.sync_playwright import Axe

    pages = sorted(html_pages, key=lambda p: p[2])  # by role: one sign-in per role
    assert len({name for name, *_ in pages}) > 40, "the walk found too few pages"
    axe = Axe()
    problems: list[str] = []
    report_path = REPORT.with_name(f"every-page-{width}px.txt")
    report_path.parent.mkdir(parents=True, exist_ok=True)
    with report_path.open("w") as report:
        context = browser.new_context(**WIDTHS[width])
        page = context.new_page()
        current_cookie: object = ()
        for name, url, role, cookie in pages:
            if cookie != current_cookie:
                context.clear_cookies()
                if cookie:
                    context.add_cookies(
                        [
                            {
                                "name": settings.SESSION_COOKIE_NAME,
                                "value": cookie,
                                "url": live_server.url,
                            }
                        ]
                    )
                current_cookie = cookie
            page.goto(live_server.url + url)
            violations = axe.run(page).response["violations"]
            report.write(f"{width} px\t{role}\t{name}\t{url}\t{len(violations)} violations\n")
            for violation in violations:
                if violation["impact"] in FAILING_IMPACTS:
                    targets = [n["target"] for n in violation["nodes"]][:3]
                    problems.append(
                        f"{name} as {role} at {width} px: {violation['id']} "
                        f"({violation['impact']}) {targets}"
                    )
        context.close()
        report.write("\n".join(problems) + "\n")
    assert not problems, f"{len(problems)} violations:\n" + "\n".join(problems)


def _signed_in_context(browser, live_server, user, **options):
    client = Client()
    client.force_login(user)
    context = browser.new_context(**options)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return context


def test_the_network_map_offers_its_table_first_on_a_phone(
    world, live_server, browser, clinician, service_user
):
    url = live_server.url + reverse("networks:network_map", args=[service_user.pk])
    tops = {}
    for width, options in WIDTHS.items():
        context = _signed_in_context(browser, live_server, clinician, **options)
        page = context.new_page()
        page.goto(url)
        tops[width] = (
            page.locator("svg.network-map").bounding_box()["y"],
            page.locator("#map-table").bounding_box()["y"],
        )
        context.close()
    map_top, table_top = tops["360"]
    assert table_top < map_top  # a phone reads the table, then the map
    map_top, table_top = tops["1280"]
    assert map_top < table_top  # a desktop shows the map first


TOUCH_CONTROLS = (
    "button:visible, .btn:visible, select:visible, textarea:visible, .form-check:visible, "
    "input:visible:not([type=hidden]):not([type=radio]):not([type=checkbox])"
)


def test_touch_targets_are_at_least_44_px_on_a_phone(
    world, live_server, browser, clinician, peer_volunteer, service_user, episode
):
    pages = {
        clinician: [
            reverse("home"),
            reverse("meetings:episode_detail", args=[episode.pk]),
            reverse("meetings:meeting_new", args=[episode.pk]),
            reverse("meetings:episode_new"),
        ],
        peer_volunteer: [
            reverse("home"),
            reverse("networks:peer_contact_add", args=[service_user.pk]),
        ],
    }
    small = []
    for user, paths in pages.items():
        context = _signed_in_context(browser, live_server, user, **WIDTHS["360"])
        page = context.new_page()
        for path in paths:
            page.goto(live_server.url + path)
            for element in page.locator(TOUCH_CONTROLS).all():
                box = element.bounding_box()
                if box and box["height"] < 44:
                    small.append(f"{path}: {element.evaluate('e => e.outerHTML')[:90]}")
        context.close()
    assert not small, "\n".join(small)
