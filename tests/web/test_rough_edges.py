"""Issue 11, item 6: the rough edges a newcomer hits, each with a test that fails without its fix.

Error pages in Chinese with a way on; wide pages at the window's width; the grid's Excel readable when
printed; an empty table not said to pass; rule ids never shown as words; the return message saying what
happens.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import openpyxl
from django.contrib.staticfiles import finders
from django.template import loader
from django.test import Client

from songnuan.formkit.definitions import get_form
from songnuan.notices.models import Notice
from songnuan.reporting.models import Submission

from ..world import World
from .test_review_actions import example, messages_of, put_json
from .test_rollup import COUNTY, ENTERPRISE, SIBLING, put_table, url

ROOT = Path(__file__).resolve().parents[2]
FORM = "warmth-2018"


def static_text(path: str) -> str:
    return Path(str(finders.find(path))).read_text(encoding="utf-8")


def visible_text(page: str) -> str:
    """The page as a person reads it: no tags (so no attributes), no scripts."""
    page = re.sub(r"<script\b.*?</script>", "", page, flags=re.S)
    return re.sub(r"<[^>]+>", " ", page)


def entry_url(world: World, unit: Any) -> str:
    return f"/campaigns/{world.campaign.pk}/units/{unit.pk}/forms/{FORM}/"


# --- 1. error pages: Chinese, what happened, a way on -------------------------------------------------------


def test_the_404_page_offers_back_home_and_login(world: World) -> None:
    cases = (
        (Client(), "/no/such/page/", "登录"),
        (world.client("county_reporter"), "/campaigns/99999/", "换一个账号登录"),
    )
    for client, address, login_text in cases:
        response = client.get(address)
        page = response.content.decode()
        assert response.status_code == 404 and "页面不存在" in page and "Not Found" not in page
        assert "history.back()" in page and "返回上一页" in page
        assert 'href="/"' in page and "返回首页" in page
        assert 'href="/login/"' in page and login_text in page


def test_the_403_page_says_why_and_offers_another_account(world: World) -> None:
    response = world.client("county_reporter").get(entry_url(world, world.sibling))
    page = response.content.decode()
    assert response.status_code == 403 and "没有权限" in page
    assert "返回上一页" in page and "返回首页" in page and "换一个账号登录" in page


def test_the_400_csrf_and_500_pages_offer_a_way_back(world: World) -> None:
    bad = Client(HTTP_HOST="attacker.example").get("/forms/").content.decode()
    assert "请求有误" in bad and "返回上一页" in bad
    csrf = Client(enforce_csrf_checks=True).post("/login/", {"username": "x", "password": "y"})
    assert "页面已过期" in csrf.content.decode() and "返回上一页" in csrf.content.decode()
    assert "重新登录" in csrf.content.decode()
    server = loader.get_template("500.html").render()
    assert "返回上一页" in server and 'href="/login/"' in server and 'href="/"' in server


def test_make_run_serves_the_projects_own_error_pages() -> None:
    """Decided: `make run` runs with DEBUG off (no SONGNUAN_DEBUG), so a person gets the Chinese pages;
    Django's technical 404 only for a developer who sets SONGNUAN_DEBUG=1 (README: never in production). It
    serves with gunicorn (tests/browser/test_served_by_gunicorn.py drives a browser against it); `make dev`
    with runserver."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "gunicorn songnuan.config.wsgi" in recipe and "SONGNUAN_DEBUG" not in recipe
    assert "manage.py db_worker" in recipe  # the task worker runs beside the server (imports)
    development = makefile.split("\ndev:", 1)[1].split("\n\n", 1)[0]
    assert "runserver" in development and "SONGNUAN_DEBUG" not in development


# --- 2. wide pages ------------------------------------------------------------------------------------------


def test_the_grid_is_a_wide_page_and_reading_pages_keep_their_width(world: World) -> None:
    put_table(world, world.county, COUNTY)
    grid = world.client("city_reviewer").get(url(world, "grid", world.city)).content.decode()
    assert '<div class="grid-wrap wide">' in grid
    entry = world.client("county_reporter").get(entry_url(world, world.county)).content.decode()
    assert 'class="wide' not in entry and 'wide"' not in entry
    site = static_text("site/site.css")
    assert "main { max-width: 1100px;" in site and "main:has(> .wide) { max-width: none; }" in site
    # The roll-up (its template marks it by its findings on the totals) is wide too.
    assert "main:has(> section.findings-on-totals) { max-width: none; }" in static_text(
        "reporting/review.css"
    )


# --- 4. the grid's Excel, printed ---------------------------------------------------------------------------


def test_the_grid_xlsx_prints_landscape_one_page_wide_and_as_tall_as_needed(world: World) -> None:
    put_table(world, world.county, COUNTY)
    put_table(world, world.enterprise, ENTERPRISE)
    put_table(world, world.sibling, SIBLING)
    response = world.client("city_reviewer").get(url(world, "grid-xlsx", world.city))
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    setup = sheet.page_setup
    assert setup.orientation == "landscape" and setup.paperSize == 9  # A4
    fit = sheet.sheet_properties.pageSetUpPr
    assert fit is not None and fit.fitToPage
    assert setup.fitToWidth in (None, 1)  # 1 is the default, left out of the file
    assert setup.fitToHeight == 0  # as many pages tall as needed, never squeezed onto one
    rows = list(sheet.iter_rows(values_only=True))
    heading = next(i for i, row in enumerate(rows) if row[0] == "编号")
    assert sheet.print_title_rows == f"${heading + 1}:${heading + 2}"  # both header rows, on every page
    assert sheet.print_title_cols == "$A:$C"
    assert sheet.column_dimensions["B"].width >= 50  # item names on one or two lines
    # A long name gets the height of its lines, so it is printed whole.
    items = {item.code: item.label for item in get_form(FORM).items}
    longest = max(items, key=lambda code: len(items[code]))
    row = next(i for i, values in enumerate(rows) if values[0] == longest) + 1
    assert len(items[longest]) > 26
    assert (sheet.row_dimensions[row].height or 0) >= 2 * 14


# --- 6. an empty table is not said to pass ------------------------------------------------------------------


def test_an_empty_table_says_it_is_empty_on_the_page_and_in_the_api(world: World) -> None:
    client = world.client("county_reporter")
    page = client.get(entry_url(world, world.county)).content.decode()
    summary = re.search(r'<div id="summary"[^>]*>(.*?)</div>', page, re.S)
    assert summary is not None
    assert "还没有填写任何数据" in summary[1] and "全部审核规则通过" not in summary[1]
    api = f"/api/campaigns/{world.campaign.pk}/units/{world.county.pk}/forms/{FORM}"
    fragments = client.get(api).json()["findings_html"]
    assert "还没有填写任何数据" in fragments["summary"]
    # Filled correctly: now every rule passed.
    version = client.get(api).json()["version"]
    saved = put_json(client, api, {"version": version, "values": example()})
    assert saved.status_code == 200, saved.content
    filled = client.get(api).json()["findings_html"]["summary"]
    assert "全部审核规则通过" in filled and "还没有填写任何数据" not in filled


# --- 7. rule ids only in data attributes --------------------------------------------------------------------


def test_rule_ids_are_never_shown_to_a_person(world: World) -> None:
    client = world.client("county_reporter")
    api = f"/api/campaigns/{world.campaign.pk}/units/{world.county.pk}/forms/{FORM}"
    version = client.get(api).json()["version"]
    assert put_json(client, api, {"version": version, "values": example(**{"4A": "999"})}).status_code == 200
    page = client.get(entry_url(world, world.county)).content.decode()
    assert 'data-rule="warmth-2018.' in page  # the warning's explanation is keyed by its rule
    assert "warmth-2018." not in visible_text(page)
    fragments = client.get(api).json()["findings_html"]
    assert 'data-rule="warmth-2018.' in fragments["explanations"]
    assert "warmth-2018." not in visible_text(fragments["explanations"] + fragments["summary"])


# --- 9. a reporter prints and exports its own table from its entry page -------------------------------------


def test_the_entry_page_links_the_print_and_the_excel_of_the_units_own_table(world: World) -> None:
    client = world.client("enterprise_reporter")
    put_table(world, world.enterprise, ENTERPRISE, status=Submission.Status.DRAFT)
    page = client.get(entry_url(world, world.enterprise)).content.decode()
    for name in ("print", "export"):
        link = url(world, name, world.enterprise)
        assert f'href="{link}"' in page
        assert client.get(link).status_code == 200  # the reporter may open what the page links


# --- 8. the return message ----------------------------------------------------------------------------------


def test_the_return_message_says_the_reporter_was_notified(world: World) -> None:
    put_table(world, world.enterprise, ENTERPRISE, status=Submission.Status.SUBMITTED)
    response = world.client("county_reviewer").post(
        f"{entry_url(world, world.enterprise)}return", {"comment": "1A请核对"}, follow=True
    )
    messages = " ".join(messages_of(response))
    assert "已退回东宝区恒力水泥有限公司工会" in messages
    assert "已通知该单位的填报人" in messages and "审核意见也显示在这张表上" in messages
    assert Notice.objects.get(recipient=world.users["enterprise_reporter"]).kind == Notice.Kind.RETURNED
