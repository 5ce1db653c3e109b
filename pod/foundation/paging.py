"""Bounded lists: a page shows at most a fixed number of rows of any list that grows with the
service (open clocks, caseloads, meetings, logs), with the total and links to the other pages.

A list is read in one query whatever its length: one page of rows (LIMIT/OFFSET), each
carrying the length of the whole list (a window count). The page number comes from the query
string under the list's own parameter (`clocks`, `caseload`, ...), so several lists on one page
page independently; a missing, malformed or
out-of-range number shows the nearest page, never an error. Order the query by what needs
attention first, with a unique last key (the primary key), so a row never shows on two pages.

Issue 17, point 1 (tests/pod/test_page_budgets.py proves that pages stay the same size).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet, Window
from django.http import HttpRequest, QueryDict

from pod.foundation import compiled_query
from pod.foundation.numbers import is_ascii_digits

# Rows per page of a list on a page that shows several lists (the home pages).
SECTION_SIZE = 25
# Rows per page of a page that is one list (an access log, a queue).
LIST_SIZE = 100


@dataclass(frozen=True)
class Bounded:
    """One page of a list. `items`: at most `size` rows; `total`: the rows in the whole list;
    `number`: this page (1-based); `pages`: how many pages (at least 1); `param`: the query
    string parameter carrying the page number, for the pager (templates/pod/_pager.html)."""

    items: Sequence[Any]
    total: int
    number: int
    pages: int
    size: int
    param: str
    query: QueryDict  # the request's query string, to which the pager's links add `param`

    @property
    def first_row(self) -> int:
        return (self.number - 1) * self.size + 1 if self.total else 0

    @property
    def last_row(self) -> int:
        return self.first_row + len(self.items) - 1 if self.total else 0

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def anchor(self) -> str:
        """The id of the list's heading, `<param>-h`: each page of the list opens there, not at
        the top of the page (templates give the heading this id)."""
        return f"{self.param}-h"

    def url_for(self, number: int) -> str:
        """`?...#<anchor>` for page `number` of this list, keeping every other parameter (the
        other lists' pages)."""
        query = self.query.copy()
        query[self.param] = str(number)
        return f"?{query.urlencode()}#{self.anchor}"

    @property
    def first_url(self) -> str:
        return self.url_for(1)

    @property
    def previous_url(self) -> str:
        return self.url_for(self.number - 1)

    @property
    def next_url(self) -> str:
        return self.url_for(self.number + 1)

    @property
    def last_url(self) -> str:
        return self.url_for(self.pages)

    @property
    def is_partial(self) -> bool:
        """True when the list does not fit on one page (the pager is shown)."""
        return self.pages > 1

    def __iter__(self) -> Iterator[Any]:
        return iter(self.items)

    def __getitem__(self, index: int) -> Any:
        return self.items[index]

    def __len__(self) -> int:
        return len(self.items)

    def __bool__(self) -> bool:
        return self.total > 0


# Any page number longer than this many digits asks for a page past the end: the last page.
_MAX_DIGITS = 9


def page_number(request: HttpRequest, param: str) -> int:
    """The page asked for in `request.GET[param]`: 1 when absent or not a positive number; a
    number too long to be a page asks for the last one (at most 10^9, a page past any end)."""
    raw = request.GET.get(param, "")
    if not is_ascii_digits(raw):
        return 1
    if len(raw.lstrip("0")) > _MAX_DIGITS:
        return 10**_MAX_DIGITS
    return max(int(raw), 1)


def bounded(
    request: HttpRequest,
    queryset: QuerySet[Any] | Sequence[Any],
    *,
    param: str,
    size: int | None = None,
    wrap: Callable[[list[Any]], Sequence[Any]] | None = None,
) -> Bounded:
    """The page of `queryset` that `request` asks for under `param`, `size` rows at most
    (default SECTION_SIZE). `wrap` turns the page's rows into what the template shows (e.g.
    episodes into clocks), and is given only that page's rows. A number past the last page
    shows the last page.

    One query: the page's rows, each carrying the whole list's length (`COUNT(*) OVER ()`,
    computed before LIMIT). Two more only when the page asked for is past the end. A list
    already in memory (rows computed in Python) is cut the same way, so at least the page's
    bytes stay bounded."""
    size = size or SECTION_SIZE
    number = page_number(request, param)
    if isinstance(queryset, QuerySet):
        rows, total = _rows_and_total(queryset, number, size)
        if not rows and total:  # past the end: the last page
            number = -(-total // size)
            rows, total = _rows_and_total(queryset, number, size)
    else:
        total = len(queryset)
        number = min(number, max(-(-total // size), 1))
        rows = list(queryset[(number - 1) * size : number * size])
    if not rows:
        number = 1
    return Bounded(
        items=wrap(rows) if wrap is not None else rows,
        total=total,
        number=number,
        pages=max(-(-total // size), 1),
        size=size,
        param=param,
        query=request.GET,
    )


def bounded_compiled(
    request: HttpRequest,
    key: Hashable,
    build: Callable[..., QuerySet[Any]],
    values: Sequence[Any],
    *,
    param: str,
    size: int | None = None,
    wrap: Callable[[list[Any]], Sequence[Any]] | None = None,
) -> Bounded:
    """What `bounded(request, build(*values), ...)` gives, with the first page's query built
    and compiled once per process and then only executed with `values`
    (pod/foundation/compiled_query.py `shape_instances`, whose rules `key`, `build` and
    `values` follow). Other pages (rarely asked for) take `bounded`'s path."""
    size = size or SECTION_SIZE
    if page_number(request, param) != 1:
        return bounded(request, build(*values), param=param, size=size, wrap=wrap)

    def first_page(*args: Any) -> QuerySet[Any]:
        return build(*args).annotate(**{_TOTAL: Window(Count("*"))})[:size]

    rows = compiled_query.shape_instances(("paging", key, size), first_page, values)
    total = getattr(rows[0], _TOTAL) if rows else 0
    return Bounded(
        items=wrap(rows) if wrap is not None else rows,
        total=total,
        number=1,
        pages=max(-(-total // size), 1),
        size=size,
        param=param,
        query=request.GET,
    )


def _rows_and_total(queryset: QuerySet[Any], number: int, size: int) -> tuple[list[Any], int]:
    """Page `number` of `queryset` and the length of the whole list. The length rides on each
    row; an empty page past the end costs one COUNT query to find the length."""
    start = (number - 1) * size
    rows = list(queryset.annotate(**{_TOTAL: Window(Count("*"))})[start : start + size])
    if rows:
        return rows, getattr(rows[0], _TOTAL)
    return [], (queryset.count() if number > 1 else 0)


# The annotation carrying the whole list's length on each row of a page.
_TOTAL = "paging_total"
