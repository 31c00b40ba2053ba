"""The data-entry page: the table as printed with an input per item, its findings, returning to the draft
after an expired session, and the history of the table. Its live check and autosave go to the API
(tests/api/test_entry_check.py); Excel import: test_entry_import.py."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.test import Client

from songnuan.formkit.definitions import ItemKind, get_form
from songnuan.orgs.models import Unit
from songnuan.reporting.models import Submission, SubmissionEvent

from ..filemakers import filled_example
from ..world import PASSWORD, World

FORM = "warmth-2018"


@pytest.fixture(autouse=True)
def fast_passwords_and_clean_cache(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()  # the login throttle counts in the cache


def url(world: World, unit: Unit, action: str = "", form_code: str = FORM) -> str:
    return f"/campaigns/{world.campaign.pk}/units/{unit.pk}/forms/{form_code}/{action}"


def save(client: Client, world: World, unit: Unit, payload: Any) -> Any:
    """An autosave as the page sends it (PUT on the table in the API)."""
    address = f"/api/campaigns/{world.campaign.pk}/units/{unit.pk}/forms/{FORM}"
    return client.put(address, data=json.dumps(payload), content_type="application/json")


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
    assert config["checkUrl"] == f"/api{url(world, world.enterprise)[:-1]}/check"
    assert config["tableUrl"] == f"/api{url(world, world.enterprise)[:-1]}"
    assert config["savedAt"].endswith("+08:00")
    assert f'href="/login/?next={url(world, world.enterprise)}"' in page  # offered when the session expired
    # A blank table: the summary, rendered on the server, says it is empty (not that every rule passed).
    assert "还没有填写任何数据" in page and "全部审核规则通过" not in page


def test_the_pages_own_check_and_save_urls_are_gone(world: World) -> None:
    client = world.client("enterprise_reporter")
    for action in ("check", "save"):
        response = client.post(
            url(world, world.enterprise, action), data="{}", content_type="application/json"
        )
        assert response.status_code == 404


def test_the_page_shows_findings_beside_the_cells_and_asks_for_explanations(world: World) -> None:
    client = world.client("enterprise_reporter")
    client.get(url(world, world.enterprise))
    save(client, world, world.enterprise, {"version": 1, "values": example(**{"2C": "1", "4A": "66.95"})})
    page = client.get(url(world, world.enterprise)).content.decode()
    assert "错误 1 个（须改正才能报送），警告 1 个（须写说明）；其中 1 个警告还没有写说明" in page
    assert re.search(r'<td class="value" data-state="error"><input id="input-2C"', page)
    assert re.search(r'<td class="value" data-state="warning"><input id="input-4A"', page)
    assert re.search(r'<td class="msgs"><div class="msg error">[^<]*应等于分项之和', page)
    assert re.search(r'<div class="explain missing" data-rule="warmth-2018.4A.within-raised">', page)
    assert '<textarea name="explain-warmth-2018.4A.within-raised"' in page


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
    save(client, world, world.enterprise, {"version": 1, "values": example(**{"4A": "66.95"})})
    response = world.client("county_reviewer").get(url(world, world.enterprise))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="input-1A"' not in page and "entry.js" not in page
    assert "只读" in page and "1260" in page
    assert config_of(page)["editable"] is False
    assert '<textarea name="explain-' not in page and "（未写说明）" in page


def test_a_table_accepted_with_no_reviewer_on_record_still_opens(world: World) -> None:
    """Tables loaded from elsewhere (last year's, the demo's) may carry a review time but no reviewer: the
    page says when, and does not fail on who."""
    accepted_at = dt.datetime(2017, 2, 4, 1, 0, tzinfo=dt.UTC)
    Submission.objects.create(
        campaign=world.campaign,
        unit=world.enterprise,
        form_code=FORM,
        status=Submission.Status.ACCEPTED,
        reviewed_at=accepted_at,
    )
    response = world.client("enterprise_reporter").get(url(world, world.enterprise))
    assert response.status_code == 200
    assert "审核：2017-02-04 09:00" in response.content.decode()


def test_a_reviewer_sees_a_table_not_started_without_creating_it(world: World) -> None:
    response = world.client("county_reviewer").get(url(world, world.enterprise))
    assert response.status_code == 200 and "未填报" in response.content.decode()
    assert not Submission.objects.exists()


def test_the_script_is_served_as_a_static_file() -> None:
    path = finders.find("reporting/entry.js")
    assert path
    script = Path(str(path)).read_text(encoding="utf-8")
    for needle in ("localStorage", "X-CSRFToken", "409", "dataset.state", "explain-", "PUT", "findings_html"):
        assert needle in script
    assert "createElement" not in script  # the findings come rendered from the server


# --- an expired session -------------------------------------------------------------------------------


def test_an_expired_session_returns_to_the_draft_after_logging_in(world: World) -> None:
    client = Client()
    assert client.login(username="enterprise_reporter", password=PASSWORD)
    entry = url(world, world.enterprise)
    client.get(entry)
    save(client, world, world.enterprise, {"version": 1, "values": {"1A": "37"}})
    client.post("/logout/")  # the session ends (as when it expires)

    response = client.get(entry)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={entry}"
    # A save while logged out is not stored (the page keeps it in localStorage meanwhile).
    saved = save(client, world, world.enterprise, {"version": 2, "values": {"1A": "38"}})
    assert saved.status_code == 401

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
    save(client, world, world.enterprise, {"version": 1, "values": example()})
    save(
        client,
        world,
        world.enterprise,
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
