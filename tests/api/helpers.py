"""For the API tests: URLs, JSON requests, submissions made straight in the database, the schema check."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.test import Client
from openapi_schema_validator import OAS31Validator

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
        campaign=world.campaign,
        unit=unit,
        form_code=form_code,
        status=status,
        reporter="张三",  # the header submission needs
        phone="0724-1234567",
        report_date=dt.date(2018, 2, 3),
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


# --- the served OpenAPI document as the judge of an answer -----------------------------------------------


def schema_problems(spec: Mapping[str, Any], schema: Mapping[str, Any], data: Any) -> list[str]:
    """What in `data` does not fit `schema` (which may $ref the document's components), by the OpenAPI 3.1
    schema validator; `data` is read with Decimal for fractions, so a float is refused as "not a string"."""
    validator = OAS31Validator({**schema, "components": spec.get("components", {})})
    errors = validator.iter_errors(data)
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in errors]
