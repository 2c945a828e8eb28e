import re

import pytest
from drf_spectacular.validation import validate_schema

UNSAFE = {"post", "put", "patch", "delete"}


@pytest.fixture
def openapi(client, db):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def operations(openapi):
    for path, item in openapi["paths"].items():
        for method, operation in item.items():
            if method in UNSAFE | {"get"}:
                yield path, method, operation


def test_the_schema_is_valid_openapi_3_and_public(openapi):
    assert openapi["openapi"].startswith("3.")
    validate_schema(openapi)  # raises on any violation of the OpenAPI 3 JSON schema


def test_it_covers_every_endpoint(openapi):
    assert {
        "/api/v1/auth/token/",
        "/api/v1/me/",
        "/api/v1/agencies/",
        "/api/v1/programs/",
        "/api/v1/programs/{id}/",
        "/api/v1/funders/",
        "/api/v1/roles/",
        "/api/v1/staff/",
        "/api/v1/staff/{id}/",
        "/api/v1/audit-events/",
        "/api/v1/messages/",
    } <= set(openapi["paths"])
    assert "delete" not in openapi["paths"]["/api/v1/staff/{id}/"]


def test_every_operation_documents_the_agency_header_and_writes_the_idempotency_key(openapi):
    for path, method, operation in operations(openapi):
        headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        if path == "/api/v1/auth/token/":
            assert headers == set(), (path, method)
            continue
        assert "X-Agency" in headers, (path, method)
        assert ("Idempotency-Key" in headers) == (method in UNSAFE), (path, method)
        if method in UNSAFE:
            assert "422" in operation["responses"], (path, method)


def test_token_authentication_is_documented(openapi):
    schemes = openapi["components"]["securitySchemes"]
    assert schemes["tokenAuth"]["in"] == "header"
    assert schemes["tokenAuth"]["name"] == "Authorization"
    assert openapi["paths"]["/api/v1/auth/token/"]["post"].get("security", []) in ([], [{}])
    assert openapi["paths"]["/api/v1/programs/"]["get"]["security"] == [{"tokenAuth": []}, {"cookieAuth": []}]


def test_the_audit_filters_are_documented_query_parameters(openapi):
    parameters = {p["name"] for p in openapi["paths"]["/api/v1/audit-events/"]["get"]["parameters"] if p["in"] == "query"}
    assert {"actor", "client_id", "action", "object_type", "date_from", "date_to", "page", "page_size"} <= parameters


def test_the_docs_page_loads_everything_from_the_app_not_a_cdn(client, db):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets
    assert all(asset.startswith("/static/drf_spectacular_sidecar/") for asset in assets), assets
    assert "cdn" not in html.lower()


def test_the_sidecar_assets_are_served(client, db):
    response = client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert response.status_code == 200


def test_the_schema_is_generated_once_per_language(client, db, monkeypatch):
    """Generating it takes seconds: served from memory after the first time, whoever asks, in each language."""
    from caseload.api.views import SchemaView

    monkeypatch.setattr(SchemaView, "_schemas", {})
    calls = []
    original = SchemaView.generator_class.get_schema

    def counted(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SchemaView.generator_class, "get_schema", counted)
    first = client.get("/api/schema/", {"format": "json"}).json()
    assert client.get("/api/schema/", {"format": "json"}).json() == first
    assert len(calls) == 1
    french = client.get("/api/schema/", {"format": "json"}, HTTP_ACCEPT_LANGUAGE="fr")
    assert french.status_code == 200
    assert len(calls) == 2
