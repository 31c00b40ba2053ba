"""本级 / 全辖 in a real browser: the county's entry page shows its own level as input and its whole area
(本级 as saved + the accepted tables below) beside it, updated after a save (on the next page load)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from songnuan.reporting.models import Submission, SubmissionValue

from ..world import World
from .sessions import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_the_county_sees_own_level_and_whole_area(
    browser: Any, live_server: Any, world: World, tmp_path: Path
) -> None:
    below = Submission.objects.create(
        campaign=world.campaign,
        unit=world.enterprise,
        form_code="warmth-2018",
        status=Submission.Status.ACCEPTED,
    )
    SubmissionValue.objects.create(submission=below, item="1A", number=Decimal(48))

    entry = f"/campaigns/{world.campaign.pk}/units/{world.county.pk}/forms/warmth-2018/"
    page = log_in(browser, live_server, "county_reporter", entry)
    assert page.inner_text("th.scope-input") == "本级"
    assert page.inner_text("th.scope") == "全辖（含下级已审核的表）"
    assert "本级：各单位只填本单位自身的数" in page.inner_text(".scope-note")
    assert page.inner_text("#item-1A td.scope") == "48"  # nothing typed here yet: the enterprise's 48
    assert page.inner_text("#item-2A td.scope") == ""  # blank, not 0

    page.fill("#input-1A", "12")
    page.wait_for_function("document.getElementById('save-state').textContent.indexOf('已保存') >= 0")
    page.reload()
    assert page.inner_text("#item-1A td.scope") == "60"  # 12 + 48, as the grid showed
    page.screenshot(path=str(tmp_path / "levels.png"), full_page=True)
    page.context.close()


def test_a_whole_area_grid_marks_children_above_the_parent(
    browser: Any, live_server: Any, world: World, tmp_path: Path
) -> None:
    world.campaign.reporting_scope = "whole_area"
    world.campaign.save(update_fields=["reporting_scope"])
    for unit, number in ((world.county, 12), (world.enterprise, 48)):
        submission = Submission.objects.create(
            campaign=world.campaign, unit=unit, form_code="warmth-2018", status=Submission.Status.ACCEPTED
        )
        SubmissionValue.objects.create(submission=submission, item="1A", number=Decimal(number))

    grid = f"/campaigns/{world.campaign.pk}/grid/{world.county.pk}/warmth-2018/"
    page = log_in(browser, live_server, "county_reviewer", grid)
    assert "全辖：各单位填本单位及所属下级的合计数" in page.inner_text(".scope-note")
    assert "请核对" in page.inner_text("tr[data-item='1A']")
    assert "请核对" not in page.inner_text("tr[data-item='2A']")
    page.screenshot(path=str(tmp_path / "grid.png"), full_page=True)
    page.goto(
        f"{live_server.url}/campaigns/{world.campaign.pk}/rollup/{world.county.pk}/warmth-2018/?item=1A"
    )
    assert "下级合计 48 大于本单位报送的全辖数 12，请核对" in page.inner_text("#drill")
    assert page.inner_text("#item-1A td.value") == "12"
    page.screenshot(path=str(tmp_path / "rollup.png"), full_page=True)
    page.context.close()
