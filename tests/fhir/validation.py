"""Validate what the API returns: HL7's official FHIR R4 JSON schema (jsonschema) and the
R4B models of fhir.resources (which also check FHIR's own rules on each element's type).

fhir.resources 8.x models R5 by default; its `fhir.resources.R4B` package models FHIR 4.3.0.
R4B changed no element of the resource types POD serves (its changes are in medication
definitions, evidence and subscriptions), so an R4 resource that the R4 schema accepts parses
there unchanged; the official 4.0.1 schema is the authority on R4 itself.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA_FILE = Path(__file__).parent / "vendor" / "fhir.schema.json.gz"
SCHEMA_SHA256 = "f4a1a62ae17141fde2d9bb409526e3ed86c09ba2e76dad601b4882c2553816a9"


@cache
def schema_bytes() -> bytes:
    return gzip.decompress(SCHEMA_FILE.read_bytes())


@cache
def schema() -> dict[str, Any]:
    return json.loads(schema_bytes())


def schema_digest() -> str:
    return hashlib.sha256(schema_bytes()).hexdigest()


@cache
def _validator(resource_type: str) -> jsonschema.Draft6Validator:
    definitions = schema()["definitions"]
    if resource_type not in definitions:
        raise AssertionError(f"{resource_type} is not an R4 resource type")
    return jsonschema.Draft6Validator(
        {"$ref": f"#/definitions/{resource_type}", "definitions": definitions}
    )


def schema_errors(resource: dict[str, Any]) -> list[str]:
    """Every way `resource` breaks the R4 JSON schema (empty when it is valid)."""
    validator = _validator(resource.get("resourceType", "?"))
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}"
        for e in validator.iter_errors(resource)
    ]


def parse_r4b(resource: dict[str, Any]) -> Any:
    """The fhir.resources R4B model of `resource` (raises on an invalid one)."""
    name = resource["resourceType"]
    module = importlib.import_module(f"fhir.resources.R4B.{name.lower()}")
    return getattr(module, name).model_validate(resource)


def assert_valid(resource: dict[str, Any]) -> Any:
    """Schema-valid and parsed by fhir.resources; returns the parsed model."""
    errors = schema_errors(resource)
    assert not errors, f"{resource.get('resourceType')}/{resource.get('id')}: " + "; ".join(
        errors[:10]
    )
    return parse_r4b(resource)
