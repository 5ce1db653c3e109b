"""FHIR search: parameters -> filtered rows -> one page, by keyset, in a fixed number of queries.

1. Each parameter is parsed (pod.foundation.plausibility for dates); a parameter the type does
   not support, or a value that cannot be understood, is a SearchError (the API answers 400
   with an OperationOutcome): POD's searches are strict, never silently wider than asked.
2. The rows start from the mapper's `sources(user)`, i.e. what the caller may see, and every
   filter narrows them.
3. A page walks the sources in order by primary key after the cursor (`_cursor=<source>.<pk>`,
   an opaque position that names no person), reading `_count + 1` rows to know whether there is
   a next page; the total is one COUNT per source.
4. `_include=<Type>:<name>` adds the referenced resources the caller may also see.

Queries per page: one COUNT and one SELECT per source, what the mapper's `prepare` prefetches,
and one SELECT per `_include`; never one per row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db.models import DateField, F, Q, QuerySet

from pod.fhir.registry import Include, Mapper, SearchError, Source, mapper_for
from pod.foundation.localtime import LONDON
from pod.foundation.models import User
from pod.foundation.numbers import is_ascii_digits
from pod.foundation.plausibility import query_fhir_date

# Parameters that never filter rows.
CONTROL = {"_count", "_cursor", "_include", "_format"}
# Parameters whose value is personal data: never put back into a URL (self / next links).
PERSONAL = {"identifier"}
DATE_PREFIXES = ("eq", "ne", "lt", "le", "gt", "ge", "sa", "eb")


@dataclass
class Page:
    matches: list[tuple[Source, Any]] = field(default_factory=list)
    included: list[tuple[Mapper, Any]] = field(default_factory=list)
    total: int = 0
    next_cursor: str | None = None


def page_size(raw: str | None) -> int:
    """`_count` as a number of entries: the default when absent; SearchError when it is not a
    whole number from 0 to POD_FHIR_MAX_PAGE_SIZE."""
    if raw is None or raw == "":
        return int(settings.POD_FHIR_PAGE_SIZE)
    if not is_ascii_digits(raw) or int(raw) > settings.POD_FHIR_MAX_PAGE_SIZE:
        raise SearchError(
            f"_count must be a whole number from 0 to {settings.POD_FHIR_MAX_PAGE_SIZE}"
        )
    return int(raw)


def date_q(path: str, raw: str, *, now: datetime, on_dates: bool) -> Q:
    """A Q comparing the field `path` with a FHIR date search value (prefix + date)."""
    prefix = raw[:2] if raw[:2] in DATE_PREFIXES else "eq"
    text = raw[2:] if raw[:2] in DATE_PREFIXES else raw
    try:
        start, end = query_fhir_date(text, now=now)
    except ValueError as exc:
        raise SearchError(f"date: {exc}") from None
    low: date | datetime = start
    high: date | datetime = end
    if on_dates:  # a DateField: compare with the London calendar days the range covers
        low, high = start.astimezone(LONDON).date(), end.astimezone(LONDON).date()
        if end.astimezone(LONDON).time() != datetime.min.time():
            high = high.fromordinal(high.toordinal() + 1)
    inside = Q(**{f"{path}__gte": low, f"{path}__lt": high})
    return {
        "eq": inside,
        "ne": ~inside,
        "lt": Q(**{f"{path}__lt": low}),
        "eb": Q(**{f"{path}__lt": low}),
        "le": Q(**{f"{path}__lt": high}),
        "gt": Q(**{f"{path}__gte": high}),
        "sa": Q(**{f"{path}__gte": high}),
        "ge": Q(**{f"{path}__gte": low}),
    }[prefix]


def _is_date_field(mapper: Mapper, path: str) -> bool:
    model: Any = mapper.model
    *hops, last = path.split("__")
    for hop in hops:
        model = model._meta.get_field(hop).related_model
    field_ = model._meta.get_field(last)
    return isinstance(field_, DateField) and not field_.get_internal_type() == "DateTimeField"


def _patient_id(raw: str) -> int:
    value = raw.removeprefix("Patient/")
    if not is_ascii_digits(value) or len(value) > 18:
        raise SearchError("patient: give Patient/<id> or <id>")
    return int(value)


def _filter(
    mapper: Mapper,
    source_index: int,
    rows: QuerySet[Any],
    name: str,
    values: Sequence[str],
    *,
    now: datetime,
) -> QuerySet[Any]:
    for value in values:
        if value == "":
            raise SearchError(f"{name}: a value is needed")
        if name == "_id":
            pks = []
            for raw in value.split(","):
                index, pk = mapper.locate(raw)
                if index == source_index:
                    pks.append(pk)
            rows = rows.filter(pk__in=pks)
        elif name == "_lastUpdated":
            if mapper.last_updated() is None and mapper.type_name != "AuditEvent":
                raise SearchError(f"{mapper.type_name} has no lastUpdated to search by")
            rows = rows.filter(date_q("fhir_last_updated", value, now=now, on_dates=False))
        elif name == "date" and mapper.date_path:
            path = mapper.date_path
            rows = rows.filter(date_q(path, value, now=now, on_dates=_is_date_field(mapper, path)))
        elif name == "patient" and mapper.person_path:
            ids = [_patient_id(raw) for raw in value.split(",")]
            rows = rows.filter(**{f"{mapper.person_path}__in": ids})
        elif name == "status" and mapper.statuses:
            wanted = Q(pk__in=[])
            for code in value.split(","):
                if code not in mapper.statuses:
                    raise SearchError(
                        f"status: {code[:40]!r} is not one of {', '.join(sorted(mapper.statuses))}"
                    )
                wanted |= mapper.statuses[code]
            rows = rows.filter(wanted)
        elif name in {p.name for p in mapper.extra_params}:
            rows = mapper.filter_param(rows, name, value)
        else:
            raise SearchError(f"{mapper.type_name} cannot be searched by {name[:40]!r}")
    return rows


def parse_includes(mapper: Mapper, values: Sequence[str]) -> list[Include]:
    """The Include definitions named by `_include` values (`Type:name`); SearchError for one
    this type does not offer."""
    chosen = []
    offered = {f"{mapper.type_name}:{inc.name}": inc for inc in mapper.includes}
    for value in values:
        for item in value.split(","):
            include = offered.get(item.rsplit(":", 1)[0] if item.count(":") == 2 else item)
            if include is None:
                raise SearchError(
                    f"_include {item[:60]!r} is not offered; "
                    + ("offered: " + ", ".join(offered) if offered else "none is offered")
                )
            chosen.append(include)
    return chosen


def parse_cursor(raw: str | None, source_count: int) -> tuple[int, int]:
    if not raw:
        return 0, 0
    index, _, pk = raw.partition(".")
    if (
        not (is_ascii_digits(index) and is_ascii_digits(pk))
        or int(index) >= source_count
        or len(pk) > 18
    ):
        raise SearchError("_cursor: not a position this search gave")
    return int(index), int(pk)


def filtered_sources(
    mapper: Mapper, user: User, params: dict[str, list[str]], *, now: datetime
) -> list[tuple[Source, QuerySet[Any]]]:
    """Each source's rows that `user` may see, narrowed by `params` (control parameters such as
    `_count` ignored). Builds querysets without running them; SearchError for a bad parameter."""
    out = []
    for index, source in enumerate(mapper.sources(user)):
        rows = source.rows
        for name, values in params.items():
            if name not in CONTROL:
                rows = _filter(mapper, index, rows, name, values, now=now)
        out.append((source, rows))
    return out


def _last(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    return values[-1] if values else None


def search(
    mapper: Mapper,
    user: User,
    params: dict[str, list[str]],
    *,
    now: datetime,
    may_read: Callable[[str], bool],
) -> Page:
    """One page of `mapper`'s resources that `user` may see and `params` select.
    `may_read(type)` says whether an `_include`d type may be added for this caller."""
    count = page_size(_last(params, "_count"))
    includes = parse_includes(mapper, params.get("_include", []))
    sources = mapper.sources(user)
    start_index, after = parse_cursor(_last(params, "_cursor"), len(sources))
    filtered = [rows for _source, rows in filtered_sources(mapper, user, params, now=now)]
    page = Page(total=sum(rows.count() for rows in filtered))
    if count == 0:
        return page
    for index in range(start_index, len(sources)):
        remaining = count - len(page.matches)
        rows = filtered[index]
        if index == start_index and after:
            rows = rows.filter(pk__gt=after)
        annotated = rows.annotate(**{f"fhir_inc_{i}": _ref(inc) for i, inc in enumerate(includes)})
        chunk = list(mapper.prepare(annotated).order_by("pk")[: remaining + 1])
        mapper.attach(chunk[:remaining])
        page.matches.extend((sources[index], row) for row in chunk[:remaining])
        if len(chunk) > remaining:
            page.next_cursor = f"{index}.{chunk[remaining - 1].pk}"
            break
        if len(page.matches) == count:
            if any(filtered[later].exists() for later in range(index + 1, len(sources))):
                page.next_cursor = f"{index + 1}.0"
            break
    page.included = _included(includes, page, user, may_read)
    return page


def _ref(include: Include) -> Any:
    return F(include.path)


def _included(
    includes: list[Include], page: Page, user: User, may_read: Callable[[str], bool]
) -> list[tuple[Mapper, Any]]:
    out: list[tuple[Mapper, Any]] = []
    for i, include in enumerate(includes):
        target = mapper_for(include.target)
        if target is None or not may_read(include.target):
            continue  # the caller may not read that type: nothing is added
        ids = {getattr(row, f"fhir_inc_{i}") for _source, row in page.matches}
        ids.discard(None)
        if not ids:
            continue
        rows = list(target.prepare(target.base_rows(user).filter(pk__in=ids)).order_by("pk"))
        target.attach(rows)
        out.extend((target, row) for row in rows)
    return out
