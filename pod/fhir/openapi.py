"""The OpenAPI 3 description of the API, generated from the resource registry (never written
by hand): each type's read, search and POST _search with its parameters and scope, the bulk
export endpoints, the two security schemes, and POD's extensions documented like
StructureDefinitions (`x-fhir-extensions`)."""

from __future__ import annotations

from typing import Any

from pod.fhir.auth import WILDCARD, scope_for
from pod.fhir.registry import all_mappers
from pod.fhir.terminology import EXTENSIONS

FHIR_JSON = "application/fhir+json"
_ERRORS = {
    "400": "A search parameter or value that cannot be understood",
    "401": "No valid token, or a staff session without the second factor",
    "403": "The role or the token's scopes do not allow this type",
    "404": "No such resource (or not one the caller may see)",
    "406": "The client does not accept FHIR JSON",
    "429": "Rate limit: wait Retry-After seconds",
}


def _responses(ok: str, schema: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "200": {
            "description": ok,
            "content": {FHIR_JSON: {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
        }
    }
    for code, text in _ERRORS.items():
        out[code] = {
            "description": text + " (an OperationOutcome)",
            "content": {FHIR_JSON: {"schema": {"$ref": "#/components/schemas/OperationOutcome"}}},
        }
    return out


def _security(scope: str) -> list[dict[str, list[str]]]:
    return [{"smartBackend": [scope]}, {"staffSession": []}]


def _export_path(summary: str, params: list[dict[str, Any]]) -> dict[str, Any]:
    export_params = [
        {
            "name": "Prefer",
            "in": "header",
            "required": True,
            "schema": {"type": "string", "enum": ["respond-async"]},
        },
        {
            "name": "_type",
            "in": "query",
            "schema": {"type": "string"},
            "description": "Comma-separated resource types (default: all the caller may read)",
        },
        {
            "name": "_since",
            "in": "query",
            "schema": {"type": "string"},
            "description": "Only resources changed after this instant (meta.lastUpdated)",
        },
        {
            "name": "_typeFilter",
            "in": "query",
            "schema": {"type": "string"},
            "description": "Type?search (e.g. MedicationRequest?status=active); several are OR",
        },
    ]
    return {
        "get": {
            "summary": summary,
            "tags": ["Bulk export"],
            "parameters": params + export_params,
            "security": _security(WILDCARD),
            "responses": {
                "202": {
                    "description": "Accepted; poll the Content-Location header's status URL",
                    "headers": {"Content-Location": {"schema": {"type": "string"}}},
                },
                **{k: v for k, v in _responses("", "OperationOutcome").items() if k != "200"},
            },
        }
    }


def openapi_document(base: str) -> dict[str, Any]:
    """The whole OpenAPI 3.0 document for a server at `base` (…/fhir)."""
    paths: dict[str, Any] = {
        "/metadata": {
            "get": {
                "summary": "The CapabilityStatement (public)",
                "tags": ["Capability"],
                "security": [],
                "responses": _responses("CapabilityStatement", "Resource"),
            }
        }
    }
    scopes = {WILDCARD: "Read every type the client's role may read"}
    for mapper in all_mappers():
        name = mapper.type_name
        scope = scope_for(name)
        scopes[scope] = f"Read {name}"
        params = [
            {
                "name": p.name,
                "in": "query",
                "required": False,
                "schema": {"type": "string"},
                "description": f"{p.type}: {p.description}",
            }
            for p in mapper.search_params
        ]
        roles = ", ".join(sorted(str(r) for r in mapper.roles))
        described = f"{mapper.description}\n\nRoles: {roles}. Scope: {scope} or {WILDCARD}."
        paths[f"/{name}"] = {
            "get": {
                "summary": f"Search {name}",
                "description": described,
                "tags": [name],
                "parameters": params,
                "security": _security(scope),
                "responses": _responses("A searchset Bundle, paged by `next` links", "Bundle"),
            }
        }
        paths[f"/{name}/_search"] = {
            "post": {
                "summary": f"Search {name} with the parameters in the body",
                "tags": [name],
                "requestBody": {
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {
                                "type": "object",
                                "properties": {p["name"]: {"type": "string"} for p in params},
                            }
                        }
                    }
                },
                "security": _security(scope),
                "responses": _responses("A searchset Bundle", "Bundle"),
            }
        }
        paths[f"/{name}/{{id}}"] = {
            "get": {
                "summary": f"Read one {name}",
                "description": described,
                "tags": [name],
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "security": _security(scope),
                "responses": _responses(name, "Resource"),
            }
        }
    paths["/$export"] = _export_path("Export everything the caller may read (system level)", [])
    paths["/Patient/$export"] = _export_path("Export the caller's people (patient level)", [])
    paths["/Group/{id}/$export"] = _export_path(
        "Export one of the caller's teams (group level; the Group id is the team's id)",
        [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
    )
    paths["/bulk-status/{job}"] = {
        "get": {
            "summary": "Poll an export: 202 with X-Progress while running, 200 with the manifest",
            "tags": ["Bulk export"],
            "parameters": [
                {
                    "name": "job",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "format": "uuid"},
                }
            ],
            "security": _security(WILDCARD),
            "responses": {
                "200": {"description": "The manifest (application/json)"},
                "202": {"description": "Still running"},
            },
        },
        "delete": {
            "summary": "Cancel an export and delete its files",
            "tags": ["Bulk export"],
            "parameters": [
                {
                    "name": "job",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "format": "uuid"},
                }
            ],
            "security": _security(WILDCARD),
            "responses": {"202": {"description": "Cancelled"}},
        },
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "POD FHIR R4 API",
            "version": "4.0.1",
            "description": "Read and search POD's records as FHIR R4 (4.0.1) JSON, and export "
            "them in bulk. Generated from pod/fhir/registry.py.",
        },
        "servers": [{"url": base}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "smartBackend": {
                    "type": "oauth2",
                    "description": "OAuth 2.0 client credentials; SMART system scopes",
                    "flows": {
                        "clientCredentials": {"tokenUrl": f"{base}/auth/token", "scopes": scopes}
                    },
                },
                "staffSession": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "sessionid",
                    "description": "A staff member's web session, after the second factor",
                },
            },
            "schemas": {
                "Resource": {
                    "type": "object",
                    "description": "A FHIR R4 resource (http://hl7.org/fhir/R4/json.html)",
                    "properties": {"resourceType": {"type": "string"}, "id": {"type": "string"}},
                    "required": ["resourceType"],
                },
                "Bundle": {"$ref": "#/components/schemas/Resource"},
                "OperationOutcome": {"$ref": "#/components/schemas/Resource"},
            },
        },
        "x-fhir-extensions": [
            {
                "url": ext.url,
                "context": ext.context,
                "type": ext.value,
                "description": ext.description,
                "parts": [
                    {"url": url, "type": value_type, "description": meaning}
                    for url, value_type, meaning in ext.parts
                ],
                **({"pending": ext.pending} if ext.pending else {}),
            }
            for ext in EXTENSIONS
        ],
    }
