"""The OpenAPI document describes exactly the API there is: adding an endpoint (or a method) without
documenting it fails here, and so does documenting one that does not exist."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern

from songnuan.api import urls as api_urls

from ..world import World
from .helpers import data_of, resolve, schema_problems

UNDOCUMENTED = {"not-found"}  # the JSON 404 for any other URL under /api/
PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>")
CONVERTER_TYPES = {"int": "integer", "slug": "string", "str": "string", None: "string"}
SAMPLE = {"int": "1", "slug": "warmth-2018", "str": "x", None: "x"}
METHODS = {"get", "put", "post", "delete", "patch"}


@pytest.fixture
def spec(db: None) -> dict[str, Any]:
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    data: dict[str, Any] = data_of(response)
    return data


def documented_patterns() -> list[URLPattern]:
    patterns = [p for p in api_urls.urlpatterns if isinstance(p, URLPattern)]
    assert len(patterns) == len(api_urls.urlpatterns)  # no nested includes to look into
    return [p for p in patterns if p.name not in UNDOCUMENTED]


def route_of(pattern: URLPattern) -> str:
    return str(pattern.pattern)


def openapi_path(pattern: URLPattern) -> str:
    return "/" + PARAMETER.sub(r"{\2}", route_of(pattern))


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def test_it_is_openapi_3_1_with_the_api_as_server(spec: dict[str, Any]) -> None:
    assert re.fullmatch(r"3\.1\.\d+", spec["openapi"])
    assert spec["info"]["title"] and spec["info"]["version"]
    assert spec["servers"] == [{"url": "/api"}]


def test_every_url_pattern_is_documented_and_nothing_else(spec: dict[str, Any]) -> None:
    documented = {openapi_path(p) for p in documented_patterns()}
    missing = documented - set(spec["paths"])
    assert not missing, f"endpoints without documentation in songnuan/api/openapi.py: {sorted(missing)}"
    stale = set(spec["paths"]) - documented
    assert not stale, f"documented paths without a URL pattern: {sorted(stale)}"


@pytest.mark.parametrize("pattern", documented_patterns(), ids=lambda p: p.name)
def test_every_method_a_view_takes_is_documented(
    world: World, spec: dict[str, Any], pattern: URLPattern
) -> None:
    """Ask the view itself: a method it does not take is answered 405 with the ones it does in Allow."""
    url = "/api/" + PARAMETER.sub(lambda m: SAMPLE[m.group(1)], route_of(pattern))
    response = world.client("city_admin").generic("TRACE", url)
    assert response.status_code == 405, url
    allowed = {method.strip().lower() for method in response["Allow"].split(",")}
    assert allowed == set(spec["paths"][openapi_path(pattern)]) & METHODS


@pytest.mark.parametrize("pattern", documented_patterns(), ids=lambda p: p.name)
def test_every_path_parameter_is_documented_with_its_type(spec: dict[str, Any], pattern: URLPattern) -> None:
    expected = {name: CONVERTER_TYPES[kind] for kind, name in PARAMETER.findall(route_of(pattern))}
    for operation in spec["paths"][openapi_path(pattern)].values():
        parameters = [resolve(spec, p) for p in operation.get("parameters", [])]
        found = {p["name"]: p["schema"]["type"] for p in parameters if p["in"] == "path"}
        assert found == expected
        assert all(p["required"] for p in parameters if p["in"] == "path")


def test_every_operation_has_its_responses(spec: dict[str, Any]) -> None:
    for path, method, operation in operations(spec):
        where = f"{method.upper()} {path}"
        assert operation["summary"] and operation["description"] and operation["operationId"], where
        responses = operation["responses"]
        assert "200" in responses and "405" in responses, where
        if operation.get("security") != []:  # all but the documentation itself need a login
            assert "401" in responses, where
        if "{" in path:
            assert {"403", "404"} <= set(responses), where
        if method in ("put", "post"):
            assert {"400", "403"} <= set(responses), where
            assert operation["security"] == [{"session": [], "csrf": []}], where
        if path.endswith("/forms/{form_code}") and method == "put":
            assert "409" in responses and "requestBody" in operation, where


def test_operation_ids_are_unique(spec: dict[str, Any]) -> None:
    ids = [operation["operationId"] for _p, _m, operation in operations(spec)]
    assert len(ids) == len(set(ids))


def test_every_json_body_has_a_schema_and_an_example_that_fits_it(spec: dict[str, Any]) -> None:
    for path, method, operation in operations(spec):
        bodies = [(status, resolve(spec, r)) for status, r in operation["responses"].items()]
        if "requestBody" in operation:
            bodies.append(("request", operation["requestBody"]))
        for status, body in bodies:
            where = f"{method.upper()} {path} {status}"
            assert body.get("content"), where
            for media_type, content in body["content"].items():
                assert "schema" in content and "example" in content, where
                if media_type == "application/json":
                    assert schema_problems(spec, content["schema"], content["example"]) == [], where


def test_every_reference_resolves(spec: dict[str, Any]) -> None:
    def refs(node: Any) -> list[str]:
        if isinstance(node, dict):
            own = [node["$ref"]] if "$ref" in node else []
            return own + [r for value in node.values() for r in refs(value)]
        if isinstance(node, list):
            return [r for value in node for r in refs(value)]
        return []

    found = refs(spec)
    assert found
    for ref in found:
        assert ref.startswith("#/components/")
        assert resolve(spec, {"$ref": ref})


def test_security_is_the_session_cookie_and_the_csrf_header(spec: dict[str, Any]) -> None:
    schemes = spec["components"]["securitySchemes"]
    assert schemes["session"] == {**schemes["session"], "type": "apiKey", "in": "cookie", "name": "sessionid"}
    assert schemes["csrf"] == {**schemes["csrf"], "type": "apiKey", "in": "header", "name": "X-CSRFToken"}
    assert spec["security"] == [{"session": []}]


def test_the_docs_page_lists_every_operation_without_external_scripts(
    world: World, spec: dict[str, Any]
) -> None:
    response = Client().get("/api/docs/")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "<script" not in page and "http://" not in page and "https://" not in page
    assert "接口说明" in page
    for path, method, operation in operations(spec):
        assert f"/api{path}" in page and operation["summary"] in page, f"{method} {path}"
    for name in spec["components"]["schemas"]:
        assert f'id="schema-{name}"' in page
