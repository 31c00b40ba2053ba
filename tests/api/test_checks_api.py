"""The checks API (/api/…/checks): the permission matrix over every endpoint, the refusals (400 naming the
field, 404 for what is not there or not seen, 409 for a state that does not allow the step), the results'
rates as text (null for no rate), the call sheet's logged full phones, and the OpenAPI document.

The matrix: the city runs the check (seed 20180125, 3 households a stratum); its caller is city_admin given
the callers' permission. A check the user does not see answers 404, as the ledger's records do; a step the
user sees but may not take answers 403. A 200 means the step was done; a refusal leaves everything as it was.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from functools import cache
from typing import Any

import pytest
from django.test import Client

from songnuan.checks import rectification
from songnuan.checks.models import (
    CallAttempt,
    CheckEvent,
    Finding,
    RectificationTask,
    SampledHousehold,
    SelfCheck,
    SpotCheck,
)
from songnuan.checks.services import AnswersInput, answers_save, call_record, spot_check_draw
from songnuan.ledger.models import HelpRecord
from songnuan.orgs.models import Unit

from ..checks.checksworld import build_helped, caller, drawn_with_a_household_paid_by, request
from ..world import FROZEN_TODAY, World
from .helpers import data_of, schema_problems, send

pytestmark = pytest.mark.django_db

DEADLINE = FROZEN_TODAY + dt.timedelta(days=14)
ROLES = ("caller", "city_reviewer", "county_reviewer", "county_reporter", "sibling_reporter", "anonymous")
DRAW = {"allocation": "fixed", "per_stratum": 3, "title": "接口抽查", "seed": "20180125"}

# endpoint          caller city_reviewer county_reviewer county_reporter sibling_reporter anonymous
MATRIX = {
    "checks": (200, 200, 200, 200, 200, 401),
    "plan": (200, 200, 200, 403, 403, 401),
    "draw": (200, 200, 200, 403, 403, 401),
    "check": (200, 200, 404, 404, 404, 401),
    "sheet": (200, 403, 404, 404, 404, 401),
    "call": (200, 403, 404, 404, 404, 401),
    "answers": (200, 403, 404, 404, 404, 401),
    "replacement": (200, 200, 404, 404, 404, 401),
    "publish": (200, 200, 404, 404, 404, 401),
    "tasks": (200, 200, 200, 200, 200, 401),
    "task-answer": (403, 403, 200, 200, 404, 401),
    "task-accept": (200, 200, 403, 403, 404, 401),
    "task-return": (200, 200, 403, 403, 404, 401),
    "self-check-run": (200, 200, 200, 200, 404, 401),
    "self-check-latest": (200, 200, 200, 200, 404, 401),
    "finding-answer": (200, 200, 200, 200, 404, 401),
}

#: endpoint → (method, the path as the OpenAPI document names it, body)
ENDPOINTS: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "checks": ("GET", "/api/campaigns/{campaign_id}/checks", None),
    "plan": ("POST", "/api/campaigns/{campaign_id}/checks/plan", {"allocation": "fixed", "per_stratum": 2}),
    "draw": ("POST", "/api/campaigns/{campaign_id}/checks", DRAW),
    "check": ("GET", "/api/checks/{check_id}", None),
    "sheet": ("GET", "/api/checks/{check_id}/sheet", None),
    "call": ("POST", "/api/checks/sampled/{sampled_id}/calls", {"disposition": "no-answer"}),
    "answers": ("PUT", "/api/checks/sampled/{sampled_id}/answers", {"received": True, "how": "card"}),
    "replacement": ("POST", "/api/checks/sampled/{sampled_id}/replacement", {}),
    "publish": ("POST", "/api/checks/{check_id}/publish", {"deadline": DEADLINE.isoformat()}),
    "tasks": ("GET", "/api/checks/tasks", None),
    "task-answer": ("POST", "/api/checks/tasks/{task_id}/answer", {"answer": "已补发，签收表已存档"}),
    "task-accept": ("POST", "/api/checks/tasks/{task_id}/accept", None),
    "task-return": ("POST", "/api/checks/tasks/{task_id}/return", {"reason": "请附银行流水"}),
    "self-check-run": ("POST", "/api/campaigns/{campaign_id}/units/{unit_id}/self-checks", {}),
    "self-check-latest": ("GET", "/api/campaigns/{campaign_id}/units/{unit_id}/self-checks/latest", None),
    "finding-answer": (
        "POST",
        "/api/checks/findings/{finding_id}/answer",
        {"state": "explained", "answer": "签收表已补传"},
    ),
}

CASES = [
    pytest.param(endpoint, role, expected, id=f"{endpoint}-{role}")
    for endpoint, statuses in MATRIX.items()
    for role, expected in zip(ROLES, statuses, strict=True)
]


@cache
def spec() -> dict[str, Any]:
    found: dict[str, Any] = data_of(Client().get("/api/openapi.json"))
    return found


def client_of(world: World, role: str) -> Client:
    if role == "anonymous":
        return Client()
    client = Client()
    client.force_login(caller(world) if role == "caller" else world.users[role])
    return client


def in_sample(check: SpotCheck, unit: Unit) -> list[SampledHousehold]:
    return list(
        SampledHousehold.objects.filter(spot_check=check, stratum__unit=unit, in_sample=True)
        .select_related("household")
        .order_by("position")
    )


def paid_by(check: SpotCheck, unit: Unit) -> SampledHousehold:
    """A household of the sample that `unit` itself paid (so that its task is `unit`'s)."""
    return next(
        sampled
        for sampled in in_sample(check, unit)
        if HelpRecord.objects.filter(household=sampled.household, unit=unit).exists()
    )


def reached(world: World, sampled: SampledHousehold) -> SampledHousehold:
    call_record(user=caller(world), sampled=sampled, disposition="self")
    return SampledHousehold.objects.select_related("household", "spot_check__unit").get(pk=sampled.pk)


def answered_task(world: World, check: SpotCheck) -> RectificationTask:
    """The check published with one discrepancy, a household the county paid denying it: the county's task."""
    sampled = reached(world, paid_by(check, world.county))
    answers_save(
        user=caller(world), sampled=sampled, data=AnswersInput(received=False), version=sampled.version
    )
    (task,) = rectification.spot_check_publish(
        user=world.users["city_reviewer"], spot_check=check, deadline=DEADLINE
    )
    assert task.unit == world.county
    return task


def finding_of(world: World) -> Finding:
    self_check = SelfCheck.objects.create(
        campaign=world.campaign,
        unit=world.county,
        run_by=world.users["county_reporter"],
        summary={"evidence": 1, "thresholds": {}},
    )
    return Finding.objects.create(
        self_check=self_check, code="evidence", unit=world.county, message="发放记录没有凭证"
    )


@pytest.fixture
def helped(world: World) -> dict[str, Any]:
    return build_helped(world)


@pytest.fixture
def check(world: World, helped: Any, frozen_now: dt.datetime) -> SpotCheck:
    return drawn_with_a_household_paid_by(world, world.county)


def _state() -> tuple[Any, ...]:
    """What a refused request must leave as it was."""
    return (
        SpotCheck.objects.count(),
        list(SpotCheck.objects.order_by("pk").values_list("state", flat=True)),
        CallAttempt.objects.count(),
        list(SampledHousehold.objects.order_by("pk").values_list("in_sample", "version", "verdict")),
        list(RectificationTask.objects.order_by("pk").values_list("state", "answer")),
        SelfCheck.objects.count(),
        list(Finding.objects.order_by("pk").values_list("state", "answer")),
        CheckEvent.objects.count(),
    )


def test_the_matrix_covers_every_endpoint() -> None:
    assert set(MATRIX) == set(ENDPOINTS)


@pytest.mark.parametrize(("endpoint", "role", "expected"), CASES)
def test_permission(world: World, check: SpotCheck, endpoint: str, role: str, expected: int) -> None:
    method, path, body = ENDPOINTS[endpoint]
    names: dict[str, int] = {
        "campaign_id": world.campaign.pk,
        "check_id": check.pk,
        "unit_id": world.county.pk,
    }
    first = in_sample(check, world.county)[0]
    if endpoint in ("call", "answers"):
        names["sampled_id"] = first.pk
    if endpoint == "answers":
        body = {**(body or {}), "version": reached(world, first).version}
    if endpoint == "replacement":
        call_record(user=caller(world), sampled=first, disposition="invalid")
        names["sampled_id"] = first.pk
    if endpoint.startswith("task"):
        task = answered_task(world, check)
        names["task_id"] = task.pk
        if endpoint in ("task-accept", "task-return"):
            rectification.task_answer(
                user=world.users["county_reporter"], task=task, answer="已补发", evidence=None
            )
    if endpoint in ("self-check-latest", "finding-answer"):
        names["finding_id"] = finding_of(world).pk
    url = path.format(**names)
    before = _state()

    response = send(client_of(world, role), method, url, body)

    assert response.status_code == expected, data_of(response)
    data = data_of(response)
    if expected != 200:
        assert data["message"] and _state() == before
        return
    operation = spec()["paths"][path][method.lower()]
    answer_schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema_problems(spec(), answer_schema, data) == []
    if endpoint == "checks":
        assert len(data["results"]) == (1 if role in ("caller", "city_reviewer") else 0)
    elif endpoint == "plan":
        assert data["frame_size"] >= 1 and data["taken"] == sum(s["taken"] for s in data["strata"])
    elif endpoint == "draw":
        assert data["seed"] == "20180125" and data["state"] == "calling"
    elif endpoint == "check":
        assert data["id"] == check.pk and data["overall"]["sampled"] == 5
    elif endpoint == "sheet":
        assert len(data["results"]) == 5
    elif endpoint == "call":
        assert [a["disposition"] for a in data["attempts"]] == ["no-answer"]
    elif endpoint == "answers":
        assert data["verdict"] == "confirmed" and data["version"] == body["version"] + 1  # type: ignore[index]
    elif endpoint == "replacement":
        assert data["replaces"] == first.pk and data["in_sample"] is True
    elif endpoint == "publish":
        assert data["state"] == "published" and data["tasks"] == {
            "open": 0,
            "answered": 0,
            "accepted": 0,
            "returned": 0,
        }
    elif endpoint == "tasks":
        seen = {"caller": 1, "city_reviewer": 1, "county_reviewer": 1, "county_reporter": 1}
        assert len(data["results"]) == seen.get(role, 0)
    elif endpoint == "task-answer":
        assert data["state"] == "answered" and data["answer"] == "已补发，签收表已存档"
    elif endpoint == "task-accept":
        assert data["state"] == "accepted"
    elif endpoint == "task-return":
        assert data["state"] == "returned" and data["return_reason"] == "请附银行流水"
    elif endpoint == "self-check-run":
        assert data["unit"]["id"] == world.county.pk and data["total"] == len(data["findings"])
    elif endpoint == "self-check-latest":
        assert [f["code"] for f in data["findings"]] == ["evidence"] and data["open"] == 1
    elif endpoint == "finding-answer":
        assert data["state"] == "explained" and data["answer"] == "签收表已补传"


# --- refusals ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", ["12ab", "1234567890123456789", "-5", "1.5"])
def test_a_bad_seed_is_a_400_naming_it(world: World, helped: Any, seed: str) -> None:
    url = f"/api/campaigns/{world.campaign.pk}/checks"
    response = send(world.client("city_reviewer"), "POST", url, {**DRAW, "seed": seed})
    assert response.status_code == 400
    message = data_of(response)["message"]
    assert "seed" in message and "随机种子" in message and seed in message
    assert not SpotCheck.objects.exists()


def test_a_full_width_seed_draws_the_same_sample_as_the_page(world: World, helped: Any) -> None:
    url = f"/api/campaigns/{world.campaign.pk}/checks"
    response = send(world.client("city_reviewer"), "POST", url, {**DRAW, "seed": " ２０１８０１２５ "})
    assert response.status_code == 200, data_of(response)
    drawn = SpotCheck.objects.get(pk=data_of(response)["id"])
    again = spot_check_draw(user=world.users["city_reviewer"], request=request(world))
    households = [
        sorted(SampledHousehold.objects.filter(spot_check=c).values_list("household_id", "in_sample"))
        for c in (drawn, again)
    ]
    assert drawn.seed == 20180125 and households[0] == households[1]


def test_a_plan_that_cannot_be_drawn_is_a_400_naming_the_field(world: World, helped: Any) -> None:
    url = f"/api/campaigns/{world.campaign.pk}/checks/plan"
    client = world.client("city_reviewer")
    response = send(client, "POST", url, {"allocation": "proportional"})
    assert response.status_code == 400
    assert data_of(response) == {"message": "请填写抽取总户数", "field": "total"}
    response = send(client, "POST", url, {"allocation": "margin", "margin": "1.5", "confidence": 0.95})
    assert response.status_code == 400 and "margin" in data_of(response)["message"]
    response = send(client, "POST", url, {"allocation": "margin", "margin": 0.05, "confidence": 1e308})
    assert response.status_code == 400 and "confidence" in data_of(response)["message"]
    response = send(client, "POST", url, {"allocation": "margin", "margin": 0.05, "confidence": "0.95"})
    assert response.status_code == 200 and data_of(response)["frame_size"] == 14
    assert not SpotCheck.objects.exists()  # the calculator writes nothing


def test_an_empty_frame_is_a_400(world: World) -> None:
    response = send(world.client("city_reviewer"), "POST", f"/api/campaigns/{world.campaign.pk}/checks", DRAW)
    assert response.status_code == 400 and "抽样框为空" in data_of(response)["message"]


def test_a_fourth_call_is_a_409(world: World, check: SpotCheck) -> None:
    sampled = in_sample(check, world.county)[0]
    client = client_of(world, "caller")
    url = f"/api/checks/sampled/{sampled.pk}/calls"
    for number in range(1, 4):
        response = send(client, "POST", url, {"disposition": "no-answer"})
        assert response.status_code == 200 and len(data_of(response)["attempts"]) == number
    assert data_of(response)["verdict"] == "not-reached" and data_of(response)["replaceable"] is True
    response = send(client, "POST", url, {"disposition": "self"})
    assert response.status_code == 409 and "3次" in data_of(response)["message"]
    assert CallAttempt.objects.filter(sampled=sampled).count() == 3
    response = send(client, "POST", url, {"disposition": "maybe"})
    assert response.status_code == 400 and "disposition" in data_of(response)["message"]


def test_answers_at_a_stale_version_are_a_409_and_nothing_is_overwritten(
    world: World, check: SpotCheck
) -> None:
    sampled = reached(world, in_sample(check, world.county)[0])
    client = client_of(world, "caller")
    url = f"/api/checks/sampled/{sampled.pk}/answers"
    first = send(client, "PUT", url, {"version": sampled.version, "received": True, "amount": "800"})
    assert first.status_code == 200 and data_of(first)["amount"] == "800.00"
    stale = send(client, "PUT", url, {"version": sampled.version, "received": False})
    assert stale.status_code == 409 and "已被其他核查员修改" in data_of(stale)["message"]
    sampled.refresh_from_db()
    assert sampled.received is True and sampled.version == data_of(first)["version"]


def test_answers_before_anyone_answered_the_phone_are_a_409(world: World, check: SpotCheck) -> None:
    sampled = in_sample(check, world.county)[0]
    url = f"/api/checks/sampled/{sampled.pk}/answers"
    response = send(client_of(world, "caller"), "PUT", url, {"version": sampled.version, "received": True})
    assert response.status_code == 409 and "接通" in data_of(response)["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": "-1"}, "amount"),
        ({"amount": "1.005"}, "amount"),
        ({"amount": "1e40"}, "amount"),
        ({"amount": 1.7976931348623157e308}, "amount"),
        ({"amount": "NaN"}, "amount"),
        ({"how": "gold"}, "how"),
        ({"satisfaction": "happy"}, "satisfaction"),
        ({"received": "yes"}, "received"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_answers_are_a_400_naming_the_field(
    world: World, check: SpotCheck, body: dict[str, Any], field: str
) -> None:
    sampled = reached(world, in_sample(check, world.county)[0])
    url = f"/api/checks/sampled/{sampled.pk}/answers"
    response = send(client_of(world, "caller"), "PUT", url, {"version": sampled.version, **body})
    assert response.status_code == 400 and field in data_of(response)["message"]
    sampled.refresh_from_db()
    assert not sampled.interviewed


def test_a_household_of_the_reserve_is_not_in_the_sample(world: World, check: SpotCheck) -> None:
    reserve = SampledHousehold.objects.filter(spot_check=check, in_sample=False).first()
    assert reserve is not None
    client = client_of(world, "caller")
    for method, action, body in (
        ("POST", "calls", {"disposition": "self"}),
        ("PUT", "answers", {"version": reserve.version, "received": True}),
        ("POST", "replacement", {}),
    ):
        response = send(client, method, f"/api/checks/sampled/{reserve.pk}/{action}", body)
        assert response.status_code == 409, action
    assert (
        "不在样本中"
        in data_of(send(client, "POST", f"/api/checks/sampled/{reserve.pk}/calls", {"disposition": "self"}))[
            "message"
        ]
    )
    assert not CallAttempt.objects.filter(sampled=reserve).exists()


def test_a_household_that_answered_is_not_replaced(world: World, check: SpotCheck) -> None:
    sampled = reached(world, in_sample(check, world.county)[0])
    response = send(client_of(world, "caller"), "POST", f"/api/checks/sampled/{sampled.pk}/replacement", {})
    assert response.status_code == 409
    assert SampledHousehold.objects.filter(spot_check=check, in_sample=True).count() == 5


def test_a_published_check_takes_no_calls_and_is_not_published_again(world: World, check: SpotCheck) -> None:
    client = client_of(world, "caller")
    url = f"/api/checks/{check.pk}/publish"
    assert send(client, "POST", url, {"deadline": DEADLINE.isoformat()}).status_code == 200
    again = send(client, "POST", url, {"deadline": DEADLINE.isoformat()})
    assert again.status_code == 409 and "已经通报" in data_of(again)["message"]
    sampled = in_sample(check, world.county)[0]
    call = send(client, "POST", f"/api/checks/sampled/{sampled.pk}/calls", {"disposition": "self"})
    assert call.status_code == 409 and "已通报" in data_of(call)["message"]


def test_a_past_deadline_is_a_400(world: World, check: SpotCheck) -> None:
    url = f"/api/checks/{check.pk}/publish"
    past = (FROZEN_TODAY - dt.timedelta(days=1)).isoformat()
    response = send(client_of(world, "caller"), "POST", url, {"deadline": past})
    assert response.status_code == 400 and data_of(response)["field"] == "deadline"
    response = send(client_of(world, "caller"), "POST", url, {"deadline": "15/03/2018"})
    assert response.status_code == 400 and "deadline" in data_of(response)["message"]
    check.refresh_from_db()
    assert check.state == SpotCheck.State.CALLING


def test_task_refusals(world: World, check: SpotCheck) -> None:
    task = answered_task(world, check)
    reporter, reviewer = world.client("county_reporter"), world.client("city_reviewer")
    url = f"/api/checks/tasks/{task.pk}"
    blank = send(reporter, "POST", f"{url}/answer", {"answer": "   "})
    assert blank.status_code == 400 and data_of(blank)["field"] == "answer"
    assert send(reviewer, "POST", f"{url}/accept").status_code == 409  # nothing answered yet
    assert send(reporter, "POST", f"{url}/answer", {"answer": "已补发"}).status_code == 200
    assert send(reporter, "POST", f"{url}/answer", {"answer": "再答"}).status_code == 409
    no_reason = send(reviewer, "POST", f"{url}/return", {"reason": ""})
    assert no_reason.status_code == 400 and data_of(no_reason)["field"] == "reason"
    assert send(reviewer, "POST", f"{url}/accept").status_code == 200
    assert send(reviewer, "POST", f"{url}/return", {"reason": "迟了"}).status_code == 409


def test_whoever_answered_a_task_may_not_decide_it(world: World, check: SpotCheck) -> None:
    task = answered_task(world, check)
    admin = client_of(world, "caller")
    task.unit = world.city  # the city's own task: its admin answers, its admin may not accept
    task.save(update_fields=["unit"])
    assert send(admin, "POST", f"/api/checks/tasks/{task.pk}/answer", {"answer": "已核实"}).status_code == 200
    response = send(admin, "POST", f"/api/checks/tasks/{task.pk}/accept")
    assert response.status_code == 403 and "自己" in data_of(response)["message"]
    assert RectificationTask.objects.get(pk=task.pk).state == RectificationTask.State.ANSWERED


def test_finding_refusals(world: World) -> None:
    finding = finding_of(world)
    url = f"/api/checks/findings/{finding.pk}/answer"
    client = world.client("county_reporter")
    response = send(client, "POST", url, {"state": "open", "answer": "已改"})
    assert response.status_code == 400 and "已纠正" in data_of(response)["message"]
    response = send(client, "POST", url, {"state": "corrected", "answer": " "})
    assert response.status_code == 400
    assert Finding.objects.get(pk=finding.pk).state == Finding.State.OPEN


def test_no_self_check_yet_is_a_404(world: World) -> None:
    url = f"/api/campaigns/{world.campaign.pk}/units/{world.county.pk}/self-checks/latest"
    response = world.client("county_reporter").get(url)
    assert response.status_code == 404 and "还没有自查" in data_of(response)["message"]


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "/api/campaigns/999999/checks"),
        ("GET", "/api/checks/999999"),
        ("GET", "/api/checks/0"),
        ("GET", "/api/checks/abc"),
        ("GET", "/api/checks/999999/sheet"),
        ("POST", "/api/checks/sampled/999999/calls"),
        ("PUT", "/api/checks/sampled/999999/answers"),
        ("POST", "/api/checks/sampled/999999/replacement"),
        ("POST", "/api/checks/999999/publish"),
        ("POST", "/api/checks/tasks/999999/answer"),
        ("POST", "/api/checks/tasks/999999/accept"),
        ("POST", "/api/checks/tasks/999999/return"),
        ("POST", "/api/checks/findings/999999/answer"),
        ("GET", "/api/campaigns/{campaign}/units/999999/self-checks/latest"),
        ("POST", "/api/campaigns/{campaign}/units/999999/self-checks"),
    ],
)
def test_unknown_ids_are_a_404(world: World, method: str, url: str) -> None:
    bodies = {
        "calls": {"disposition": "self"},
        "answers": {"version": 0},
        "publish": {"deadline": "2030-01-01"},
        "return": {"reason": "x"},
        "answer": {"answer": "x", "state": "explained"},
    }
    body = next((b for end, b in bodies.items() if url.endswith(end)), {})
    if url.endswith("tasks/999999/answer"):
        body = {"answer": "x"}
    target = url.format(campaign=world.campaign.pk)
    response = send(client_of(world, "caller"), method, target, body if method != "GET" else None)
    assert response.status_code == 404 and data_of(response)["message"]


# --- what the answers say ----------------------------------------------------------------------------------


def test_results_have_no_rate_before_anyone_is_called(world: World, check: SpotCheck) -> None:
    data = data_of(client_of(world, "caller").get(f"/api/checks/{check.pk}"))
    overall = data["overall"]
    assert (overall["contact_rate"], overall["confirmed_rate"], overall["interval"]) == (None, None, None)
    assert overall["verdicts"] == {
        v: 0 for v in ("confirmed", "amount-differs", "denies", "cash", "not-reached")
    }
    assert [line["unit"]["id"] for line in data["strata"]] == [world.county.pk, world.sibling.pk]
    assert data["tasks"] is None and data["permissions"] == {"call": True, "run": True}


def test_results_give_rates_as_text(world: World, check: SpotCheck) -> None:
    user = caller(world)
    first, second = in_sample(check, world.county)[:2]
    first = reached(world, first)
    answers_save(
        user=user, sampled=first, data=AnswersInput(received=True, how="card"), version=first.version
    )
    call_record(user=user, sampled=second, disposition="no-answer")
    data = data_of(client_of(world, "city_reviewer").get(f"/api/checks/{check.pk}"))
    county = data["strata"][0]
    assert (county["attempted"], county["contacted"], county["interviewed"]) == (2, 1, 1)
    assert (county["contact_rate"], county["confirmed_rate"]) == ("0.5000", "1.0000")
    assert county["interval"]["upper"] == "1.0000" and Decimal(county["interval"]["lower"]) < 1
    assert data["strata"][1]["confirmed_rate"] is None and data["permissions"] == {"call": False, "run": True}


def test_the_sheet_gives_full_phones_and_is_logged(world: World, check: SpotCheck) -> None:
    sampled = in_sample(check, world.county)[0]
    type(sampled.household).objects.filter(pk=sampled.household_id).update(phone="13800001111")
    response = client_of(world, "caller").get(f"/api/checks/{check.pk}/sheet")
    assert response.status_code == 200 and "no-cache" in response["Cache-Control"]
    line = next(line for line in data_of(response)["results"] if line["id"] == sampled.pk)
    assert line["phone"] == "13800001111" and "*" in line["masked_id"]
    assert line["payments"] and line["payments"][0]["amount"] == "800.00"
    event = CheckEvent.objects.get(spot_check=check, action=CheckEvent.Action.SHEETS_VIEWED)
    assert event.user == world.users["city_admin"] and event.note == "核查表接口"
    # the results and the calls show no phone and no ID number
    assert "13800001111" not in client_of(world, "caller").get(f"/api/checks/{check.pk}").content.decode()


def test_the_anonymous_and_a_write_without_csrf_are_refused(world: World, check: SpotCheck) -> None:
    sampled = in_sample(check, world.county)[0]
    url = f"/api/checks/sampled/{sampled.pk}/calls"
    assert send(Client(), "POST", url, {"disposition": "self"}).status_code == 401
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(caller(world))
    response = send(strict, "POST", url, {"disposition": "self"})
    assert response.status_code == 403 and "CSRF" in data_of(response)["message"]
    assert not CallAttempt.objects.exists()


def test_the_openapi_document_has_the_checks_paths() -> None:
    paths = spec()["paths"]
    for method, path, _body in ENDPOINTS.values():
        assert method.lower() in paths[path], f"{method} {path}"


def test_every_checks_path_refuses_other_methods_naming_its_own(world: World) -> None:
    """As test_openapi asks of every path: a method a path does not take is a JSON 405 whose Allow header
    names exactly the methods the document gives it."""
    paths = {path for _method, path, _body in ENDPOINTS.values()}
    client = client_of(world, "caller")
    for path in paths:
        url = re.sub(r"\{\w+\}", "1", path)
        response = client.generic("TRACE", url)
        assert response.status_code == 405, url
        allowed = {method.strip().lower() for method in response["Allow"].split(",")}
        assert allowed == set(spec()["paths"][path]) & {"get", "put", "post", "delete", "patch"}, url
