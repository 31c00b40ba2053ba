"""The entry page's live check and autosave, as the page sends them to the API: POST …/check (nothing
stored) and PUT on the table, every value typed as text; the findings come back rendered as the page shows
them (the same partials as its first render), refusals as a Chinese message."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client

from songnuan.formkit.definitions import get_form
from songnuan.orgs.models import Unit
from songnuan.reporting.models import Submission, SubmissionEvent, SubmissionValue
from songnuan.reporting.services import stored_values

from ..filemakers import filled_example
from ..world import PASSWORD, World

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

FORM = "warmth-2018"
WARNING = "warmth-2018.4A.within-raised"


def page_url(world: World, unit: Unit) -> str:
    return f"/campaigns/{world.campaign.pk}/units/{unit.pk}/forms/{FORM}/"


def table_url(world: World, unit: Unit, action: str = "") -> str:
    url = f"/api/campaigns/{world.campaign.pk}/units/{unit.pk}/forms/{FORM}"
    return f"{url}/{action}" if action else url


def check(client: Client, world: World, unit: Unit, payload: Any) -> Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload)
    return client.post(table_url(world, unit, "check"), data=body, content_type="application/json")


def save(client: Client, world: World, unit: Unit, payload: Any) -> Response:
    return client.put(table_url(world, unit), data=json.dumps(payload), content_type="application/json")


def example(**changes: str) -> dict[str, str]:
    """The valid filled example as the page sends it: every value as typed text."""
    values, _header = filled_example(FORM)
    return {code: str(value) for code, value in values.items()} | changes


def config_of(page: str) -> dict[str, Any]:
    found = re.search(r'<script id="entry-config" type="application/json">(.*?)</script>', page, re.S)
    assert found
    return json.loads(found.group(1))  # type: ignore[no-any-return]


def inner(page: str, pattern: str) -> str:
    found = re.search(pattern, page, re.S)
    assert found, pattern
    return found.group(1)


# --- the live check --------------------------------------------------------------------------------------


def test_the_page_sends_its_check_and_save_to_the_api(world: World) -> None:
    config = config_of(
        world.client("enterprise_reporter").get(page_url(world, world.enterprise)).content.decode()
    )
    assert config["checkUrl"] == table_url(world, world.enterprise, "check")
    assert config["tableUrl"] == table_url(world, world.enterprise)


def test_check_reports_findings_and_stores_nothing(world: World) -> None:
    client = world.client("enterprise_reporter")
    client.get(page_url(world, world.enterprise))
    response = check(
        client,
        world,
        world.enterprise,
        {"values": example(**{"2C": "1", "4A": "66.95", "1A": "１２", "1B": "约20"})},
    )
    assert response.status_code == 200
    data = response.json()
    rules = {finding["rule"]: finding for finding in data["errors"] + data["warnings"]}
    total = rules["warmth-2018.2C.sum"]
    assert total["severity"] == "error" and total["items"] == ["2C", "2D", "2E", "2F"]
    assert (total["expected"], total["actual"], total["difference"]) == (412, 1, -411)
    assert "应等于分项之和" in total["message"]
    raised = rules[WARNING]
    assert raised["severity"] == "warning"
    assert (raised["expected"], raised["actual"], raised["difference"]) == ("66.91", "66.95", "0.04")
    assert rules["warmth-2018.1B.number"]["items"] == ["1B"]
    assert data["values"]["1A"] == 12 and data["values"]["1B"] == "约20"
    assert not SubmissionValue.objects.exists()
    assert Submission.objects.get().version == 1


def test_check_answers_the_findings_as_the_page_shows_them(world: World) -> None:
    client = world.client("enterprise_reporter")
    client.get(page_url(world, world.enterprise))
    fragments = check(
        client, world, world.enterprise, {"values": example(**{"2C": "1", "4A": "66.95"})}
    ).json()["findings_html"]
    assert set(fragments) == {"summary", "rows", "explanations"}
    assert "错误 1 个（须改正才能报送），警告 1 个（须写说明）" in fragments["summary"]
    assert "其中 1 个警告还没有写说明" in fragments["summary"]
    rows = re.findall(r'<tr data-item="(\w+)"(?: data-state="(\w+)")?>', fragments["rows"])
    assert len(rows) == len(get_form(FORM).items)  # every row: a row without findings is cleared
    states = {code: state for code, state in rows if state}
    assert states == {
        "2C": "error",
        "2D": "error",
        "2E": "error",
        "2F": "error",
        "4A": "warning",
        "3A": "warning",
    }
    assert re.search(
        r'<tr data-item="2C" data-state="error"><td class="msgs"><div class="msg error">[^<]*应等于分项之和',
        fragments["rows"],
    )
    assert re.search(r'<tr data-item="2D" data-state="error"><td class="msgs"></td></tr>', fragments["rows"])
    assert f'data-rule="{WARNING}"' in fragments["explanations"]
    assert f'<textarea name="explain-{WARNING}"' in fragments["explanations"]
    assert 'class="explain missing"' in fragments["explanations"]


def test_check_of_a_blank_table_finds_nothing_blank_is_not_zero(world: World) -> None:
    client = world.client("enterprise_reporter")
    data = check(client, world, world.enterprise, {"values": {"3A": "", "3B": ""}}).json()
    assert (data["errors"], data["warnings"]) == ([], [])
    assert data["values"] == dict.fromkeys(get_form(FORM).codes)
    assert "还没有填写任何数据" in data["findings_html"]["summary"]  # empty, not "every rule passed"
    assert "全部审核规则通过" not in data["findings_html"]["summary"]
    assert "data-state" not in data["findings_html"]["rows"] and data["findings_html"]["explanations"] == ""
    data = check(client, world, world.enterprise, {"values": {"3B": "5"}}).json()
    assert [f["rule"] for f in data["errors"]] == ["warmth-2018.3A.sum"]  # filled part, blank total


@pytest.mark.parametrize(
    "body, message",
    [
        (b"not json", "请求内容不是有效的 JSON"),
        (b"[1, 2]", "请求内容应为 JSON 对象"),
        (b'{"values": {"99Z": "1"}}', "表中没有项目 99Z"),
        (b'{"values": {"1A": [1]}}', "项目 1A 的值应为数字、文字或 null"),
        (b'{"values": []}', "values 应为对象：项目编号 → 数值"),
    ],
)
def test_check_refuses_what_the_page_never_sends(world: World, body: bytes, message: str) -> None:
    response = check(world.client("enterprise_reporter"), world, world.enterprise, body)
    assert response.status_code == 400 and response.json() == {"message": message}


def test_a_reviewer_gets_403_from_check(world: World) -> None:
    response = check(world.client("county_reviewer"), world, world.enterprise, {"values": {"1A": "1"}})
    assert response.status_code == 403 and "无权" in response.json()["message"]


# --- autosave --------------------------------------------------------------------------------------------


def test_save_stores_values_explanations_and_header(world: World) -> None:
    client = world.client("enterprise_reporter")
    client.get(page_url(world, world.enterprise))
    response = save(
        client,
        world,
        world.enterprise,
        {
            "version": 1,
            "values": example(**{"4A": "66.95", "1B": ""}),
            "explanations": {WARNING: " 含上年结转 "},
            "header": {"reporter": "王丽", "phone": "0724-2345678", "report_date": "2018-02-03"},
        },
    )
    assert response.status_code == 200
    data = response.json()
    assert data["version"] == 2
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+08:00", data["updated_at"])
    assert data["errors"] == [] and [w["rule"] for w in data["warnings"]] == [WARNING]
    assert data["missing_explanations"] == [] and data["explanations"] == {WARNING: "含上年结转"}
    assert data["values"]["1B"] is None and data["values"]["4A"] == "66.95" and data["values"]["2A"] == 1260
    assert data["header"] == {"reporter": "王丽", "phone": "0724-2345678", "report_date": "2018-02-03"}
    # The answer's findings know the explanation just stored: nothing is left to explain.
    assert "还没有写说明" not in data["findings_html"]["summary"]
    assert "missing" not in data["findings_html"]["explanations"]
    assert ">含上年结转</textarea>" in data["findings_html"]["explanations"]
    submission = Submission.objects.get()
    values = stored_values(submission)
    assert values["4A"] == Decimal("66.95") and values["1B"] is None and values["2A"] == 1260
    assert submission.reporter == "王丽" and submission.report_date == dt.date(2018, 2, 3)
    assert submission.explanations == {WARNING: "含上年结转"}
    assert SubmissionEvent.objects.filter(kind="value").count() == len(get_form(FORM).items) - 1


def test_the_pages_first_render_and_the_apis_answer_show_the_same_findings(world: World) -> None:
    """Findings are rendered once: the page includes the partials the API's answers carry."""
    client = world.client("enterprise_reporter")
    client.get(page_url(world, world.enterprise))
    answer = save(
        client, world, world.enterprise, {"version": 1, "values": example(**{"2C": "1", "4A": "66.95"})}
    )
    fragments = answer.json()["findings_html"]
    page = client.get(page_url(world, world.enterprise)).content.decode()
    assert (
        inner(page, r'<div id="summary" class="summary" aria-live="polite">(.*?)</div>')
        == fragments["summary"]
    )
    for code in ("2C", "2D", "4A", "1A"):
        news = inner(fragments["rows"], rf'<tr data-item="{code}"([^>]*)><td class="msgs">(?:.*?)</td></tr>')
        messages = inner(fragments["rows"], rf'<tr data-item="{code}"[^>]*><td class="msgs">(.*?)</td></tr>')
        row = inner(page, rf'(<tr id="item-{code}".*?</tr>)')
        assert inner(row, r'<td class="msgs">(.*?)</td>') == messages
        assert ('data-state="' in news) == ("data-state" in row)
        if "data-state" in row:
            assert inner(row, r'data-state="(\w+)"') == inner(news, r'data-state="(\w+)"')
    assert (
        inner(page, r'<div class="explain-list">(.*?)\n    </div>\n  </section>') == fragments["explanations"]
    )


@pytest.mark.parametrize(
    "payload, message",
    [
        ({"version": 1, "header": {"report_date": "2018-13-40"}}, "填报日期"),
        ({"values": {}}, "version"),
        ({"version": 1, "values": {"99Z": "1"}}, "99Z"),
    ],
)
def test_save_answers_400_with_the_chinese_message(world: World, payload: Any, message: str) -> None:
    response = save(world.client("enterprise_reporter"), world, world.enterprise, payload)
    assert response.status_code == 400 and message in response.json()["message"]
    assert not SubmissionValue.objects.exists()


def test_save_refuses_an_explanation_for_a_rule_that_is_not_a_warning_of_the_table(world: World) -> None:
    client = world.client("enterprise_reporter")
    client.get(page_url(world, world.enterprise))  # the page opens the draft
    payload = {"version": 1, "values": {"1A": "5"}, "explanations": {"warmth-2018.9Z.bogus": "说明"}}
    response = save(client, world, world.enterprise, payload)
    assert response.status_code == 400
    assert response.json() == {
        "message": "附件1没有编号为“warmth-2018.9Z.bogus”的警告（核实性审核）规则，只能为表中的警告写说明；"
        "本次没有保存任何修改"
    }
    submission = Submission.objects.get()  # opened by the page, nothing saved into it
    assert (submission.version, submission.explanations) == (1, {})
    assert not SubmissionValue.objects.exists() and not SubmissionEvent.objects.exists()


def test_a_submitted_table_cannot_be_saved_409(world: World) -> None:
    client = world.client("enterprise_reporter")
    save(
        client,
        world,
        world.enterprise,
        {
            "version": 1,
            "values": example(),
            "header": {"reporter": "张三", "phone": "0724-1234567", "report_date": "2018-02-03"},
        },
    )
    client.post(page_url(world, world.enterprise) + "submit")
    response = save(client, world, world.enterprise, {"version": 3, "values": {"1A": "1"}})
    assert response.status_code == 409 and "已报送" in response.json()["message"]
    assert set(response.json()) == {"message"}  # no sides to choose between: the page shows the message


def test_a_reviewer_gets_403_from_save(world: World) -> None:
    save(world.client("enterprise_reporter"), world, world.enterprise, {"version": 1})
    response = save(world.client("county_reviewer"), world, world.enterprise, {"version": 2, "values": {}})
    assert response.status_code == 403 and "无权" in response.json()["message"]
    assert Submission.objects.get().version == 2


def test_two_editors_second_save_is_a_conflict_showing_both_versions(world: World) -> None:
    """Two people (or two tabs) edit the county's table from the same version: nothing is overwritten."""
    from songnuan.orgs.services import account_create

    account_create(username="county_reporter_2", password=PASSWORD, unit=world.county, role="reporter")
    first = world.client("county_reporter")
    second = Client()
    second.login(username="county_reporter_2", password=PASSWORD)
    version = config_of(first.get(page_url(world, world.county)).content.decode())["version"]
    assert config_of(second.get(page_url(world, world.county)).content.decode())["version"] == version

    assert (
        save(
            first, world, world.county, {"version": version, "values": {"1A": "48", "2A": "100"}}
        ).status_code
        == 200
    )
    response = save(second, world, world.county, {"version": version, "values": {"1A": "50"}})
    assert response.status_code == 409
    data = response.json()
    assert "county_reporter" in data["message"] and "修改了这张表" in data["message"]
    assert data["version"] == version + 1
    assert data["theirs"]["1A"] == 48 and data["theirs"]["2A"] == 100 and data["theirs"]["1B"] is None
    assert data["yours"] == {"1A": 50}
    assert data["changed"] == [{"item": "1A", "label": "走访企业", "theirs": 48, "yours": 50}]
    submission = Submission.objects.get(unit=world.county)
    assert stored_values(submission)["1A"] == 48 and submission.version == version + 1

    # "Keep mine": saved again on top of the version the conflict named; their 2A stays.
    response = save(second, world, world.county, {"version": data["version"], "values": {"1A": "50"}})
    assert response.status_code == 200
    values = stored_values(Submission.objects.get(unit=world.county))
    assert values["1A"] == 50 and values["2A"] == 100


def test_an_expired_session_is_a_json_401_and_stores_nothing(world: World) -> None:
    client = Client()
    assert client.login(username="enterprise_reporter", password=PASSWORD)
    client.get(page_url(world, world.enterprise))
    save(client, world, world.enterprise, {"version": 1, "values": {"1A": "37"}})
    client.post("/logout/")  # the session ends (as when it expires)
    # The page keeps the edit in localStorage and offers to log in again (test_entry.py: back to the draft).
    for response in (
        save(client, world, world.enterprise, {"version": 2, "values": {"1A": "38"}}),
        check(client, world, world.enterprise, {"values": {"1A": "38"}}),
    ):
        assert response.status_code == 401 and response.json() == {"message": "请先登录"}
    assert stored_values(Submission.objects.get())["1A"] == 37


def test_writes_need_the_pages_csrf_token(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["enterprise_reporter"])
    page = client.get(page_url(world, world.enterprise)).content.decode()
    token = inner(page, r'name="csrfmiddlewaretoken" value="([^"]+)"')
    body = json.dumps({"version": 1, "values": {"1A": "5"}})
    refused = client.put(table_url(world, world.enterprise), data=body, content_type="application/json")
    assert refused.status_code == 403 and "CSRF" in refused.json()["message"]
    response = client.put(
        table_url(world, world.enterprise),
        data=body,
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 200 and response.json()["values"]["1A"] == 5


def test_saved_at_is_china_time(world: World, frozen_now: dt.datetime) -> None:
    data = save(
        world.client("enterprise_reporter"), world, world.enterprise, {"version": 1, "values": {"1A": "1"}}
    ).json()
    assert data["updated_at"] == "2026-12-02T00:30:00+08:00"  # 16:30 UTC, already the next day in China
    assert dt.datetime.fromisoformat(data["updated_at"]) == frozen_now
