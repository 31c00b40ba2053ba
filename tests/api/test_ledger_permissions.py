"""The ledger API's permission matrix: every endpoint × role × target unit → the exact status, as in
test_permissions.py (all three roles at the county; the targets its own unit, the enterprise below, the
sibling county and the city above).

- read (`may_see_ledger`): the unit's own staff and the reviewers and admins above; a unit (or a record of
  a unit) the user does not see answers 404, as the households API does;
- write (`may_enter_ledger`): any account of the unit itself, never one above (403);
- approve and reverse (`may_approve_help`): reviewers and admins of the unit or above, never a reporter.

A 200 means the step was done; a 403 or 404 that nothing changed.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile

from songnuan.ledger.models import FundSource, HelpRecord, LedgerEvent, Receipt
from songnuan.ledger.services import help_record_approve, receipt_add

from ..world import World
from .helpers import data_of, send
from .ledger_api import ENTERER, PDF, LedgerApi, build_ledger_api, person_body, record_url, unit_url

ROLES = {"reporter": "county_reporter", "reviewer": "county_reviewer", "admin": "county_admin"}
TARGETS = {"own": "county", "below": "enterprise", "sibling": "sibling", "above": "city"}

# endpoint               role        own  below sibling above
MATRIX = [
    ("records", "reporter", 200, 404, 404, 404),
    ("records", "reviewer", 200, 200, 404, 404),
    ("records", "admin", 200, 200, 404, 404),
    ("record-add", "reporter", 200, 404, 404, 404),
    ("record-add", "reviewer", 200, 403, 404, 404),
    ("record-add", "admin", 200, 403, 404, 404),
    ("receipts", "reporter", 200, 404, 404, 404),
    ("receipts", "reviewer", 200, 200, 404, 404),
    ("receipts", "admin", 200, 200, 404, 404),
    ("receipt-add", "reporter", 200, 404, 404, 404),
    ("receipt-add", "reviewer", 200, 403, 404, 404),
    ("receipt-add", "admin", 200, 403, 404, 404),
    ("allocate", "reporter", 200, 404, 404, 404),
    ("allocate", "reviewer", 200, 403, 404, 404),
    ("allocate", "admin", 200, 403, 404, 404),
    ("totals", "reporter", 200, 404, 404, 404),
    ("totals", "reviewer", 200, 200, 404, 404),
    ("totals", "admin", 200, 200, 404, 404),
    ("record", "reporter", 200, 404, 404, 404),
    ("record", "reviewer", 200, 200, 404, 404),
    ("record", "admin", 200, 200, 404, 404),
    # ?full=1, the user holding the personal-data permission (without it: 403, test_ledger.py)
    ("record-full", "reporter", 200, 404, 404, 404),
    ("record-full", "reviewer", 200, 200, 404, 404),
    ("record-full", "admin", 200, 200, 404, 404),
    ("record-edit", "reporter", 200, 404, 404, 404),
    ("record-edit", "reviewer", 200, 403, 404, 404),
    ("record-edit", "admin", 200, 403, 404, 404),
    ("record-delete", "reporter", 200, 404, 404, 404),
    ("record-delete", "reviewer", 200, 403, 404, 404),
    ("record-delete", "admin", 200, 403, 404, 404),
    ("approve", "reporter", 403, 404, 404, 404),
    ("approve", "reviewer", 200, 200, 404, 404),
    ("approve", "admin", 200, 200, 404, 404),
    ("reverse", "reporter", 403, 404, 404, 404),
    ("reverse", "reviewer", 200, 200, 404, 404),
    ("reverse", "admin", 200, 200, 404, 404),
    ("receipt-reverse", "reporter", 200, 404, 404, 404),
    ("receipt-reverse", "reviewer", 200, 403, 404, 404),
    ("receipt-reverse", "admin", 200, 403, 404, 404),
    # the evidence: uploaded as a draft is edited, downloaded as the record is read
    ("evidence-upload", "reporter", 200, 404, 404, 404),
    ("evidence-upload", "reviewer", 200, 403, 404, 404),
    ("evidence-upload", "admin", 200, 403, 404, 404),
    ("evidence", "reporter", 200, 404, 404, 404),
    ("evidence", "reviewer", 200, 200, 404, 404),
    ("evidence", "admin", 200, 200, 404, 404),
]

#: endpoint → (method, per-unit "u:<what>" or per-record "r:<action>" / receipt "receipt", body)
ENDPOINTS: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "records": ("GET", "u:records", None),
    "record-add": ("POST", "u:records", {}),
    "receipts": ("GET", "u:receipts", None),
    "receipt-add": (
        "POST",
        "u:receipts",
        {"source": "donation", "amount": 800, "received_on": "2018-01-03", "reference": "捐赠"},
    ),
    "allocate": ("POST", "u:allocations", {"source": "union", "amount": "100", "on": "2018-01-05"}),
    "totals": ("GET", "u:totals", None),
    "record": ("GET", "r:", None),
    "record-full": ("GET", "r:", None),
    "record-edit": ("PUT", "r:", {"amount": "600"}),
    "record-delete": ("DELETE", "r:", None),
    "approve": ("POST", "r:approve", None),
    "reverse": ("POST", "r:reverse", {"reason": "重复录入"}),
    "receipt-reverse": ("POST", "receipt", {"reason": "登记错了"}),
    "evidence-upload": ("POST", "r:evidence", None),  # multipart: the file, below
    "evidence": ("GET", "r:evidence", None),
}

CASES = [
    pytest.param(endpoint, role, target, expected, id=f"{endpoint}-{role}-{target}")
    for endpoint, role, *statuses in MATRIX
    for target, expected in zip(TARGETS, statuses, strict=True)
]


@pytest.fixture(autouse=True)
def media_in_tmp(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def test_the_matrix_covers_every_endpoint_and_role() -> None:
    assert {(endpoint, role) for endpoint, role, *_s in MATRIX} == {(e, r) for e in ENDPOINTS for r in ROLES}


def _state(api: LedgerApi) -> tuple[int, int, int, list[tuple[int, str, str, str]]]:
    """What a refused request must leave as it was."""
    records = list(HelpRecord.objects.order_by("pk").values_list("pk", "state", "amount", "evidence"))
    return (
        Receipt.objects.count(),
        HelpRecord.objects.count(),
        LedgerEvent.objects.exclude(action=LedgerEvent.Action.REFUSED).count(),
        [(pk, state, str(amount), evidence) for pk, state, amount, evidence in records],
    )


@pytest.mark.parametrize(("endpoint", "role", "target", "expected"), CASES)
def test_permission(world: World, endpoint: str, role: str, target: str, expected: int) -> None:
    api = build_ledger_api(world)
    name = TARGETS[target]
    unit = api.units[name]
    record = api.records[name]
    method, where, body = ENDPOINTS[endpoint]
    if endpoint == "reverse":
        approver = "city_reviewer"  # of the unit or above, and not who entered it
        record = help_record_approve(user=world.users[approver], record=record)
    if endpoint == "record-add":
        body = person_body()
    if endpoint == "record-edit":
        body = person_body(id_number=record.id_number, card_number=record.card_number, amount="600")
    if endpoint == "allocate":
        below = {"county": world.enterprise, "enterprise": world.enterprise, "sibling": world.sibling}
        assert body is not None
        body = {**body, "to_unit": below.get(name, world.county).pk}
    receipt = None
    if endpoint == "receipt-reverse":
        receipt = receipt_add(
            user=world.users[ENTERER[name]],
            campaign=world.campaign,
            unit=unit,
            source=FundSource.objects.get(code="donation"),
            amount=Decimal("300"),
            received_on=world.campaign.period_start,
        )
    if where.startswith("u:"):
        url = unit_url(world.campaign, unit, where[2:])
    elif where.startswith("r:"):
        url = record_url(record, where[2:])
    else:
        assert receipt is not None
        url = f"/api/ledger/receipts/{receipt.pk}/reverse"
    if endpoint == "record-full":
        url += "?full=1"
        world.users[ROLES[role]].user_permissions.add(Permission.objects.get(codename="view_personal_data"))
    if endpoint == "evidence":
        record.evidence.save("roster.pdf", SimpleUploadedFile("roster.pdf", PDF), save=True)
    before = _state(api)

    client = world.client(ROLES[role])
    if endpoint == "evidence-upload":  # multipart/form-data, not JSON
        response = client.post(url, {"evidence": SimpleUploadedFile("签收表.pdf", PDF)})
    else:
        response = send(client, method, url, body)

    if endpoint == "evidence" and expected == 200:
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert b"".join(response.streaming_content) == PDF  # type: ignore[attr-defined]
        return
    assert response.status_code == expected, data_of(response)
    data = data_of(response)
    if expected != 200:
        assert data["message"] and _state(api) == before
        return
    if endpoint in ("records", "receipts"):
        assert data["count"] >= 1
    elif endpoint == "totals":
        assert data["unit"]["id"] == unit.pk and data["by_source"]
    elif endpoint == "record-add":
        assert data["state"] == "draft" and data["unit"]["id"] == unit.pk
    elif endpoint == "record-full":
        assert data["id_number"] == record.id_number and data["card_number"] == record.card_number
    elif endpoint == "evidence-upload":
        assert data["id"] == record.pk and data["evidence"] is True
        record.refresh_from_db()
        with record.evidence.open("rb") as stored:
            assert stored.read() == PDF
    elif endpoint in ("record", "record-edit"):
        assert data["id"] == record.pk
        assert data["amount"] == ("600.00" if endpoint == "record-edit" else "500.00")
    elif endpoint == "record-delete":
        assert not HelpRecord.objects.filter(pk=record.pk).exists()
    elif endpoint == "approve":
        assert data["state"] == "approved" and data["approved_by"]
    elif endpoint == "reverse":
        assert data["reverses"] == record.pk and data["amount"] == "-500.00"
    elif endpoint in ("receipt-add", "allocate", "receipt-reverse"):
        assert data["id"] and data["amount"] in ("800.00", "100.00", "-300.00")
