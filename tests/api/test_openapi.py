"""The OpenAPI document is generated from the code; here it is checked to be valid OpenAPI 3.1, to describe
exactly the URLs there are (and the methods each takes), and to promise the refusals the API gives."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern
from openapi_spec_validator import validate

from songnuan.api import urls as api_urls

from ..world import World
from .helpers import data_of

# the JSON 404, the document itself, its page, and ninja's own name for /api/ (answered by the index)
UNDOCUMENTED = {"not-found", "openapi-json", "openapi-view", "api-root"}
PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>")
SAMPLE = {
    "campaign_id": "1",
    "unit_id": "1",
    "household_id": "1",
    "form_code": "warmth-2018",
    "record_id": "1",
    "receipt_id": "1",
    "check_id": "1",
    "sampled_id": "1",
    "task_id": "1",
    "finding_id": "1",
}
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


def openapi_path(pattern: URLPattern) -> str:
    return "/api/" + PARAMETER.sub(r"{\2}", str(pattern.pattern))


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def test_the_served_document_is_valid_openapi_3_1(spec: dict[str, Any]) -> None:
    assert re.fullmatch(r"3\.1\.\d+", spec["openapi"])
    assert spec["info"]["title"] == "送温暖 数据接口" and spec["info"]["version"]
    validate(spec)  # openapi-spec-validator: raises on any fault


def test_every_url_pattern_is_documented_and_nothing_else(spec: dict[str, Any]) -> None:
    documented = {openapi_path(p) for p in documented_patterns()}
    assert documented == set(spec["paths"])


@pytest.mark.parametrize("pattern", documented_patterns(), ids=lambda p: p.name)
def test_every_method_a_view_takes_is_documented(
    world: World, spec: dict[str, Any], pattern: URLPattern
) -> None:
    """Ask the view itself: a method it does not take is answered 405 with the ones it does in Allow."""
    url = "/api/" + PARAMETER.sub(lambda m: SAMPLE[m.group(2)], str(pattern.pattern))
    response = world.client("city_admin").generic("TRACE", url)
    assert response.status_code == 405, url
    assert data_of(response)["message"] == "该接口不支持 TRACE 请求"
    allowed = {method.strip().lower() for method in response["Allow"].split(",")}
    assert allowed == set(spec["paths"][openapi_path(pattern)]) & METHODS


def test_every_operation_promises_its_refusals(spec: dict[str, Any]) -> None:
    for path, method, operation in operations(spec):
        where = f"{method.upper()} {path}"
        assert operation["summary"] and operation["operationId"], where
        responses = operation["responses"]
        assert "200" in responses, where
        if path != "/api/":  # all but the index need a login
            assert operation["security"] == [{"SessionWithCsrf": []}] and "401" in responses, where
        if "{" in path:
            assert {"403", "404"} <= set(responses), where
        if method in ("put", "post"):
            assert {"400", "403", "409"} <= set(responses), where
            assert "requestBody" in operation or path.endswith(("/submit", "/accept", "/approve")), where


def test_path_ids_are_positive_and_bounded(spec: dict[str, Any]) -> None:
    """A negative or overlong id is excluded by the schema (and answers 404 if sent all the same)."""
    for path, method, operation in operations(spec):
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path" and parameter["name"].endswith("_id"):
                schema = parameter["schema"]
                assert (schema["type"], schema["minimum"], schema["maximum"]) == ("integer", 1, 2**63 - 1), (
                    f"{method} {path} {parameter['name']}"
                )


def test_money_is_never_a_number_in_an_answer(spec: dict[str, Any]) -> None:
    def numbers(node: Any, where: str) -> list[str]:
        if isinstance(node, dict):
            found = [where] if node.get("type") == "number" else []
            return found + [f for key, value in node.items() for f in numbers(value, f"{where}.{key}")]
        if isinstance(node, list):
            return [f for i, value in enumerate(node) for f in numbers(value, f"{where}[{i}]")]
        return []

    schemas = spec["components"]["schemas"]
    answers = {name: schema for name, schema in schemas.items() if not name.endswith("In")}
    assert numbers(answers, "$") == []


def test_operation_ids_are_unique(spec: dict[str, Any]) -> None:
    ids = [operation["operationId"] for _p, _m, operation in operations(spec)]
    assert len(ids) == len(set(ids))


def test_security_is_the_session_cookie(spec: dict[str, Any]) -> None:
    schemes = spec["components"]["securitySchemes"]
    assert list(schemes.values()) == [{"type": "apiKey", "in": "cookie", "name": "sessionid"}]


def test_the_hand_written_machinery_is_gone() -> None:
    from pathlib import Path

    import songnuan.api

    folder = Path(songnuan.api.__file__).parent
    assert not {"openapi.py", "serializers.py", "views.py"} & {p.name for p in folder.iterdir()}
    assert not (folder / "templates").exists()
