"""Issue 13's spot check, walked in a real browser through the pages only (the starting world:
`tests/checks/checksworld.py` — 12 households the county and the enterprise below it paid from central
money, 2 the sibling county paid):

1. the city's reviewer works out the sample (计算样本量: the plan by unit, the sibling's 2 households all
   taken), then draws it with a seed;
2. the city's caller (the admin, holding the callers' permission) opens the call sheet and, on the
   households' pages, records calls and answers: one confirmed, one denying receipt, one unanswered three
   times and replaced from the reserve;
3. the reviewer sees the results, publishes the bulletin with a deadline, opens the printable bulletin and
   downloads it as .docx and .xlsx (each opened and read back);
4. the county's reporter answers its rectification task, and the reviewer accepts it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from docx import Document

from songnuan.checks.models import RectificationTask, SampledHousehold, SpotCheck
from songnuan.ledger.models import HelpRecord
from tests.checks.checksworld import build_helped, caller

from ..world import World
from .sessions import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def messages_text(page: Any) -> str:
    return " ".join(page.locator("ul.messages").inner_text().split())


def record_call(page: Any, disposition: str) -> None:
    page.select_option("#call-form select[name=disposition]", disposition)
    with page.expect_navigation():
        page.click("#call-form button[name=call]")


def test_a_spot_check_from_the_draw_to_the_rectification(
    browser: Any, live_server: Any, world: World, tmp_path: Path
) -> None:
    build_helped(world)
    caller(world)  # the city's admin may call
    campaign = world.campaign

    # 1. the plan, then the draw
    page = log_in(browser, live_server, "city_reviewer", "/checks/")
    page.click(f"#new-check-{campaign.pk}")
    page.fill("input[name=title]", "2018年送温暖电话抽查")
    page.select_option("select[name=allocation]", "fixed")
    page.fill("input[name=per_stratum]", "3")
    page.fill("input[name=seed]", "20180125")
    with page.expect_navigation():
        page.click("#preview")
    assert "抽样框共 14 户，计划抽取 5 户" in page.locator("#plan-summary").inner_text()
    sibling_row = page.locator(f"#plan tr[data-unit='{world.sibling.pk}']")
    assert "户数不足，全部抽取" in sibling_row.inner_text()
    assert not SpotCheck.objects.exists()  # nothing drawn by working out the plan
    with page.expect_navigation():
        page.click("#draw")
    assert "随机种子20180125" in messages_text(page)
    check = SpotCheck.objects.get()
    assert page.locator("#seed").inner_text() == "20180125"

    # 2. the caller's calls and answers
    county_paid = set(HelpRecord.objects.filter(unit=world.county).values_list("household_id", flat=True))
    sampled = list(
        SampledHousehold.objects.filter(spot_check=check, in_sample=True, stratum__unit=world.county)
        .order_by("position")
        .select_related("household")
    )
    # the one who denies was paid by the county itself (its task goes to the county's reporter)
    denying = next(s for s in sampled if s.household_id in county_paid)
    confirmed, unanswered = (s for s in sampled if s != denying)
    calls = log_in(browser, live_server, "city_admin", f"/checks/{check.pk}/sheet/")
    assert calls.locator("#sheet tbody tr").count() == 5
    calls.click(f"#sheet tr[data-sampled='{confirmed.pk}'] a")
    record_call(calls, "self")
    calls.select_option("#answers-form select[name=received]", "yes")
    calls.fill("#answers-form input[name=amount]", "800")
    calls.select_option("#answers-form select[name=how]", "card")
    calls.select_option("#answers-form select[name=satisfaction]", "satisfied")
    with calls.expect_navigation():
        calls.click("#answers-form button[name=answers]")
    assert "核查结论：核实无误" in messages_text(calls)

    calls.goto(f"{live_server.url}/checks/households/{denying.pk}/")
    record_call(calls, "family")
    calls.select_option("#answers-form select[name=received]", "no")
    with calls.expect_navigation():
        calls.click("#answers-form button[name=answers]")
    assert "否认收到" in calls.locator("#verdict").inner_text()

    calls.goto(f"{live_server.url}/checks/households/{unanswered.pk}/")
    for _ in range(3):
        record_call(calls, "no-answer")
    assert calls.locator("#verdict").inner_text() == "未联系上"
    with calls.expect_navigation():
        calls.click("#replace-form button[name=replace]")
    assert "已抽取替补户" in messages_text(calls)
    replacement = SampledHousehold.objects.get(replaces=unanswered)
    assert calls.url.endswith(f"/checks/households/{replacement.pk}/")
    assert (replacement.position, replacement.in_sample) == (3, True)

    # 3. results, publication, the bulletin in print, Word and Excel
    page.goto(f"{live_server.url}/checks/{check.pk}/")
    county_row = page.locator(f"#results tr[data-unit='{world.county.pk}']")
    assert "50.00%" in county_row.locator(".confirmed-rate").inner_text()  # 1 of the 2 interviewed
    deadline = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    page.fill("#deadline", deadline)
    with page.expect_navigation():
        page.click("#publish-form button[type=submit]")
    assert "生成整改任务 1 项" in messages_text(page)
    assert page.locator("svg").count() >= 1  # the bulletin's chart
    body = page.locator("main").inner_text()
    assert "否认收到" in body and denying.household.head_name not in body  # names masked

    page.goto(f"{live_server.url}/checks/{check.pk}/")
    with page.expect_download() as word:
        page.click("#bulletin-docx")
    docx_path = tmp_path / "通报.docx"
    word.value.save_as(docx_path)
    text = "\n".join(paragraph.text for paragraph in Document(str(docx_path)).paragraphs)
    assert "通报" in text and "整改" in text
    with page.expect_download() as excel:
        page.click("#bulletin-xlsx")
    xlsx_path = tmp_path / "通报.xlsx"
    excel.value.save_as(xlsx_path)
    cells = [
        str(cell.value)
        for sheet in openpyxl.load_workbook(xlsx_path).worksheets
        for row in sheet.iter_rows()
        for cell in row
    ]
    assert any(world.county.name in cell for cell in cells)

    # 4. the county answers its task, the city accepts it
    task = RectificationTask.objects.get()
    assert task.unit == world.county and task.verdict == "denies"
    county = log_in(browser, live_server, "county_reporter", "/checks/tasks/")
    county.click(f"#tasks tr[data-task='{task.pk}'] a")
    county.fill("#task-text", "经核实，该户已于2018年2月补发到工会卡")
    with county.expect_navigation():
        county.click("#answer-form button[name=answer]")
    assert "已提交整改答复" in messages_text(county)
    page.goto(f"{live_server.url}/checks/tasks/{task.pk}/")
    with page.expect_navigation():
        page.click("#decide-form button[name=accept]")
    assert page.locator("#task-state").inner_text() == "已通过"
    task.refresh_from_db()
    assert task.state == RectificationTask.State.ACCEPTED
