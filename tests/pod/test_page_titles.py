"""Page titles carry no names: a title lives on in browser history, tabs and bookmarks on shared
NHS computers. Every template's title block is read, and every page opened as every role."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.pod.access_matrix import ROLES
from tests.pod.urlwalk import routes, url_for_world

pytestmark = pytest.mark.hazard("HAZ-10.C8")

TITLE_BLOCK = re.compile(r"{%\s*block title\s*%}(.*?){%\s*endblock", re.S)
# The only values a title may show: a page's own fixed title (views set `title` to words, never
# a name - the walk below proves it), a team's name, a meeting's date.
ALLOWED = {"title", "team.name", 'meeting.scheduled_start|date:"j M"'}


def _templates() -> list[Path]:
    return sorted(Path(settings.BASE_DIR, "templates").rglob("*.html"))


def test_no_template_puts_a_person_or_member_in_its_title():
    problems = []
    for path in _templates():
        for block in TITLE_BLOCK.findall(path.read_text()):
            for variable in re.findall(r"{{\s*(.*?)\s*}}", block):
                if variable not in ALLOWED:
                    problems.append(f"{path.relative_to(settings.BASE_DIR)}: {{{{ {variable} }}}}")
    assert not problems, "Titles showing a value that may be a name:\n" + "\n".join(problems)


@pytest.mark.django_db
def test_no_page_title_names_anyone(client, world, service_user):
    users, ids = world
    names = [
        service_user.given_name,
        service_user.family_name,
        service_user.nhs_number,
        "Sky",  # the world's network member
    ]
    problems = []
    titles = 0
    for route in routes():
        if route.name.startswith(("admin:", "admin/")):
            continue
        url = url_for_world(route, ids)
        for role in ROLES:
            client.logout()
            if users[role] is not None:
                client.force_login(users[role])
            response = client.get(url)
            match = re.search(rb"<title>(.*?)</title>", response.content, re.S)
            if response.status_code != 200 or match is None:
                continue
            titles += 1
            title = match.group(1).decode()
            problems += [f"{url} as {role}: {title!r}" for n in names if n in title]
    assert titles > 50
    assert not problems, "\n".join(problems)
