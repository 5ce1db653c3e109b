"""The CapabilityStatement at /fhir/metadata, generated from the resource registry."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from pod.fhir import terminology as t
from pod.fhir.registry import all_mappers, instant

SEARCH_TYPES = {"token", "reference", "date", "string", "number", "special", "quantity", "uri"}


def capability_statement(base: str) -> dict[str, Any]:
    """What this server does: FHIR R4 4.0.1 in JSON, read and search-type on each registered
    type with its search parameters and includes, the bulk `$export` operation, and SMART
    Backend Services (client credentials) as the security service."""
    resources = []
    for mapper in all_mappers():
        resource: dict[str, Any] = {
            "type": mapper.type_name,
            "documentation": mapper.description,
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": [
                {"name": p.name, "type": p.type, "documentation": p.description}
                for p in mapper.search_params
                if p.type in SEARCH_TYPES and not p.name.startswith("_count")
            ],
        }
        if mapper.includes:
            resource["searchInclude"] = [
                f"{mapper.type_name}:{inc.name}" for inc in mapper.includes
            ]
        resources.append(resource)
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": instant(timezone.now()),
        "publisher": "POD",
        "kind": "instance",
        "software": {"name": "POD"},
        "implementation": {"description": "POD FHIR R4 read API", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "documentation": "Read and search; bulk export by $export (FHIR Bulk Data).",
                "security": {
                    "service": [
                        {
                            "coding": [
                                t.coding(
                                    "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                    "SMART-on-FHIR",
                                )
                            ],
                            "text": "OAuth 2.0 client credentials; SMART system scopes",
                        }
                    ],
                    "description": f"Token endpoint: {base}/auth/token",
                },
                "resource": resources,
                "operation": [
                    {"name": "export", "definition": t.BULK_EXPORT_OPERATION},
                ],
            }
        ],
    }
