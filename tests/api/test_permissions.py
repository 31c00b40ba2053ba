"""The permission matrix: every endpoint × role × target unit → the exact status.

All three roles sit at the county (东宝区总工会), so each has an own unit, one below (the enterprise), a
sibling (钟祥市) and one above (the city):

- reporter: reads and fills its own unit only;
- reviewer: reads its own unit and the units below; returns, accepts and unlocks the units below only;
- admin: a reviewer's powers, and fills its own unit;
- the roll-up (it sums the units below): reviewers and admins of the unit or above only, never a reporter.

Before each request the target's table is put in the state in which the step is possible, so a 200 means
the step was allowed and done, and a 403 means it was refused (and nothing changed).
"""

from __future__ import annotations

from typing import Any

import pytest

from songnuan.reporting.models import Submission

from ..world import World
from .helpers import data_of, form_url, make_submission, rollup_url, send

ROLES = {"reporter": "county_reporter", "reviewer": "county_reviewer", "admin": "county_admin"}
TARGETS = ("own", "below", "sibling", "above")

# endpoint            role        own  below sibling above
MATRIX = [
    ("read", "reporter", 200, 403, 403, 403),
    ("read", "reviewer", 200, 200, 403, 403),
    ("read", "admin", 200, 200, 403, 403),
    ("save", "reporter", 200, 403, 403, 403),
    ("save", "reviewer", 403, 403, 403, 403),
    ("save", "admin", 200, 403, 403, 403),
    ("check", "reporter", 200, 403, 403, 403),
    ("check", "reviewer", 403, 403, 403, 403),
    ("check", "admin", 200, 403, 403, 403),
    ("submit", "reporter", 200, 403, 403, 403),
    ("submit", "reviewer", 403, 403, 403, 403),
    ("submit", "admin", 200, 403, 403, 403),
    ("return", "reporter", 403, 403, 403, 403),
    ("return", "reviewer", 403, 200, 403, 403),
    ("return", "admin", 403, 200, 403, 403),
    ("accept", "reporter", 403, 403, 403, 403),
    ("accept", "reviewer", 403, 200, 403, 403),
    ("accept", "admin", 403, 200, 403, 403),
    ("unlock", "reporter", 403, 403, 403, 403),
    ("unlock", "reviewer", 403, 200, 403, 403),
    ("unlock", "admin", 403, 200, 403, 403),
    ("rollup", "reporter", 403, 403, 403, 403),  # it names and sums the units below: not even its own
    ("rollup", "reviewer", 200, 200, 403, 403),
    ("rollup", "admin", 200, 200, 403, 403),
]

#: endpoint → (method, action in the URL, state the target's table is put in first, request body)
ENDPOINTS: dict[str, tuple[str, str, str | None, dict[str, Any] | None]] = {
    "read": ("GET", "", Submission.Status.DRAFT, None),
    "save": ("PUT", "", Submission.Status.DRAFT, {"version": 1, "values": {"1A": 50}}),
    "check": ("POST", "check", Submission.Status.DRAFT, {"values": {"1A": 50}}),
    "submit": ("POST", "submit", Submission.Status.DRAFT, None),
    "return": ("POST", "return", Submission.Status.SUBMITTED, {"comment": "请核对"}),
    "accept": ("POST", "accept", Submission.Status.SUBMITTED, None),
    "unlock": ("POST", "unlock", Submission.Status.ACCEPTED, {"reason": "更正"}),
    "rollup": ("GET", "rollup", Submission.Status.ACCEPTED, None),
}

CASES = [
    pytest.param(endpoint, role, target, expected, id=f"{endpoint}-{role}-{target}")
    for endpoint, role, *statuses in MATRIX
    for target, expected in zip(TARGETS, statuses, strict=True)
]


def test_the_matrix_covers_every_endpoint_and_role() -> None:
    assert {(endpoint, role) for endpoint, role, *_s in MATRIX} == {(e, r) for e in ENDPOINTS for r in ROLES}


@pytest.mark.parametrize(("endpoint", "role", "target", "expected"), CASES)
def test_permission(api_world: World, endpoint: str, role: str, target: str, expected: int) -> None:
    world = api_world
    unit = {"own": world.county, "below": world.enterprise, "sibling": world.sibling, "above": world.city}[
        target
    ]
    method, action, state, body = ENDPOINTS[endpoint]
    submission = make_submission(world, unit, state) if state else None
    url = (
        rollup_url(world.campaign, unit)
        if action == "rollup"
        else form_url(world.campaign, unit, action=action)
    )

    response = send(world.client(ROLES[role]), method, url, body)

    assert response.status_code == expected, data_of(response)
    data = data_of(response)
    if expected == 403:
        assert set(data) == {"message"} and data["message"]
        if submission is not None:
            before = (submission.status, submission.version)
            submission.refresh_from_db()
            assert (submission.status, submission.version) == before
    elif action == "rollup":
        assert data["unit"]["id"] == unit.pk and data["accepted_units"] == 1
    elif action == "check":
        assert data["values"]["1A"] == 50 and "findings_html" in data
    else:
        assert data["unit"]["id"] == unit.pk and data["version"] >= 1


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "url", ["/api/me", "/api/campaigns", "/api/campaigns/{c}", "/api/campaigns/{c}/units"]
)
def test_every_role_reads_the_campaign_level_endpoints(api_world: World, role: str, url: str) -> None:
    """Not per unit: each answers only what the user may see (tested in test_endpoints)."""
    response = api_world.client(ROLES[role]).get(url.format(c=api_world.campaign.pk))
    assert response.status_code == 200
