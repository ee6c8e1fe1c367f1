"""The OpenAPI schema documents the filters, and the docs page renders it without a CDN."""

import pytest
from drf_spectacular.validation import validate_schema

from sync import rules

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(staff_client, root) -> dict:
    response = staff_client.get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_the_schema_is_valid_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)


def test_the_schema_documents_every_endpoint(schema):
    assert {"/api/v1/violations/", "/api/v1/violations/{id}/", "/api/v1/compliance/"} <= set(
        schema["paths"]
    )


def test_the_schema_documents_the_violation_filters_with_types_and_enums(schema):
    params = {
        p["name"]: p["schema"] for p in schema["paths"]["/api/v1/violations/"]["get"]["parameters"]
    }
    assert {"school", "term", "course", "teacher", "rule", "severity", "open", "page"} <= set(
        params
    )
    assert params["school"]["type"] == "integer"
    assert params["teacher"]["type"] == "integer"
    assert params["rule"]["enum"] == list(rules.RULES)
    assert params["severity"]["enum"] == ["blocking", "warning", "info"]
    assert params["open"]["enum"] == ["true", "false", "all"]


def test_the_docs_page_lists_the_endpoints_and_filters_for_staff(staff_client, root):
    response = staff_client.get("/api/v1/docs/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "/api/v1/violations/" in html
    assert "/api/v1/compliance/" in html
    assert "<code>teacher</code>" in html
    assert "drf_create_token" in html


def test_the_docs_page_loads_no_external_assets(staff_client, root):
    html = staff_client.get("/api/v1/docs/").content.decode().lower()
    assert "<script" not in html
    assert 'src="http' not in html
    assert "<link" not in html
