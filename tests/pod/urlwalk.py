"""Walk the whole URLconf and turn every route into a concrete URL (for the access tests)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name", or the route itself when unnamed
    route: str  # the pattern as written, e.g. "episodes/<int:pk>/"
    params: tuple[str, ...]  # parameter names, in order


def _pattern_text(pattern) -> str:
    if isinstance(pattern, RoutePattern):
        return str(pattern)
    if isinstance(pattern, RegexPattern):
        return pattern.regex.pattern
    return str(pattern)  # pragma: no cover


def routes() -> Iterator[Route]:
    def walk(resolver, prefix: str, namespace: str) -> Iterator[Route]:
        for entry in resolver.url_patterns:
            text = _pattern_text(entry.pattern)
            if isinstance(entry, URLResolver):
                ns = ":".join(p for p in (namespace, entry.namespace or "") if p)
                yield from walk(entry, prefix + text, ns)
            elif isinstance(entry, URLPattern):
                full = prefix + text
                params = tuple(
                    re.findall(r"<(?:\w+:)?(\w+)>", full) + re.findall(r"\(\?P<(\w+)>", full)
                )
                label = (
                    f"{namespace}:{entry.name}"
                    if namespace and entry.name
                    else (entry.name or full)
                )
                yield Route(label, full, params)

    yield from walk(get_resolver(), "", "")


def build_url(route: Route, value_for: Callable[[str, str], str]) -> str:
    """Substitute every parameter with `value_for(route_name, param)` and return the path."""
    path = route.route

    def typed(match: re.Match) -> str:
        return value_for(route.name, match.group(2))

    path = re.sub(r"<(\w+:)?(\w+)>", typed, path)

    def regex_group(match: re.Match) -> str:
        name, body = match.group(1), match.group(2)
        literal = body.split("|")[0]
        if re.fullmatch(r"[\w-]+", literal) and "|" in body:
            return literal  # e.g. the admin's (?P<app_label>pod|networks|...)
        return value_for(route.name, name)

    path = re.sub(r"\(\?P<(\w+)>((?:[^()]|\([^()]*\))*)\)", regex_group, path)
    # Regex anchors go; a "$" inside a segment is literal (FHIR's "$export").
    path = re.sub(r"\$(?=/|$)", "", path.replace("^", ""))
    path = path.replace("\\Z", "").replace("\\.", ".")
    return "/" + path


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
    ("security:subject_access_release", "pk"): "person",
    ("security:subject_access_include", "pk"): "person",
    ("notification_read", "pk"): "none",
    ("fhir:read", "resource_id"): "person",
    ("outcomes:import_job", "job_id"): "import_job",
    ("outcomes:import_progress", "job_id"): "import_job",
    ("outcomes:import_run", "job_id"): "import_job",
    ("outcomes:import_same_person", "job_id"): "import_job",
    ("outcomes:import_problems", "job_id"): "import_job",
}
PARAM_DEFAULT = {
    "pk": "episode",
    "meeting_pk": "meeting",
    "meeting_id": "meeting",
    "person_pk": "person",
    "person_id": "person",
    "team_id": "team",
    "group_id": "team",
    "review_pk": "review",
}
# A literal for one route's parameter, where the default below would name nothing there.
ROUTE_LITERAL = {
    ("outcomes:relapse_csv", "table"): "summary",
    ("outcomes:dashboard_section", "section"): "first-meeting",
}
LITERAL = {
    "instrument": "PHQ9",
    "table": "first_meeting",
    "token": "not-a-real-token",
    "uidb64": "x",
    "app_label": "pod",
    "model_name": "user",
    "object_id": "1",
    "resource_type": "Patient",
    "job_id": "0b6a2d4e-5f0a-4c2e-9a51-3e0f4c1d2b7a",
    "output_file": "Patient.ndjson",
    "rest": "nothing/here",
}


def url_for_world(route: Route, ids: dict[str, int]) -> str:
    """The concrete URL of `route` in a world whose objects' ids are `ids` (kind -> id)."""

    def value(route_name, param):
        if (route_name, param) in ROUTE_LITERAL:
            return ROUTE_LITERAL[(route_name, param)]
        if (route_name, param) in PARAM_OBJECT:
            return str(ids.get(PARAM_OBJECT[(route_name, param)], 999999))
        if param in LITERAL:
            return LITERAL[param]
        kind = PARAM_DEFAULT.get(param)
        return str(ids.get(kind, 999999))

    return build_url(route, value)
