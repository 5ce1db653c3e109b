"""Every input of every page, with extremes: a field error or a 4xx, never a 5xx.

The walk (issue 10, point 3):
1. Every route of the URLconf (tests/pod/urlwalk.py) is opened with GET by every role that may
   open it (tests/pod/access_matrix.py says 200), in the world of tests/pod/conftest.py. A page
   added later is walked without editing this test.
2. Its query-string parameters are found three ways: the names its view reads
   (`request.GET.get("name")` and the like, in the source of the view's module), the fields of
   the page's GET forms, and the query strings of the page's own links. Each is sent alone with
   each extreme below.
3. Every POST form of the rendered page is read (inputs, selects, textareas, their values), given
   a plausible baseline (the page's own values; an empty required choice takes its first option,
   an empty date today, an empty number 1, empty text a word), and posted once per field per
   extreme of that field's kind, to the form's action, each in a savepoint rolled back after.
   The same form (same action and field names) shown to several roles is posted once per role
   that shows a different form, so the walk stays under a minute.
4. Never a 5xx. And an implausible date or a huge number in a date or number field is never
   accepted: the answer is the form again with a field error (200) or a 4xx, not a redirect.

No hypothesis here: a fixed list of extremes, the same every run.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest
from django.db import transaction
from django.test import Client
from django.urls import Resolver404, resolve
from django.utils import timezone

from tests.pod.access_matrix import EXPECTED, ROLES
from tests.pod.urlwalk import routes, url_for_world

pytestmark = [pytest.mark.django_db, pytest.mark.hazard("HAZ-11.C52")]

DATES = ["0001-01-01", "9999-12-31", "2090-01-01"]
DATETIMES = ["0001-01-01T00:00", "9999-12-31T23:59", "2099-01-01T10:00"]
NUMBERS = ["99999999999999999999", "-99999999999999999999"]
# "943476591²": digits to str.isdigit(), not to int() (pod/foundation/numbers.py).
TEXT = ["x" * 10_000, "", "garbage \x00 ∅ <script>", "943476591²"]
GET_EXTREMES = ["0001-01-01", "9999-12-31T23:59", "99999999999999999999", "x" * 10_000, "", "²"]
# Every further role that opens a page sends these (the first sends all of GET_EXTREMES).
GET_EXTREMES_AGAIN = ["9999-12-31", "x" * 10_000]
# Values that must never be accepted (answered by a redirect) in a field of that kind.
IMPLAUSIBLE = set(DATES) | set(DATETIMES) | {NUMBERS[0], NUMBERS[1]}

SKIP_ROUTES = ("admin:", "admin/", "fhir:")  # the admin is Django's; FHIR has its own walk
SKIP_ACTIONS = ("logout",)  # posting it would sign the walker out
DATE_NAME = re.compile(r"(date|_at$|^at$|_from$|_to$|_start$|_end$|^from$|^to$|period)")
GET_PARAM = re.compile(r"""request\.GET(?:\.get(?:list)?\(|\[)\s*["'](\w+)["']""")


@dataclass
class Field:
    name: str
    kind: str  # input type, "select", "select-multiple", "textarea"
    value: str = ""
    options: list[str] = field(default_factory=list)
    checked: bool = False
    required: bool = False


@dataclass
class Form:
    method: str
    action: str
    fields: list[Field] = field(default_factory=list)


class _Forms(HTMLParser):
    """The forms of a page, with their fields and current values, and the page's links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.links: list[str] = []
        self._form: Form | None = None
        self._select: Field | None = None
        self._textarea: Field | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            self._form = Form(method=a.get("method", "get").lower(), action=a.get("action", ""))
            self.forms.append(self._form)
        elif self._form is None or not a.get("name") and tag in ("input", "select", "textarea"):
            return
        elif tag == "input":
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            self._form.fields.append(
                Field(
                    a["name"],
                    kind,
                    a.get("value", "on" if kind in ("checkbox", "radio") else ""),
                    checked="checked" in a,
                    required="required" in a,
                )
            )
        elif tag == "select":
            kind = "select-multiple" if "multiple" in a else "select"
            self._select = Field(a["name"], kind, required="required" in a)
            self._form.fields.append(self._select)
        elif tag == "option" and self._select is not None:
            self._select.options.append(a.get("value", ""))
            if "selected" in a:
                self._select.value = a.get("value", "")
                self._select.checked = True
        elif tag == "textarea":
            self._textarea = Field(a["name"], "textarea", required="required" in a)
            self._form.fields.append(self._textarea)

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def _parse(html: str) -> _Forms:
    parser = _Forms()
    parser.feed(html)
    return parser


def _is_date(f: Field) -> bool:
    return f.kind in ("date", "datetime-local") or (
        f.kind in ("text", "textarea") and bool(DATE_NAME.search(f.name))
    )


def _baseline(form: Form) -> dict[str, list[str]]:
    """The form as the page shows it, with empty required choices and inputs made plausible."""
    today = timezone.localdate()
    data: dict[str, list[str]] = {}
    radios: dict[str, list[Field]] = {}
    for f in form.fields:
        if f.kind == "radio":
            radios.setdefault(f.name, []).append(f)
        elif f.kind == "checkbox":
            if f.checked:
                data.setdefault(f.name, []).append(f.value)
        elif f.kind in ("select", "select-multiple"):
            chosen = f.value if f.checked else next((o for o in f.options if o), "")
            data.setdefault(f.name, []).append(chosen)
        elif f.value:
            data.setdefault(f.name, []).append(f.value)
        elif f.kind == "date":
            data[f.name] = [today.isoformat()]
        elif f.kind == "datetime-local":
            data[f.name] = [timezone.localtime().strftime("%Y-%m-%dT%H:%M")]
        elif f.kind == "number":
            data[f.name] = ["1"]
        elif f.kind in ("text", "textarea", "email", "tel") and not f.name.endswith("_fold"):
            data[f.name] = ["A plausible answer of a few words"]
        else:
            data[f.name] = [f.value]
    for name, group in radios.items():
        checked = [r.value for r in group if r.checked]
        data[name] = checked or [group[0].value]
    return data


def _extremes(f: Field) -> list[str]:
    if f.kind == "datetime-local" or (_is_date(f) and f.value and "T" in f.value):
        return DATETIMES + TEXT[1:]
    if _is_date(f):
        return DATES + TEXT[1:]
    if f.kind == "number":
        return NUMBERS + TEXT[1:]
    if f.kind in ("checkbox", "radio", "select", "select-multiple", "hidden"):
        return ["garbage", NUMBERS[0]]
    return TEXT


def _view_params(path: str) -> set[str]:
    """The query-string names the view behind `path` reads (from its module's source)."""
    try:
        match = resolve(urlsplit(path).path)
    except Resolver404:
        return set()
    view = inspect.unwrap(match.func)
    module = inspect.getmodule(view)
    try:
        source = inspect.getsource(module) if module else ""
    except (OSError, TypeError):
        return set()
    return set(GET_PARAM.findall(source))


def _roles_that_open(route_name: str) -> list[str]:
    expected = EXPECTED.get(route_name, {})
    return [role for role in ROLES if 200 in expected.get(role, set())]


def _client(users, role: str) -> Client:
    client = Client(raise_request_exception=False)
    if users[role] is not None:
        client.force_login(users[role])
    return client


def _send(client: Client, method: str, url: str, data) -> int:
    with transaction.atomic():
        response = getattr(client, method)(url, data)
        transaction.set_rollback(True)
    return response.status_code


def test_every_input_of_every_page_gives_a_field_error_or_a_4xx_never_a_5xx(world):
    users, ids = world
    problems: list[str] = []
    pages = forms_posted = requests = 0
    seen_forms: set[tuple[str, str, tuple[str, ...]]] = set()
    seen_params: set[tuple[str, str]] = set()
    for route in routes():
        if route.name.startswith(SKIP_ROUTES):
            continue
        url = url_for_world(route, ids)
        for role in _roles_that_open(route.name):
            client = _client(users, role)
            page = client.get(url)
            if page.status_code != 200 or "html" not in page.get("Content-Type", ""):
                continue
            pages += 1
            parsed = _parse(page.content.decode())
            # 2. Query-string parameters, alone, with each extreme.
            params = _view_params(url)
            for form in parsed.forms:
                if form.method == "get" and urlsplit(urljoin(url, form.action)).path == url:
                    params |= {f.name for f in form.fields}
            for link in parsed.links:
                parts = urlsplit(urljoin(url, link))
                if parts.path == url and parts.query:
                    params |= {k for k, _ in parse_qsl(parts.query, keep_blank_values=True)}
            for name in sorted(params):
                again = (url, name) in seen_params
                seen_params.add((url, name))
                for value in GET_EXTREMES_AGAIN if again else GET_EXTREMES:
                    requests += 1
                    status = _send(client, "get", url, {name: value})
                    if status >= 500:
                        problems.append(f"GET {url}?{name}={value[:30]!r} as {role}: {status}")
            # 3. POST forms, field by field.
            for form in parsed.forms:
                if form.method != "post":
                    continue
                action = urlsplit(urljoin(url, form.action or url)).path
                if action.rstrip("/").endswith(SKIP_ACTIONS):
                    continue
                key = (
                    role if role in ("anonymous",) else "staff",
                    action,
                    tuple(sorted(f.name for f in form.fields)),
                )
                if key in seen_forms:
                    continue
                seen_forms.add(key)
                forms_posted += 1
                base = _baseline(form)
                requests += 1
                status = _send(client, "post", action, base)
                if status >= 500:
                    problems.append(f"POST {action} (baseline) as {role}: {status}")
                fields = {f.name: f for f in form.fields if f.name != "csrfmiddlewaretoken"}
                for name, f in fields.items():
                    for value in _extremes(f):
                        data = {**base, name: [value]}
                        requests += 1
                        status = _send(client, "post", action, data)
                        if status >= 500:
                            problems.append(
                                f"POST {action} {name}={value[:30]!r} as {role}: {status}"
                            )
                        elif (
                            300 <= status < 400
                            and value in IMPLAUSIBLE
                            and (_is_date(f) or f.kind == "number")
                        ):
                            problems.append(
                                f"POST {action} {name}={value!r} as {role}: accepted ({status})"
                            )
    assert pages > 40 and forms_posted > 20, (pages, forms_posted)
    assert not problems, f"{len(problems)} of {requests} requests:\n" + "\n".join(problems)
