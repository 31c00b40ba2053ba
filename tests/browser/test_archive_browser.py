"""The archive in a real browser, as the people involved use it:

the county's reporter opens a file for a household; the city's reviewer files it (审核建档); the 四明确 report
lists it until its plan is complete; the list finds it by the pinyin initials of the name; it is closed with
a reason. An import runs in the background thread while the page polls its progress, and ends showing the
counts and the rejected rows to download.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any, cast

import pytest
import python_calamine

from songnuan.archive.generate import households
from songnuan.archive.models import Household, ImportJob

from ..processes import task_worker
from ..world import World
from .sessions import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEAD = "11010519491231002X"
SON = "440524188001010014"
ENTERPRISE = "东宝区恒力水泥有限公司工会"


@pytest.fixture(autouse=True)
def fast_passwords_and_import_dir(settings: Any, tmp_path: Path) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SONGNUAN_IMPORT_DIR = tmp_path / "imports"
    settings.SONGNUAN_IMPORT_IN_BACKGROUND = True  # imports queued for the task worker, as in production


def test_apply_file_plan_search_and_close(browser: Any, live_server: Any, world: World) -> None:
    # The county's reporter opens the file, with one member; the income per person is left to the page.
    reporter = log_in(browser, live_server, "county_reporter", "/archive/new/")
    reporter.fill("#id_head_name", "王建国")
    reporter.fill("#id_head_id_number", HEAD)
    reporter.select_option("#id_category", Household.Category.WORKER)
    reporter.fill("#id_phone", "13812345678")
    reporter.fill("#id_monthly_income", "2400")
    reporter.fill("#id_household_size", "3")
    reporter.fill("#id_members-0-name", "王小明")
    reporter.fill("#id_members-0-relation", "子")
    reporter.fill("#id_members-0-id_number", SON)
    reporter.get_by_role("button", name="提交档案申请").click()
    reporter.wait_for_selector("#status-banner .tag.household-applied")
    household = Household.objects.get()
    assert reporter.url == f"{live_server.url}/archive/{household.pk}/"
    assert "1101**********002X" in reporter.inner_text("#head-id")
    assert reporter.locator("#file-form").count() == 0  # the reporter's own unit is not filed by itself

    # The city's reviewer files it.
    detail = f"/archive/{household.pk}/"
    reviewer = log_in(browser, live_server, "city_reviewer", detail)
    reviewer.click("#file-form button[type=submit]")
    reviewer.wait_for_selector("#status-banner .tag.household-filed")
    assert "已审核建档" in reviewer.inner_text("ul.messages")

    # The 四明确 report lists it until the plan is complete.
    row = f"tr[data-household='{household.pk}']"
    reviewer.goto(f"{live_server.url}/archive/plan-gaps/")
    assert "联系人（单位）" in reviewer.inner_text(row)
    reviewer.goto(f"{live_server.url}{detail}")
    reviewer.fill("#plan-contact", "东宝区总工会 李红")
    reviewer.fill("#plan-deadline", "2018-12-31")
    reviewer.click("#plan-form button[type=submit]")
    reviewer.wait_for_selector("ul.messages li.success")
    assert "还缺：措施、路径" in reviewer.inner_text("ul.messages")
    reviewer.goto(f"{live_server.url}/archive/plan-gaps/")
    assert reviewer.locator(f"{row} td.missing .tag").all_inner_texts() == ["措施", "路径"]
    reviewer.goto(f"{live_server.url}{detail}")
    reviewer.fill("#plan-measures", "介绍到环卫所就业")
    reviewer.select_option("#plan-path", Household.OutPath.EMPLOYMENT)
    reviewer.click("#plan-form button[type=submit]")
    reviewer.wait_for_selector("text=四明确已齐全")
    reviewer.goto(f"{live_server.url}/archive/plan-gaps/")
    assert reviewer.locator(row).count() == 0
    assert "所有已建档家庭的四明确都已写齐" in reviewer.inner_text("main")

    # The list finds it by the initials of 王建国.
    reviewer.goto(f"{live_server.url}/archive/")
    reviewer.fill("#search-form input[name=q]", "wjg")
    reviewer.click("#search-form button[type=submit]")
    reviewer.wait_for_url("**/archive/?q=wjg**")
    assert reviewer.inner_text("#count") == "共 1 户"
    assert "1101**********002X" in reviewer.inner_text(row)
    reviewer.click(f"{row} a")
    reviewer.wait_for_url(f"{live_server.url}{detail}")

    # Closed with a reason.
    reviewer.fill("#close-reason", "迁出本市")
    asked: list[str] = []  # 注销 asks first (data-confirm); Playwright would dismiss the dialog otherwise

    def accept(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.accept()

    reviewer.once("dialog", accept)
    reviewer.click("#close-form button[type=submit]")
    reviewer.wait_for_selector("#status-banner .tag.household-closed")
    assert "迁出本市" in reviewer.inner_text("#lifecycle")
    assert asked == ["确定注销“王建国”的档案吗？注销后档案结束，需由上级恢复。"]
    household.refresh_from_db()
    assert (household.status, household.closed_reason) == (Household.Status.CLOSED, "迁出本市")


def test_an_import_runs_in_the_background_with_progress(
    browser: Any, live_server: Any, world: World, tmp_path: Path
) -> None:
    """Queued by the page, run by the task worker (a real `manage.py db_worker` process, started only once the
    page shows the job waiting), the page reloading by itself when it is done."""
    rows = [[h.name, h.id_number, h.category, h.phone, ENTERPRISE] for h in households(300, seed=5)]
    rows[10][1] = "110105194912310021"  # a wrong check digit
    rows[20][2] = "低保户"
    out = io.StringIO()
    csv.writer(out).writerows([["姓名", "身份证号码", "类别", "手机", "建档单位"], *rows])
    path = tmp_path / "花名册.csv"
    path.write_text(out.getvalue(), encoding="utf-8-sig")

    page = log_in(browser, live_server, "county_reviewer", "/archive/import/")
    page.set_input_files("#import-form input[type=file]", str(path))
    page.click("#import-form button[type=submit]")
    page.wait_for_selector("#mapping-form")
    assert page.locator("#id_head_id_number").input_value() == "1"
    page.click("#mapping-form button[type=submit]")

    # Queued: the bar is shown and polls; once a worker runs, the import finishes and the page reloads.
    page.wait_for_selector("#import-bar")
    assert ImportJob.objects.get().state == ImportJob.State.RUNNING and not Household.objects.exists()
    with task_worker(tmp_path / "worker.log"):
        page.wait_for_selector("#import-done", timeout=60_000)
    assert page.inner_text("#count-created") == "298"
    assert page.inner_text("#count-rejected") == "2"
    job = ImportJob.objects.get()
    assert job.state == ImportJob.State.DONE
    assert Household.objects.filter(unit=world.enterprise, status=Household.Status.FILED).count() == 298

    with page.expect_download() as download:
        page.click("#rejected-link")
    saved = tmp_path / "rejected.xlsx"
    download.value.save_as(saved)
    sheet = python_calamine.CalamineWorkbook.from_path(str(saved)).get_sheet_by_index(0).to_python()
    reasons = {int(cast(float, row[0])): str(row[1]) for row in sheet[2:]}
    assert "校验位" in reasons[12] and "低保户" in reasons[22]
