"""Property-based test of the ledger endpoints, as test_schema_fuzz.py does for the whole API, but on a ledger
with money, filed households and a record in every unit, and with the path ids half the time those of real
records and receipts: schemathesis generates valid and invalid requests from the served OpenAPI document;
no answer may be a 5xx, a status the document does not list, or a body outside its schema. On PostgreSQL
this also proves that no text reaches the database that it refuses (NUL, overlong) and no number that
overflows a column."""

from __future__ import annotations

import secrets
from typing import Any, cast

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from songnuan.ledger.models import Receipt

from ..world import World
from .ledger_api import build_ledger_api
from .test_schema_fuzz import connection_kept_open  # noqa: F401  (a fixture)

EXAMPLES = 25  # per operation and user: 14 operations × 2 users × 25 requests


def _ledger_operations() -> list[Any]:
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", WSGIHandler())
    operations = [cast(Any, result).ok() for result in schema.get_all_operations()]
    return [operation for operation in operations if "/ledger" in operation.path]


@pytest.mark.parametrize("username", ["county_reviewer", "county_reporter"])
def test_no_ledger_answer_outside_the_document(
    world: World,
    username: str,
    connection_kept_open: None,  # noqa: F811
) -> None:
    api = build_ledger_api(world)
    client = Client()
    client.force_login(world.users[username])
    token = secrets.token_hex(16)
    cookies = {"sessionid": client.cookies["sessionid"].value, "csrftoken": token}
    units = [unit.pk for unit in api.units.values()]
    records = [record.pk for record in api.records.values()]
    receipts = list(Receipt.objects.values_list("pk", flat=True))
    operations = _ledger_operations()
    assert len(operations) == 14

    for operation in operations:

        @given(
            case=operation.as_strategy(),
            real=st.booleans(),
            unit=st.sampled_from(units),
            record=st.sampled_from(records),
            receipt=st.sampled_from(receipts),
        )
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def answers_as_documented(case: Any, real: bool, unit: int, record: int, receipt: int) -> None:
            if real and case.path_parameters:
                named = {
                    "campaign_id": world.campaign.pk,
                    "unit_id": unit,
                    "record_id": record,
                    "receipt_id": receipt,
                }
                case.path_parameters = {
                    **case.path_parameters,
                    **{name: value for name, value in named.items() if name in case.path_parameters},
                }
            case.cookies = {**(case.cookies or {}), **cookies}
            case.call_and_validate(headers={"X-CSRFToken": token})

        answers_as_documented()
