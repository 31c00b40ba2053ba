"""The ledger API's behaviour: a payment entered, refused by the rules (400 with the broken rules), approved
by another person, reversed; drafts edited and deleted, approved records not (409); money read exactly;
personal numbers masked; the lists' filters and pages; receipts, allocations and totals."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from songnuan.archive.idnumbers import mask_card, mask_id_number
from songnuan.archive.models import PersonalDataView
from songnuan.ledger.models import HelpRecord, LedgerEvent, Receipt
from songnuan.ledger.services import help_record_approve

from ..world import World
from .helpers import data_of, find_floats, schema_problems, send
from .ledger_api import LedgerApi, build_ledger_api, person_body, record_url, unit_url


@pytest.fixture
def api(world: World) -> LedgerApi:
    return build_ledger_api(world)


@pytest.fixture
def spec(api: LedgerApi) -> dict[str, Any]:
    data: dict[str, Any] = data_of(Client().get("/api/openapi.json"))
    return data


def household_body(api: LedgerApi, **changes: Any) -> dict[str, Any]:
    """1,000 yuan of central money to 王建国 (filed 2017-12-01) by union card (the file's card)."""
    body: dict[str, Any] = {
        "recipient_kind": "household",
        "household_id": api.ledger.wang.pk,
        "item": "visit",
        "source": "central",
        "channel": "union-card",
        "paid_on": "2018-01-25",
        "amount": 1000,
    }
    body.update(changes)
    return body


def encode(body: dict[str, Any]) -> str:
    """JSON with each Decimal written as a bare number (as a client sends 999.9)."""
    numbers: dict[str, str] = {}

    def bare(value: object) -> str:
        assert isinstance(value, Decimal)
        key = f"@@{len(numbers)}@@"
        numbers[key] = str(value)
        return key

    text = json.dumps(body, default=bare, ensure_ascii=False)
    for key, number in numbers.items():
        text = text.replace(f'"{key}"', number)
    return text


def post_record(api: LedgerApi, body: object, user: str = "county_reporter") -> Any:
    url = unit_url(api.world.campaign, api.world.county, "records")
    return send(api.world.client(user), "POST", url, body)


def fits(spec: dict[str, Any], path: str, method: str, response: Any) -> list[str]:
    schema = spec["paths"][path][method]["responses"][str(response.status_code)]["content"][
        "application/json"
    ]
    return schema_problems(spec, schema["schema"], data_of(response))


# --- entering, refusing -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "stored"),
    [(1000, "1000.00"), ("1,200.50", "1200.50"), ("800元", "800.00"), (Decimal("999.9"), "999.90")],
)
def test_a_draft_is_entered_with_the_amount_read_exactly(
    api: LedgerApi, spec: dict[str, Any], sent: object, stored: str
) -> None:
    response = post_record(api, encode(household_body(api, amount=sent)))
    assert response.status_code == 200, data_of(response)
    data = data_of(response)
    assert data["state"] == "draft" and data["amount"] == stored and data["name"] == "王建国"
    assert HelpRecord.objects.get(pk=data["id"]).amount == Decimal(stored)
    assert find_floats(data) == []
    assert [event["action"] for event in data["history"]] == ["record-added"]
    assert fits(spec, "/api/campaigns/{campaign_id}/units/{unit_id}/ledger/records", "post", response) == []


def test_a_refusal_names_each_broken_rule_and_is_kept_in_the_history(
    api: LedgerApi, spec: dict[str, Any]
) -> None:
    body = household_body(api, household_id=api.ledger.zhang.pk, channel="cash")  # closed file, cash
    before = HelpRecord.objects.count()
    response = post_record(api, body)
    assert response.status_code == 400
    data = data_of(response)
    assert "不能保存" in data["message"]
    codes = {problem["code"] for problem in data["problems"]}
    assert {"archive-first", "cash-bound"} <= codes
    assert all(set(problem) == {"code", "message", "field"} for problem in data["problems"])
    assert HelpRecord.objects.count() == before
    assert LedgerEvent.objects.filter(action=LedgerEvent.Action.REFUSED).count() == 1
    assert fits(spec, "/api/campaigns/{campaign_id}/units/{unit_id}/ledger/records", "post", response) == []


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"amount": "abc"}, "amount：金额“abc”不是数字"),
        ({"amount": 0}, "amount：金额应大于零"),
        ({"amount": -5}, "amount：金额应大于零"),
        ({"amount": Decimal("10.001")}, "最多两位小数"),
        ({"amount": Decimal("1E+400")}, "过大"),
        ({"amount": "1e400"}, "不是数字"),
        ({"amount": "9" * 80}, "过大"),
        ({"amount": True}, "应为数字或文字形式的金额"),
        ({"goods_quantity": Decimal("1E+20")}, "过大"),
        ({"paid_on": "2018-13-01"}, "paid_on 应为日期"),
        ({"paid_on": 20180125}, "paid_on 应为日期"),
        ({"name": "王\x00建国"}, "控制字符"),
        ({"name": "王" * 101}, "name"),
        ({"household_id": "1"}, "household_id 应为整数"),
        ({"household_id": 2**70}, "household_id"),
        ({"nickname": "x"}, "没有 nickname 这个字段"),
        ({"item": None}, "item"),
    ],
)
def test_a_bad_body_is_a_chinese_400(api: LedgerApi, change: dict[str, Any], words: str) -> None:
    response = post_record(api, encode(household_body(api, **change)))
    assert response.status_code == 400, data_of(response)
    assert words in data_of(response)["message"]
    assert not HelpRecord.objects.filter(household=api.ledger.wang).exists()


@pytest.mark.parametrize("raw", [b"", b"[]", b"{", b'{"amount": NaN}', b'{"amount": 1}'])
def test_a_body_that_is_no_record_is_a_400(api: LedgerApi, raw: bytes) -> None:
    response = post_record(api, raw)
    assert response.status_code == 400
    assert data_of(response)["message"]


# --- approve, edit, delete, reverse -------------------------------------------------------------------------


def test_approve_then_reverse(api: LedgerApi, spec: dict[str, Any]) -> None:
    record = api.records["county"]  # entered by county_reporter
    reviewer = api.world.client("county_reviewer")
    detail = data_of(reviewer.get(record_url(record)))
    assert detail["permissions"] == {"edit": True, "approve": True, "approve_refusal": None, "reverse": False}
    response = send(reviewer, "POST", record_url(record, "approve"))
    assert response.status_code == 200
    data = data_of(response)
    assert data["state"] == "approved" and data["payment"] == "queued"
    assert [event["action"] for event in data["history"]] == ["record-added", "record-approved"]
    assert fits(spec, "/api/ledger/records/{record_id}/approve", "post", response) == []
    again = send(reviewer, "POST", record_url(record, "approve"))
    assert again.status_code == 409 and "已审核" in data_of(again)["message"]

    for method, body in (("PUT", person_body()), ("DELETE", None)):
        refused = send(api.world.client("county_reporter"), method, record_url(record), body)
        assert refused.status_code == 409 and "冲销" in data_of(refused)["message"]

    no_reason = send(reviewer, "POST", record_url(record, "reverse"), {"reason": " "})
    assert no_reason.status_code == 400 and data_of(no_reason)["message"] == "冲销须写明原因"
    reversed_ = send(reviewer, "POST", record_url(record, "reverse"), {"reason": "重复录入"})
    assert reversed_.status_code == 200
    reversal = data_of(reversed_)
    assert reversal["reverses"] == record.pk and reversal["amount"] == "-500.00"
    assert data_of(reviewer.get(record_url(record)))["reversed_by"] == reversal["id"]
    history = [event["action"] for event in data_of(reviewer.get(record_url(record)))["history"]]
    assert history == ["record-added", "record-approved", "record-reversed", "record-added"]
    twice = send(reviewer, "POST", record_url(record, "reverse"), {"reason": "再来"})
    assert twice.status_code == 409
    of_reversal = send(reviewer, "POST", record_url(reversal["id"], "reverse"), {"reason": "再来"})
    assert of_reversal.status_code == 409


def test_the_preparer_does_not_approve(api: LedgerApi) -> None:
    client = api.world.client("county_reviewer")
    made = post_record(api, person_body(), user="county_reviewer")
    assert made.status_code == 200
    detail = data_of(made)
    assert detail["permissions"]["approve"] is False and "录入人" in detail["permissions"]["approve_refusal"]
    response = send(client, "POST", record_url(detail["id"], "approve"))
    assert response.status_code == 400 and "录入人不能审核" in data_of(response)["message"]
    assert HelpRecord.objects.get(pk=detail["id"]).state == HelpRecord.State.DRAFT


def test_reversing_a_draft_is_a_conflict(api: LedgerApi) -> None:
    response = send(
        api.world.client("county_reviewer"),
        "POST",
        record_url(api.records["county"], "reverse"),
        {"reason": "x"},
    )
    assert response.status_code == 409 and "尚未审核" in data_of(response)["message"]


def test_a_draft_is_edited_under_the_same_rules_and_deleted(api: LedgerApi) -> None:
    record = api.records["county"]
    client = api.world.client("county_reporter")
    edited = send(client, "PUT", record_url(record), person_body(id_number=record.id_number, amount=750))
    assert edited.status_code == 200 and data_of(edited)["amount"] == "750.00"
    history = data_of(edited)["history"]
    assert history[-1]["action"] == "record-edited" and history[-1]["new"]["amount"] == "750.00"
    too_much = send(client, "PUT", record_url(record), person_body(amount="60000"))
    assert too_much.status_code == 400
    assert "over-budget" in {problem["code"] for problem in data_of(too_much)["problems"]}
    assert HelpRecord.objects.get(pk=record.pk).amount == Decimal("750.00")
    deleted = send(client, "DELETE", record_url(record))
    assert deleted.status_code == 200 and "已删除" in data_of(deleted)["message"]
    assert send(client, "GET", record_url(record)).status_code == 404


@pytest.mark.parametrize("record_id", ["0", "-1", "abc", str(2**63), "99999999"])
def test_a_record_that_is_not_there(api: LedgerApi, record_id: str) -> None:
    response = api.world.client("county_reviewer").get(f"/api/ledger/records/{record_id}")
    assert response.status_code == 404 and data_of(response)["message"] == "没有这条发放记录"


def test_not_logged_in_is_401(api: LedgerApi) -> None:
    assert Client().get(record_url(api.records["county"])).status_code == 401
    assert send(Client(), "POST", record_url(api.records["county"], "approve")).status_code == 401


# --- personal numbers ---------------------------------------------------------------------------------------


def test_numbers_are_masked_unless_the_user_may_see_them(api: LedgerApi) -> None:
    record = api.records["county"]
    url = record_url(record)
    masked = data_of(api.world.client("county_reviewer").get(url))
    assert masked["id_number"] == mask_id_number(record.id_number) != record.id_number
    assert masked["card_number"] == mask_card(record.card_number) != record.card_number
    added = masked["history"][0]["new"]
    assert record.id_number not in str(masked) and record.card_number not in str(masked)
    assert added["id_number"] == masked["id_number"] and added["card_number"] == masked["card_number"]
    listed = data_of(
        api.world.client("county_reviewer").get(unit_url(api.world.campaign, api.world.county, "records"))
    )
    assert record.id_number not in str(listed) and record.card_number not in str(listed)

    refused = api.world.client("county_reviewer").get(url + "?full=1")
    assert refused.status_code == 403 and "无权" in refused.json()["message"]

    user = api.world.users["county_reviewer"]
    user.user_permissions.add(Permission.objects.get(codename="view_personal_data"))
    client = api.world.client("county_reviewer")
    assert record.id_number not in str(data_of(client.get(url)))  # masked until asked for, as in the archive
    response = client.get(url + "?full=1")
    full = data_of(response)
    assert "no-cache" in response["Cache-Control"]
    assert full["id_number"] == record.id_number and full["card_number"] == record.card_number
    assert full["history"][0]["new"]["id_number"] == record.id_number
    viewed = LedgerEvent.objects.get(action=LedgerEvent.Action.NUMBERS_VIEWED, record=record)
    assert viewed.user == user
    if record.household_id is not None:
        assert PersonalDataView.objects.get(household_id=record.household_id).via == PersonalDataView.Via.API
    assert client.get(url + "?full=yes").status_code == 400


# --- lists, filters, pages ----------------------------------------------------------------------------------


def test_the_list_filters_and_pages(api: LedgerApi, spec: dict[str, Any]) -> None:
    world = api.world
    county = world.county
    help_record_approve(user=world.users["county_reviewer"], record=api.records["county"])
    for _n in range(3):
        assert post_record(api, person_body(source="central", item="living")).status_code == 400  # unfiled
    assert post_record(api, household_body(api)).status_code == 200
    client = world.client("county_reviewer")
    url = unit_url(world.campaign, county, "records")

    def count(query: str) -> int:
        response = client.get(f"{url}?{query}")
        assert response.status_code == 200, data_of(response)
        return int(data_of(response)["count"])

    assert count("") == 2 and count("state=approved") == 1 and count("state=draft") == 1
    assert count("source=central") == 1 and count("source=union") == 1 and count("item=living") == 0
    assert count("channel=union-card") == 2 and count("channel=cash") == 0
    assert count("subtree=1") == 3 and count("subtree=1&source=union") == 2
    first = client.get(f"{url}?subtree=1&page_size=2")
    data = data_of(first)
    assert len(data["results"]) == 2 and data["next"].endswith("page=2") and data["previous"] is None
    assert fits(spec, "/api/campaigns/{campaign_id}/units/{unit_id}/ledger/records", "get", first) == []
    assert len(data_of(client.get(data["next"]))["results"]) == 1
    assert client.get(f"{url}?page=9").status_code == 404
    for bad in (
        "state=lost",
        "channel=x",
        "subtree=2",
        "page=0",
        "page_size=500",
        "item=%00",
        "source=a%20b",
    ):
        response = client.get(f"{url}?{bad}")
        assert response.status_code == 400, bad
        assert "参数" in data_of(response)["message"]


# --- money raised, passed down, totals ----------------------------------------------------------------------


def test_receipts_allocations_and_totals(api: LedgerApi, spec: dict[str, Any]) -> None:
    world = api.world
    client = world.client("county_reporter")
    receipts = unit_url(world.campaign, world.county, "receipts")
    made = send(
        client, "POST", receipts, {"source": "donation", "amount": "2000.5", "received_on": "2018-01-03"}
    )
    assert made.status_code == 200 and data_of(made)["amount"] == "2000.50"
    for body, words in (
        ({"source": "nope", "amount": 1, "received_on": "2018-01-03"}, "没有“nope”这个资金来源"),
        ({"source": "union", "amount": 0, "received_on": "2018-01-03"}, "金额应大于零"),
        ({"source": "union", "received_on": "2018-01-03"}, "amount"),
    ):
        refused = send(client, "POST", receipts, body)
        assert refused.status_code == 400 and words in data_of(refused)["message"]

    allocations = unit_url(world.campaign, world.county, "allocations")
    given = send(
        client,
        "POST",
        allocations,
        {"to_unit": world.enterprise.pk, "source": "union", "amount": 3000, "on": "2018-01-05"},
    )
    assert given.status_code == 200, data_of(given)
    assert data_of(given)["kind"] == "allocation" and data_of(given)["from_unit"]["id"] == world.county.pk
    for body, words in (
        ({"to_unit": world.sibling.pk, "source": "union", "amount": 1, "on": "2018-01-05"}, "下级单位中没有"),
        (
            {"to_unit": world.enterprise.pk, "source": "union", "amount": 999999, "on": "2018-01-05"},
            "不够下拨",
        ),
    ):
        refused = send(client, "POST", allocations, body)
        assert refused.status_code == 400 and words in data_of(refused)["message"], data_of(refused)

    listed = data_of(client.get(receipts))
    assert listed["count"] == 4  # central, union, donation raised; the allocation given
    assert (
        fits(
            spec, "/api/campaigns/{campaign_id}/units/{unit_id}/ledger/receipts", "get", client.get(receipts)
        )
        == []
    )

    totals_url = unit_url(world.campaign, world.county, "totals")
    own = data_of(client.get(totals_url))
    union = next(row for row in own["by_source"] if row["source"]["code"] == "union")
    assert union == {
        "source": {"code": "union", "name": union["source"]["name"]},
        "raised": "50000.00",
        "allocated_in": "0.00",
        "allocated_out": "3000.00",
        "spent": "0.00",
        "reserved": "500.00",
        "left": "46500.00",
    }
    whole = data_of(world.client("county_reviewer").get(f"{totals_url}?subtree=1"))
    union = next(row for row in whole["by_source"] if row["source"]["code"] == "union")
    # raised once, where raised: the county's 50,000 and the enterprise's own 10,000; the allocation is inside
    assert (union["raised"], union["allocated_in"], union["allocated_out"]) == ("60000.00", "0.00", "0.00")
    assert union["reserved"] == "1000.00" and whole["subtree"] is True
    assert find_floats(whole) == []
    assert (
        fits(
            spec, "/api/campaigns/{campaign_id}/units/{unit_id}/ledger/totals", "get", client.get(totals_url)
        )
        == []
    )

    help_record_approve(user=world.users["county_reviewer"], record=api.records["county"])
    visit = next(row for row in data_of(client.get(totals_url))["by_item"] if row["item"]["code"] == "visit")
    assert (visit["records"], visit["amount"]) == (1, "500.00")


def test_a_receipt_is_reversed_once(api: LedgerApi) -> None:
    world = api.world
    client = world.client("county_reporter")
    made = data_of(
        send(
            client,
            "POST",
            unit_url(world.campaign, world.county, "receipts"),
            {"source": "donation", "amount": 100, "received_on": "2018-01-03"},
        )
    )
    url = f"/api/ledger/receipts/{made['id']}/reverse"
    done = send(client, "POST", url, {"reason": "重复登记"})
    assert (
        done.status_code == 200
        and data_of(done)["amount"] == "-100.00"
        and data_of(done)["reverses"] == made["id"]
    )
    again = send(client, "POST", url, {"reason": "重复登记"})
    assert again.status_code == 409
    assert Receipt.objects.filter(reverses_id=made["id"]).count() == 1
    assert (
        client.post(
            "/api/ledger/receipts/99999999/reverse", {"reason": "x"}, content_type="application/json"
        ).status_code
        == 404
    )


def test_a_reporter_sees_no_unit_below_through_subtree(api: LedgerApi) -> None:
    """The county's reporter sees its own unit only: subtree=1 adds nothing, and the summed totals of the
    units below (a roll-up) are for reviewers and admins."""
    world = api.world
    enterprise_receipt = Receipt.objects.get(unit=world.enterprise)
    reporter = world.client("county_reporter")
    records = data_of(reporter.get(unit_url(world.campaign, world.county, "records") + "?subtree=1"))
    assert {row["unit"]["id"] for row in records["results"]} == {world.county.pk}
    receipts = data_of(reporter.get(unit_url(world.campaign, world.county, "receipts") + "?subtree=1"))
    assert enterprise_receipt.pk not in {row["id"] for row in receipts["results"]}
    totals = reporter.get(unit_url(world.campaign, world.county, "totals") + "?subtree=1")
    assert totals.status_code == 403 and "审核员" in data_of(totals)["message"]

    reviewer = world.client("county_reviewer")
    records = data_of(reviewer.get(unit_url(world.campaign, world.county, "records") + "?subtree=1"))
    assert {row["unit"]["id"] for row in records["results"]} == {world.county.pk, world.enterprise.pk}
    receipts = data_of(reviewer.get(unit_url(world.campaign, world.county, "receipts") + "?subtree=1"))
    assert enterprise_receipt.pk in {row["id"] for row in receipts["results"]}
