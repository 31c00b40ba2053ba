"""The upload check in a real browser: several files, violating cells highlighted, messages beside them."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from songnuan.formkit.definitions import get_form
from songnuan.formkit.excel_writer import write_form

from ..filemakers import filled_example

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_upload_and_see_highlighted_cells(page: Any, live_server: Any, tmp_path: Path) -> None:
    values, header = filled_example("warmth-2018")
    good = tmp_path / "东宝区.xlsx"
    write_form(get_form("warmth-2018"), good, values=values, header=header)
    bad_values = {**values, "3A": values["3A"] + Decimal(5)}  # type: ignore[operator]
    bad = tmp_path / "沙洋县.xlsx"
    write_form(get_form("warmth-2018"), bad, values=bad_values, header=header)

    page.goto(f"{live_server.url}/forms/")
    page.get_by_role("link", name="上传填好的统计表进行检查").click()
    page.set_input_files("input[type=file]", [str(good), str(bad)])
    page.get_by_role("button", name="检查").click()

    page.wait_for_selector("section.checked")
    sections = page.locator("section.checked")
    assert sections.count() == 2
    assert "status-ok" in (sections.nth(0).get_attribute("class") or "")
    bad_section = sections.nth(1)
    assert "status-invalid" in (bad_section.get_attribute("class") or "")
    cell = bad_section.locator("#item-3A td.value")
    assert "error" in (cell.get_attribute("class") or "")
    assert "应等于分项之和" in bad_section.locator("#item-3A td.msgs").inner_text()
    page.screenshot(path=str(tmp_path / "check.png"), full_page=True)
