"""The FHIR REST API: capability, read and search (bulk export: pod/fhir/bulk_views.py).

Every view goes through pod.fhir.endpoint.api_endpoint (authentication, scopes, CSRF, rate
limit, OperationOutcome errors). Every read writes one RecordAccess row per person whose data it
returned, in one INSERT (pod.fhir.access_log).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone

from pod.fhir.access_log import log_reads, person_ids
from pod.fhir.auth import Caller, may_read, require_read
from pod.fhir.capability import capability_statement
from pod.fhir.endpoint import api_endpoint
from pod.fhir.registry import Mapper, SearchError, mapper_for
from pod.fhir.responses import ApiError, fhir_response
from pod.fhir.search import PERSONAL, Page, search

FORM = "application/x-www-form-urlencoded"


def base_url(request: HttpRequest) -> str:
    """The API's absolute base, e.g. https://pod.example.nhs.uk/fhir."""
    return request.build_absolute_uri(reverse("fhir:metadata")).removesuffix("/metadata")


def _mapper(type_name: str) -> Mapper:
    mapper = mapper_for(type_name)
    if mapper is None:
        raise ApiError(404, "not-supported", f"POD does not serve {type_name[:40]} resources.")
    return mapper


@api_endpoint("GET", public=True)
def metadata(request: HttpRequest, caller: None) -> HttpResponse:
    """The CapabilityStatement, generated from the registry. Public, as FHIR expects."""
    return fhir_response(capability_statement(base_url(request)))


@api_endpoint("GET", public=True)
def smart_configuration(request: HttpRequest, caller: None) -> HttpResponse:
    """SMART discovery (.well-known/smart-configuration): where to get a token."""
    base = base_url(request)
    return JsonResponse(
        {
            "token_endpoint": f"{base}/auth/token",
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": ["system/*.read"],
            "capabilities": ["client-confidential-symmetric", "permission-v1"],
        }
    )


@api_endpoint("GET")
def read(
    request: HttpRequest, caller: Caller, resource_type: str, resource_id: str
) -> HttpResponse:
    type_name = resource_type
    mapper = _mapper(type_name)
    require_read(caller, type_name)
    try:
        index, pk = mapper.locate(resource_id)
    except SearchError:
        raise ApiError(404, "not-found", f"{type_name}/{resource_id[:40]} is not known.") from None
    source = mapper.sources(caller.user)[index]
    row = mapper.prepare(source.rows.filter(pk=pk)).first()
    if row is None:  # another team's row does not exist, as on the pages
        raise ApiError(404, "not-found", f"{type_name}/{resource_id[:40]} is not known.")
    mapper.attach([row])
    log_reads(caller, person_ids([(mapper, row)]), f"fhir:{type_name}", "fhir:read")
    return fhir_response(source.render(row))


def _params(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for name, value in pairs:
        params.setdefault(name, []).append(value)
    return params


@api_endpoint("GET")
def search_type(request: HttpRequest, caller: Caller, resource_type: str) -> HttpResponse:
    pairs = [(name, value) for name in request.GET for value in request.GET.getlist(name)]
    return _search(request, caller, resource_type, pairs, posted=False)


@api_endpoint("POST")
def search_post(request: HttpRequest, caller: Caller, resource_type: str) -> HttpResponse:
    """POST <Type>/_search: the parameters in a form body, so that an NHS number need not be
    in a URL (FHIR's search by POST)."""
    if request.content_type != FORM:
        raise ApiError(415, "not-supported", f"POST _search takes {FORM}.")
    pairs = [
        (name, value)
        for query in (request.GET, request.POST)
        for name in query
        for value in query.getlist(name)
    ]
    return _search(request, caller, resource_type, pairs, posted=True)


def _search(
    request: HttpRequest,
    caller: Caller,
    type_name: str,
    pairs: list[tuple[str, str]],
    *,
    posted: bool,
) -> HttpResponse:
    mapper = _mapper(type_name)
    require_read(caller, type_name)
    params = _params([(k, v) for k, v in pairs if k != "_format"])
    page = search(
        mapper,
        caller.user,
        params,
        now=timezone.now(),
        may_read=lambda name: may_read(caller, name),
    )
    found = [(mapper, row) for _source, row in page.matches] + page.included
    log_reads(caller, person_ids(found), f"fhir:{type_name}", "fhir:search")
    return fhir_response(_bundle(request, mapper, page, params, posted=posted))


def _bundle(
    request: HttpRequest, mapper: Mapper, page: Page, params: dict[str, list[str]], *, posted: bool
) -> dict[str, Any]:
    base = base_url(request)
    personal = any(name in PERSONAL for name in params)
    kept = [
        (name, value)
        for name, values in params.items()
        if name not in PERSONAL and name != "_cursor"
        for value in values
    ]
    if personal or posted:
        self_url = f"{base}/{mapper.type_name}/_search"
    else:
        self_url = f"{base}/{mapper.type_name}" + (f"?{urlencode(kept)}" if kept else "")
    links = [{"relation": "self", "url": self_url}]
    # A search by NHS number finds one person at most, so it never needs a next page; a next
    # link would otherwise have to carry the number in its URL.
    if page.next_cursor is not None and not personal:
        query = urlencode([*kept, ("_cursor", page.next_cursor)])
        links.append({"relation": "next", "url": f"{base}/{mapper.type_name}?{query}"})
    entries = [
        {
            "fullUrl": f"{base}/{mapper.type_name}/{resource['id']}",
            "resource": resource,
            "search": {"mode": "match"},
        }
        for resource in (source.render(row) for source, row in page.matches)
    ]
    entries += [
        {
            "fullUrl": f"{base}/{target.type_name}/{target.resource_id(row)}",
            "resource": target.to_fhir(row),
            "search": {"mode": "include"},
        }
        for target, row in page.included
    ]
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": page.total,
        "link": links,
    }
    if entries:
        bundle["entry"] = entries
    return bundle


@api_endpoint("GET", "POST", "PUT", "PATCH", "DELETE")
def not_found(request: HttpRequest, caller: Caller, rest: str = "") -> HttpResponse:
    """Anything else under /fhir/: an OperationOutcome, not the web pages' 404 page."""
    raise ApiError(404, "not-found", "No such FHIR endpoint (see /fhir/metadata).")
