"""Property-based API test: schemathesis generates requests from the served OpenAPI document — valid ones and
ones that break it — for every operation, as a reviewer and as a reporter, and checks each answer: no 5xx,
no status the document does not list, no body outside the document's schema.

Logged in with a real session cookie; writes carry the CSRF cookie and header, so they reach the endpoints'
own checks (and, for valid bodies, the services: the world's tables are saved, submitted and returned as
the generated requests go). Driven through schemathesis's Python API with hypothesis (its pytest plugin
does not run under pytest 9 yet).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any, cast

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..world import World

EXAMPLES = 20  # per operation and user: about 14 operations × 2 users × 20 requests


@pytest.fixture
def connection_kept_open() -> Iterator[None]:
    """As Django's test client does: a request must not close the test's database connection."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def _operations() -> list[Any]:
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", WSGIHandler())
    return [cast(Any, result).ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("username", ["county_reviewer", "county_reporter"])
def test_no_answer_outside_the_document(world: World, username: str, connection_kept_open: None) -> None:
    client = Client()
    client.force_login(world.users[username])
    token = secrets.token_hex(16)  # an unmasked 32-character CSRF secret, sent as cookie and header
    cookies = {"sessionid": client.cookies["sessionid"].value, "csrftoken": token}
    units = [unit.pk for unit in (world.city, world.county, world.enterprise, world.sibling)]
    codes = st.sampled_from([*world.campaign.form_codes, "no-such-form"])
    # The ledger's endpoints are fuzzed on a world with a ledger in it (test_ledger_fuzz.py).
    operations = [operation for operation in _operations() if "/ledger" not in operation.path]
    assert len(operations) >= 14
    for operation in operations:

        @given(case=operation.as_strategy(), real=st.booleans(), unit=st.sampled_from(units), code=codes)
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def answers_as_documented(case: Any, real: bool, unit: int, code: str) -> None:
            if real and case.path_parameters:  # half the time at the world's tables, not at random ids
                named = {"campaign_id": world.campaign.pk, "unit_id": unit, "form_code": code}
                case.path_parameters = {
                    **case.path_parameters,
                    **{name: value for name, value in named.items() if name in case.path_parameters},
                }
            case.cookies = {**(case.cookies or {}), **cookies}  # the generated session cookie is replaced
            case.call_and_validate(headers={"X-CSRFToken": token})

        answers_as_documented()
