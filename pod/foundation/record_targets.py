"""Which URLs open a person's record, and how to find the person: a registry the apps fill in.

RecordAccessMiddleware (pod/foundation/middleware.py) logs every page of a person's record. It
understands a URL that names the person (`person_pk`, `person_id`) by itself. An app whose URLs
name something else of the person's (an episode, a meeting) registers that kind in its
AppConfig.ready, with a function from ids to their people's ids (one query for any number, so a
list page that shows a hundred episodes logs them in one go):

    register("episode", url_kwarg="pk", namespace="meetings", person_ids=episode_person_ids)

The foundation therefore knows nothing of the apps above it: they point down to it, never the
other way (README "Architecture"). This module imports no model, so an AppConfig module may
import it at its top.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

# URL keyword arguments that carry the person's own id, in any namespace.
PERSON_URL_KWARGS = ("person_pk", "person_id")


@dataclass(frozen=True)
class RecordTarget:
    kind: str
    url_kwarg: str
    # The URL namespace the keyword means this kind in; None: any namespace.
    namespace: str | None
    # ids -> {id: the person's id} (ids with no such row left out). One query: called on commit,
    # after the response, never while the page is built.
    person_ids: Callable[[Collection[int]], dict[int, int]]


# kind -> target, in registration order: the first that matches a URL wins.
_targets: dict[str, RecordTarget] = {}


def register(
    kind: str,
    *,
    url_kwarg: str,
    person_ids: Callable[[Collection[int]], dict[int, int]],
    namespace: str | None = None,
) -> None:
    """Declare that a URL whose keyword `url_kwarg` (in `namespace`, or any namespace when None)
    opens part of a person's record, of `kind`. Registering a kind again replaces it."""
    if kind == "person":
        raise ValueError('"person" is built in (PERSON_URL_KWARGS)')
    _targets[kind] = RecordTarget(kind, url_kwarg, namespace, person_ids)


def target_for(namespace: str, view_kwargs: Mapping[str, Any]) -> tuple[str, int] | None:
    """(kind, id) of the record a URL opens, from its namespace and keyword arguments; None when
    the URL names no record. The person's own id wins over any registered kind."""
    for key in PERSON_URL_KWARGS:
        if key in view_kwargs:
            return ("person", view_kwargs[key])
    for target in _targets.values():
        if target.url_kwarg in view_kwargs and target.namespace in (None, namespace):
            return (target.kind, view_kwargs[target.url_kwarg])
    return None


def person_ids_for(kind: str, object_ids: Collection[int]) -> dict[int, int]:
    """{id: the id of the person whose record it belongs to} for `kind` ("person" or a
    registered kind); ids with no such row (or a kind never registered) are left out. Runs at
    most one query."""
    if kind == "person":
        return {i: i for i in object_ids}
    target = _targets.get(kind)
    if target is None or not object_ids:
        return {}
    return target.person_ids(object_ids)


def person_id_for(kind: str, object_id: int) -> int | None:
    """The id of the person whose record `kind` `object_id` belongs to; None if there is none
    (or the kind was never registered). Runs at most one query."""
    return person_ids_for(kind, [object_id]).get(object_id)
