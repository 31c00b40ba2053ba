"""For the API tests: URLs, JSON requests, submissions made straight in the database, a schema checker."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.test import Client

from songnuan.campaigns.models import Campaign
from songnuan.formkit.engine import Value
from songnuan.orgs.models import Account, Unit
from songnuan.orgs.services import account_create
from songnuan.reporting.models import Submission, SubmissionValue

from ..filemakers import filled_example
from ..world import PASSWORD, World

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

WARMTH = "warmth-2018"


def add_county_admin(world: World) -> None:
    """An admin at the county, so that every role has an own unit, one below, a sibling and one above."""
    world.users["county_admin"] = account_create(
        username="county_admin", password=PASSWORD, unit=world.county, role=Account.Role.ADMIN
    ).user


def form_url(campaign: Campaign, unit: Unit, form_code: str = WARMTH, action: str = "") -> str:
    url = f"/api/campaigns/{campaign.pk}/units/{unit.pk}/forms/{form_code}"
    return f"{url}/{action}" if action else url


def rollup_url(campaign: Campaign, unit: Unit, form_code: str = WARMTH) -> str:
    return f"/api/campaigns/{campaign.pk}/rollup/{unit.pk}/{form_code}"


def send(client: Client, method: str, url: str, body: object = None, **extra: Any) -> Response:
    """A JSON request; `body` a dict (encoded here) or bytes/str sent as they are."""
    if body is None:
        data: bytes | str = b""
    elif isinstance(body, bytes | str):
        data = body
    else:
        data = json.dumps(body, ensure_ascii=False)
    return client.generic(method, url, data, content_type="application/json", **extra)


def data_of(response: Response) -> Any:
    """The JSON of a response, read so that a number with a fraction (a float) would stand out as Decimal."""
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    return json.loads(response.content, parse_float=Decimal)


def make_submission(
    world: World,
    unit: Unit,
    status: str = Submission.Status.DRAFT,
    values: Mapping[str, Value] | None = None,
    form_code: str = WARMTH,
) -> Submission:
    """A submission put straight into the database (the valid example values unless `values` are given)."""
    if values is None:
        values = filled_example(form_code)[0]
    submission = Submission.objects.create(
        campaign=world.campaign, unit=unit, form_code=form_code, status=status
    )
    SubmissionValue.objects.bulk_create(
        SubmissionValue(
            submission=submission,
            item=code,
            number=Decimal(value) if isinstance(value, int | Decimal) else None,
            text=value if isinstance(value, str) else "",
        )
        for code, value in values.items()
        if value is not None
    )
    return submission


def find_floats(data: Any, where: str = "$") -> list[str]:
    """Where a JSON document holds a number with a fraction (the API writes money as strings)."""
    if isinstance(data, Decimal | float):
        return [where]
    if isinstance(data, dict):
        return [found for key, value in data.items() for found in find_floats(value, f"{where}.{key}")]
    if isinstance(data, list):
        return [found for i, value in enumerate(data) for found in find_floats(value, f"{where}[{i}]")]
    return []


# --- a small JSON Schema checker for the subset the OpenAPI document uses ----------------------------------

_TYPES: dict[str, Any] = {
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float | Decimal) and not isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
}


def resolve(spec: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in node:
        where: Any = spec
        for part in str(node["$ref"]).removeprefix("#/").split("/"):
            where = where[part]
        node = where
    return node


def schema_problems(
    spec: Mapping[str, Any], schema: Mapping[str, Any], data: Any, where: str = "$"
) -> list[str]:
    schema = resolve(spec, schema)
    problems: list[str] = []
    for part in schema.get("allOf", []):
        problems += schema_problems(spec, part, data, where)
    if "oneOf" in schema:
        fits = [s for s in schema["oneOf"] if not schema_problems(spec, s, data, where)]
        if len(fits) != 1:
            problems.append(f"{where}: fits {len(fits)} of oneOf")
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_TYPES[t](data) for t in types):
            return [*problems, f"{where}: {data!r} is not {types}"]
    if "enum" in schema and data not in schema["enum"]:
        problems.append(f"{where}: {data!r} not in {schema['enum']}")
    if isinstance(data, dict):
        properties = schema.get("properties", {})
        problems += [f"{where}: lacks {name}" for name in schema.get("required", []) if name not in data]
        extra = schema.get("additionalProperties")
        for key, value in data.items():
            if key in properties:
                problems += schema_problems(spec, properties[key], value, f"{where}.{key}")
            elif isinstance(extra, dict):
                problems += schema_problems(spec, extra, value, f"{where}.{key}")
    if isinstance(data, list) and "items" in schema:
        for i, value in enumerate(data):
            problems += schema_problems(spec, schema["items"], value, f"{where}[{i}]")
    return problems
