"""Which URLs open a person's record, and how to find the person: a registry the apps fill in.

RecordAccessMiddleware (pod/foundation/middleware.py) logs every page of a person's record. It
understands a URL that names the person (`person_pk`, `person_id`) by itself. An app whose URLs
name something else of the person's (an episode, a meeting) registers that kind in its
AppConfig.ready, with a function from the id to the person's id:

    register("episode", url_kwarg="pk", namespace="meetings", person_id=episode_person_id)

The foundation therefore knows nothing of the apps above it: they point down to it, never the
other way (README "Architecture"). This module imports no model, so an AppConfig module may
import it at its top.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
    # id -> the person's id, or None when there is no such row. Runs a query: called on commit,
    # after the response, never while the page is built.
    person_id: Callable[[int], int | None]


# kind -> target, in registration order: the first that matches a URL wins.
_targets: dict[str, RecordTarget] = {}


def register(
    kind: str,
    *,
    url_kwarg: str,
    person_id: Callable[[int], int | None],
    namespace: str | None = None,
) -> None:
    """Declare that a URL whose keyword `url_kwarg` (in `namespace`, or any namespace when None)
    opens part of a person's record, of `kind`. Registering a kind again replaces it."""
    if kind == "person":
        raise ValueError('"person" is built in (PERSON_URL_KWARGS)')
    _targets[kind] = RecordTarget(kind, url_kwarg, namespace, person_id)


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


def person_id_for(kind: str, object_id: int) -> int | None:
    """The id of the person whose record `kind` `object_id` belongs to; None if there is none
    (or the kind was never registered). Runs at most one query."""
    if kind == "person":
        return object_id
    target = _targets.get(kind)
    return target.person_id(object_id) if target is not None else None
