"""The whole reporting round in a real browser, as the two people involved do it:

the county's reporter logs in, fills the table and meets a live error, fixes it, explains a warning and
submits; the city's reviewer returns it with a comment; the reporter corrects and resubmits; the reviewer
accepts; the city's roll-up shows the county's figures, and the exported Excel reads back to the same values.
"""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from songnuan.formkit.checking import check_bytes
from songnuan.reporting.models import Submission
from songnuan.reporting.services import stored_values

from ..filemakers import filled_example
from ..world import World
from .sessions import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FORM = "warmth-2018"
WARNING = "warmth-2018.4A.within-raised"


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def until(condition: Any, seconds: float = 30) -> None:
    """Wait for the server side to catch up with the page (autosave is asynchronous)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the autosave"
        time.sleep(0.1)


def stored(world: World) -> dict[str, Any]:
    return stored_values(Submission.objects.get(unit=world.county, form_code=FORM))


def test_fill_submit_return_resubmit_accept_rollup_export(
    browser: Any, live_server: Any, world: World, tmp_path: Path
) -> None:
    values, _header = filled_example(FORM)
    entry = f"/campaigns/{world.campaign.pk}/units/{world.county.pk}/forms/{FORM}/"

    # The county's reporter fills the table; a total that does not add up is marked while typing.
    reporter = log_in(browser, live_server, "county_reporter", entry)
    reporter.on("dialog", lambda dialog: dialog.accept())  # 报送上级 / 审核通过 ask first (site/confirm.js)
    reporter.fill("#input-2C", str(values["2C"] + 1))  # type: ignore[operator]
    for code in ("2D", "2E", "2F"):
        reporter.fill(f"#input-{code}", str(values[code]))
    reporter.wait_for_selector("#item-2C td.value[data-state=error]")
    assert "应等于分项之和" in reporter.inner_text("#item-2C td.msgs")

    # Fixed, and everything else typed in; 4A above 3A is a warning that needs a written explanation.
    for code, value in values.items():
        if code not in ("2D", "2E", "2F"):
            reporter.fill(f"#input-{code}", str(value))
    reporter.fill("#input-4A", str(values["3A"] + Decimal(1)))  # type: ignore[operator]
    reporter.fill("#input-4B", str(values["4B"] + (values["3A"] + Decimal(1) - values["4A"])))  # type: ignore[operator]
    reporter.locator("#input-4B").blur()
    reporter.wait_for_selector("#item-2C td.value:not([data-state])")
    area = f"textarea[name='explain-{WARNING}']"
    reporter.wait_for_selector(area)
    reporter.fill(area, "含上年结转的慰问资金")
    reporter.locator(area).blur()
    until(lambda: Submission.objects.get(unit=world.county, form_code=FORM).explanations.get(WARNING))
    until(lambda: stored(world)["4B"] == values["4B"] + (values["3A"] + Decimal(1) - values["4A"]))  # type: ignore[operator]
    # The header: submission needs 填报人, 电话 and 填报日期.
    reporter.fill("input[name=reporter]", "李红")
    reporter.fill("input[name=phone]", "0724-2345678")
    reporter.fill("input[name=report_date]", "2018-02-03")
    reporter.locator("input[name=report_date]").blur()
    until(lambda: Submission.objects.get(unit=world.county, form_code=FORM).report_date is not None)
    reporter.reload()
    reporter.click("#submit-form button[type=submit]")
    reporter.wait_for_selector("#status-banner.status-submitted")

    # The city's reviewer returns it with a comment.
    reviewer = log_in(browser, live_server, "city_reviewer", entry)
    reviewer.on("dialog", lambda dialog: dialog.accept())  # 报送上级 / 审核通过 ask first (site/confirm.js)
    reviewer.fill("#return-comment", "2B 慰问专业人才人数请再核实")
    reviewer.click("#return-form button[type=submit]")
    reviewer.wait_for_selector("#status-banner.status-returned")

    # The return reaches the reporter's 待办 (the header counts it); 查看 opens the table.
    reporter.goto(f"{live_server.url}/campaigns/")
    reporter.click("header a.todo")
    assert "待办 (1)" in reporter.inner_text("header a.todo")
    assert "2B 慰问专业人才人数请再核实" in reporter.inner_text(".notices.unread")
    reporter.click(".notices.unread button[name=open]")
    reporter.wait_for_url(f"{live_server.url}{entry}")

    # The reporter sees the comment, corrects 2B and resubmits.
    assert "2B 慰问专业人才人数请再核实" in reporter.inner_text(".review-comment")
    reporter.fill("#input-2B", str(values["2B"] + 2))  # type: ignore[operator]
    reporter.locator("#input-2B").blur()
    until(lambda: stored(world)["2B"] == values["2B"] + 2)  # type: ignore[operator]
    reporter.reload()
    reporter.click("#submit-form button[type=submit]")
    reporter.wait_for_selector("#status-banner.status-submitted")

    # The reviewer accepts; the table is locked.
    reviewer.goto(f"{live_server.url}{entry}")
    reviewer.click("#accept-form button[type=submit]")
    reviewer.wait_for_selector("#status-banner.status-accepted")
    assert Submission.objects.get(unit=world.county, form_code=FORM).status == Submission.Status.ACCEPTED

    # The city's roll-up now holds the county's figures.
    reviewer.goto(f"{live_server.url}/campaigns/{world.campaign.pk}/rollup/{world.city.pk}/{FORM}/")
    assert reviewer.inner_text("#item-2B td.value").strip() == str(values["2B"] + 2)  # type: ignore[operator]
    reviewer.screenshot(path=str(tmp_path / "rollup.png"), full_page=True)

    # The exported roll-up is the official table and reads back to the same values.
    with reviewer.expect_download() as download:
        reviewer.get_by_role("link", name="下载汇总表（Excel）").click()
    path = tmp_path / "rollup.xlsx"
    download.value.save_as(path)
    (report,) = check_bytes(path.read_bytes(), file="rollup.xlsx")
    assert report.form is not None and report.form.code == FORM
    assert report.values == stored(world)
