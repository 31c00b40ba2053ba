"""The data-entry page: the table as printed with an input per item, the live check and autosave endpoints,
edit conflicts, an expired session, and the history of the table (Excel import: test_entry_import.py)."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.test import Client

from songnuan.formkit.definitions import ItemKind, get_form
from songnuan.orgs.models import Unit
from songnuan.reporting.models import Submission, SubmissionEvent, SubmissionValue
from songnuan.reporting.services import stored_values

from ..filemakers import filled_example
from ..world import PASSWORD, World

FORM = "warmth-2018"


@pytest.fixture(autouse=True)
def fast_passwords_and_clean_cache(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()  # the login throttle counts in the cache


def url(world: World, unit: Unit, action: str = "", form_code: str = FORM) -> str:
    return f"/campaigns/{world.campaign.pk}/units/{unit.pk}/forms/{form_code}/{action}"


def post_json(client: Client, address: str, payload: Any) -> Any:
    return client.post(address, data=json.dumps(payload), content_type="application/json")


def example(**changes: str) -> dict[str, str]:
    """The valid filled example as the page sends it: every value as typed text."""
    values, _header = filled_example(FORM)
    return {code: str(value) for code, value in values.items()} | changes


def config_of(page: str) -> dict[str, Any]:
    found = re.search(r'<script id="entry-config" type="application/json">(.*?)</script>', page, re.S)
    assert found, "the page carries its configuration for entry.js"
    return json.loads(found.group(1))  # type: ignore[no-any-return]


# --- the page --------------------------------------------------------------------------------------------


def test_the_page_shows_the_table_as_printed_with_an_input_per_item(world: World) -> None:
    response = world.client("enterprise_reporter").get(url(world, world.enterprise))
    assert response.status_code == 200
    page = response.content.decode()
    form = get_form(FORM)
    for item in form.items:
        assert re.search(rf'<input id="input-{item.code}" name="{item.code}"[^>]*inputmode="decimal"', page)
        assert item.label in page
    assert "A=B+C+D+E+F" in page  # the printed formula as a hint
    assert "万元" in page and ">户<" in page
    for name in ("reporter", "phone", "report_date"):
        assert f'name="{name}"' in page
    assert "填报人" in page and "电话" in page and "填报日期" in page
    assert "草稿" in page and "reporting/entry.js" in page
    config = config_of(page)
    submission = Submission.objects.get(unit=world.enterprise, form_code=FORM)
    assert config["editable"] is True and config["version"] == submission.version
    assert config["checkUrl"] == url(world, world.enterprise, "check")
    assert config["saveUrl"] == url(world, world.enterprise, "save")
    assert config["savedAt"].endswith("+08:00")
    assert config["loginUrl"].startswith("/login/?next=")


def test_yes_no_items_get_a_text_keyboard(world: World) -> None:
    form = get_form("service-centres-2017")
    page = (
        world.client("enterprise_reporter").get(url(world, world.enterprise, "", form.code)).content.decode()
    )
    for item in form.items:
        mode = "text" if item.kind is ItemKind.YES_NO else "decimal"
        assert re.search(rf'name="{item.code}"[^>]*inputmode="{mode}"', page), item.code


def test_a_reviewer_sees_the_table_read_only(world: World) -> None:
    client = world.client("enterprise_reporter")
    post_json(client, url(world, world.enterprise, "save"), {"version": 1, "values": example()})
    response = world.client("county_reviewer").get(url(world, world.enterprise))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="input-1A"' not in page and "entry.js" not in page
    assert "只读" in page and "1260" in page
    assert config_of(page)["editable"] is False


def test_a_reviewer_sees_a_table_not_started_without_creating_it(world: World) -> None:
    response = world.client("county_reviewer").get(url(world, world.enterprise))
    assert response.status_code == 200 and "未填报" in response.content.decode()
    assert not Submission.objects.exists()


def test_the_script_is_served_as_a_static_file() -> None:
    path = finders.find("reporting/entry.js")
    assert path
    script = Path(str(path)).read_text(encoding="utf-8")
    for needle in ("localStorage", "X-CSRFToken", "409", "dataset.state", "explain-", "400"):
        assert needle in script


# --- the live check --------------------------------------------------------------------------------------


def test_check_reports_findings_and_stores_nothing(world: World) -> None:
    client = world.client("enterprise_reporter")
    client.get(url(world, world.enterprise))
    response = post_json(
        client,
        url(world, world.enterprise, "check"),
        {"values": example(**{"2C": "1", "4A": "66.95", "1A": "１２", "1B": "约20"})},
    )
    assert response.status_code == 200
    data = response.json()
    rules = {finding["rule"]: finding for finding in data["errors"] + data["warnings"]}
    total = rules["warmth-2018.2C.sum"]
    assert total["severity"] == "error" and total["items"] == ["2C", "2D", "2E", "2F"]
    assert (total["expected"], total["actual"], total["difference"]) == (412, 1, -411)
    assert "应等于分项之和" in total["message"]
    raised = rules["warmth-2018.4A.within-raised"]
    assert raised["severity"] == "warning"
    assert (raised["expected"], raised["actual"], raised["difference"]) == ("66.91", "66.95", "0.04")
    assert rules["warmth-2018.1B.number"]["items"] == ["1B"]
    assert data["values"]["1A"] == "12" and data["values"]["1B"] == "约20"
    assert not SubmissionValue.objects.exists()
    assert Submission.objects.get().version == 1


def test_check_of_a_blank_table_finds_nothing_blank_is_not_zero(world: World) -> None:
    client = world.client("enterprise_reporter")
    data = post_json(client, url(world, world.enterprise, "check"), {"values": {"3A": "", "3B": ""}}).json()
    assert data == {"errors": [], "warnings": [], "values": dict.fromkeys(get_form(FORM).codes)}
    data = post_json(client, url(world, world.enterprise, "check"), {"values": {"3B": "5"}}).json()
    assert [f["rule"] for f in data["errors"]] == ["warmth-2018.3A.sum"]  # filled part, blank total


@pytest.mark.parametrize(
    "body, message",
    [
        (b"not json", "JSON"),
        (b"[1, 2]", "JSON"),
        (b'{"values": {"99Z": "1"}}', "99Z"),
        (b'{"values": {"1A": [1]}}', "1A"),
    ],
)
def test_check_refuses_what_the_page_never_sends(world: World, body: bytes, message: str) -> None:
    client = world.client("enterprise_reporter")
    response = client.post(url(world, world.enterprise, "check"), data=body, content_type="application/json")
    assert response.status_code == 400 and message in response.json()["message"]


# --- autosave --------------------------------------------------------------------------------------------


def test_save_stores_values_explanations_and_header(world: World) -> None:
    client = world.client("enterprise_reporter")
    client.get(url(world, world.enterprise))
    response = post_json(
        client,
        url(world, world.enterprise, "save"),
        {
            "version": 1,
            "values": example(**{"4A": "66.95", "1B": ""}),
            "explanations": {"warmth-2018.4A.within-raised": "含上年结转"},
            "header": {"reporter": "王丽", "phone": "0724-2345678", "report_date": "2018-02-03"},
        },
    )
    assert response.status_code == 200
    data = response.json()
    assert data["version"] == 2
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", data["saved_at"])
    assert data["errors"] == [] and [w["rule"] for w in data["warnings"]] == ["warmth-2018.4A.within-raised"]
    assert data["missing"] == [] and data["values"]["1B"] is None and data["values"]["4A"] == "66.95"
    submission = Submission.objects.get()
    values = stored_values(submission)
    assert values["4A"] == Decimal("66.95") and values["1B"] is None and values["2A"] == 1260
    assert submission.reporter == "王丽" and submission.report_date == dt.date(2018, 2, 3)
    assert submission.explanations == {"warmth-2018.4A.within-raised": "含上年结转"}
    assert SubmissionEvent.objects.filter(kind="value").count() == len(get_form(FORM).items) - 1


@pytest.mark.parametrize(
    "payload, message",
    [
        ({"version": 1, "header": {"report_date": "2018-13-40"}}, "填报日期"),
        ({"values": {}}, "version"),
        ({"version": 1, "values": {"99Z": "1"}}, "99Z"),
    ],
)
def test_save_answers_400_with_the_chinese_message(world: World, payload: Any, message: str) -> None:
    response = post_json(world.client("enterprise_reporter"), url(world, world.enterprise, "save"), payload)
    assert response.status_code == 400 and message in response.json()["message"]
    assert not SubmissionValue.objects.exists()


def test_save_refuses_an_explanation_for_a_rule_that_is_not_a_warning_of_the_table(world: World) -> None:
    client = world.client("enterprise_reporter")
    payload = {"version": 1, "values": {"1A": "5"}, "explanations": {"warmth-2018.9Z.bogus": "说明"}}
    response = post_json(client, url(world, world.enterprise, "save"), payload)
    assert response.status_code == 400
    assert response.json() == {
        "message": "附件1没有编号为“warmth-2018.9Z.bogus”的警告（核实性审核）规则，只能为表中的警告写说明；"
        "本次没有保存任何修改"
    }
    submission = Submission.objects.get()  # opened by the page, nothing saved into it
    assert (submission.version, submission.explanations) == (1, {})
    assert not SubmissionValue.objects.exists() and not SubmissionEvent.objects.exists()


def test_a_submitted_table_cannot_be_saved(world: World) -> None:
    client = world.client("enterprise_reporter")
    post_json(client, url(world, world.enterprise, "save"), {"version": 1, "values": example()})
    client.post(url(world, world.enterprise, "submit"))
    response = post_json(client, url(world, world.enterprise, "save"), {"version": 3, "values": {"1A": "1"}})
    assert response.status_code == 400 and "已报送" in response.json()["message"]


def test_a_reviewer_gets_403_from_save(world: World) -> None:
    post_json(world.client("enterprise_reporter"), url(world, world.enterprise, "save"), {"version": 1})
    response = post_json(
        world.client("county_reviewer"), url(world, world.enterprise, "save"), {"version": 2, "values": {}}
    )
    assert response.status_code == 403 and "无权" in response.json()["message"]
    assert Submission.objects.get().version == 2


def test_two_editors_second_save_is_a_conflict_showing_both_versions(world: World) -> None:
    """Two people (or two tabs) edit the county's table from the same version: nothing is overwritten."""
    from songnuan.orgs.services import account_create

    account_create(username="county_reporter_2", password=PASSWORD, unit=world.county, role="reporter")
    first = world.client("county_reporter")
    second = Client()
    second.login(username="county_reporter_2", password=PASSWORD)
    address = url(world, world.county, "save")
    version = config_of(first.get(url(world, world.county)).content.decode())["version"]
    assert config_of(second.get(url(world, world.county)).content.decode())["version"] == version

    assert (
        post_json(first, address, {"version": version, "values": {"1A": "48", "2A": "100"}}).status_code
        == 200
    )
    response = post_json(second, address, {"version": version, "values": {"1A": "50"}})
    assert response.status_code == 409
    data = response.json()
    assert "county_reporter" in data["message"] and "修改了这张表" in data["message"]
    assert data["version"] == version + 1
    assert data["theirs"]["1A"] == "48" and data["theirs"]["2A"] == "100" and data["theirs"]["1B"] is None
    assert data["yours"] == {"1A": "50"}
    assert data["changed"] == [{"item": "1A", "label": "走访企业", "theirs": "48", "yours": "50"}]
    submission = Submission.objects.get(unit=world.county)
    assert stored_values(submission)["1A"] == 48 and submission.version == version + 1

    # "Keep mine": saved again on top of the version the conflict named; their 2A stays.
    response = post_json(second, address, {"version": data["version"], "values": {"1A": "50"}})
    assert response.status_code == 200
    values = stored_values(Submission.objects.get(unit=world.county))
    assert values["1A"] == 50 and values["2A"] == 100


def test_an_expired_session_returns_to_the_draft_after_logging_in(world: World) -> None:
    client = Client()
    assert client.login(username="enterprise_reporter", password=PASSWORD)
    entry = url(world, world.enterprise)
    client.get(entry)
    post_json(client, url(world, world.enterprise, "save"), {"version": 1, "values": {"1A": "37"}})
    client.post("/logout/")  # the session ends (as when it expires)

    response = client.get(entry)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={entry}"
    # A save while logged out is not stored (the page keeps it in localStorage meanwhile).
    saved = post_json(client, url(world, world.enterprise, "save"), {"version": 2, "values": {"1A": "38"}})
    assert saved.status_code == 302 and saved["Location"].startswith("/login/")

    login_page = client.get(response["Location"])
    assert login_page.status_code == 200 and f'value="{entry}"' in login_page.content.decode()
    response = client.post(
        "/login/", {"username": "enterprise_reporter", "password": PASSWORD, "next": entry}
    )
    assert response.status_code == 302 and response["Location"] == entry
    page = client.get(entry).content.decode()
    assert re.search(r'name="1A"[^>]*value="37"', page)
    assert config_of(page)["version"] == 2


# --- history ---------------------------------------------------------------------------------------------


def test_history_lists_every_event_in_china_time_and_filters_by_item(world: World) -> None:
    client = world.client("enterprise_reporter")
    post_json(client, url(world, world.enterprise, "save"), {"version": 1, "values": example()})
    post_json(
        client,
        url(world, world.enterprise, "save"),
        {"version": 2, "values": {"3A": "70"}, "header": {"reporter": "王丽"}},
    )
    SubmissionEvent.objects.filter(subject="3A").update(at=dt.datetime(2018, 2, 3, 16, 30, tzinfo=dt.UTC))
    history = url(world, world.enterprise, "history")

    page = client.get(history).content.decode()
    rows = re.findall(r'<tr class="event kind-(\w+)" data-subject="([^"]*)">', page)
    assert len(rows) == SubmissionEvent.objects.count()
    assert ("header", "reporter") in rows and ("value", "1A") in rows
    assert "填报人" in page and "enterprise_reporter" in page

    page = world.client("county_reviewer").get(f"{history}?item=3A").content.decode()
    rows = re.findall(r'<tr class="event kind-(\w+)" data-subject="([^"]*)">', page)
    assert rows == [("value", "3A"), ("value", "3A")]
    assert "2018-02-04 00:30:00" in page  # 16:30 UTC is 00:30 the next day in Beijing
    assert re.search(r'<td class="old">66.91</td>\s*<td class="new">70</td>', page)
    assert re.search(r'<td class="old">（空）</td>\s*<td class="new">66.91</td>', page)


def test_history_of_a_table_never_opened_is_404(world: World) -> None:
    assert world.client("county_reviewer").get(url(world, world.enterprise, "history")).status_code == 404


def test_saved_at_is_china_time(world: World, frozen_now: dt.datetime) -> None:
    client = world.client("enterprise_reporter")
    data = post_json(
        client, url(world, world.enterprise, "save"), {"version": 1, "values": {"1A": "1"}}
    ).json()
    assert data["saved_at"] == "2026-12-02T00:30:00+08:00"  # 16:30 UTC, already the next day in China
    assert dt.datetime.fromisoformat(data["saved_at"]) == frozen_now
