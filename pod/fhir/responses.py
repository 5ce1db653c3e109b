"""FHIR JSON responses and OperationOutcomes: every answer of the API, errors included."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse

FHIR_JSON = "application/fhir+json"
# What a client may ask for in Accept or `_format` (JSON only; no XML, no Turtle).
ACCEPTABLE = {
    "application/fhir+json",
    "application/json",
    "application/*",
    "*/*",
    "json",
    "application/json+fhir",
}


class ApiError(Exception):
    """An error the API answers with an OperationOutcome: HTTP status, FHIR issue type
    (http://hl7.org/fhir/valueset-issue-type.html) and a message fit to show."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def fhir_response(
    body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> HttpResponse:
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status=status,
        content_type=f"{FHIR_JSON}; charset=utf-8",
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def operation_outcome(code: str, message: str, severity: str = "error") -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": message}],
    }


def error_response(error: ApiError) -> HttpResponse:
    return fhir_response(
        operation_outcome(error.code, error.message), status=error.status, headers=error.headers
    )


def accepts_json(
    accept_header: str, format_param: str | None, also: frozenset[str] = frozenset()
) -> bool:
    """Whether the client will take FHIR JSON: `_format` wins over Accept; an absent Accept
    takes anything. Media-type parameters (`;q=0.9`, `;fhirVersion=4.0`) are ignored, and a
    range with q=0 does not count."""
    if format_param:
        return format_param.split(";")[0].strip().lower() in ACCEPTABLE | also
    if not accept_header.strip():
        return True
    for item in accept_header.split(","):
        media, *params = (part.strip() for part in item.split(";"))
        if any(p.replace(" ", "") in ("q=0", "q=0.0", "q=0.00", "q=0.000") for p in params):
            continue
        if media.lower() in ACCEPTABLE | also:
            return True
    return False
