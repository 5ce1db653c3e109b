"""Breadcrumbs are consistent (issue 13): every HTML page below a home page, opened as every role
that may open it, shows one breadcrumb trail of the same shape - base.html's `breadcrumbs`
block: Home first (a link to the home page), then the page's parents (links), then the page's own
title, not a link and marked as the current page. Home pages and the sign-in and public survey
pages show none. The whole URLconf is walked, so a page added next month is checked too."""

from __future__ import annotations

import html
import re

import pytest
from django.urls import reverse

from tests.pod.access_matrix import ROLES
from tests.pod.urlwalk import routes, url_for_world

# Pages that are not below a home page, so carry no trail (each empties the block, with why).
NO_TRAIL = {
    "home": "the home page: the top of every trail",
    "health_monitor": "the public monitoring endpoint (pod/health.py), drawn without base.html",
    "login": "signing in",
    "logout": "signing out",
    "password_reset": "signing in",
    "password_reset_done": "signing in",
    "password_reset_confirm": "signing in",
    "password_reset_complete": "signing in",
    "security:twofactor_verify": "signing in: the second factor",
    "outcomes:survey": "the person's public survey, reached by its link",
}

NAV = re.compile(r'<nav aria-label="Breadcrumb"[^>]*>(.*?)</nav>', re.S)
CRUMB = re.compile(r'<li class="breadcrumb-item([^"]*)"([^>]*)>(.*?)</li>', re.S)
TITLE = re.compile(r"<title>(.*?) · POD</title>", re.S)


def _text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", fragment)).split())


def trail_problems(page: str, home: str) -> list[str]:
    """What is wrong with one page's trail ([] when it is right)."""
    navs = NAV.findall(page)
    if len(navs) != 1:
        return [f"{len(navs)} breadcrumb navs, not 1"]
    crumbs = CRUMB.findall(navs[0])
    title = TITLE.search(page)
    problems = []
    if len(crumbs) < 2:
        return [f"{len(crumbs)} crumbs: a trail has Home and the page at least"]
    first, *middle, last = crumbs
    if f'<a href="{home}">Home</a>' not in first[2]:
        problems.append(f"first crumb is not a link home: {first[2]!r}")
    for _, _, body in middle:
        if "<a href=" not in body:
            problems.append(f"a parent crumb is not a link: {body!r}")
    classes, attrs, body = last
    if "active" not in classes or 'aria-current="page"' not in attrs or "<a" in body:
        problems.append(f"last crumb is not the current page, unlinked: {last!r}")
    if title is None or _text(body) != _text(title.group(1)):
        problems.append(f"last crumb {_text(body)!r} is not the title {title and title.group(1)!r}")
    return problems


@pytest.mark.django_db
def test_every_page_below_home_shows_the_same_breadcrumb_trail(client, world):
    users, ids = world
    home = reverse("home")
    problems: list[str] = []
    checked = 0
    for route in routes():
        if route.name.startswith(("admin:", "admin/")):
            continue
        url = url_for_world(route, ids)
        for role in ROLES:
            client.logout()
            if users[role] is not None:
                client.force_login(users[role])
            response = client.get(url)
            page = response.content.decode(errors="replace")
            if (
                response.status_code != 200
                or "text/html" not in response.get("Content-Type", "")
                or "<title>" not in page
            ):
                continue
            if route.name in NO_TRAIL:
                if NAV.search(page):
                    problems.append(f"{url} as {role}: a trail on a page that should have none")
                continue
            if users[role] is None:
                continue  # a public page (no one signed in): no staff trail
            checked += 1
            problems += [f"{url} ({route.name}) as {role}: {p}" for p in trail_problems(page, home)]
    assert checked > 50
    assert not problems, "\n".join(problems)


def test_the_trail_check_fails_a_page_without_one_or_with_a_linked_last_crumb():
    """The walk's own check can fail: no trail, and a last crumb that is a link."""
    page = "<title>Care plan · POD</title><main></main>"
    assert trail_problems(page, "/") == ["0 breadcrumb navs, not 1"]
    linked = (
        '<title>Care plan · POD</title><nav aria-label="Breadcrumb"><ol>'
        '<li class="breadcrumb-item"><a href="/">Home</a></li>'
        '<li class="breadcrumb-item active" aria-current="page"><a href="/x">Care plan</a></li>'
        "</ol></nav>"
    )
    assert any("unlinked" in p for p in trail_problems(linked, "/"))
