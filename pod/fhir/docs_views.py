"""The API's OpenAPI description, as JSON (for tools) and as a page (for people)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from pod.fhir.auth import Caller
from pod.fhir.endpoint import api_endpoint
from pod.fhir.openapi import openapi_document
from pod.fhir.views import base_url


@api_endpoint("GET", also_accept=frozenset({"application/vnd.oai.openapi+json"}))
def openapi_json(request: HttpRequest, caller: Caller) -> HttpResponse:
    return JsonResponse(openapi_document(base_url(request)))


@login_required
def openapi_page(request: HttpRequest) -> HttpResponse:
    """The same document drawn as a page: each path, its parameters, and the extensions."""
    document = openapi_document(base_url(request))
    operations = [
        {"path": path, "method": method.upper(), **operation}
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]
    return render(
        request,
        "fhir/openapi.html",
        {
            "document": document,
            "operations": operations,
            "extensions": document["x-fhir-extensions"],
        },
    )
