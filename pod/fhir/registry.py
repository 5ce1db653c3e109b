"""The resource registry: every FHIR resource type the API serves, and how it maps POD's rows.

One mapper per resource type (pod/fhir/resources/), each a subclass of `Mapper` registered with
`@register`. Everything else is generated from this registry: the routes' dispatch, the search
parameters a type accepts, the CapabilityStatement at /fhir/metadata (pod.fhir.capability),
the OpenAPI description (pod.fhir.openapi), the scopes a client may be granted
(pod.fhir.scopes) and the bulk export's types (pod.fhir.bulk).

A mapper says which rows a user may see by calling the owning app's selectors (the same ones
the pages use), never by filtering afterwards: `visible(user)`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from django.db.models import CharField, F, Model, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Cast, Coalesce

from pod.foundation.audit_models import AuditEvent
from pod.foundation.models import User
from pod.foundation.numbers import is_ascii_digits

# Roles, as in pod.foundation.access: who may read which types is each mapper's `roles`.
CLINICAL = frozenset({User.Role.CLINICIAN, User.Role.PRESCRIBER})
MANAGER = User.Role.SERVICE_MANAGER
ADMINISTRATOR = User.Role.ADMINISTRATOR


class SearchError(ValueError):
    """A search parameter's value cannot be understood: the API answers 400."""


@dataclass(frozen=True)
class SearchParam:
    name: str
    type: str  # FHIR search parameter type: token, reference, date, string
    description: str


@dataclass(frozen=True)
class Include:
    """`_include=<Type>:<name>` adds the `target` resources that `path` (an ORM path to the
    target's id on this mapper's rows) points at."""

    name: str
    target: str
    path: str


COMMON_PARAMS = (
    SearchParam("_id", "token", "The resource's id (comma-separated: any of them)"),
    SearchParam("_lastUpdated", "date", "When the resource last changed (see meta.lastUpdated)"),
    SearchParam(
        "_count",
        "number",
        "Entries per page (default POD_FHIR_PAGE_SIZE, at most "
        "POD_FHIR_MAX_PAGE_SIZE); 0 gives the total only",
    ),
    SearchParam("_include", "special", "Add the resources a reference points at (see each type)"),
)


@dataclass(frozen=True)
class Source:
    """One table a resource type is read from. Most types have one, with ids that are the
    row's primary key; AuditEvent has two (changes and looks), told apart by the id's prefix.
    Paging walks the sources in order, each by primary key."""

    prefix: str
    rows: QuerySet[Any]
    render: Callable[[Any], dict[str, Any]]


class Mapper:
    """How one FHIR resource type is made from POD's rows. Subclasses set the class attributes
    and implement `visible` and `to_fhir`; the rest has defaults."""

    type_name: ClassVar[str]
    description: ClassVar[str]
    model: ClassVar[type[Model]]
    # Roles whose members (or machine clients acting with that role) may read this type.
    roles: ClassVar[frozenset[str]]
    # ORM path from the row to the person's id; None when the type is not about one person.
    person_path: ClassVar[str | None] = None
    # ORM path from the row to its team's id (the group-level export selects by it).
    team_path: ClassVar[str | None] = None
    # ORM path of the instant `date` searches compare with; None: no `date` parameter.
    date_path: ClassVar[str | None] = None
    # The audited table of the row (meta.lastUpdated is its latest change there), and the
    # field that says when the row was made, used while no change is in the audit.
    audit_table: ClassVar[str | None] = None
    created_path: ClassVar[str | None] = None
    # status code -> Q on the rows; empty: no `status` parameter.
    statuses: ClassVar[dict[str, Q]] = {}
    extra_params: ClassVar[tuple[SearchParam, ...]] = ()
    includes: ClassVar[tuple[Include, ...]] = ()

    # --- to be implemented --------------------------------------------------------------------
    def visible(self, user: User) -> QuerySet[Any]:
        """The rows `user` may see, through the owning app's selectors."""
        raise NotImplementedError

    def to_fhir(self, row: Any) -> dict[str, Any]:
        """The resource, as JSON-ready dict, for one row of `prepare(...)`."""
        raise NotImplementedError

    # --- defaults -----------------------------------------------------------------------------
    def prepare(self, rows: QuerySet[Any]) -> QuerySet[Any]:
        """Load what to_fhir needs in a fixed number of queries (select/prefetch_related)."""
        return rows

    def attach(self, rows: list[Any]) -> None:
        """Load onto fetched rows, in a fixed number of queries, what to_fhir needs and
        `prepare` cannot give cheaply (default: nothing). Called on every page and chunk."""

    def filter_param(self, rows: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        """Apply a type-specific parameter from `extra_params`; SearchError when the value is
        not understood."""
        raise SearchError(f"Unknown search parameter: {name}")

    def parse_id(self, raw: str) -> int:
        """The row's primary key from a resource id; SearchError when it cannot be one."""
        if not is_ascii_digits(raw) or len(raw) > 18:
            raise SearchError(f"No {self.type_name} has the id {raw[:40]!r}")
        return int(raw)

    def resource_id(self, row: Any) -> str:
        return str(row.pk)

    def sources(self, user: User) -> list[Source]:
        """The tables this type is read from, already limited to what `user` may see."""
        return [Source("", self.base_rows(user), self.to_fhir)]

    def locate(self, raw: str) -> tuple[int, int]:
        """(index of the source, primary key) of a resource id; SearchError when the id
        cannot be one of this type's."""
        return 0, self.parse_id(raw)

    @property
    def search_params(self) -> tuple[SearchParam, ...]:
        params = list(COMMON_PARAMS)
        if self.person_path:
            params.append(SearchParam("patient", "reference", "The person: Patient/<id> or <id>"))
        if self.date_path:
            params.append(
                SearchParam(
                    "date",
                    "date",
                    "With a prefix (eq, ne, lt, le, gt, ge, sa, eb): "
                    f"compares {self.date_path.replace('__', '.')}",
                )
            )
        if self.statuses:
            params.append(
                SearchParam("status", "token", "Any of: " + ", ".join(sorted(self.statuses)))
            )
        return (*params, *self.extra_params)

    def last_updated(self) -> Any:
        """An expression for meta.lastUpdated: the latest audited change to the row, or when it
        was made; None for types that carry neither."""
        created = F(self.created_path) if self.created_path else None
        if self.audit_table is None:
            return created
        latest = Subquery(
            AuditEvent.objects.filter(
                table_name=self.audit_table, row_id=Cast(OuterRef("pk"), CharField())
            )
            .order_by("-at")
            .values("at")[:1]
        )
        return Coalesce(latest, created) if created is not None else latest

    def base_rows(self, user: User) -> QuerySet[Any]:
        """visible(user) with `fhir_last_updated` and `fhir_person_id` annotated."""
        rows = self.visible(user)
        annotations: dict[str, Any] = {}
        expression = self.last_updated()
        if expression is not None:
            annotations["fhir_last_updated"] = expression
        if self.person_path:
            annotations["fhir_person_id"] = F(self.person_path)
        return rows.annotate(**annotations) if annotations else rows

    def meta(self, row: Any) -> dict[str, Any]:
        when: datetime | None = getattr(row, "fhir_last_updated", None)
        return {"lastUpdated": instant(when)} if when is not None else {}

    def start(self, row: Any) -> dict[str, Any]:
        """The opening keys every resource has: resourceType, id, meta."""
        out: dict[str, Any] = {"resourceType": self.type_name, "id": self.resource_id(row)}
        meta = self.meta(row)
        if meta:
            out["meta"] = meta
        return out


def instant(value: datetime) -> str:
    """An aware datetime as a FHIR instant (UTC to the second, `Z`)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_registry: dict[str, Mapper] = {}


def register(cls: type[Mapper]) -> type[Mapper]:
    """Class decorator: add a mapper to the registry under its type_name."""
    _registry[cls.type_name] = cls()
    return cls


def mapper_for(type_name: str) -> Mapper | None:
    return _registry.get(type_name)


def all_mappers() -> Iterable[Mapper]:
    """Every registered mapper, by type name."""
    return [_registry[name] for name in sorted(_registry)]


def reference(type_name: str, row_id: object) -> dict[str, str]:
    return {"reference": f"{type_name}/{row_id}"}


def fhir_date(value: date) -> str:
    return value.isoformat()
