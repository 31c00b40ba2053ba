"""The JSON API end to end: each endpoint's happy path, exact money, blank as null, every kind of refusal."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from songnuan.campaigns.models import Campaign
from songnuan.campaigns.selectors import campaigns_visible_to, unit_takes_part
from songnuan.formkit.definitions import get_form
from songnuan.orgs.permissions import units_visible_to
from songnuan.reporting.models import Submission, SubmissionEvent
from songnuan.reporting.services import stored_values

from ..filemakers import filled_example
from ..world import World
from .helpers import (
    WARMTH,
    data_of,
    find_floats,
    form_url,
    make_submission,
    rollup_url,
    schema_problems,
    send,
)


def example_body(code: str = WARMTH) -> dict[str, Any]:
    """The valid example as a client sends it: counts as integers, money as strings."""
    values, header = filled_example(code)
    return {
        "values": {c: str(v) if isinstance(v, Decimal) else v for c, v in values.items()},
        "header": {"reporter": header["reporter"], "phone": header["phone"], "report_date": header["date"]},
    }


def documented(client: Client, schema: str, data: Any) -> list[str]:
    spec = data_of(client.get("/api/openapi.json"))
    return schema_problems(spec, {"$ref": f"#/components/schemas/{schema}"}, data)


# --- reads -----------------------------------------------------------------------------------------------


def test_index_links_to_every_part(world: World) -> None:
    client = Client()
    data = data_of(client.get("/api/"))
    assert data["links"] == {
        "me": "/api/me",
        "campaigns": "/api/campaigns",
        "households": "/api/households",
        "openapi": "/api/openapi.json",
        "docs": "/api/docs/",
    }
    spec = data_of(client.get(data["links"]["openapi"]))
    assert (spec["openapi"], spec["info"]["title"]) == ("3.1.0", "送温暖 数据接口")
    assert {"/api/me", "/api/campaigns", "/api/households"} <= spec["paths"].keys()


def test_me_gives_user_unit_role_and_sets_the_csrf_cookie(world: World) -> None:
    client = world.client("county_reviewer")
    response = client.get("/api/me")
    data = data_of(response)
    assert response.status_code == 200
    assert data["user"]["username"] == "county_reviewer"
    assert data["unit"]["id"] == world.county.pk and data["unit"]["name"] == "东宝区总工会"
    assert (data["role"], data["role_label"]) == ("reviewer", "审核员")
    assert "csrftoken" in response.cookies and data["csrf_token"]
    assert documented(client, "Me", data) == []


def test_campaigns_lists_the_campaigns_of_the_users_part_of_the_tree(world: World) -> None:
    other = Campaign.objects.create(
        title="钟祥市送温暖",
        document_number="钟工发〔2017〕3号",
        owner=world.sibling,
        period_start=dt.date(2018, 1, 1),
        period_end=dt.date(2018, 2, 15),
        deadline=dt.date(2018, 2, 1),
        form_codes=[WARMTH],
    )
    other.addressees.set([world.sibling])

    def ids(username: str) -> set[int]:
        return {c["id"] for c in data_of(world.client(username).get("/api/campaigns"))["campaigns"]}

    both = {world.campaign.pk, other.pk}
    assert ids("city_reviewer") == both  # the sibling county is below the city
    assert ids("sibling_reporter") == both  # owner of the second; the first is owned by the city above it
    assert ids("county_reporter") == {world.campaign.pk}
    assert ids("enterprise_reporter") == {world.campaign.pk}  # the owner (city) is above the enterprise
    refused = world.client("county_reviewer").get(f"/api/campaigns/{other.pk}")
    assert refused.status_code == 403 and data_of(refused)["message"] == "您无权查看这个活动"
    form = world.client("county_reporter").get(form_url(other, world.county))
    assert form.status_code == 403


def test_campaign_detail_gives_the_notice_and_its_forms(world: World) -> None:
    client = world.client("enterprise_reporter")
    data = data_of(client.get(f"/api/campaigns/{world.campaign.pk}"))
    assert data["document_number"] == "荆工办发电〔2017〕18号"
    assert data["deadline"] == "2018-02-05"
    assert data["form_codes"] == ["warmth-2018", "service-centres-2017"]
    assert [f["attachment"] for f in data["forms"]] == ["附件1", "附件2"]
    assert [a["name"] for a in data["addressees"]] == ["东宝区总工会", "钟祥市总工会"]
    assert documented(client, "Campaign", data) == []
    missing = client.get("/api/campaigns/999999")
    assert missing.status_code == 404 and data_of(missing) == {"message": "没有这个活动"}


def test_units_lists_the_visible_units_with_each_forms_status(world: World) -> None:
    make_submission(world, world.enterprise, Submission.Status.SUBMITTED)
    url = f"/api/campaigns/{world.campaign.pk}/units"
    client = world.client("county_reviewer")
    data = data_of(client.get(url))
    assert [u["id"] for u in data["units"]] == [world.county.pk, world.enterprise.pk]
    enterprise = data["units"][1]
    assert enterprise["forms"]["warmth-2018"]["status"] == "submitted"
    assert enterprise["forms"]["service-centres-2017"] == {
        "status": "not-started",
        "status_label": "未开始",
        "version": None,
        "submitted_at": None,
        "late": False,
    }
    assert enterprise["state"] == "not-started"  # the least advanced of its forms
    assert enterprise["permissions"] == {"fill": False, "review": True}
    assert data["units"][0]["permissions"] == {"fill": False, "review": False}  # its own unit: neither
    assert documented(client, "UnitList", data) == []

    def unit_ids(username: str) -> list[int]:
        return [u["id"] for u in data_of(world.client(username).get(url))["units"]]

    assert unit_ids("county_reporter") == [world.county.pk]
    assert unit_ids("enterprise_reporter") == [world.enterprise.pk]
    assert unit_ids("city_admin") == [world.city.pk, world.county.pk, world.enterprise.pk, world.sibling.pk]


def test_a_table_not_started_is_all_blank_at_version_1(world: World) -> None:
    client = world.client("county_reporter")
    data = data_of(client.get(form_url(world.campaign, world.county)))
    assert data["status"] == "not-started" and data["version"] == 1 and data["editable"] is True
    assert set(data["values"]) == set(get_form(WARMTH).codes)
    assert all(value is None for value in data["values"].values())  # blank is null, never 0
    assert data["errors"] == [] and data["warnings"] == []
    assert data["header"] == {"reporter": "", "phone": "", "report_date": None}
    assert data["permissions"] == {"fill": True, "review": False}
    assert not Submission.objects.exists()  # reading creates nothing
    assert documented(client, "Table", data) == []


def test_a_table_shows_values_errors_and_warnings(world: World) -> None:
    values, _header = filled_example(WARMTH)
    values.update({"1B": 60, "3A": Decimal("66.92"), "5A": None})
    make_submission(world, world.county, values=values)
    data = data_of(world.client("city_reviewer").get(form_url(world.campaign, world.county)))
    assert data["values"]["1A"] == 48 and data["values"]["1B"] == 60
    assert data["values"]["3A"] == "66.92" and data["values"]["3B"] == "15"
    assert data["values"]["5A"] is None
    [error] = data["errors"]
    assert error == {
        "rule": "warmth-2018.1B.of-which",
        "severity": "error",
        "items": ["1B", "1A"],
        "message": "1B是1A的“其中”项，不能大于1A（1B = 60，1A = 48，相差 12）",
        "expected": 48,
        "actual": 60,
        "difference": 12,
    }
    [warning] = data["warnings"]
    assert warning["rule"] == "warmth-2018.3A.sum.rounding"
    assert (warning["expected"], warning["actual"], warning["difference"]) == ("66.91", "66.92", "0.01")
    assert find_floats(data) == []
    assert data["permissions"] == {"fill": False, "review": True}


def test_rollup_sums_accepted_tables_exactly_and_keeps_blank_null(world: World) -> None:
    make_submission(world, world.county, Submission.Status.ACCEPTED, {"3B": Decimal("0.1"), "1A": 2})
    make_submission(world, world.enterprise, Submission.Status.ACCEPTED, {"3B": Decimal("0.2"), "1A": 3})
    make_submission(world, world.sibling, Submission.Status.ACCEPTED, {"3B": Decimal("5"), "1A": 100})
    make_submission(world, world.city, Submission.Status.SUBMITTED, {"3B": Decimal("7")})  # not accepted
    client = world.client("county_reviewer")
    response = client.get(rollup_url(world.campaign, world.county))
    data = data_of(response)
    assert data["values"]["3B"] == "0.3"  # 0.1 + 0.2 in floats would be 0.30000000000000004
    assert data["values"]["1A"] == 5
    assert data["values"]["3A"] is None  # no accepted table filled it: blank, not 0
    assert data["accepted_units"] == 2
    assert b'"3B": "0.3"' in response.content
    assert documented(client, "Rollup", data) == []
    city = data_of(world.client("city_admin").get(rollup_url(world.campaign, world.city)))
    assert (city["values"]["3B"], city["values"]["1A"], city["accepted_units"]) == ("5.3", 105, 3)


def test_a_reporter_gets_no_rollup_even_of_its_own_unit(world: World) -> None:
    """The roll-up names and sums the units below: the county's reporter would see the enterprise's table."""
    make_submission(world, world.enterprise, Submission.Status.ACCEPTED, {"1A": 3})
    for username, unit in (("county_reporter", world.county), ("enterprise_reporter", world.enterprise)):
        response = world.client(username).get(rollup_url(world.campaign, unit))
        assert response.status_code == 403, username
        assert data_of(response) == {"message": "汇总只有本单位或上级单位的审核员、管理员可以查看"}
    assert (
        data_of(world.client("county_reviewer").get(rollup_url(world.campaign, world.county)))["values"]["1A"]
        == 3
    )


def test_an_unknown_form_unit_or_url_is_a_json_404(world: World) -> None:
    client = world.client("city_admin")
    response = client.get(form_url(world.campaign, world.county, "no-such-form"))
    assert response.status_code == 404 and data_of(response)["message"] == "本次活动没有这张表：no-such-form"
    world.campaign.form_codes = ["service-centres-2017"]
    world.campaign.save()
    assert client.get(form_url(world.campaign, world.county, WARMTH)).status_code == 404
    assert client.get(rollup_url(world.campaign, world.county, WARMTH)).status_code == 404
    url = f"/api/campaigns/{world.campaign.pk}/units/999999/forms/service-centres-2017"
    assert data_of(client.get(url)) == {"message": "没有这个单位"}
    unknown = client.get("/api/no/such/thing")
    assert unknown.status_code == 404 and data_of(unknown)["docs"] == "/api/docs/"


def test_a_wrong_method_is_a_json_405(world: World) -> None:
    response = world.client("county_reporter").delete(form_url(world.campaign, world.county))
    assert response.status_code == 405 and response["Allow"] == "GET, PUT"
    assert data_of(response)["allowed"] == ["GET", "PUT"]


# --- writes ----------------------------------------------------------------------------------------------


def test_save_stores_typed_values_and_answers_the_new_table(world: World) -> None:
    client = world.client("county_reporter")
    body = {
        "version": 1,
        **example_body(),
        "explanations": {"warmth-2018.3A.sum.rounding": "  分项按元四舍五入  "},
    }
    response = send(client, "PUT", form_url(world.campaign, world.county), body)
    data = data_of(response)
    assert response.status_code == 200, data
    assert data["status"] == "draft" and data["version"] == 2
    assert data["values"]["3A"] == "66.91" and data["values"]["3B"] == "15" and data["values"]["1A"] == 48
    assert data["header"] == {"reporter": "王丽", "phone": "0724-2345678", "report_date": "2018-02-03"}
    assert data["explanations"] == {"warmth-2018.3A.sum.rounding": "分项按元四舍五入"}
    assert data["errors"] == []
    submission = Submission.objects.get()
    assert stored_values(submission)["3A"] == Decimal("66.91")
    assert submission.updated_by == world.users["county_reporter"]
    assert documented(client, "Table", data) == []


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        ('"0.3"', "0.3"),
        ("0.3", "0.3"),  # a JSON number is read as its exact text, never through a float
        ('"0.30"', "0.3"),
        ('"100.00"', "100"),  # never "1E+2"
        ("12.3456", "12.3456"),
        ('"0"', "0"),
        ('"１２.５"', "12.5"),  # typed as people type: full-width digits
        ("null", None),
    ],
)
def test_money_is_exact_text_in_and_out(world: World, sent: str, shown: str | None) -> None:
    client = world.client("county_reporter")
    url = form_url(world.campaign, world.county)
    response = send(client, "PUT", url, '{"version": 1, "values": {"3B": ' + sent + "}}")
    assert response.status_code == 200, response.content
    assert data_of(response)["values"]["3B"] == shown
    again = data_of(client.get(url))
    assert again["values"]["3B"] == shown
    assert find_floats(again) == []


def test_blank_is_null_and_clears_a_value(world: World) -> None:
    client = world.client("county_reporter")
    url = form_url(world.campaign, world.county)
    send(client, "PUT", url, {"version": 1, "values": {"1A": 0, "5A": 3}})
    data = data_of(send(client, "PUT", url, {"version": 2, "values": {"5A": None}}))
    assert data["values"]["1A"] == 0  # 0 stays 0 …
    assert data["values"]["5A"] is None  # … and blank is null
    assert data["values"]["1B"] is None
    assert "5A" not in {row.item for row in Submission.objects.get().value_rows.all()}


def test_conflict_is_409_with_both_versions_and_nothing_overwritten(world: World) -> None:
    url = form_url(world.campaign, world.county)
    first = world.client("county_reporter")
    stale = data_of(first.get(url))["version"]
    saved = send(first, "PUT", url, {"version": stale, "values": {"3B": "0.3", "1A": 48}})
    assert saved.status_code == 200
    assert (data_of(saved)["version"], data_of(saved)["values"]["3B"]) == (stale + 1, "0.3")
    response = send(first, "PUT", url, {"version": stale, "values": {"3B": "0.4", "1A": None}})
    data = data_of(response)
    assert response.status_code == 409
    assert data["message"].startswith("保存被拒绝：county_reporter 已于")
    assert data["version"] == 2
    assert data["theirs"]["3B"] == "0.3" and data["theirs"]["1A"] == 48 and data["theirs"]["2A"] is None
    assert data["yours"] == {"3B": "0.4", "1A": None}
    values = stored_values(Submission.objects.get())
    assert values["3B"] == Decimal("0.3") and values["1A"] == 48
    assert Submission.objects.get().version == 2
    assert documented(first, "Conflict", data) == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "请求内容不是有效的 JSON"),
        (b"[1, 2]", "请求内容应为 JSON 对象"),
        (b'{"version": 1, "values": {"3B": NaN}}', "请求内容不是有效的 JSON：不接受 NaN"),
        ({"values": {"1A": 1}}, "请求中应有字段 version"),
        ({"version": "1"}, "请求中 version 应为整数"),
        ({"version": True}, "请求中 version 应为整数"),
        ({"version": 1.5}, "请求中 version 应为整数"),
        ({"version": 1, "values": [1]}, "values 应为对象：项目编号 → 数值"),
        ({"version": 1, "values": {"1A": [1]}}, "项目 1A 的值应为数字、文字或 null"),
        ({"version": 1, "values": {"99Z": 1}}, "表中没有项目 99Z"),
        (
            {"version": 1, "header": {"unit": "x"}},
            "header 中没有 unit 这个字段",
        ),
        ({"version": 1, "header": {"report_date": "2018/2/3"}}, "填报日期应为 年-月-日，如 2018-02-03"),
        ({"version": 1, "explanations": {"r": 1}}, "请求中 explanations.r 应为文字"),
        ({"version": 1, "explanations": []}, "请求中 explanations 应为对象"),
        (
            {"version": 1, "explanations": {"warmth-2018.no-such-rule": "说明"}},
            "附件1没有编号为“warmth-2018.no-such-rule”的警告（核实性审核）规则，只能为表中的警告写说明；"
            "本次没有保存任何修改",
        ),
        (  # a rule of the form, but an error (强制性审核): it must be corrected, not explained
            {"version": 1, "explanations": {"warmth-2018.3A.sum": "说明"}},
            "附件1没有编号为“warmth-2018.3A.sum”的警告（核实性审核）规则，只能为表中的警告写说明；本次没有保存任何修改",
        ),
        (  # a warning of the other table
            {"version": 1, "explanations": {"service-centres-2017.1A.staffed": "说明"}},
            "附件1没有编号为“service-centres-2017.1A.staffed”的警告（核实性审核）规则，只能为表中的警告写说明；"
            "本次没有保存任何修改",
        ),
    ],
)
def test_a_bad_save_is_400_with_a_chinese_message(world: World, body: object, message: str) -> None:
    response = send(world.client("county_reporter"), "PUT", form_url(world.campaign, world.county), body)
    assert response.status_code == 400
    assert data_of(response) == {"message": message}
    assert not Submission.objects.exists()  # a refused save leaves no empty draft behind


def test_an_explanation_for_an_unknown_rule_stores_nothing_of_the_save(world: World) -> None:
    client = world.client("county_reporter")
    url = form_url(world.campaign, world.county)
    first = send(client, "PUT", url, {"version": 1, "values": {"1A": 5}})
    assert first.status_code == 200 and data_of(first)["values"]["1A"] == 5
    body = {
        "version": 2,
        "values": {"1A": 6},
        "explanations": {"warmth-2018.4A.within-raised": "含结转", "x": "y"},
    }
    response = send(client, "PUT", url, body)
    assert response.status_code == 400
    assert data_of(response)["message"].startswith("附件1没有编号为“x”的警告（核实性审核）规则")
    submission = Submission.objects.get()
    assert (submission.version, submission.explanations, stored_values(submission)["1A"]) == (2, {}, 5)
    assert not SubmissionEvent.objects.filter(kind="explanation").exists()


def test_the_whole_workflow_through_the_api(world: World) -> None:
    url = form_url(world.campaign, world.county)
    reporter, reviewer = world.client("county_reporter"), world.client("city_reviewer")
    assert data_of(send(reporter, "PUT", url, {"version": 1, **example_body()}))["version"] == 2

    submitted = data_of(send(reporter, "POST", url + "/submit"))
    assert submitted["status"] == "submitted" and submitted["editable"] is False
    assert submitted["submitted_at"] is not None and submitted["late"] is True  # the deadline was 2018

    refused = send(reporter, "PUT", url, {"version": submitted["version"], "values": {"1A": 1}})
    assert refused.status_code == 409 and data_of(refused)["message"] == "这张表已报送，不能修改"

    returned = data_of(send(reviewer, "POST", url + "/return", {"comment": "请核对3A"}))
    assert returned["status"] == "returned" and returned["review_comment"] == "请核对3A"
    assert returned["permissions"] == {"fill": False, "review": True}

    version = data_of(reporter.get(url))["version"]
    send(reporter, "PUT", url, {"version": version, "values": {"1A": 49}})
    assert data_of(send(reporter, "POST", url + "/submit"))["status"] == "submitted"

    accepted = data_of(send(reviewer, "POST", url + "/accept"))
    assert accepted["status"] == "accepted" and accepted["values"]["1A"] == 49
    rollup = data_of(reviewer.get(rollup_url(world.campaign, world.city)))
    assert rollup["values"]["1A"] == 49 and rollup["values"]["3A"] == "66.91"

    unlocked = data_of(send(reviewer, "POST", url + "/unlock", {"reason": "3B 数据有误"}))
    assert unlocked["status"] == "returned" and unlocked["review_comment"] == "解锁：3B 数据有误"
    statuses = list(
        SubmissionEvent.objects.filter(kind=SubmissionEvent.Kind.STATUS).values_list("new", flat=True)
    )
    assert statuses == ["submitted", "returned", "submitted", "accepted", "returned"]


@pytest.mark.parametrize(
    ("action", "status", "body", "code", "message"),
    [
        ("submit", "draft", None, 400, "还有 1 个错误（强制性审核），改正后才能报送："),
        ("submit", "submitted", None, 409, "这张表已报送，不能再报送"),
        ("return", "submitted", {"comment": "  "}, 400, "退回时请写明审核意见，告诉填报单位要改什么"),
        ("return", "submitted", {}, 400, "请求中应有字段 comment"),
        ("return", "accepted", {"comment": "改"}, 409, "只能退回已报送的表，这张表审核通过"),
        ("accept", "draft", None, 409, "只能审核通过已报送的表，这张表草稿"),
        ("accept", "submitted", None, 400, "这张表还有错误，不能审核通过"),
        ("unlock", "accepted", {"reason": ""}, 400, "解锁须写明原因"),
        ("unlock", "returned", {"reason": "x"}, 409, "只有审核通过的表才需要解锁"),
        ("accept", None, None, 409, "这张表还没有开始填报"),
    ],
)
def test_a_refused_step_answers_the_services_chinese_message_409_for_the_wrong_state(
    world: World, action: str, status: str | None, body: object, code: int, message: str
) -> None:
    """A step the table's state does not allow is a conflict (409); any other refusal a bad request (400)."""
    if status is not None:
        values, _header = filled_example(WARMTH)
        values["1B"] = 60  # 1B > 1A: an error (强制性审核)
        make_submission(world, world.county, status, values)
    user = "county_reporter" if action == "submit" else "city_reviewer"
    response = send(world.client(user), "POST", form_url(world.campaign, world.county, action=action), body)
    assert response.status_code == code
    assert data_of(response)["message"].startswith(message)


# --- authentication and CSRF -----------------------------------------------------------------------------

ENDPOINTS = [
    ("GET", "/api/me"),
    ("GET", "/api/campaigns"),
    ("GET", "/api/campaigns/{c}"),
    ("GET", "/api/campaigns/{c}/units"),
    ("GET", "/api/campaigns/{c}/units/{u}/forms/warmth-2018"),
    ("PUT", "/api/campaigns/{c}/units/{u}/forms/warmth-2018"),
    ("POST", "/api/campaigns/{c}/units/{u}/forms/warmth-2018/submit"),
    ("POST", "/api/campaigns/{c}/units/{u}/forms/warmth-2018/return"),
    ("POST", "/api/campaigns/{c}/units/{u}/forms/warmth-2018/accept"),
    ("POST", "/api/campaigns/{c}/units/{u}/forms/warmth-2018/unlock"),
    ("GET", "/api/campaigns/{c}/rollup/{u}/warmth-2018"),
]


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_anonymous_is_401_json_not_a_redirect(world: World, method: str, url: str) -> None:
    for client in (Client(), Client(enforce_csrf_checks=True)):
        response = send(client, method, url.format(c=world.campaign.pk, u=world.county.pk), {"version": 1})
        assert response.status_code == 401
        assert data_of(response) == {"message": "请先登录"}


def test_the_documentation_needs_no_login(world: World) -> None:
    anonymous = Client()
    assert data_of(anonymous.get("/api/"))["links"]["docs"] == "/api/docs/"
    assert data_of(anonymous.get("/api/openapi.json"))["info"]["title"] == "送温暖 数据接口"
    docs = anonymous.get("/api/docs/")
    assert docs.status_code == 200 and docs["Content-Type"].startswith("text/html")
    page = docs.content.decode()
    # Served from the package's own static files: nothing is fetched from the network.
    assert "/static/ninja/swagger-ui-bundle.js" in page and "/api/openapi.json" in page
    assert "http://" not in page and "https://" not in page


def csrf_client(world: World, username: str) -> tuple[Client, str]:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users[username])
    token = data_of(client.get("/api/me"))["csrf_token"]
    assert client.cookies["csrftoken"].value
    return client, token


def test_csrf_is_enforced_on_a_save(world: World) -> None:
    client, token = csrf_client(world, "county_reporter")
    url = form_url(world.campaign, world.county)
    body = {"version": 1, "values": {"1A": 5}}
    refused = send(client, "PUT", url, body)
    assert refused.status_code == 403
    assert data_of(refused)["message"].startswith("CSRF 校验失败")
    assert not Submission.objects.exists()
    wrong = send(client, "PUT", url, body, HTTP_X_CSRFTOKEN="x" * 32)
    assert wrong.status_code == 403 and not Submission.objects.exists()
    accepted = send(client, "PUT", url, body, HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 200 and data_of(accepted)["values"]["1A"] == 5


@pytest.mark.parametrize("action", ["submit", "return", "accept", "unlock"])
def test_csrf_is_enforced_on_every_workflow_step(world: World, action: str) -> None:
    status = {"submit": "draft", "return": "submitted", "accept": "submitted", "unlock": "accepted"}[action]
    submission = make_submission(world, world.county, status)
    user = "county_reporter" if action == "submit" else "city_reviewer"
    client, token = csrf_client(world, user)
    url = form_url(world.campaign, world.county, action=action)
    body = {"comment": "请核对", "reason": "更正"}
    refused = send(client, "POST", url, body)
    assert refused.status_code == 403 and data_of(refused)["message"].startswith("CSRF 校验失败")
    submission.refresh_from_db()
    assert submission.status == status
    done = send(client, "POST", url, body, HTTP_X_CSRFTOKEN=token)
    after = {"submit": "submitted", "return": "returned", "accept": "accepted", "unlock": "returned"}
    new_status = after[action]
    assert done.status_code == 200 and data_of(done)["status"] == new_status
    submission.refresh_from_db()
    assert submission.status == new_status


def test_reads_need_no_csrf_token(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["county_reporter"])
    response = client.get(form_url(world.campaign, world.county))
    assert response.status_code == 200
    data = data_of(response)
    assert (data["unit"]["id"], data["form"]["code"], data["status"], data["version"]) == (
        world.county.pk,
        WARMTH,
        "not-started",
        1,
    )


def test_a_user_without_an_account_sees_nothing(world: World) -> None:
    client = Client()
    client.force_login(User.objects.create_user(username="stranger", password="x-long-pass-phrase"))
    me = data_of(client.get("/api/me"))
    assert (me["user"]["username"], me["unit"], me["role"]) == ("stranger", None, None)
    assert data_of(client.get("/api/campaigns")) == {"campaigns": []}
    assert client.get(f"/api/campaigns/{world.campaign.pk}").status_code == 403
    assert client.get(form_url(world.campaign, world.county)).status_code == 403
    assert send(client, "PUT", form_url(world.campaign, world.county), {"version": 1}).status_code == 403


def test_units_and_tables_are_those_the_campaign_concerns(world: World) -> None:
    """As on the pages: the owner, the addressees and the units below them; any other unit is a 404."""
    only_sibling = Campaign.objects.create(
        title="钟祥市专项",
        document_number="荆工发〔2018〕1号",
        owner=world.city,
        period_start=dt.date(2018, 1, 1),
        period_end=dt.date(2018, 2, 15),
        deadline=dt.date(2018, 2, 1),
        form_codes=[WARMTH],
    )
    only_sibling.addressees.set([world.sibling])
    admin = world.client("city_admin")
    units = data_of(admin.get(f"/api/campaigns/{only_sibling.pk}/units"))["units"]
    assert [u["id"] for u in units] == [world.city.pk, world.sibling.pk]
    for unit in (world.county, world.enterprise):
        for url in (form_url(only_sibling, unit), rollup_url(only_sibling, unit)):
            response = admin.get(url)
            assert response.status_code == 404 and data_of(response) == {"message": "本次活动不涉及这个单位"}
    table = data_of(admin.get(form_url(only_sibling, world.sibling)))
    assert (table["unit"]["id"], table["unit"]["name"], table["form"]["code"]) == (
        world.sibling.pk,
        "钟祥市总工会",
        WARMTH,
    )
    # Not addressed to the county: its people do not see the campaign (as on the pages).
    assert world.client("county_reviewer").get(f"/api/campaigns/{only_sibling.pk}").status_code == 403
    own = world.client("sibling_reporter").get(form_url(only_sibling, world.sibling))
    assert own.status_code == 200 and data_of(own)["unit"]["name"] == "钟祥市总工会"


def test_the_api_lists_what_the_pages_list(api_world: World) -> None:
    world = api_world
    for username, user in world.users.items():
        client = world.client(username)
        campaigns = [c["id"] for c in data_of(client.get("/api/campaigns"))["campaigns"]]
        assert campaigns == [c.pk for c in campaigns_visible_to(user)], username
        units = data_of(client.get(f"/api/campaigns/{world.campaign.pk}/units"))["units"]
        expected = [
            u.pk for u in units_visible_to(user).order_by("path") if unit_takes_part(world.campaign, u)
        ]
        assert [u["id"] for u in units] == expected, username
