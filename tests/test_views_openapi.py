"""The served OpenAPI document is valid OpenAPI 3.1 and lists every JSON route."""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate


def test_the_document_is_valid_openapi_3_1(client):
    document = client.get("/kapu/api/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_every_json_route_is_documented(app, client):
    documented = {
        (path, method.upper())
        for path, item in client.get("/kapu/api/openapi.json").get_json()["paths"].items()
        for method in item
        if method != "parameters"
    }
    served = {
        (re.sub(r"<(\w+)>", r"{\1}", rule.rule), method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("kapu_api.") and rule.endpoint != "kapu_api.openapi"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert served == documented


@pytest.mark.parametrize("app_config", [{"KAPU_URL_PREFIX": "/ugyfel"}], indirect=True)
def test_paths_include_the_prefix(client):
    paths = client.get("/ugyfel/api/openapi.json").get_json()["paths"]
    assert all(path.startswith("/ugyfel/api/") for path in paths)
