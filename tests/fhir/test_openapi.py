"""The OpenAPI description and the CapabilityStatement are generated from the registry: every
resource type, parameter and scope appears, the page draws it, and the README's extension table
names every extension the code writes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pod.fhir.registry import all_mappers
from pod.fhir.terminology import EXTENSIONS
from tests.fhir.conftest import FHIR_JSON

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def test_the_openapi_json_covers_every_type_parameter_and_scope(client, clinician):
    client.force_login(clinician)
    document = client.get("/fhir/openapi.json").json()
    assert document["openapi"].startswith("3.")
    scopes = document["components"]["securitySchemes"]["smartBackend"]["flows"][
        "clientCredentials"
    ]["scopes"]
    for mapper in all_mappers():
        name = mapper.type_name
        search = document["paths"][f"/{name}"]["get"]
        assert {p["name"] for p in search["parameters"]} == {p.name for p in mapper.search_params}
        assert f"/{name}/{{id}}" in document["paths"]
        assert f"/{name}/_search" in document["paths"]
        assert f"system/{name}.read" in scopes
    assert {"/$export", "/Patient/$export", "/Group/{id}/$export"} <= set(document["paths"])
    assert [e["url"] for e in document["x-fhir-extensions"]] == [e.url for e in EXTENSIONS]


def test_the_openapi_page_draws_it(client, clinician):
    client.force_login(clinician)
    page = client.get("/fhir/openapi/").content.decode()
    for mapper in all_mappers():
        assert f"/{mapper.type_name}/_search" in page
    for extension in EXTENSIONS:
        assert extension.url in page


def test_the_capability_statement_lists_what_the_registry_serves(client):
    statement = client.get("/fhir/metadata", HTTP_ACCEPT=FHIR_JSON).json()
    assert statement["fhirVersion"] == "4.0.1"
    rest = statement["rest"][0]
    assert [r["type"] for r in rest["resource"]] == [m.type_name for m in all_mappers()]
    encounter = next(r for r in rest["resource"] if r["type"] == "EpisodeOfCare")
    assert "EpisodeOfCare:team" in encounter["searchInclude"]
    assert rest["operation"][0]["name"] == "export"


def test_the_readme_documents_every_extension():
    readme = (ROOT / "README.md").read_text().split("**POD's extensions**", 1)[1]
    readme = readme.split("**Validity.**", 1)[0]
    documented = set(re.findall(r"^\| `([a-z-]+)` \|", readme, re.M))
    assert documented == {e.name for e in EXTENSIONS}
